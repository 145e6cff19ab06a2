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
import { nspiCodecs, type NspiRequestType } from './nspi-codec.js';

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
      return errorResponse(type, NspiError.GeneralFailure);
    }
  }

  private typeOf(requestType: string): NspiRequestType | null {
    if (NspiService.requestTypes.has(requestType)) return requestType as NspiRequestType;
    const lower = requestType.toLowerCase();
    for (const t of NspiService.requestTypes) if (t.toLowerCase() === lower) return t as NspiRequestType;
    return null;
  }

  private answer(type: Exclude<NspiRequestType, 'Bind'>, body: Uint8Array, s: NspiSession, caller: NspiCaller): Uint8Array {
    const b = this.book;
    const c = nspiCodecs;
    switch (type) {
      case 'Unbind':
        c.Unbind.pullRequest(body);
        return c.Unbind.pushResponse({ error: NspiError.UnbindSuccess });
      case 'CompareMIds':
        return c.CompareMIds.pushResponse(b.compareMIds(s, c.CompareMIds.pullRequest(body)));
      case 'DNToMId':
        return c.DNToMId.pushResponse(b.dnToMId(s, c.DNToMId.pullRequest(body)));
      case 'GetMatches':
        return c.GetMatches.pushResponse(b.getMatches(s, c.GetMatches.pullRequest(body)));
      case 'GetPropList':
        return c.GetPropList.pushResponse(b.getPropList(s, c.GetPropList.pullRequest(body)));
      case 'GetProps':
        return c.GetProps.pushResponse(b.getProps(s, c.GetProps.pullRequest(body)));
      case 'GetSpecialTable':
        return c.GetSpecialTable.pushResponse(b.getSpecialTable(s, c.GetSpecialTable.pullRequest(body)));
      case 'GetTemplateInfo':
        return c.GetTemplateInfo.pushResponse(b.getTemplateInfo(s, c.GetTemplateInfo.pullRequest(body)));
      case 'ModLinkAtt':
        c.ModLinkAtt.pullRequest(body);
        // The directory is administered by its own tools, not by mail clients.
        return c.ModLinkAtt.pushResponse({ error: NspiError.AccessDenied });
      case 'ModProps':
        c.ModProps.pullRequest(body);
        return c.ModProps.pushResponse({ error: NspiError.AccessDenied });
      case 'QueryColumns':
        return c.QueryColumns.pushResponse(b.queryColumns(s, c.QueryColumns.pullRequest(body)));
      case 'QueryRows':
        return c.QueryRows.pushResponse(b.queryRows(s, c.QueryRows.pullRequest(body)));
      case 'ResolveNames':
        return c.ResolveNames.pushResponse(b.resolveNames(s, c.ResolveNames.pullRequest(body)));
      case 'ResortRestriction':
        return c.ResortRestriction.pushResponse(b.resortRestriction(s, c.ResortRestriction.pullRequest(body)));
      case 'SeekEntries':
        return c.SeekEntries.pushResponse(b.seekEntries(s, c.SeekEntries.pullRequest(body)));
      case 'UpdateStat':
        return c.UpdateStat.pushResponse(b.updateStat(s, c.UpdateStat.pullRequest(body)));
      case 'GetMailboxUrl': {
        const { serverDn } = c.GetMailboxUrl.pullRequest(body);
        const user = b.user(caller.userId);
        const url = user !== undefined && this.opts.mailboxUrlFor !== undefined ? this.opts.mailboxUrlFor(user, serverDn) : `${this.opts.baseUrl}/mapi/emsmdb/`;
        return c.GetMailboxUrl.pushResponse({ error: NspiError.Success, url });
      }
      case 'GetAddressBookUrl':
        c.GetAddressBookUrl.pullRequest(body);
        return c.GetAddressBookUrl.pushResponse({ error: NspiError.Success, url: `${this.opts.baseUrl}/mapi/nspi/` });
    }
  }
}

/**
 * A well-formed response carrying only an error: StatusCode 0, ErrorCode, every optional field
 * absent, AuxiliaryBufferSize 0. Built by hand because the layouts differ per type.
 */
function errorResponse(type: Exclude<NspiRequestType, 'Bind'>, error: number): Uint8Array {
  const c = nspiCodecs;
  switch (type) {
    case 'Unbind':
    case 'ModLinkAtt':
    case 'ModProps':
      return c.Unbind.pushResponse({ error });
    case 'CompareMIds':
      return c.CompareMIds.pushResponse({ error, result: 0 });
    case 'DNToMId':
      return c.DNToMId.pushResponse({ error, mids: null });
    case 'GetMatches':
      return c.GetMatches.pushResponse({ error, state: null, mids: null, table: null });
    case 'GetPropList':
      return c.GetPropList.pushResponse({ error, tags: null });
    case 'GetProps':
      return c.GetProps.pushResponse({ error, codePage: 0, values: null });
    case 'GetSpecialTable':
      return c.GetSpecialTable.pushResponse({ error, codePage: 0, version: null, rows: null });
    case 'GetTemplateInfo':
      return c.GetTemplateInfo.pushResponse({ error, codePage: 0, row: null });
    case 'QueryColumns':
      return c.QueryColumns.pushResponse({ error, columns: null });
    case 'QueryRows':
      return c.QueryRows.pushResponse({ error, state: null, table: null });
    case 'ResolveNames':
      return c.ResolveNames.pushResponse({ error, codePage: 0, mids: null, table: null });
    case 'ResortRestriction':
      return c.ResortRestriction.pushResponse({ error, state: null, mids: null });
    case 'SeekEntries':
      return c.SeekEntries.pushResponse({ error, state: null, table: null });
    case 'UpdateStat':
      return c.UpdateStat.pushResponse({ error, state: null, delta: null });
    case 'GetMailboxUrl':
    case 'GetAddressBookUrl':
      return c.GetMailboxUrl.pushResponse({ error, url: '' });
  }
}
