/**
 * The address book engine (MS-OXNSPI semantics) over the embedded directory: the global address
 * list and one container per domain, tables positioned by STAT, MIds, ambiguous name resolution,
 * restrictions, and the properties of each object. It speaks the codec's plain request and
 * response shapes (./nspi-codec.ts) but never bytes.
 *
 * MIds: one registry per AddressBook (so per server process), shared by every session: an object
 * keeps its MId for the life of the process, whichever session asks (MIds only have to be stable
 * for a session's life, MS-OXNSPI 2.2.9.1; being stable across sessions also keeps ephemeral entry
 * ids, which carry the MId and the server's GUID, meaningful). MIds are never reused.
 *
 * Every request reads a fresh snapshot of the directory (LMDB reads, microseconds per record):
 * no cache to invalidate when users are added or disabled. A directory of tens of thousands of
 * users would want a snapshot cached per directory generation; not needed yet.
 */
import { createHash } from 'node:crypto';
import { addressBookEntryId, searchKey } from '../../../storage/address-ids.js';
import { isHidden, legacyDnFor, type DirectoryStore, type UserRecord } from '../../../storage/directory-store.js';
import { MV_FLAG, PropType, propTag, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import { evaluate, mapRow, RestrictionContext, type Restriction } from '../../../storage/restriction.js';
import { abRowOf, type AbCell, type AbRow, type AbTaggedValue } from './ab-values.js';
import { fromCodePage, toCodePage } from './codepage.js';
import {
  AbTag,
  ContainerFlag,
  CP_WINUNICODE,
  DisplayType,
  DTE_FLAG_ACL_CAPABLE,
  ENTRYID_EPHEMERAL,
  FIRST_OBJECT_MID,
  MID_AMBIGUOUS,
  MID_BEGINNING_OF_TABLE,
  MID_CURRENT,
  MID_END_OF_TABLE,
  MID_UNRESOLVED,
  NspiError,
  NspiFlag,
  ObjectType,
  SortType,
} from './nspi-constants.js';
import type {
  AbTable,
  BindRequest,
  BindResponse,
  CompareMIdsRequest,
  CompareMIdsResponse,
  DNToMIdRequest,
  DNToMIdResponse,
  GetMatchesRequest,
  GetMatchesResponse,
  GetPropListRequest,
  GetPropListResponse,
  GetPropsRequest,
  GetPropsResponse,
  GetSpecialTableRequest,
  GetSpecialTableResponse,
  GetTemplateInfoRequest,
  GetTemplateInfoResponse,
  QueryColumnsRequest,
  QueryColumnsResponse,
  QueryRowsRequest,
  QueryRowsResponse,
  ResolveNamesRequest,
  ResolveNamesResponse,
  ResortRestrictionRequest,
  ResortRestrictionResponse,
  SeekEntriesRequest,
  SeekEntriesResponse,
  Stat,
  UpdateStatRequest,
  UpdateStatResponse,
} from './nspi-codec.js';

/** Rows one QueryRows / SeekEntries answers at most: the client continues from the returned STAT. */
export const MAX_QUERY_ROWS = 1000;
/** Matches one GetMatches returns at most, whatever the client asks: beyond, ecTableTooBig. */
export const MAX_MATCHES = 5000;

/** Per-session state kept by the transport between requests (opaque to it). */
export interface AbSession {
  userId: string;
  codePage: number;
  templateLocale: number;
  sortLocale: number;
}

type NativeValue = { type: number; value: PropValue };

interface AbObject {
  kind: 'user' | 'group' | 'container';
  key: string;
  mid: number;
  dn: string;
  displayName: string;
  /** Primary SMTP address (lower case); '' for containers. */
  address: string;
  aliases: string[];
  /** Domain of the primary address, or the container's domain ('' for the GAL). */
  domain: string;
  /** Group members (addresses). */
  members: string[];
  user: UserRecord | null;
  props: Map<number, NativeValue> | null;
}

interface Snapshot {
  /** Users and groups the address lists show, in display name order (hidden users left out). */
  entries: AbObject[];
  /** Every user and group, hidden ones included, in display name order. */
  all: AbObject[];
  byMid: Map<number, AbObject>;
  byDn: Map<string, AbObject>;
  containers: AbObject[];
}

const S = PropType.PtypString;
const S8 = PropType.PtypString8;

/** The default columns of QueryRows without a column set (MS-OXNSPI 3.1.4.1.8). */
const DEFAULT_ROW_TAGS = [
  AbTag.PidTagAddressBookContainerId,
  AbTag.PidTagObjectType,
  AbTag.PidTagDisplayType,
  AbTag.PidTagDisplayName,
  AbTag.PidTagPrimaryTelephoneNumber,
  AbTag.PidTagDepartmentName,
  AbTag.PidTagOfficeLocation,
];

/** The columns QueryColumns reports: what a user row can carry. */
const ALL_COLUMNS = [
  AbTag.PidTagEntryId,
  AbTag.PidTagInstanceKey,
  AbTag.PidTagRecordKey,
  AbTag.PidTagSearchKey,
  AbTag.PidTagObjectType,
  AbTag.PidTagDisplayType,
  AbTag.PidTagDisplayTypeEx,
  AbTag.PidTagDisplayName,
  AbTag.PidTagAddressType,
  AbTag.PidTagEmailAddress,
  AbTag.PidTagSmtpAddress,
  AbTag.PidTagAddressBookProxyAddresses,
  AbTag.PidTagAccount,
  AbTag.PidTagTitle,
  AbTag.PidTagDepartmentName,
  AbTag.PidTagOfficeLocation,
  AbTag.PidTagBusinessTelephoneNumber,
  AbTag.PidTagCompanyName,
  AbTag.PidTagMobileTelephoneNumber,
  AbTag.PidTagGivenName,
  AbTag.PidTagSurname,
  AbTag.PidTagAddressBookHomeMessageDatabase,
  AbTag.PidTagAddressBookDisplayNamePrintable,
  AbTag.PidTagTransmittableDisplayName,
  AbTag.PidTagSendRichInfo,
  AbTag.PidTagAddressBookContainerId,
];

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/** The string type a tag's string properties take for this code page (Unicode only when asked). */
function stringTag(tag: number, unicode: boolean): number {
  const t = propTypeOf(tag);
  if (t === S || t === S8) return propTag(tag >>> 16, unicode ? S : S8);
  if (t === (S | MV_FLAG) || t === (S8 | MV_FLAG)) return propTag(tag >>> 16, (unicode ? S : S8) | MV_FLAG);
  return tag;
}

function isSortTypeKnown(t: number): boolean {
  // Phonetic display names are not kept: the phonetic sort is the display name sort.
  return t === SortType.DisplayName || t === SortType.PhoneticDisplayName || t === SortType.DisplayName_RO || t === SortType.DisplayName_W;
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function u32le(v: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, v >>> 0, true);
  return b;
}

export class AddressBook {
  private readonly midOf = new Map<string, number>();
  private nextMid = FIRST_OBJECT_MID;

  constructor(
    private readonly directory: DirectoryStore,
    /** The server's GUID: answered by Bind and carried by ephemeral entry ids. */
    readonly serverGuid: Uint8Array,
    private readonly hostname: string,
  ) {}

  // ---------------------------------------------------------------- objects and tables

  private mid(key: string): number {
    let m = this.midOf.get(key);
    if (m === undefined) {
      m = this.nextMid++;
      this.midOf.set(key, m);
    }
    return m;
  }

  private snapshot(): Snapshot {
    const org = this.directory.org();
    const entries: AbObject[] = [];
    for (const u of this.directory.users()) {
      if (!u.enabled) continue;
      entries.push({
        kind: 'user',
        key: `u:${u.id}`,
        mid: this.mid(`u:${u.id}`),
        dn: u.legacyDn,
        displayName: u.displayName,
        address: u.address,
        aliases: u.aliases,
        domain: u.address.slice(u.address.lastIndexOf('@') + 1),
        members: [],
        user: u,
        props: null,
      });
    }
    for (const g of this.directory.groups()) {
      entries.push({
        kind: 'group',
        key: `g:${g.id}`,
        mid: this.mid(`g:${g.id}`),
        dn: legacyDnFor(org, g.id),
        displayName: g.displayName,
        address: g.address,
        aliases: g.aliases ?? [],
        domain: g.address.slice(g.address.lastIndexOf('@') + 1),
        members: g.members,
        user: null,
        props: null,
      });
    }
    entries.sort((a, b) => collator.compare(a.displayName, b.displayName) || a.mid - b.mid);
    // Hidden users are in no address list nor name resolution, but keep their MId and DN: a
    // client holding their legacy DN (a message's sender, a recipient) still reads them by MId.
    const all = entries;
    const visible = all.filter((e) => e.user === null || !isHidden(e.user));
    const containers: AbObject[] = this.directory.domains().map((d) => ({
      kind: 'container' as const,
      key: `d:${d.name}`,
      mid: this.mid(`d:${d.name}`),
      dn: `/guid=${createHash('sha256').update(d.name).digest('hex').slice(0, 32).toUpperCase()}`,
      displayName: d.name,
      address: '',
      aliases: [],
      domain: d.name,
      members: [],
      user: null,
      props: null,
    }));
    const byMid = new Map<number, AbObject>();
    const byDn = new Map<string, AbObject>();
    for (const o of [...all, ...containers]) {
      byMid.set(o.mid, o);
      byDn.set(o.dn.toLowerCase(), o);
    }
    return { entries: visible, all, byMid, byDn, containers };
  }

  /** The table a STAT names (ContainerID 0: the GAL), or null for an unknown container. */
  private table(snap: Snapshot, stat: Stat): AbObject[] | null {
    if (stat.containerId === 0) return snap.entries;
    const c = snap.byMid.get(stat.containerId);
    if (c === undefined || c.kind !== 'container') return null;
    return snap.entries.filter((e) => e.domain === c.domain);
  }

  private propsOf(o: AbObject): Map<number, NativeValue> {
    if (o.props !== null) return o.props;
    const p = new Map<number, NativeValue>();
    const set = (tag: number, value: PropValue) => p.set(tag >>> 16, { type: propTypeOf(tag), value });
    const displayType = o.kind === 'user' ? DisplayType.DT_MAILUSER : o.kind === 'group' ? DisplayType.DT_DISTLIST : DisplayType.DT_CONTAINER;
    const entryId = new Uint8Array(addressBookEntryId(o.dn, displayType));
    set(AbTag.PidTagEntryId, entryId);
    set(AbTag.PidTagInstanceKey, u32le(o.mid));
    set(AbTag.PidTagRecordKey, entryId);
    set(AbTag.PidTagDisplayName, o.displayName);
    set(AbTag.PidTagDisplayType, displayType);
    if (o.kind === 'container') {
      set(AbTag.PidTagObjectType, ObjectType.MAPI_ABCONT);
      set(AbTag.PidTagContainerFlags, ContainerFlag.AB_RECIPIENTS | ContainerFlag.AB_UNMODIFIABLE);
      set(AbTag.PidTagDepth, 0);
      set(AbTag.PidTagAddressBookContainerId, o.mid);
      o.props = p;
      return p;
    }
    set(AbTag.PidTagObjectType, o.kind === 'user' ? ObjectType.MAPI_MAILUSER : ObjectType.MAPI_DISTLIST);
    set(AbTag.PidTagDisplayTypeEx, o.kind === 'user' ? DTE_FLAG_ACL_CAPABLE | DisplayType.DT_MAILUSER : DisplayType.DT_DISTLIST);
    set(AbTag.PidTagSearchKey, new Uint8Array(searchKey('EX', o.dn)));
    set(AbTag.PidTagAddressType, 'EX');
    set(AbTag.PidTagEmailAddress, o.dn);
    set(AbTag.PidTagSmtpAddress, o.address);
    set(AbTag.PidTagAddressBookProxyAddresses, [`SMTP:${o.address}`, ...o.aliases.map((a) => `smtp:${a}`)]);
    set(AbTag.PidTagAccount, o.address.slice(0, o.address.lastIndexOf('@')));
    set(AbTag.PidTagAddressBookDisplayNamePrintable, o.displayName.replace(/[^\x20-\x7e]/g, '?'));
    set(AbTag.PidTagTransmittableDisplayName, o.displayName);
    set(AbTag.PidTagSendRichInfo, true);
    set(AbTag.PidTagAddressBookContainerId, 0);
    if (o.user !== null) {
      const prof = o.user.profile ?? {};
      if (prof.title !== undefined) set(AbTag.PidTagTitle, prof.title);
      if (prof.department !== undefined) set(AbTag.PidTagDepartmentName, prof.department);
      if (prof.office !== undefined) set(AbTag.PidTagOfficeLocation, prof.office);
      if (prof.phone !== undefined) {
        set(AbTag.PidTagBusinessTelephoneNumber, prof.phone);
        set(AbTag.PidTagPrimaryTelephoneNumber, prof.phone);
      }
      if (prof.mobile !== undefined) set(AbTag.PidTagMobileTelephoneNumber, prof.mobile);
      if (prof.company !== undefined) set(AbTag.PidTagCompanyName, prof.company);
      if (prof.givenName !== undefined) set(AbTag.PidTagGivenName, prof.givenName);
      if (prof.surname !== undefined) set(AbTag.PidTagSurname, prof.surname);
      const org = this.directory.org();
      set(AbTag.PidTagAddressBookHomeMessageDatabase, `/o=${org}/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/cn=Servers/cn=${this.hostname}/cn=Microsoft Private MDB`);
    }
    o.props = p;
    return p;
  }

  /** Permanent, or with fEphID the ephemeral entry id (MS-OXNSPI 2.2.9.2). */
  private ephemeralEntryId(o: AbObject): Uint8Array {
    const b = new Uint8Array(32);
    const v = new DataView(b.buffer);
    b[0] = ENTRYID_EPHEMERAL;
    b.set(this.serverGuid.subarray(0, 16), 4);
    v.setUint32(20, 1, true);
    v.setUint32(24, o.kind === 'user' ? DisplayType.DT_MAILUSER : o.kind === 'group' ? DisplayType.DT_DISTLIST : DisplayType.DT_CONTAINER, true);
    v.setUint32(28, o.mid, true);
    return b;
  }

  /** One property of an object as the requested tag's type asks; null when it has none. */
  private valueOf(o: AbObject, tag: number, codePage: number, flags: number): NativeValue | null {
    const native = this.propsOf(o).get(tag >>> 16);
    if (native === undefined) return null;
    let value = native.value;
    if ((tag >>> 16) === AbTag.PidTagEntryId >>> 16 && (flags & NspiFlag.fEphID) !== 0) value = this.ephemeralEntryId(o);
    const want = propTypeOf(tag);
    if (want === PropType.PtypUnspecified || want === native.type) return { type: native.type, value };
    if (want === S8 && native.type === S) return { type: S8, value: toCodePage(String(value), codePage) };
    if (want === (S8 | MV_FLAG) && native.type === (S | MV_FLAG) && Array.isArray(value)) return { type: want, value: value.map((x) => toCodePage(String(x), codePage)) };
    return null;
  }

  private row(o: AbObject | undefined, columns: readonly number[], codePage: number, flags: number): AbRow {
    const cells: AbCell[] = columns.map((tag) => {
      const v = o === undefined ? null : this.valueOf(o, tag, codePage, flags);
      return v === null ? { kind: 'error', code: NspiError.NotFound } : { kind: 'value', type: v.type, value: v.value };
    });
    return abRowOf(cells);
  }

  private rows(objs: readonly (AbObject | undefined)[], columns: readonly number[], codePage: number, flags: number): AbTable {
    return { columns: [...columns], rows: objs.map((o) => this.row(o, columns, codePage, flags)) };
  }

  private defaultStat(session: AbSession): Stat {
    return { sortType: SortType.DisplayName, containerId: 0, currentRec: MID_BEGINNING_OF_TABLE, delta: 0, numPos: 0, totalRecs: 0, codePage: session.codePage, templateLocale: session.templateLocale, sortLocale: session.sortLocale };
  }

  private codePageOf(session: AbSession, stat: Stat | null): number {
    return stat?.codePage ?? session.codePage;
  }

  /** The position CurrentRec names in a table (fractional positioning for MID_CURRENT), or -1. */
  private position(table: readonly AbObject[], stat: Stat): number {
    switch (stat.currentRec) {
      case MID_BEGINNING_OF_TABLE:
        return 0;
      case MID_END_OF_TABLE:
        return table.length;
      case MID_CURRENT:
        // MS-OXNSPI 3.1.4.5.2: NumPos / TotalRecs is a fraction of the table.
        return stat.totalRecs === 0 ? 0 : clamp(Math.floor((stat.numPos * table.length) / stat.totalRecs), 0, table.length);
      default:
        return table.findIndex((e) => e.mid === stat.currentRec);
    }
  }

  /** A STAT at `pos` of the table: CurrentRec the MId there (or end of table), Delta 0. */
  private statAt(stat: Stat, table: readonly AbObject[], pos: number): Stat {
    return { ...stat, currentRec: pos < table.length ? table[pos].mid : MID_END_OF_TABLE, numPos: pos, totalRecs: table.length, delta: 0 };
  }

  /** Opens the table of a STAT and moves by its Delta; an NSPI error code when it cannot. */
  private seek(snap: Snapshot, stat: Stat): { table: AbObject[]; start: number; pos: number } | number {
    if (!isSortTypeKnown(stat.sortType)) return NspiError.InvalidParameter;
    const table = this.table(snap, stat);
    if (table === null) return NspiError.InvalidBookmark;
    const start = this.position(table, stat);
    if (start < 0) return NspiError.NotFound;
    return { table, start, pos: clamp(start + stat.delta, 0, table.length) };
  }

  // ---------------------------------------------------------------- requests

  bind(req: BindRequest, userId: string): { response: BindResponse; session: AbSession | null } {
    const stat = req.state;
    // MS-OXNSPI 3.1.4.1.1: a Unicode code page in the STAT is refused.
    if (stat !== null && stat.codePage === CP_WINUNICODE) return { response: { error: NspiError.InvalidCodepage, serverGuid: new Uint8Array(16) }, session: null };
    const session: AbSession = { userId, codePage: stat?.codePage ?? 1252, templateLocale: stat?.templateLocale ?? 0x409, sortLocale: stat?.sortLocale ?? 0x409 };
    return { response: { error: NspiError.Success, serverGuid: this.serverGuid }, session };
  }

  getSpecialTable(session: AbSession, req: GetSpecialTableRequest): GetSpecialTableResponse {
    const codePage = this.codePageOf(session, req.state);
    const unicode = (req.flags & NspiFlag.NspiUnicodeStrings) !== 0;
    if ((req.flags & NspiFlag.NspiAddressCreationTemplates) !== 0) {
      // No address creation templates are served: an empty table.
      return { error: NspiError.Success, codePage, version: null, rows: [] };
    }
    const snap = this.snapshot();
    const name = (s: string): AbTaggedValue => ({ tag: stringTag(AbTag.PidTagDisplayName, unicode), value: unicode ? s : toCodePage(s, codePage) });
    const containerRow = (dn: string, id: number, display: string): AbTaggedValue[] => [
      { tag: AbTag.PidTagEntryId, value: new Uint8Array(addressBookEntryId(dn, DisplayType.DT_CONTAINER)) },
      { tag: AbTag.PidTagContainerFlags, value: ContainerFlag.AB_RECIPIENTS | ContainerFlag.AB_UNMODIFIABLE },
      { tag: AbTag.PidTagDepth, value: 0 },
      { tag: AbTag.PidTagAddressBookContainerId, value: id },
      name(display),
      { tag: AbTag.PidTagAddressBookIsMaster, value: false },
    ];
    // The GAL first (ContainerID 0), then one container per domain.
    const rows = [containerRow('/', 0, 'Global Address List'), ...snap.containers.map((c) => containerRow(c.dn, c.mid, c.displayName))];
    const version = parseInt(createHash('sha256').update(snap.containers.map((c) => c.domain).join('\n')).digest('hex').slice(0, 7), 16);
    return { error: NspiError.Success, codePage, version, rows };
  }

  updateStat(session: AbSession, req: UpdateStatRequest): UpdateStatResponse {
    const stat = req.state ?? this.defaultStat(session);
    const at = this.seek(this.snapshot(), stat);
    if (typeof at === 'number') return { error: at, state: null, delta: null };
    return { error: NspiError.Success, state: this.statAt(stat, at.table, at.pos), delta: req.deltaRequested ? at.pos - at.start : null };
  }

  queryRows(session: AbSession, req: QueryRowsRequest): QueryRowsResponse {
    const stat = req.state ?? this.defaultStat(session);
    const codePage = stat.codePage;
    const columns = req.columns ?? DEFAULT_ROW_TAGS.map((t) => stringTag(t, codePage === CP_WINUNICODE));
    const snap = this.snapshot();
    if (req.explicitTable.length > 0) {
      if (req.explicitTable.length > MAX_QUERY_ROWS) return { error: NspiError.TableTooBig, state: null, table: null };
      const objs = req.explicitTable.map((m) => snap.byMid.get(m));
      return { error: NspiError.Success, state: stat, table: this.rows(objs, columns, codePage, req.flags) };
    }
    const at = this.seek(snap, stat);
    if (typeof at === 'number') return { error: at, state: null, table: null };
    const n = Math.min(req.rowCount, MAX_QUERY_ROWS, at.table.length - at.pos);
    const objs = at.table.slice(at.pos, at.pos + n);
    return { error: NspiError.Success, state: this.statAt(stat, at.table, at.pos + n), table: this.rows(objs, columns, codePage, req.flags) };
  }

  seekEntries(session: AbSession, req: SeekEntriesRequest): SeekEntriesResponse {
    const stat = req.state ?? this.defaultStat(session);
    const target = req.target;
    if (target === null || target.tag >>> 16 !== AbTag.PidTagDisplayName >>> 16 || typeof target.value !== 'string') return { error: NspiError.TooComplex, state: null, table: null };
    if (!isSortTypeKnown(stat.sortType)) return { error: NspiError.InvalidParameter, state: null, table: null };
    const want = propTypeOf(target.tag) === S8 ? fromCodePage(target.value, stat.codePage) : target.value;
    const snap = this.snapshot();
    let table: AbObject[];
    if (req.explicitTable !== null) {
      table = req.explicitTable.map((m) => snap.byMid.get(m)).filter((o): o is AbObject => o !== undefined);
    } else {
      const t = this.table(snap, stat);
      if (t === null) return { error: NspiError.InvalidBookmark, state: null, table: null };
      table = t;
    }
    const pos = table.findIndex((e) => collator.compare(e.displayName, want) >= 0);
    if (pos < 0) return { error: NspiError.NotFound, state: this.statAt(stat, table, table.length), table: null };
    const rows = req.columns === null ? null : this.rows(table.slice(pos, pos + MAX_QUERY_ROWS), req.columns, stat.codePage, 0);
    return { error: NspiError.Success, state: this.statAt(stat, table, pos), table: rows };
  }

  getMatches(session: AbSession, req: GetMatchesRequest): GetMatchesResponse {
    const stat = req.state ?? this.defaultStat(session);
    const snap = this.snapshot();
    const table = this.table(snap, stat);
    if (table === null) return { error: NspiError.InvalidBookmark, state: null, mids: null, table: null };
    let matches: AbObject[];
    if (req.filter !== null) {
      const filter = normalizeRestriction(req.filter, stat.codePage);
      const ctx = new RestrictionContext();
      matches = table.filter((o) => this.matches(o, filter, ctx));
    } else if (req.propertyName !== null && (req.propertyName.id >>> 16) === AbTag.PidTagAddressBookMember >>> 16) {
      // The members of the distribution list at CurrentRec (a link attribute read as a table).
      const dl = snap.byMid.get(stat.currentRec);
      if (dl === undefined || dl.kind !== 'group') return { error: NspiError.NotFound, state: null, mids: null, table: null };
      const wanted = new Set(dl.members.map((m) => m.toLowerCase()));
      matches = snap.entries.filter((e) => wanted.has(e.address));
    } else {
      return { error: NspiError.TooComplex, state: null, mids: null, table: null };
    }
    if (matches.length > Math.min(req.rowCount, MAX_MATCHES)) return { error: NspiError.TableTooBig, state: null, mids: null, table: null };
    const state: Stat = { ...stat, currentRec: MID_BEGINNING_OF_TABLE, numPos: 0, totalRecs: matches.length, delta: 0 };
    const rows = req.columns === null ? null : this.rows(matches, req.columns, stat.codePage, 0);
    return { error: NspiError.Success, state, mids: matches.map((m) => m.mid), table: rows };
  }

  /** A restriction over an object; nodes on PidTagAnr run ambiguous name resolution. */
  private matches(o: AbObject, r: Restriction, ctx: RestrictionContext): boolean {
    switch (r.type) {
      case 'and':
        return r.children.every((c) => this.matches(o, c, ctx));
      case 'or':
        return r.children.some((c) => this.matches(o, c, ctx));
      case 'not':
        return !this.matches(o, r.child, ctx);
      case 'property':
      case 'content':
        if (r.tag >>> 16 === AbTag.PidTagAnr >>> 16) return typeof r.value === 'string' && anrResolve(r.value, [o]).length > 0;
        break;
      default:
        break;
    }
    const props = this.propsOf(o);
    const byTag = new Map<number, PropValue>();
    for (const [id, v] of props) byTag.set(propTag(id, v.type), v.value);
    return evaluate(r, mapRow(byTag), ctx);
  }

  resolveNames(session: AbSession, req: ResolveNamesRequest): ResolveNamesResponse {
    const stat = req.state ?? this.defaultStat(session);
    const codePage = stat.codePage;
    const snap = this.snapshot();
    const table = this.table(snap, stat) ?? snap.entries;
    const mids: number[] = [];
    const resolved: AbObject[] = [];
    for (const name of req.names ?? []) {
      const hits = anrResolve(name, table);
      if (hits.length === 0) mids.push(MID_UNRESOLVED);
      else if (hits.length > 1) mids.push(MID_AMBIGUOUS);
      else {
        mids.push(hits[0].mid);
        resolved.push(hits[0]);
      }
    }
    const columns = req.tags ?? DEFAULT_ROW_TAGS.map((t) => stringTag(t, true));
    return { error: NspiError.Success, codePage, mids, table: this.rows(resolved, columns, codePage, 0) };
  }

  dnToMId(_session: AbSession, req: DNToMIdRequest): DNToMIdResponse {
    const snap = this.snapshot();
    // Legacy DNs are ASCII (MS-OXNSPI 2.2.9.1): the 8-bit names compare as they are.
    const mids = (req.names ?? []).map((n) => snap.byDn.get(n.toLowerCase())?.mid ?? MID_UNRESOLVED);
    return { error: NspiError.Success, mids };
  }

  getProps(session: AbSession, req: GetPropsRequest): GetPropsResponse {
    const stat = req.state ?? this.defaultStat(session);
    const codePage = stat.codePage;
    const o = this.snapshot().byMid.get(stat.currentRec);
    if (o === undefined) return { error: NspiError.NotFound, codePage, values: null };
    const tags = req.tags ?? this.propList(o, codePage === CP_WINUNICODE);
    let missing = false;
    const values: AbTaggedValue[] = tags.map((tag) => {
      const v = this.valueOf(o, tag, codePage, req.flags);
      if (v === null) {
        missing = true;
        return { tag: propTag(tag >>> 16, PropType.PtypErrorCode), value: NspiError.NotFound };
      }
      return { tag: propTag(tag >>> 16, v.type), value: v.value };
    });
    return { error: missing ? NspiError.ErrorsReturned : NspiError.Success, codePage, values };
  }

  private propList(o: AbObject, unicode: boolean): number[] {
    return [...this.propsOf(o)].map(([id, v]) => stringTag(propTag(id, v.type), unicode));
  }

  getPropList(_session: AbSession, req: GetPropListRequest): GetPropListResponse {
    const o = this.snapshot().byMid.get(req.mid);
    if (o === undefined) return { error: NspiError.NotFound, tags: null };
    return { error: NspiError.Success, tags: this.propList(o, req.codePage === CP_WINUNICODE) };
  }

  queryColumns(_session: AbSession, req: QueryColumnsRequest): QueryColumnsResponse {
    const unicode = (req.mapiFlags & NspiFlag.NspiUnicodeProptypes) !== 0;
    return { error: NspiError.Success, columns: ALL_COLUMNS.map((t) => stringTag(t, unicode)) };
  }

  compareMIds(session: AbSession, req: CompareMIdsRequest): CompareMIdsResponse {
    const stat = req.state ?? this.defaultStat(session);
    const table = this.table(this.snapshot(), stat);
    if (table === null) return { error: NspiError.InvalidBookmark, result: 0 };
    const a = table.findIndex((e) => e.mid === req.mid1);
    const b = table.findIndex((e) => e.mid === req.mid2);
    // MS-OXNSPI 3.1.4.1.14: either MId absent from the table is a general failure.
    if (a < 0 || b < 0) return { error: NspiError.GeneralFailure, result: 0 };
    return { error: NspiError.Success, result: a - b };
  }

  resortRestriction(session: AbSession, req: ResortRestrictionRequest): ResortRestrictionResponse {
    const stat = req.state ?? this.defaultStat(session);
    if (!isSortTypeKnown(stat.sortType)) return { error: NspiError.InvalidParameter, state: null, mids: null };
    const snap = this.snapshot();
    const order = new Map(snap.all.map((e, i) => [e.mid, i]));
    const mids = [...new Set(req.mids ?? [])].filter((m) => order.has(m)).sort((x, y) => order.get(x)! - order.get(y)!);
    const at = mids.indexOf(stat.currentRec);
    const state: Stat = { ...stat, totalRecs: mids.length, numPos: at < 0 ? 0 : at, currentRec: at < 0 ? (mids[0] ?? MID_END_OF_TABLE) : stat.currentRec, delta: 0 };
    return { error: NspiError.Success, state, mids };
  }

  getTemplateInfo(_session: AbSession, req: GetTemplateInfoRequest): GetTemplateInfoResponse {
    if (req.codePage === CP_WINUNICODE) return { error: NspiError.InvalidCodepage, codePage: req.codePage, row: null };
    // No display templates are served: the client falls back to its own.
    return { error: NspiError.NotFound, codePage: req.codePage, row: null };
  }

  /** The user a session belongs to (for GetMailboxUrl). */
  user(userId: string): UserRecord | undefined {
    return this.directory.userById(userId);
  }
}

// ---------------------------------------------------------------------------------------------
// Ambiguous name resolution (MS-OXNSPI 3.1.4.7: the algorithm is the server's choice)

/**
 * Exact matches win: a full address or alias, a legacy DN, the account (local part) or the whole
 * display name. Without one, prefixes: of the display name or any of its words, of an address's
 * local part. "SMTP:" and "EX:" prefixes are dropped first.
 */
export function anrResolve<T extends { displayName: string; address: string; aliases: string[]; dn: string }>(name: string, table: readonly T[]): T[] {
  const n = name.trim().replace(/^=?(smtp|ex):/i, '').toLowerCase();
  if (n.length === 0) return [];
  const local = (a: string) => a.slice(0, a.lastIndexOf('@'));
  const exact = table.filter((e) => e.address === n || e.aliases.includes(n) || e.dn.toLowerCase() === n || local(e.address) === n || e.displayName.toLowerCase() === n);
  if (exact.length > 0) return exact;
  return table.filter((e) => {
    const dn = e.displayName.toLowerCase();
    if (dn.startsWith(n) || dn.split(/\s+/).some((w) => w.startsWith(n))) return true;
    return [e.address, ...e.aliases].some((a) => local(a).startsWith(n));
  });
}

/**
 * String8 tags and values of a restriction become Unicode ones (values decoded from the code page),
 * so one evaluation serves both string types.
 */
function normalizeRestriction(r: Restriction, codePage: number): Restriction {
  const tag = (t: number) => stringTag(t, true);
  const value = (t: number, v: PropValue): PropValue => {
    const type = propTypeOf(t);
    if (type === S8 && typeof v === 'string') return fromCodePage(v, codePage);
    if (type === (S8 | MV_FLAG) && Array.isArray(v)) return v.map((x) => (typeof x === 'string' ? fromCodePage(x, codePage) : x));
    return v;
  };
  switch (r.type) {
    case 'and':
    case 'or':
      return { type: r.type, children: r.children.map((c) => normalizeRestriction(c, codePage)) };
    case 'not':
      return { type: 'not', child: normalizeRestriction(r.child, codePage) };
    case 'content':
    case 'property':
      return { ...r, tag: tag(r.tag), value: value(r.tag, r.value) };
    case 'compareProps':
      return { ...r, tag1: tag(r.tag1), tag2: tag(r.tag2) };
    case 'bitmask':
    case 'size':
    case 'exist':
      return { ...r, tag: tag(r.tag) };
    case 'sub':
    case 'count':
      return { ...r, child: normalizeRestriction(r.child, codePage) };
    case 'comment':
      return { ...r, child: r.child === null ? null : normalizeRestriction(r.child, codePage) };
  }
}
