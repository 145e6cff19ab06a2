/**
 * The address book server endpoint of MAPI over HTTP (MS-OXCMAPIHTTP 2.2.5) as the HTTP transport
 * sees it: a request type and a body in, a response body out. Bodies are decoded by
 * ./nspi-codec.ts and answered by the engine (./address-book.ts).
 *
 * Errors: a body that does not parse throws InvalidRequestBody (the transport answers
 * X-ResponseCode 12); anything else that goes wrong is answered with an NSPI error code in a
 * well-formed response (StatusCode 0), never thrown.
 */
import { randomBytes } from 'node:crypto';
import type { DirectoryStore, UserRecord } from '../../../storage/directory-store.js';
import { InvalidRequestBody } from '../http/response-codes.js';
import { AddressBook, type AbSession } from './address-book.js';
import { NspiError } from './nspi-constants.js';
import { nspiCodecs, type NspiCodec, type NspiRequestType } from './nspi-codec.js';

/** The authenticated user. */
export interface NspiCaller {
  userId: string;
  address: string;
}

/** Per-session state: code page and locales from Bind, the bound user. Opaque to the transport. */
export type NspiSession = AbSession;

export interface NspiServiceOptions {
  directory: DirectoryStore;
  /** Base URL like https://host:port, no trailing slash. */
  baseUrl: string;
  /** Server name used in legacy DNs and GetMailboxUrl. */
  hostname: string;
  /**
   * The mailbox endpoint URL of a user (GetMailboxUrl). The mailbox GUID is not known
   * synchronously here; without this hook the answer is `<baseUrl>/mapi/emsmdb/`.
   */
  mailboxUrlFor?: (user: UserRecord, serverDn: string) => string;
}

export class NspiService {
  /** X-RequestType values this service answers. */
  static readonly requestTypes: ReadonlySet<string> = new Set(Object.keys(nspiCodecs));

  private readonly book: AddressBook;

  constructor(private readonly opts: NspiServiceOptions) {
    this.book = new AddressBook(opts.directory, randomBytes(16), opts.hostname);
  }

  /** Bind: the response body, and the session state (null when the bind failed: no context is made). */
  bind(body: Uint8Array, caller: NspiCaller): { body: Uint8Array; session: NspiSession | null } {
    const req = nspiCodecs.Bind.pullRequest(body);
    try {
      const { response, session } = this.book.bind(req, caller.userId);
      return { body: nspiCodecs.Bind.pushResponse(response), session };
    } catch {
      return { body: nspiCodecs.Bind.pushResponse({ error: NspiError.GeneralFailure, serverGuid: new Uint8Array(16) }), session: null };
    }
  }

  /** Any other request type (Unbind too); returns the response body (starting with StatusCode). */
  handle(requestType: string, body: Uint8Array, session: NspiSession, caller: NspiCaller): Uint8Array {
    const type = this.typeOf(requestType);
    if (type === null || type === 'Bind') throw new InvalidRequestBody(`not an address book request type here: ${requestType}`);
    try {
      return this.answer(type, body, session, caller);
    } catch (err) {
      if (err instanceof InvalidRequestBody) throw err;
      return nspiErrorResponse(type, NspiError.GeneralFailure);
    }
  }

  private typeOf(requestType: string): NspiRequestType | null {
    if (NspiService.requestTypes.has(requestType)) return requestType as NspiRequestType;
    const lower = requestType.toLowerCase();
    for (const t of NspiService.requestTypes) if (t.toLowerCase() === lower) return t as NspiRequestType;
    return null;
  }

  private answer(type: Exclude<NspiRequestType, 'Bind'>, body: Uint8Array, s: NspiSession, caller: NspiCaller): Uint8Array {
    return this.routes[type](body, s, caller);
  }

  /** Per request type: pull the body, run the engine, push the response. */
  private readonly routes: { [K in Exclude<NspiRequestType, 'Bind'>]: (body: Uint8Array, s: NspiSession, caller: NspiCaller) => Uint8Array } = {
    Unbind: route(nspiCodecs.Unbind, () => ({ error: NspiError.UnbindSuccess })),
    CompareMIds: route(nspiCodecs.CompareMIds, (q, s) => this.book.compareMIds(s, q)),
    DNToMId: route(nspiCodecs.DNToMId, (q, s) => this.book.dnToMId(s, q)),
    GetMatches: route(nspiCodecs.GetMatches, (q, s) => this.book.getMatches(s, q)),
    GetPropList: route(nspiCodecs.GetPropList, (q, s) => this.book.getPropList(s, q)),
    GetProps: route(nspiCodecs.GetProps, (q, s) => this.book.getProps(s, q)),
    GetSpecialTable: route(nspiCodecs.GetSpecialTable, (q, s) => this.book.getSpecialTable(s, q)),
    GetTemplateInfo: route(nspiCodecs.GetTemplateInfo, (q, s) => this.book.getTemplateInfo(s, q)),
    // The directory is administered by its own tools, not by mail clients.
    ModLinkAtt: route(nspiCodecs.ModLinkAtt, () => ({ error: NspiError.AccessDenied })),
    ModProps: route(nspiCodecs.ModProps, () => ({ error: NspiError.AccessDenied })),
    QueryColumns: route(nspiCodecs.QueryColumns, (q, s) => this.book.queryColumns(s, q)),
    QueryRows: route(nspiCodecs.QueryRows, (q, s) => this.book.queryRows(s, q)),
    ResolveNames: route(nspiCodecs.ResolveNames, (q, s) => this.book.resolveNames(s, q)),
    ResortRestriction: route(nspiCodecs.ResortRestriction, (q, s) => this.book.resortRestriction(s, q)),
    SeekEntries: route(nspiCodecs.SeekEntries, (q, s) => this.book.seekEntries(s, q)),
    UpdateStat: route(nspiCodecs.UpdateStat, (q, s) => this.book.updateStat(s, q)),
    GetMailboxUrl: route(nspiCodecs.GetMailboxUrl, (q, _s, caller) => {
      const user = this.book.user(caller.userId);
      const hook = this.opts.mailboxUrlFor;
      return { error: NspiError.Success, url: user !== undefined && hook !== undefined ? hook(user, q.serverDn) : `${this.opts.baseUrl}/mapi/emsmdb/` };
    }),
    GetAddressBookUrl: route(nspiCodecs.GetAddressBookUrl, () => ({ error: NspiError.Success, url: `${this.opts.baseUrl}/mapi/nspi/` })),
  };
}

function route<Req, Resp>(codec: NspiCodec<Req, Resp>, run: (req: Req, s: NspiSession, caller: NspiCaller) => Resp) {
  return (body: Uint8Array, s: NspiSession, caller: NspiCaller): Uint8Array => codec.pushResponse(run(codec.pullRequest(body), s, caller));
}

/**
 * Every field a response may carry, empty: each codec pushes the fields of its own layout, so
 * `{ error, ...NO_FIELDS }` is a well-formed error-only response of any type (optional fields
 * absent, StatusCode 0, AuxiliaryBufferSize 0).
 */
const NO_FIELDS = { serverGuid: new Uint8Array(16), result: 0, codePage: 0, url: '', state: null, mids: null, table: null, tags: null, values: null, columns: null, rows: null, row: null, version: null, delta: null };

export function nspiErrorResponse(type: Exclude<NspiRequestType, 'Bind'>, error: number): Uint8Array {
  return (nspiCodecs[type] as NspiCodec<unknown, unknown>).pushResponse({ error, ...NO_FIELDS });
}
