/**
 * Request and response bodies of the address book server endpoint (MS-OXCMAPIHTTP 2.2.5), one
 * pull/push pair per direction and request type. Requests are pulled by the server and pushed by
 * tests (and any client); responses the other way round.
 *
 * Every request ends with AuxiliaryBufferSize (u32) and that many bytes; every response starts
 * with StatusCode (u32, 0: processed) and ErrorCode (u32, the NSPI result, MS-OXNSPI 2.2.1.2)
 * and ends with AuxiliaryBufferSize = 0 here. Optional fields follow a Boolean "Has..." byte
 * (nonzero: present); we write 0xFF for true as Exchange does. Restrictions (GetMatches Filter)
 * are the MS-OXCDATA 2.12 form with 4-byte RestrictCount, as in the other MAPI/HTTP contexts.
 * Known gap: the shared restriction codec (../wire/prop-values.ts) reads a PtypBinary value inside
 * a restriction with the ROP buffers' 16-bit count, where MS-OXCDATA 2.11.1.1 gives MAPI/HTTP a
 * 32-bit one; address book filters compare strings and integers, so binary values there are rare.
 *
 * A body that does not parse (short, trailing bytes, bad values, counts beyond the limits of
 * ./ab-values.ts) throws InvalidRequestBody: the transport answers X-ResponseCode 12.
 */
import { InvalidRequestBody } from '../http/response-codes.js';
import { WireReader } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';
import { pullRestriction, pushRestriction } from '../wire/prop-values.js';
import type { Restriction } from '../../../storage/restriction.js';
import {
  WIRE_TRUE,
  pullAbRows,
  pullAbTaggedValue,
  pullAbValueList,
  pullLargeTags,
  pushAbRow,
  pushAbTaggedValue,
  pushAbValueList,
  pushLargeTags,
  pullU32Array,
  pushU32Array,
  type AbRow,
  type AbTaggedValue,
} from './ab-values.js';

/** Names in one DNToMId / ResolveNames request, MIds in one explicit table: more is refused. */
export const MAX_NAMES = 4096;
export const MAX_MIDS = 100_000;
/** Entry ids in one ModLinkAtt request. */
export const MAX_ENTRY_IDS = 4096;

// ---------------------------------------------------------------------------------------------
// STAT (MS-OXNSPI 2.2.8): nine 32-bit fields, 36 bytes.

export interface Stat {
  sortType: number;
  containerId: number;
  currentRec: number;
  /** Signed. */
  delta: number;
  numPos: number;
  totalRecs: number;
  codePage: number;
  templateLocale: number;
  sortLocale: number;
}

export const STAT_SIZE = 36;

export function pullStat(r: WireReader): Stat {
  return {
    sortType: r.u32(),
    containerId: r.u32(),
    currentRec: r.u32(),
    delta: r.i32(),
    numPos: r.u32(),
    totalRecs: r.u32(),
    codePage: r.u32(),
    templateLocale: r.u32(),
    sortLocale: r.u32(),
  };
}

export function pushStat(w: WireWriter, s: Stat): void {
  w.u32(s.sortType);
  w.u32(s.containerId);
  w.u32(s.currentRec);
  w.i32(s.delta);
  w.u32(s.numPos);
  w.u32(s.totalRecs);
  w.u32(s.codePage);
  w.u32(s.templateLocale);
  w.u32(s.sortLocale);
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

/** Columns and the rows under them (HasColumnsAndRows / HasColsAndRows / HasRowsAndCols). */
export interface AbTable {
  columns: number[];
  rows: AbRow[];
}

function has(r: WireReader): boolean {
  return r.u8() !== 0;
}

function opt<T>(r: WireReader, pull: () => T): T | null {
  return has(r) ? pull() : null;
}

function pushOpt<T>(w: WireWriter, v: T | null, push: (v: T) => void): void {
  if (v === null) {
    w.u8(0);
    return;
  }
  w.u8(WIRE_TRUE);
  push(v);
}

function pullMids(r: WireReader): number[] {
  return pullU32Array(r, MAX_MIDS, 'minimal ids');
}

const pushMids = pushU32Array;

/** StringArray_r (8-bit) or WStringArray_r (UTF-16): u32 count, then null-terminated strings. */
function pullStrings(r: WireReader, wide: boolean): string[] {
  const n = r.count(r.u32(), wide ? 2 : 1, 'strings');
  if (n > MAX_NAMES) {
    r.fail('too-many', `${n} names`);
    return [];
  }
  const out: string[] = [];
  for (let i = 0; i < n && r.ok; i++) out.push(wide ? r.utf16z() : r.str8z());
  return out;
}

function pushStrings(w: WireWriter, names: readonly string[], wide: boolean): void {
  w.u32(names.length);
  for (const s of names) {
    if (wide) w.utf16z(s);
    else w.str8z(s);
  }
}

function pullTable(r: WireReader): AbTable {
  const columns = pullLargeTags(r);
  const rows = pullAbRows(r, columns, r.u32());
  return { columns, rows };
}

function pushTable(w: WireWriter, t: AbTable): void {
  pushLargeTags(w, t.columns);
  w.u32(t.rows.length);
  for (const row of t.rows) pushAbRow(w, row, t.columns);
}

/** Runs a request body puller: the aux buffer must end the body exactly. */
function pullRequestBody<T>(body: Uint8Array, pull: (r: WireReader) => T): T {
  const r = new WireReader(body);
  const v = pull(r);
  const auxSize = r.u32();
  r.bytes(auxSize, 'auxiliary buffer');
  if (r.ok && r.pos !== r.end) r.fail('trailing', `${r.end - r.pos} bytes after the auxiliary buffer`);
  if (!r.ok) throw new InvalidRequestBody(`address book request body: ${r.error?.detail ?? 'invalid'} at ${r.error?.offset ?? 0}`);
  return v;
}

function pushRequestBody(push: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  push(w);
  w.u32(0);
  return w.toBytes();
}

/** Every response: StatusCode 0, ErrorCode, fields, AuxiliaryBufferSize 0. */
function pushResponseBody(error: number, push: (w: WireWriter) => void): Uint8Array {
  const w = new WireWriter();
  w.u32(0);
  w.u32(error);
  push(w);
  w.u32(0);
  return w.toBytes();
}

function pullResponseBody<T>(body: Uint8Array, pull: (r: WireReader, error: number) => T): T {
  return pullRequestBody(body, (r) => {
    const status = r.u32();
    if (status !== 0) r.fail('bad-value', `StatusCode ${status}`);
    return pull(r, r.u32());
  });
}

// ---------------------------------------------------------------------------------------------
// Request and response types (MS-OXCMAPIHTTP 2.2.5.1 - 2.2.5.19)

export interface BindRequest {
  flags: number;
  state: Stat | null;
}
export interface BindResponse {
  error: number;
  serverGuid: Uint8Array;
}
export interface UnbindRequest {
  reserved: number;
}
/** Unbind, ModProps and ModLinkAtt answer only the ErrorCode. */
export interface ErrorOnlyResponse {
  error: number;
}
export interface CompareMIdsRequest {
  reserved: number;
  state: Stat | null;
  mid1: number;
  mid2: number;
}
export interface CompareMIdsResponse {
  error: number;
  result: number;
}
export interface DNToMIdRequest {
  reserved: number;
  names: string[] | null;
}
export interface DNToMIdResponse {
  error: number;
  mids: number[] | null;
}
export interface GetMatchesRequest {
  reserved: number;
  state: Stat | null;
  mids: number[] | null;
  interfaceOptionFlags: number;
  filter: Restriction | null;
  propertyName: { guid: Uint8Array; id: number } | null;
  rowCount: number;
  columns: number[] | null;
}
export interface GetMatchesResponse {
  error: number;
  state: Stat | null;
  mids: number[] | null;
  table: AbTable | null;
}
export interface GetPropListRequest {
  flags: number;
  mid: number;
  codePage: number;
}
export interface GetPropListResponse {
  error: number;
  tags: number[] | null;
}
export interface GetPropsRequest {
  flags: number;
  state: Stat | null;
  tags: number[] | null;
}
export interface GetPropsResponse {
  error: number;
  codePage: number;
  values: AbTaggedValue[] | null;
}
export interface GetSpecialTableRequest {
  flags: number;
  state: Stat | null;
  version: number | null;
}
export interface GetSpecialTableResponse {
  error: number;
  codePage: number;
  version: number | null;
  rows: AbTaggedValue[][] | null;
}
export interface GetTemplateInfoRequest {
  flags: number;
  displayType: number;
  templateDn: string | null;
  codePage: number;
  localeId: number;
}
export interface GetTemplateInfoResponse {
  error: number;
  codePage: number;
  row: AbTaggedValue[] | null;
}
export interface ModLinkAttRequest {
  flags: number;
  propTag: number;
  mid: number;
  entryIds: Uint8Array[] | null;
}
export interface ModPropsRequest {
  reserved: number;
  state: Stat | null;
  tagsToRemove: number[] | null;
  values: AbTaggedValue[] | null;
}
export interface QueryColumnsRequest {
  reserved: number;
  mapiFlags: number;
}
export interface QueryColumnsResponse {
  error: number;
  columns: number[] | null;
}
export interface QueryRowsRequest {
  flags: number;
  state: Stat | null;
  explicitTable: number[];
  rowCount: number;
  columns: number[] | null;
}
export interface QueryRowsResponse {
  error: number;
  state: Stat | null;
  table: AbTable | null;
}
export interface ResolveNamesRequest {
  reserved: number;
  state: Stat | null;
  tags: number[] | null;
  names: string[] | null;
}
export interface ResolveNamesResponse {
  error: number;
  codePage: number;
  mids: number[] | null;
  table: AbTable | null;
}
export interface ResortRestrictionRequest {
  reserved: number;
  state: Stat | null;
  mids: number[] | null;
}
export interface ResortRestrictionResponse {
  error: number;
  state: Stat | null;
  mids: number[] | null;
}
export interface SeekEntriesRequest {
  reserved: number;
  state: Stat | null;
  target: AbTaggedValue | null;
  explicitTable: number[] | null;
  columns: number[] | null;
}
export interface SeekEntriesResponse {
  error: number;
  state: Stat | null;
  table: AbTable | null;
}
export interface UpdateStatRequest {
  reserved: number;
  state: Stat | null;
  deltaRequested: boolean;
}
export interface UpdateStatResponse {
  error: number;
  state: Stat | null;
  delta: number | null;
}
export interface GetMailboxUrlRequest {
  flags: number;
  serverDn: string;
}
export interface GetAddressBookUrlRequest {
  flags: number;
  userDn: string;
}
export interface UrlResponse {
  error: number;
  url: string;
}

// ---------------------------------------------------------------------------------------------
// The codecs

export interface NspiCodec<Req, Resp> {
  pullRequest(body: Uint8Array): Req;
  pushRequest(req: Req): Uint8Array;
  pullResponse(body: Uint8Array): Resp;
  pushResponse(resp: Resp): Uint8Array;
}

function codec<Req, Resp>(
  req: { pull: (r: WireReader) => Req; push: (w: WireWriter, v: Req) => void },
  resp: { pull: (r: WireReader, error: number) => Resp; push: (w: WireWriter, v: Resp) => void },
): NspiCodec<Req, Resp> {
  return {
    pullRequest: (body) => pullRequestBody(body, req.pull),
    pushRequest: (v) => pushRequestBody((w) => req.push(w, v)),
    pullResponse: (body) => pullResponseBody(body, resp.pull),
    pushResponse: (v) => pushResponseBody((v as { error: number }).error, (w) => resp.push(w, v)),
  };
}

const errorOnly = {
  pull: (_r: WireReader, error: number): ErrorOnlyResponse => ({ error }),
  push: (): void => undefined,
};

const optStat = (r: WireReader) => opt(r, () => pullStat(r));
const pushOptStat = (w: WireWriter, s: Stat | null) => pushOpt(w, s, (x) => pushStat(w, x));
const optTags = (r: WireReader) => opt(r, () => pullLargeTags(r));
const pushOptTags = (w: WireWriter, t: number[] | null) => pushOpt(w, t, (x) => pushLargeTags(w, x));
const optMids = (r: WireReader) => opt(r, () => pullMids(r));
const pushOptMids = (w: WireWriter, m: number[] | null) => pushOpt(w, m, (x) => pushMids(w, x));
const optTable = (r: WireReader) => opt(r, () => pullTable(r));
const pushOptTable = (w: WireWriter, t: AbTable | null) => pushOpt(w, t, (x) => pushTable(w, x));

export const bindCodec = codec<BindRequest, BindResponse>(
  {
    pull: (r) => ({ flags: r.u32(), state: optStat(r) }),
    push: (w, v) => {
      w.u32(v.flags);
      pushOptStat(w, v.state);
    },
  },
  {
    pull: (r, error) => ({ error, serverGuid: r.guid() }),
    push: (w, v) => w.guid(v.serverGuid),
  },
);

export const unbindCodec = codec<UnbindRequest, ErrorOnlyResponse>({ pull: (r) => ({ reserved: r.u32() }), push: (w, v) => w.u32(v.reserved) }, errorOnly);

export const compareMIdsCodec = codec<CompareMIdsRequest, CompareMIdsResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), mid1: r.u32(), mid2: r.u32() }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      w.u32(v.mid1);
      w.u32(v.mid2);
    },
  },
  { pull: (r, error) => ({ error, result: r.i32() }), push: (w, v) => w.i32(v.result) },
);

export const dnToMIdCodec = codec<DNToMIdRequest, DNToMIdResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), names: opt(r, () => pullStrings(r, false)) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOpt(w, v.names, (x) => pushStrings(w, x, false));
    },
  },
  { pull: (r, error) => ({ error, mids: optMids(r) }), push: (w, v) => pushOptMids(w, v.mids) },
);

export const getMatchesCodec = codec<GetMatchesRequest, GetMatchesResponse>(
  {
    pull: (r) => ({
      reserved: r.u32(),
      state: optStat(r),
      mids: optMids(r),
      interfaceOptionFlags: r.u32(),
      filter: opt(r, () => pullRestriction(r, true)),
      propertyName: opt(r, () => ({ guid: r.guid(), id: r.u32() })),
      rowCount: r.u32(),
      columns: optTags(r),
    }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      pushOptMids(w, v.mids);
      w.u32(v.interfaceOptionFlags);
      pushOpt(w, v.filter, (x) => pushRestriction(w, x, true));
      pushOpt(w, v.propertyName, (x) => {
        w.guid(x.guid);
        w.u32(x.id);
      });
      w.u32(v.rowCount);
      pushOptTags(w, v.columns);
    },
  },
  {
    pull: (r, error) => ({ error, state: optStat(r), mids: optMids(r), table: optTable(r) }),
    push: (w, v) => {
      pushOptStat(w, v.state);
      pushOptMids(w, v.mids);
      pushOptTable(w, v.table);
    },
  },
);

export const getPropListCodec = codec<GetPropListRequest, GetPropListResponse>(
  {
    pull: (r) => ({ flags: r.u32(), mid: r.u32(), codePage: r.u32() }),
    push: (w, v) => {
      w.u32(v.flags);
      w.u32(v.mid);
      w.u32(v.codePage);
    },
  },
  { pull: (r, error) => ({ error, tags: optTags(r) }), push: (w, v) => pushOptTags(w, v.tags) },
);

export const getPropsCodec = codec<GetPropsRequest, GetPropsResponse>(
  {
    pull: (r) => ({ flags: r.u32(), state: optStat(r), tags: optTags(r) }),
    push: (w, v) => {
      w.u32(v.flags);
      pushOptStat(w, v.state);
      pushOptTags(w, v.tags);
    },
  },
  {
    pull: (r, error) => ({ error, codePage: r.u32(), values: opt(r, () => pullAbValueList(r)) }),
    push: (w, v) => {
      w.u32(v.codePage);
      pushOpt(w, v.values, (x) => pushAbValueList(w, x));
    },
  },
);

export const getSpecialTableCodec = codec<GetSpecialTableRequest, GetSpecialTableResponse>(
  {
    pull: (r) => ({ flags: r.u32(), state: optStat(r), version: opt(r, () => r.u32()) }),
    push: (w, v) => {
      w.u32(v.flags);
      pushOptStat(w, v.state);
      pushOpt(w, v.version, (x) => w.u32(x));
    },
  },
  {
    pull: (r, error) => {
      const codePage = r.u32();
      const version = opt(r, () => r.u32());
      const rows = opt(r, () => {
        const n = r.count(r.u32(), 4, 'rows');
        const out: AbTaggedValue[][] = [];
        for (let i = 0; i < n && r.ok; i++) out.push(pullAbValueList(r));
        return out;
      });
      return { error, codePage, version, rows };
    },
    push: (w, v) => {
      w.u32(v.codePage);
      pushOpt(w, v.version, (x) => w.u32(x));
      pushOpt(w, v.rows, (rows) => {
        w.u32(rows.length);
        for (const row of rows) pushAbValueList(w, row);
      });
    },
  },
);

export const getTemplateInfoCodec = codec<GetTemplateInfoRequest, GetTemplateInfoResponse>(
  {
    pull: (r) => ({ flags: r.u32(), displayType: r.u32(), templateDn: opt(r, () => r.str8z()), codePage: r.u32(), localeId: r.u32() }),
    push: (w, v) => {
      w.u32(v.flags);
      w.u32(v.displayType);
      pushOpt(w, v.templateDn, (x) => w.str8z(x));
      w.u32(v.codePage);
      w.u32(v.localeId);
    },
  },
  {
    pull: (r, error) => ({ error, codePage: r.u32(), row: opt(r, () => pullAbValueList(r)) }),
    push: (w, v) => {
      w.u32(v.codePage);
      pushOpt(w, v.row, (x) => pushAbValueList(w, x));
    },
  },
);

/** ModLinkAtt EntryIds: u32 count, then each entry id as u32 size and bytes. */
export const modLinkAttCodec = codec<ModLinkAttRequest, ErrorOnlyResponse>(
  {
    pull: (r) => ({
      flags: r.u32(),
      propTag: r.u32(),
      mid: r.u32(),
      entryIds: opt(r, () => {
        const n = r.count(r.u32(), 4, 'entry ids');
        if (n > MAX_ENTRY_IDS) r.fail('too-many', `${n} entry ids`);
        const out: Uint8Array[] = [];
        for (let i = 0; i < n && r.ok; i++) out.push(r.copy(r.u32(), 'entry id'));
        return out;
      }),
    }),
    push: (w, v) => {
      w.u32(v.flags);
      w.u32(v.propTag);
      w.u32(v.mid);
      pushOpt(w, v.entryIds, (ids) => {
        w.u32(ids.length);
        for (const id of ids) {
          w.u32(id.byteLength);
          w.bytes(id);
        }
      });
    },
  },
  errorOnly,
);

export const modPropsCodec = codec<ModPropsRequest, ErrorOnlyResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), tagsToRemove: optTags(r), values: opt(r, () => pullAbValueList(r)) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      pushOptTags(w, v.tagsToRemove);
      pushOpt(w, v.values, (x) => pushAbValueList(w, x));
    },
  },
  errorOnly,
);

export const queryColumnsCodec = codec<QueryColumnsRequest, QueryColumnsResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), mapiFlags: r.u32() }),
    push: (w, v) => {
      w.u32(v.reserved);
      w.u32(v.mapiFlags);
    },
  },
  { pull: (r, error) => ({ error, columns: optTags(r) }), push: (w, v) => pushOptTags(w, v.columns) },
);

export const queryRowsCodec = codec<QueryRowsRequest, QueryRowsResponse>(
  {
    pull: (r) => ({ flags: r.u32(), state: optStat(r), explicitTable: pullMids(r), rowCount: r.u32(), columns: optTags(r) }),
    push: (w, v) => {
      w.u32(v.flags);
      pushOptStat(w, v.state);
      pushMids(w, v.explicitTable);
      w.u32(v.rowCount);
      pushOptTags(w, v.columns);
    },
  },
  {
    pull: (r, error) => ({ error, state: optStat(r), table: optTable(r) }),
    push: (w, v) => {
      pushOptStat(w, v.state);
      pushOptTable(w, v.table);
    },
  },
);

export const resolveNamesCodec = codec<ResolveNamesRequest, ResolveNamesResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), tags: optTags(r), names: opt(r, () => pullStrings(r, true)) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      pushOptTags(w, v.tags);
      pushOpt(w, v.names, (x) => pushStrings(w, x, true));
    },
  },
  {
    pull: (r, error) => ({ error, codePage: r.u32(), mids: optMids(r), table: optTable(r) }),
    push: (w, v) => {
      w.u32(v.codePage);
      pushOptMids(w, v.mids);
      pushOptTable(w, v.table);
    },
  },
);

export const resortRestrictionCodec = codec<ResortRestrictionRequest, ResortRestrictionResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), mids: optMids(r) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      pushOptMids(w, v.mids);
    },
  },
  {
    pull: (r, error) => ({ error, state: optStat(r), mids: optMids(r) }),
    push: (w, v) => {
      pushOptStat(w, v.state);
      pushOptMids(w, v.mids);
    },
  },
);

export const seekEntriesCodec = codec<SeekEntriesRequest, SeekEntriesResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), target: opt(r, () => pullAbTaggedValue(r)), explicitTable: optMids(r), columns: optTags(r) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      pushOpt(w, v.target, (x) => pushAbTaggedValue(w, x));
      pushOptMids(w, v.explicitTable);
      pushOptTags(w, v.columns);
    },
  },
  {
    pull: (r, error) => ({ error, state: optStat(r), table: optTable(r) }),
    push: (w, v) => {
      pushOptStat(w, v.state);
      pushOptTable(w, v.table);
    },
  },
);

export const updateStatCodec = codec<UpdateStatRequest, UpdateStatResponse>(
  {
    pull: (r) => ({ reserved: r.u32(), state: optStat(r), deltaRequested: has(r) }),
    push: (w, v) => {
      w.u32(v.reserved);
      pushOptStat(w, v.state);
      w.u8(v.deltaRequested ? WIRE_TRUE : 0);
    },
  },
  {
    pull: (r, error) => ({ error, state: optStat(r), delta: opt(r, () => r.i32()) }),
    push: (w, v) => {
      pushOptStat(w, v.state);
      pushOpt(w, v.delta, (x) => w.i32(x));
    },
  },
);

const urlResponse = { pull: (r: WireReader, error: number): UrlResponse => ({ error, url: r.utf16z() }), push: (w: WireWriter, v: UrlResponse) => w.utf16z(v.url) };

export const getMailboxUrlCodec = codec<GetMailboxUrlRequest, UrlResponse>(
  {
    pull: (r) => ({ flags: r.u32(), serverDn: r.utf16z() }),
    push: (w, v) => {
      w.u32(v.flags);
      w.utf16z(v.serverDn);
    },
  },
  urlResponse,
);

export const getAddressBookUrlCodec = codec<GetAddressBookUrlRequest, UrlResponse>(
  {
    pull: (r) => ({ flags: r.u32(), userDn: r.utf16z() }),
    push: (w, v) => {
      w.u32(v.flags);
      w.utf16z(v.userDn);
    },
  },
  urlResponse,
);

/** The codec of every X-RequestType value of the address book endpoint. */
export const nspiCodecs = {
  Bind: bindCodec,
  Unbind: unbindCodec,
  CompareMIds: compareMIdsCodec,
  DNToMId: dnToMIdCodec,
  GetMatches: getMatchesCodec,
  GetPropList: getPropListCodec,
  GetProps: getPropsCodec,
  GetSpecialTable: getSpecialTableCodec,
  GetTemplateInfo: getTemplateInfoCodec,
  ModLinkAtt: modLinkAttCodec,
  ModProps: modPropsCodec,
  QueryColumns: queryColumnsCodec,
  QueryRows: queryRowsCodec,
  ResolveNames: resolveNamesCodec,
  ResortRestriction: resortRestrictionCodec,
  SeekEntries: seekEntriesCodec,
  UpdateStat: updateStatCodec,
  GetMailboxUrl: getMailboxUrlCodec,
  GetAddressBookUrl: getAddressBookUrlCodec,
} as const;

export type NspiRequestType = keyof typeof nspiCodecs;
