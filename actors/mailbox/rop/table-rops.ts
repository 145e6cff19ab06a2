/**
 * Table ROPs (MS-OXCTABL 3.2.5) on table objects. Contents, associated and flat hierarchy tables
 * are the actor's views (`TableObject.table`, run through its table ops, so writes invalidate them
 * and table notifications name them); the other tables are kept here over the same table engine
 * (`objects/table.ts`) with a row source read again before every operation: a message's
 * attachments and recipients, a hierarchy with the Depth flag (every level, PidTagDepth), and the
 * soft-deleted rows of a folder, a folder's permissions (perm-rops.ts) and rules (rule-rops.ts).
 * An ACL caller's hierarchy tables are kept here too, listing only the folders they may see.
 *
 * Rows go out as PropertyRows over the client's columns: strings in the type of the column
 * (PtypString8 columns read the stored Unicode value), missing values as ecNotFound cells, text
 * longer than 255 characters cut there (MS-OXCDATA 2.8.2 lets a table truncate large columns) and
 * values over 32 KiB as ecMAPIOOM cells. Category rows carry PidTagInstId values of their own
 * (CATEGORY_ID_FLAG), which RopExpandRow / RopCollapseRow take back as CategoryId.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import type { SortOrderSet } from '../../../protocols/mapi/wire/prop-values.js';
import { pushPropertyRow, type PropertyRow } from '../../../protocols/mapi/wire/prop-values.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { actorError } from '../../../runtime/errors.js';
import { eidGlobcnt, makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { decodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { PropType, propId, propTag, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import { toWireRestriction, type Restriction } from '../../../storage/restriction.js';
import { Bookmark, PidTagDepth, PidTagInstanceKey, PidTagInstanceNum, PidTagRowType, RowType, Table, type Origin, type SortKey } from '../objects/table.js';
import { permissionRows, visibleIn } from './perm-rops.js';
import { specificRow } from './prop-rows.js';
import { ruleRows } from './rule-rops.js';
import type { HandlerCtx, HandlerTable, RopHandler, RopOutcome } from './rop-run.js';
import type { TableObject } from './rop-session.js';

/** PidTagInstID (MS-OXPROPS): the row's object id; for a category row, CATEGORY_ID_FLAG | its key. */
export const PidTagInstId = propTag(0x674d, PropType.PtypInteger64);
const PidTagRowid = propTag(0x3000, PropType.PtypInteger32);
const PidTagAttachNumber = propTag(0x0e21, PropType.PtypInteger32);
const PidTagAttachSize = propTag(0x0e20, PropType.PtypInteger32);
const PidTagObjectType = propTag(0x0ffe, PropType.PtypInteger32);
/** Category rows' PidTagInstID: this bit set, the category's key below. */
export const CATEGORY_ID_FLAG = 0x8000_0000_0000_0000n;
/** TableFlags (MS-OXCFOLD 2.2.1.13.1 / 2.2.1.14.1). */
export const TableFlags = { Associated: 0x02, Depth: 0x04, DeferredErrors: 0x08, NoNotifications: 0x10, SoftDeletes: 0x20, UseUnicode: 0x40, ConversationMembers: 0x80 } as const;
/** Text longer than this is cut in table rows (MS-OXCDATA 2.8.2). */
export const TABLE_TEXT_LIMIT = 255;
/** Bytes of rows one RopQueryRows answers at most (its response shares a 64 KiB ROP buffer). */
export const QUERY_ROWS_BYTES = 0x7000;
/** TBLSTAT_COMPLETE (MS-OXCTABL 2.2.2.1.3): every table operation here completes synchronously. */
const TBLSTAT_COMPLETE = 0x00;

// ------------------------------------------------------------------------------ tags and rows

/** The tag the store holds a column under: 8-bit string columns read the Unicode value. */
export function storeTag(tag: number): number {
  const t = propTypeOf(tag);
  const base = t & ~0x3000;
  if (base === PropType.PtypString8) return propTag(propId(tag), (t & 0x3000) | PropType.PtypString);
  return tag;
}

/** A restriction with its 8-bit string tags read as Unicode (the store keeps Unicode). */
export function storeRestriction(r: Restriction): Restriction {
  switch (r.type) {
    case 'and':
    case 'or':
      return { type: r.type, children: r.children.map(storeRestriction) };
    case 'not':
      return { type: 'not', child: storeRestriction(r.child) };
    case 'sub':
      return { type: 'sub', subobject: r.subobject, child: storeRestriction(r.child) };
    case 'count':
      return { type: 'count', count: r.count, child: storeRestriction(r.child) };
    case 'comment':
      return { type: 'comment', props: r.props, child: r.child === null ? null : storeRestriction(r.child) };
    case 'compareProps':
      return { ...r, tag1: storeTag(r.tag1), tag2: storeTag(r.tag2) };
    default:
      return { ...r, tag: storeTag(r.tag) };
  }
}

const cut = (v: PropValue): PropValue => (typeof v === 'string' && v.length > TABLE_TEXT_LIMIT ? v.slice(0, TABLE_TEXT_LIMIT) : v);

/**
 * A table row of the engine (row id, source object, properties) as the client's PropertyRow.
 * `tooBig`: the row's properties kept out of rows for their size (a message's blobs, such as its
 * body): ecMAPIOOM cells rather than ecNotFound.
 */
export function tableRow(o: TableObject, id: number, source: number, props: PropMap, columns: readonly number[], tooBig?: ReadonlySet<number>): PropertyRow {
  const p: PropMap = new Map();
  for (const [t, v] of props) p.set(t, cut(v));
  const header = id < 0;
  if (!p.has(PidTagInstId)) p.set(PidTagInstId, header ? CATEGORY_ID_FLAG | BigInt(-id) : local(o) ? BigInt(source) : makeEid(REPLID_LOCAL, source));
  if (!p.has(PidTagInstanceNum)) p.set(PidTagInstanceNum, 0);
  if (!p.has(PidTagRowType)) p.set(PidTagRowType, RowType.TBL_LEAF_ROW);
  if (!p.has(PidTagDepth)) p.set(PidTagDepth, 0);
  const row = specificRow(p, columns, { wantUnicode: true, sizeLimit: 0 });
  if (tooBig !== undefined && tooBig.size > 0) {
    row.cells = row.cells.map((c, i) => (typeof c === 'object' && c !== null && 'error' in c && c.error === Ec.ecNotFound && tooBig.has(storeTag(columns[i]!)) ? { error: Ec.ecMAPIOOM } : c));
  }
  return row;
}

/** A column whose value may be kept as a blob (strings, binaries, objects) and is missing from the row. */
function missingLarge(props: PropMap | undefined, columns: readonly number[]): boolean {
  if (props === undefined) return true;
  for (const c of columns) {
    const type = c & 0x0fff;
    if (type !== 0x001f && type !== 0x001e && type !== 0x0102 && type !== 0x000d) continue;
    const id = c & 0xffff0000;
    if (props.has(c) || (type === 0x001f && props.has((id | 0x001e) >>> 0)) || (type === 0x001e && props.has((id | 0x001f) >>> 0))) continue;
    return true;
  }
  return false;
}

/**
 * For the messages of a contents view: the tags each keeps as blobs (left out of table rows).
 * Only rows missing a large column are looked up (a second record read per row otherwise).
 */
async function blobTags(h: HandlerCtx, o: TableObject, sources: readonly number[], rows?: readonly (PropMap | undefined)[], columns?: readonly number[]): Promise<(ReadonlySet<number> | undefined)[]> {
  if (local(o) || o.tableKind === 'hierarchy' || sources.length === 0) return [];
  if (rows !== undefined && columns !== undefined && !rows.some((r) => missingLarge(r, columns))) return [];
  return h.env.read(({ store }) =>
    sources.map((mid, i) => {
      if (rows !== undefined && columns !== undefined && !missingLarge(rows[i], columns)) return undefined;
      const rec = mid <= 0 ? undefined : (store.env.db.messages.get(mid) as { blobs?: [number, number][] } | undefined);
      return rec?.blobs === undefined || rec.blobs.length === 0 ? undefined : new Set(rec.blobs.map((b) => b[0]));
    }),
  );
}

// ------------------------------------------------------------------------------ backends

interface Rows {
  ids: number[];
  sources: number[];
  rows: PropMap[];
}

/** What a table ROP needs of a table, whether the actor's view or one kept here. */
interface Backend {
  setColumns(tags: number[]): Promise<void>;
  sort(keys: SortKey[], categories: number, expanded: number): Promise<void>;
  restrict(r: Restriction | null): Promise<void>;
  queryRows(count: number, forward: boolean, advance: boolean): Promise<Rows & { origin: number }>;
  seek(origin: Origin, count: number): Promise<{ sought: number; hitLimit: boolean }>;
  seekFractional(n: number, d: number): Promise<void>;
  position(): Promise<{ numerator: number; denominator: number }>;
  createBookmark(): Promise<number>;
  seekBookmark(bm: number, count: number): Promise<{ rowNoLongerVisible: boolean; sought: number; hitLimit: boolean }>;
  freeBookmark(bm: number): Promise<void>;
  findRow(r: Restriction, origin: Origin, backward: boolean): Promise<{ id: number; row: PropMap } | null>;
  reset(): Promise<void>;
  expandRow(category: number, maxRows: number): Promise<{ expandedCount: number } & Rows>;
  collapseRow(category: number): Promise<number>;
  getCollapseState(): Promise<[number, boolean][]>;
  setCollapseState(s: [number, boolean][]): Promise<void>;
  seekInstanceKey(key: Uint8Array): Promise<boolean>;
  /** Every column the rows have (local tables) or null (views: not known here). */
  allColumns(): Promise<number[] | null>;
}

const bagOf = (b: Uint8Array): PropMap => decodePropBag(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

function viewBackend(h: HandlerCtx, table: number): Backend {
  const op = h.env.op.bind(h.env);
  return {
    setColumns: async (tags) => void (await op('tableSetColumns', { table, tags })),
    sort: async (keys, categories, expanded) => void (await op('tableSort', { table, keys, categories, expanded })),
    restrict: async (r) => void (await op('tableRestrict', { table, restriction: r === null ? null : toWireRestriction(r) })),
    queryRows: async (count, forward, advance) => {
      const r = await op('tableQueryRows', { table, count, forward, advance });
      return { ids: r.ids, sources: r.sources, rows: r.rows.map(bagOf), origin: r.origin };
    },
    seek: (origin, count) => op('tableSeek', { table, origin, count }),
    seekFractional: async (numerator, denominator) => void (await op('tableSeekFractional', { table, numerator, denominator })),
    position: () => op('tablePosition', { table }),
    createBookmark: async () => (await op('tableCreateBookmark', { table })).bookmark,
    seekBookmark: (bookmark, count) => op('tableSeekBookmark', { table, bookmark, count }),
    freeBookmark: async (bookmark) => void (await op('tableFreeBookmark', { table, bookmark })),
    findRow: async (r, origin, backward) => {
      const hit = await op('tableFindRow', { table, restriction: toWireRestriction(r), origin, backward });
      return hit === null ? null : { id: hit.id, row: bagOf(hit.row) };
    },
    reset: async () => void (await op('tableReset', { table })),
    expandRow: async (category, maxRows) => {
      const r = await op('tableExpandRow', { table, category, maxRows });
      return { expandedCount: r.expandedCount, ids: r.ids, sources: r.ids, rows: r.rows.map(bagOf) };
    },
    collapseRow: async (category) => (await op('tableCollapseRow', { table, category })).collapsedCount,
    getCollapseState: () => op('tableGetCollapseState', { table }),
    setCollapseState: async (state) => void (await op('tableSetCollapseState', { table, state })),
    seekInstanceKey: (instanceKey) => op('tableSeekInstanceKey', { table, instanceKey }),
    allColumns: async () => null,
  };
}

/** A table kept here: the engine over rows read again before each operation. */
interface LocalTable {
  table: Table;
  rows: Map<number, PropMap>;
  order: number[];
}

const localTables = new WeakMap<TableObject, LocalTable>();

const local = (o: TableObject): boolean => o.table === 0;

/** The rows of a table kept here, in their natural order (row id → properties). */
export async function localRows(h: HandlerCtx, o: TableObject): Promise<{ order: number[]; rows: Map<number, PropMap> }> {
  const rows = new Map<number, PropMap>();
  const order: number[] = [];
  const put = (id: number, p: PropMap) => {
    order.push(id);
    rows.set(id, p);
  };
  switch (o.tableKind) {
    case 'attachments':
    case 'recipients': {
      const owner = h.session.get(o.owner);
      if (owner === undefined || owner.obj.kind !== 'message') throw actorError('ecNullObject', 'the message of this table was released');
      const instance = owner.obj.instance;
      if (o.tableKind === 'attachments') {
        for (const a of await h.env.op('instanceAttachments', { instance })) {
          const p = bagOf(a.props);
          p.set(PidTagAttachNumber, a.num);
          p.set(PidTagRowid, a.num);
          if (!p.has(PidTagAttachSize)) p.set(PidTagAttachSize, a.size);
          p.set(PidTagObjectType, 7); // MAPI_ATTACH
          put(a.num, p);
        }
      } else {
        for (const r of await h.env.op('instanceRecipients', { instance })) {
          const p = bagOf(r.props);
          p.set(PidTagRowid, r.rowid);
          put(r.rowid, p);
        }
      }
      break;
    }
    case 'hierarchy':
      if ((o.flags & TableFlags.SoftDeletes) !== 0) {
        const list = await h.env.read(({ store }) => {
          const out: { id: number; props: PropMap }[] = [];
          for (const { key, value } of store.env.db.folders.getRange()) {
            const rec = value as { parent: number; deleted?: boolean; props: Uint8Array; type: number };
            if (rec.deleted !== true || rec.parent !== o.fid) continue;
            const p = bagOf(rec.props);
            p.set(Tag.PidTagFolderId, makeEid(REPLID_LOCAL, key as number));
            p.set(Tag.PidTagFolderType, rec.type);
            p.set(Tag.PidTagParentEntryId, store.folderEntryId(o.fid));
            p.set(Tag.PidTagEntryId, store.folderEntryId(key as number));
            out.push({ id: key as number, props: p });
          }
          return out;
        });
        for (const f of list) put(f.id, f.props);
      } else {
        // Depth: every level under the folder, depth-first in name order, PidTagDepth from 0.
        // Without Depth (an ACL caller's table): one level. ACL callers see only visible folders.
        const deep = (o.flags & TableFlags.Depth) !== 0;
        const { access } = h;
        const dn = h.session.caller.legacyDn;
        const list = await h.env.read(({ store }) => {
          const out: { id: number; props: PropMap }[] = [];
          const walk = (parent: number, depth: number) => {
            for (const id of store.children(parent)) {
              if (store.folder(id) === undefined) continue;
              if (visibleIn(store, access, dn, id)) {
                const p = store.folderProps(id);
                p.set(PidTagDepth, depth);
                out.push({ id, props: p });
              }
              if (deep) walk(id, depth + 1);
            }
          };
          walk(o.fid, 0);
          return out;
        });
        for (const f of list) put(f.id, f.props);
      }
      break;
    case 'contents':
    case 'associated': {
      // Soft-deleted messages (SoftDeletes), still recoverable.
      // Their records are out of the store's sight: read as stored (values kept in blobs are left out).
      const mids = await h.env.op('listSoftDeleted', { folder: o.fid });
      const assoc = o.tableKind === 'associated';
      const list = await h.env.read(({ store }) =>
        mids.flatMap((mid) => {
          const rec = store.env.db.messages.get(mid) as { assoc: boolean; props: Uint8Array; flags: number; size: number } | undefined;
          if (rec === undefined || rec.assoc !== assoc) return [];
          const p = bagOf(rec.props);
          p.set(Tag.PidTagMid, makeEid(REPLID_LOCAL, mid));
          p.set(Tag.PidTagFolderId, makeEid(REPLID_LOCAL, o.fid));
          p.set(Tag.PidTagMessageFlags, rec.flags);
          p.set(Tag.PidTagMessageSize, rec.size);
          return [{ id: mid, props: p }];
        }),
      );
      for (const m of list) put(m.id, m.props);
      break;
    }
    case 'permissions':
      return permissionRows(h, o);
    case 'rules':
      return ruleRows(h, o);
    default:
      throw actorError('ecNotSupported', `${o.tableKind} tables are not supported yet`);
  }
  return { order, rows };
}

function localBackend(h: HandlerCtx, o: TableObject): Backend {
  let lt = localTables.get(o);
  if (lt === undefined) {
    const made: LocalTable = { table: null as unknown as Table, rows: new Map(), order: [] };
    made.table = new Table({ ids: () => made.order, row: (id) => made.rows.get(id) });
    localTables.set(o, made);
    lt = made;
  }
  const t = lt;
  /** Reads the rows again, then runs the engine's operation. */
  const run = async <T>(fn: (table: Table) => T): Promise<T> => {
    const r = await localRows(h, o);
    t.rows = r.rows;
    t.order = r.order;
    t.table.invalidate();
    return fn(t.table);
  };
  const bag = (row: (PropValue | undefined)[]): PropMap => {
    const cols = t.table.getColumns();
    const m: PropMap = new Map();
    row.forEach((v, i) => {
      if (v !== undefined) m.set(cols[i]!, v);
    });
    return m;
  };
  return {
    setColumns: async (tags) => t.table.setColumns(tags),
    sort: async (keys, categories, expanded) => t.table.sort(keys, categories, expanded),
    restrict: async (r) => t.table.restrict(r),
    queryRows: (count, forward, advance) =>
      run((x) => {
        const r = x.queryRows(count, forward, advance);
        return { ids: r.ids, sources: r.ids.map((id) => (id < 0 ? 0 : x.sourceId(id))), rows: r.rows.map(bag), origin: r.origin };
      }),
    seek: (origin, count) => run((x) => x.seek(origin, count)),
    seekFractional: (n, d) => run((x) => x.seekFractional(n, d)),
    position: () => run((x) => x.position()),
    createBookmark: () => run((x) => x.createBookmark()),
    seekBookmark: (bm, count) => run((x) => x.seekBookmark(bm, count)),
    freeBookmark: async (bm) => t.table.freeBookmark(bm),
    findRow: (r, origin, backward) =>
      run((x) => {
        const hit = x.findRow(r, origin, backward);
        return hit === null ? null : { id: hit.id, row: bag(hit.row) };
      }),
    reset: async () => t.table.reset(),
    expandRow: (category, maxRows) =>
      run((x) => {
        const r = x.expandRow(category, maxRows);
        return { expandedCount: r.expandedCount, ids: r.ids, sources: r.ids.map((id) => (id < 0 ? 0 : x.sourceId(id))), rows: r.rows.map(bag) };
      }),
    collapseRow: (category) => run((x) => x.collapseRow(category).collapsedCount),
    getCollapseState: async () => t.table.getCollapseState(),
    setCollapseState: async (s) => t.table.setCollapseState(s),
    seekInstanceKey: (key) => run((x) => x.seekInstanceKey(key)),
    allColumns: () =>
      run(() => {
        const tags = new Set<number>([PidTagInstanceKey, PidTagInstId, PidTagInstanceNum, PidTagRowType, PidTagDepth]);
        for (const p of t.rows.values()) for (const tag of p.keys()) tags.add(tag);
        return [...tags];
      }),
  };
}

/** The table object behind the input handle and its backend. */
function tableOf(h: HandlerCtx): { o: TableObject; b: Backend } {
  const o = h.input.obj as TableObject;
  return { o, b: local(o) ? localBackend(h, o) : viewBackend(h, o.table) };
}

/** The row count of a new table kept here (RopGetHierarchyTable / RopGetContentsTable's RowCount). */
export async function localRowCount(h: HandlerCtx, o: TableObject): Promise<number> {
  return (await localRows(h, o)).order.length;
}

// ------------------------------------------------------------------------------ handlers

const status = { tableStatus: TBLSTAT_COMPLETE };

const originOf = (v: number): Origin => {
  if (v === Bookmark.BEGINNING || v === Bookmark.CURRENT || v === Bookmark.END) return v;
  throw actorError('ecInvalidParam', `origin ${v}`);
};

/** Bookmarks on the wire: the engine's number, 4 bytes little-endian. */
const bookmarkBytes = (bm: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(bm >>> 0);
  return b;
};
const bookmarkOf = (b: Uint8Array): number => {
  if (b.byteLength !== 4) throw actorError('ecInvalidBookmark', 'not a bookmark of this server');
  return Buffer.from(b.buffer, b.byteOffset, 4).readUInt32LE(0);
};

const categoryOf = (id: bigint): number => {
  if ((id & CATEGORY_ID_FLAG) === 0n) throw actorError('ecNotFound', 'not a category row');
  return Number(id & ~CATEGORY_ID_FLAG);
};

const columnsOf = (o: TableObject): number[] => {
  if (o.columns === null) throw actorError('ecNullObject', 'RopSetColumns first');
  return o.columns;
};

const setColumns: RopHandler = async (q, h) => {
  const { o, b } = tableOf(h);
  const tags = q.propertyTags as number[];
  if (tags.length === 0) throw actorError('ecInvalidParam', 'a column set has at least one column');
  for (const t of tags) if (propTypeOf(t) === PropType.PtypErrorCode || propTypeOf(t) === PropType.PtypUnspecified) throw actorError('ecInvalidParam', `column 0x${t.toString(16)}`);
  await b.setColumns(tags.map(storeTag));
  o.columns = [...tags];
  return { ok: status };
};

/** SortOrder flags (MS-OXCDATA 2.13.1): Descend, and MaximumCategory / MinimumCategory. */
const sortTable: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  const s = q.sortOrderSet as SortOrderSet;
  const keys: SortKey[] = s.sortOrders.map((x) => {
    const key: SortKey = { tag: storeTag(propTag(x.propertyId, x.propertyType)), desc: (x.order & 0x01) !== 0 };
    if ((x.order & 0x04) !== 0) key.category = 'max';
    else if ((x.order & 0x08) !== 0) key.category = 'min';
    return key;
  });
  await b.sort(keys, s.categorizedCount, s.categorizedCount === 0 ? 0 : Math.min(s.expandedCount, s.categorizedCount));
  return { ok: status };
};

const restrict: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  const r = q.restriction as Restriction | null;
  await b.restrict(r === null ? null : storeRestriction(r));
  return { ok: status };
};

const originAfter = (p: { numerator: number; denominator: number }): number =>
  p.numerator === 0 ? Bookmark.BEGINNING : p.numerator >= p.denominator ? Bookmark.END : Bookmark.CURRENT;

/** QueryRowsFlags (MS-OXCTABL 2.2.2.5.1). */
const QueryRowsFlags = { NoAdvance: 0x01, EnablePackedBuffers: 0x02 } as const;

const queryRows: RopHandler = async (q, h) => {
  const { o, b } = tableOf(h);
  const columns = columnsOf(o);
  const forward = q.forwardRead as boolean;
  const advance = ((q.queryRowsFlags as number) & QueryRowsFlags.NoAdvance) === 0;
  const r = await b.queryRows(q.rowCount as number, forward, advance);
  // As many rows as fit the response (at least one): the client asks again for the rest.
  const rows: PropertyRow[] = [];
  const w = new WireWriter();
  const big = await blobTags(h, o, r.sources, r.rows, columns);
  for (let i = 0; i < r.ids.length; i++) {
    const row = tableRow(o, r.ids[i]!, r.sources[i]!, r.rows[i]!, columns, big[i]);
    pushPropertyRow(w, row, columns);
    if (rows.length > 0 && w.pos > QUERY_ROWS_BYTES) break;
    rows.push(row);
  }
  let origin = r.origin;
  if (rows.length < r.ids.length && advance) {
    const back = r.ids.length - rows.length;
    await b.seek(Bookmark.CURRENT, forward ? -back : back);
    origin = originAfter(await b.position());
  }
  return { ok: { origin, rows }, ctx: { columns } };
};

const abort: RopHandler = (_q, h) => {
  tableOf(h);
  return { returnValue: Ec.ecUnableToAbort };
};

const getStatus: RopHandler = (_q, h) => {
  tableOf(h);
  return { ok: status };
};

const queryPosition: RopHandler = async (_q, h) => {
  const { b } = tableOf(h);
  return { ok: await b.position() };
};

const seekRow: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  const r = await b.seek(originOf(q.origin as number), q.rowCount as number);
  return { ok: { hasSoughtLess: r.hitLimit, rowsSought: r.sought } };
};

const seekRowBookmark: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  const r = await b.seekBookmark(bookmarkOf(q.bookmark as Uint8Array), q.rowCount as number);
  return { ok: { rowNoLongerVisible: r.rowNoLongerVisible, hasSoughtLess: r.hitLimit, rowsSought: r.sought } };
};

const seekRowFractional: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  await b.seekFractional(q.numerator as number, q.denominator as number);
  return { ok: {} };
};

const createBookmark: RopHandler = async (_q, h) => {
  const { b } = tableOf(h);
  return { ok: { bookmark: bookmarkBytes(await b.createBookmark()) } };
};

const freeBookmark: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  await b.freeBookmark(bookmarkOf(q.bookmark as Uint8Array));
  return { ok: {} };
};

/** Columns of every contents / hierarchy view (what RopQueryColumnsAll lists beside the set ones). */
const VIEW_COLUMNS: Record<'contents' | 'hierarchy', number[]> = {
  contents: [
    Tag.PidTagMid, Tag.PidTagFolderId, Tag.PidTagEntryId, Tag.PidTagSourceKey, Tag.PidTagChangeKey, Tag.PidTagMessageFlags, Tag.PidTagMessageClass,
    Tag.PidTagSubject, Tag.PidTagMessageDeliveryTime, Tag.PidTagLastModificationTime, Tag.PidTagMessageSize,
    PidTagInstId, PidTagInstanceKey, PidTagInstanceNum, PidTagRowType, PidTagDepth,
  ].filter((t) => t !== undefined),
  hierarchy: [
    Tag.PidTagFolderId, Tag.PidTagEntryId, Tag.PidTagParentEntryId, Tag.PidTagSourceKey, Tag.PidTagDisplayName, Tag.PidTagContainerClass,
    Tag.PidTagContentCount, Tag.PidTagContentUnreadCount, Tag.PidTagSubfolders, Tag.PidTagFolderType, PidTagInstId, PidTagInstanceKey, PidTagDepth,
  ].filter((t) => t !== undefined),
};

const queryColumnsAll: RopHandler = async (_q, h) => {
  const { o, b } = tableOf(h);
  const all = await b.allColumns();
  const tags = new Set<number>(all ?? VIEW_COLUMNS[o.tableKind === 'hierarchy' ? 'hierarchy' : 'contents']);
  for (const t of o.columns ?? []) tags.add(t);
  return { ok: { propertyTags: [...tags] } };
};

/** FindRowFlags Backward (MS-OXCTABL 2.2.2.16.1); Origin 3 is "from the bookmark given". */
const findRow: RopHandler = async (q, h) => {
  const { o, b } = tableOf(h);
  const columns = columnsOf(o);
  const r = q.restriction as Restriction | null;
  if (r === null) throw actorError('ecInvalidParam', 'RopFindRow needs a restriction');
  const backward = ((q.findRowFlags as number) & 0x01) !== 0;
  let origin: Origin;
  let rowNoLongerVisible = false;
  if ((q.origin as number) === 3) {
    rowNoLongerVisible = (await b.seekBookmark(bookmarkOf(q.bookmark as Uint8Array), 0)).rowNoLongerVisible;
    origin = Bookmark.CURRENT;
  } else origin = originOf(q.origin as number);
  const hit = await b.findRow(storeRestriction(r), origin, backward);
  if (hit === null) return { returnValue: Ec.ecNotFound };
  const big = await blobTags(h, o, [hit.id]);
  return { ok: { rowNoLongerVisible, hasRowData: true, rowData: tableRow(o, hit.id, hit.id, hit.row, columns, big[0]) }, ctx: { columns } };
};

const resetTable: RopHandler = async (_q, h) => {
  const { b } = tableOf(h);
  await b.reset();
  return { ok: {} };
};

const expandRow: RopHandler = async (q, h) => {
  const { o, b } = tableOf(h);
  const columns = columnsOf(o);
  const r = await b.expandRow(categoryOf(q.categoryId as bigint), q.maxRowCount as number);
  const big = await blobTags(h, o, r.sources);
  const rows = r.ids.map((id, i) => tableRow(o, id, r.sources[i]!, r.rows[i]!, columns, big[i]));
  return { ok: { expandedRowCount: r.expandedCount, rows }, ctx: { columns } };
};

const collapseRow: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  return { ok: { collapsedRowCount: await b.collapseRow(categoryOf(q.categoryId as bigint)) } };
};

/**
 * The collapse state is opaque to the client (MS-OXCTABL 2.2.2.18): here the categories' choices
 * (count, then key u32 + expanded u8 each) and the row to come back to (PidTagInstID u64 and
 * instance number u32), which RopSetCollapseState turns into a bookmark.
 */
const getCollapseState: RopHandler = async (q, h) => {
  const { b } = tableOf(h);
  const state = await b.getCollapseState();
  const out = Buffer.alloc(4 + state.length * 5 + 12);
  let at = out.writeUInt32LE(state.length, 0);
  for (const [key, expanded] of state) {
    at = out.writeUInt32LE(key >>> 0, at);
    at = out.writeUInt8(expanded ? 1 : 0, at);
  }
  at = out.writeBigUInt64LE(BigInt.asUintN(64, q.rowId as bigint), at);
  out.writeUInt32LE((q.rowInstanceNumber as number) >>> 0, at);
  return { ok: { collapseState: out } };
};

const setCollapseState: RopHandler = async (q, h) => {
  const { o, b } = tableOf(h);
  const raw = q.collapseState as Uint8Array;
  const buf = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  if (buf.length < 16) throw actorError('ecInvalidParam', 'not a collapse state of this server');
  const n = buf.readUInt32LE(0);
  if (buf.length !== 4 + n * 5 + 12) throw actorError('ecInvalidParam', 'not a collapse state of this server');
  const state: [number, boolean][] = [];
  for (let i = 0; i < n; i++) state.push([buf.readUInt32LE(4 + i * 5), buf.readUInt8(8 + i * 5) !== 0]);
  const rowId = buf.readBigUInt64LE(4 + n * 5);
  await b.setCollapseState(state);
  // The bookmark is on the row the state was taken at, when it is still there (else the top).
  const rid = (rowId & CATEGORY_ID_FLAG) !== 0n ? -Number(rowId & ~CATEGORY_ID_FLAG) : local(o) ? Number(rowId) : eidGlobcnt(rowId);
  const key = Buffer.alloc(8);
  key.writeBigInt64LE(BigInt(rid));
  if (!(await b.seekInstanceKey(key))) await b.seek(Bookmark.BEGINNING, 0);
  return { ok: { bookmark: bookmarkBytes(await b.createBookmark()) } };
};

/** Turns the engine's error names that ids.ts has no value for into their ROP answers. */
function guarded(fn: RopHandler): RopHandler {
  return async (q, h): Promise<RopOutcome> => {
    try {
      return await fn(q, h);
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Expanding an expanded category, collapsing a collapsed one, too many bookmarks.
      if (code === 'ecNotCollapsed' || code === 'ecNotExpanded') return { returnValue: Ec.ecInvalidParam };
      if (code === 'ecInsufficientResrc') return { returnValue: Ec.ecMAPIOOM };
      throw err;
    }
  };
}

export function registerTableRops(t: HandlerTable): void {
  const on = (id: number, fn: RopHandler) => t.set(id, { ...(t.get(id) ?? {}), table: guarded(fn) });
  on(RopId.SetColumns, setColumns);
  on(RopId.SortTable, sortTable);
  on(RopId.Restrict, restrict);
  on(RopId.QueryRows, queryRows);
  on(RopId.Abort, abort);
  on(RopId.GetStatus, getStatus);
  on(RopId.QueryPosition, queryPosition);
  on(RopId.SeekRow, seekRow);
  on(RopId.SeekRowBookmark, seekRowBookmark);
  on(RopId.SeekRowFractional, seekRowFractional);
  on(RopId.CreateBookmark, createBookmark);
  on(RopId.FreeBookmark, freeBookmark);
  on(RopId.QueryColumnsAll, queryColumnsAll);
  on(RopId.FindRow, findRow);
  on(RopId.ResetTable, resetTable);
  on(RopId.ExpandRow, expandRow);
  on(RopId.CollapseRow, collapseRow);
  on(RopId.GetCollapseState, getCollapseState);
  on(RopId.SetCollapseState, setCollapseState);
}

