/**
 * A table view (MS-OXCTABL) held by the mailbox actor per session: column set, sort order,
 * restriction, cursor and bookmarks over a row source (a folder's contents, its subfolders, a
 * message's recipients or attachments). Rows are materialized on demand: restriction first, then
 * a stable sort, and kept until the view or the source changes.
 *
 * Categorized views (MS-OXCTABL 3.2.5.3): the first `categories` sort keys group the rows; each
 * group gets a header row (negative row ids here) with PidTagRowType, PidTagDepth,
 * PidTagInstanceKey and its content / unread counts. Groups above `expanded` levels start
 * expanded, the rest collapsed; ExpandRow / CollapseRow change that per header.
 *
 * Not here yet: multi-valued instance expansion in sorts, and per-folder sort indexes with
 * sliced builds (see docs/ARCHITECTURE.md).
 */
import { actorError } from '../../../runtime/errors.js';
import { compareValues, evaluate, mapRow, RestrictionContext, type Restriction } from '../../../storage/restriction.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import type { PropValue } from '../../../storage/prop-types.js';

export interface RowSource {
  /** Row ids in their natural order. */
  ids(): number[];
  /** Row ids in pages (after the given id), so a large source can be read in slices. */
  page?(after: number | null, limit: number): number[];
  /**
   * Row ids in ascending order of an indexed column, in pages (null: no index for that column).
   * A view sorted on one indexed column, unrestricted, needs no row loads and no sort.
   */
  indexPage?(tag: number, after: unknown, limit: number): { ids: number[]; last: unknown } | null;
  /** All properties of a row (undefined when it vanished). */
  row(id: number): PropMap | undefined;
  /**
   * The row's properties for sorting and restricting, when cheaper than row() (without entry ids
   * and other derived binaries). Restrictions on those columns then see them missing.
   */
  rowLite?(id: number): PropMap | undefined;
}

export interface SortKey {
  tag: number;
  desc: boolean;
  /**
   * On the key right after the category keys: order the categories by the largest (MaxCategory)
   * or smallest (MinCategory) value of this column among their rows (MS-OXCTABL
   * TABLE_SORT_CATEG_MAX / _MIN), as a conversation view ordered by its newest message does.
   */
  category?: 'max' | 'min';
}

/** PidTagRowType values (MS-OXCTABL 2.2.1.3). */
export const RowType = { TBL_LEAF_ROW: 1, TBL_EMPTY_CATEGORY: 2, TBL_EXPANDED_CATEGORY: 3, TBL_COLLAPSED_CATEGORY: 4 } as const;
export const PidTagRowType = 0x0ff50003;
export const PidTagDepth = 0x30050003;
export const PidTagInstanceKey = 0x0ff60102;
const PidTagContentCount = 0x36020003;
const PidTagContentUnreadCount = 0x36030003;
const PidTagMessageFlags = 0x0e070003;
/** PidTagInstanceNum: which value of a multi-valued column an instance row stands for. */
export const PidTagInstanceNum = 0x674e0003;
/** MV_INSTANCE: on a multi-valued column tag, one row per value (MS-OXCDATA 2.11.1.1). */
export const MV_INSTANCE = 0x2000;
/** Instance rows get ids from here up (object GLOBCNTs stay below 2^48). */
const INSTANCE_ID_BASE = 2 ** 50;

interface Header {
  key: number;
  depth: number;
  tag: number;
  value: PropValue | undefined;
  count: number;
  unread: number;
  parent: number | null;
}

/** SeekRow origins (MS-OXCTABL 2.2.2.16.1). */
export const Bookmark = { BEGINNING: 0, CURRENT: 1, END: 2 } as const;
export type Origin = (typeof Bookmark)[keyof typeof Bookmark];

/**
 * Longest stretch (ms) a view build runs before yielding to the worker's event loop, so one large
 * folder never stalls the other mailboxes on its worker.
 */
export const SLICE_MS = 5;
const PAGE = 2048;
const yieldNow = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Rows one QueryRows may return at most; a client asking for more gets this many. */
export const MAX_ROWS_PER_QUERY = 10_000;
/** Bookmarks one table may hold. */
export const MAX_BOOKMARKS = 1024;

export class Table {
  private columns: number[] = [];
  private sortKeys: SortKey[] = [];
  private restriction: Restriction | null = null;
  private rows: number[] | null = null;
  private cursor = 0;
  private readonly bookmarks = new Map<number, number | null>();
  private nextBookmark = 1;
  private categories = 0;
  private expandedLevels = 0;
  /** Header instance keys by group path, stable for the table's life. */
  private readonly headerKeys = new Map<string, number>();
  private headers = new Map<number, Header>();
  /** MV-instance rows of the current view: row id → message id and its one-value view. */
  private readonly instances = new Map<number, { id: number; props: PropMap }>();
  /** Per-header expand/collapse choices that override the level default. */
  private readonly expandState = new Map<number, boolean>();

  constructor(private readonly source: RowSource) {}

  setColumns(tags: readonly number[]): void {
    if (tags.length === 0) throw actorError('ecInvalidParam', 'a column set has at least one column');
    this.columns = [...tags];
  }

  getColumns(): number[] {
    return [...this.columns];
  }

  /**
   * RopSortTable: a new order; the cursor goes back to the beginning. The first `categories` keys
   * group the rows (a categorized view), `expanded` of those levels start expanded.
   */
  sort(keys: readonly SortKey[], categories = 0, expanded = categories): void {
    if (!Number.isInteger(categories) || categories < 0 || categories > keys.length || expanded < 0 || expanded > categories) {
      throw actorError('ecInvalidParam', 'CategorizedCount and ExpandedCount must not exceed the sort keys');
    }
    this.sortKeys = [...keys];
    this.categories = categories;
    this.expandedLevels = expanded;
    this.expandState.clear();
    this.rows = null;
    this.generation++;
    this.cursor = 0;
  }

  /** RopRestrict (null removes the restriction); the cursor goes back to the beginning. */
  restrict(r: Restriction | null): void {
    this.restriction = r;
    this.rows = null;
    this.generation++;
    this.cursor = 0;
  }

  /** The source changed: rows are rebuilt on next use; the cursor keeps its position. */
  invalidate(): void {
    this.rows = null;
    this.generation++;
  }

  /**
   * What the client saw: the row order when it last read rows (cheap: ids), and the projected
   * columns of the rows it was actually sent (to tell a modified row). Building text for every row
   * of a 100,000-row folder would stall the worker; rows never sent cannot look stale anyway.
   */
  private seen: Map<number, string> | null = null;
  private seenOrder: number[] = [];

  private snapshot(): void {
    this.seenOrder = [...this.materialize()];
    this.seen ??= new Map();
  }

  private markSent(ids: readonly number[], rows: readonly (PropValue | undefined)[][]): void {
    if (this.seen === null) return;
    ids.forEach((id, i) => this.seen!.set(id, rowText(rows[i]!)));
  }

  /**
   * Table notifications (MS-OXCNOTIF) since the client last read rows: for a flat table, rows
   * added (with the previous row's instance key), deleted and modified; for a categorized one, a
   * single table-changed. Empty when nothing visible changed or no rows were read yet.
   */
  async changes(): Promise<TableEvent[]> {
    if (this.seen === null || this.columns.length === 0) return [];
    const sent = this.seen;
    const beforeOrder = this.seenOrder;
    this.rows = null;
    await this.prepare();
    this.snapshot();
    const order = this.seenOrder;
    if (this.categories > 0) {
      const same = beforeOrder.length === order.length && order.every((id, i) => id === beforeOrder[i] && (!sent.has(id) || sent.get(id) === rowText(this.project(id))));
      return same ? [] : [{ type: 'tableChanged' }];
    }
    const events: TableEvent[] = [];
    const now = new Set(order);
    const was = new Set(beforeOrder);
    for (const id of beforeOrder) {
      if (!now.has(id)) {
        events.push({ type: 'rowDeleted', instanceKey: instanceKey(id) });
        sent.delete(id);
      }
    }
    order.forEach((id, i) => {
      const prev = i === 0 ? null : instanceKey(order[i - 1]!);
      if (!was.has(id)) {
        const row = this.project(id);
        sent.set(id, rowText(row));
        events.push({ type: 'rowAdded', instanceKey: instanceKey(id), prevInstanceKey: prev, row });
      } else if (sent.has(id)) {
        const row = this.project(id);
        const text = rowText(row);
        if (text !== sent.get(id)) {
          sent.set(id, text);
          events.push({ type: 'rowModified', instanceKey: instanceKey(id), prevInstanceKey: prev, row });
        }
      }
    });
    return events;
  }

  /** RopResetTable: no restriction, no sort, cursor at the beginning, bookmarks dropped. */
  reset(): void {
    this.restriction = null;
    this.sortKeys = [];
    this.rows = null;
    this.cursor = 0;
    this.bookmarks.clear();
  }

  private generation = 0;
  /** Views built straight from a sort index (for stats and tests). */
  indexedBuilds = 0;
  /** Builds that needed no row (unsorted, unrestricted views). */
  idOnlyBuilds = 0;

  /**
   * Builds the view's rows in slices of at most SLICE_MS, yielding between slices (reading,
   * restricting and sorting a 100,000-row folder takes far longer than that). Grouping the sorted
   * rows of a categorized view into headers is one pass at the end. Call before the row operations.
   */
  async prepare(): Promise<void> {
    for (let attempt = 0; this.rows === null && attempt < 3; attempt++) {
      if (this.source.page === undefined) {
        this.materialize();
        return;
      }
      const gen = this.generation;
      if (this.restriction === null && this.sortKeys.length === 0 && this.categories === 0) {
        // Unsorted and unrestricted: the folder's own order, no row read until rows are asked for.
        const ids: number[] = [];
        for (let after: number | null = null; ; ) {
          const page = this.source.page(after, PAGE);
          if (page.length === 0) break;
          for (const id of page) ids.push(id);
          after = page[page.length - 1]!;
          if (ids.length % (PAGE * 8) === 0) await yieldNow();
        }
        if (gen !== this.generation) continue;
        this.instances.clear();
        this.rows = ids;
        this.idOnlyBuilds++;
        if (this.cursor > this.rows.length) this.cursor = this.rows.length;
        return;
      }
      if (this.restriction === null && this.sortKeys.length === 1 && this.source.indexPage !== undefined) {
        const key = this.sortKeys[0]!;
        const first = this.source.indexPage(key.tag, null, PAGE);
        if (first !== null) {
          const ids = [...first.ids];
          for (let last = first.last; last !== null; ) {
            await yieldNow();
            const p = this.source.indexPage(key.tag, last, PAGE)!;
            ids.push(...p.ids);
            last = p.ids.length === 0 ? null : p.last;
          }
          if (gen !== this.generation) continue;
          this.instances.clear();
          this.rows = key.desc ? ids.reverse() : ids;
          this.indexedBuilds++;
          if (this.cursor > this.rows.length) this.cursor = this.rows.length;
          return;
        }
      }
      let slice = performance.now();
      const maybeYield = async () => {
        if (performance.now() - slice >= SLICE_MS) {
          await yieldNow();
          slice = performance.now();
        }
      };
      const ctx = new RestrictionContext();
      // Only the sort keys are kept per row (normalized once), not whole property maps: less to
      // compare, and far less for the garbage collector to walk.
      const keys = this.sortKeys;
      const mvi = keys.find((k) => (k.tag & MV_INSTANCE) !== 0);
      // Categorized and multi-valued-instance views need the rows' properties afterwards.
      const keepProps = this.categories > 0 || mvi !== undefined;
      const loaded: { id: number; k: (PropValue | undefined)[]; n: number; props: PropMap | null }[] = [];
      const instances = new Map<number, { id: number; props: PropMap }>();
      let n = 0;
      const add = (id: number, props: PropMap) => loaded.push({ id, k: keys.map((key) => sortKeyOf(props.get(key.tag))), n: n++, props: keepProps ? props : null });
      for (let after: number | null = null; ; ) {
        const ids = this.source.page(after, PAGE);
        if (ids.length === 0) break;
        after = ids[ids.length - 1]!;
        const load = this.source.rowLite ?? this.source.row;
        for (const id of ids) {
          const props = load.call(this.source, id);
          if (props !== undefined && (this.restriction === null || evaluate(this.restriction, mapRow(props), ctx))) {
            this.expandInstances(id, props, mvi, instances, add);
          }
          if ((n & 31) === 0) await maybeYield();
        }
        await maybeYield();
      }
      let sorted = loaded;
      if (keys.length > 0) {
        const cmp = (a: (typeof loaded)[number], b: (typeof loaded)[number]) => {
          for (let i = 0; i < keys.length; i++) {
            const c = orderOfKeys(a.k[i], b.k[i]);
            if (c !== 0) return keys[i]!.desc ? -c : c;
          }
          return a.n - b.n;
        };
        // Sorted runs small enough for one slice, then merged pairwise with yields.
        let runs: (typeof loaded)[] = [];
        for (let i = 0; i < loaded.length; i += 256) {
          runs.push(loaded.slice(i, i + 256).sort(cmp));
          await maybeYield();
        }
        while (runs.length > 1) {
          const next: (typeof loaded)[] = [];
          for (let r = 0; r < runs.length; r += 2) {
            const a = runs[r]!;
            const b = runs[r + 1];
            if (b === undefined) {
              next.push(a);
              continue;
            }
            const out: typeof loaded = new Array(a.length + b.length);
            let i = 0;
            let j = 0;
            let o = 0;
            while (i < a.length || j < b.length) {
              out[o++] = j >= b.length || (i < a.length && cmp(a[i]!, b[j]!) <= 0) ? a[i++]! : b[j++]!;
              if ((o & 1023) === 0) await maybeYield();
            }
            next.push(out);
          }
          runs = next;
        }
        sorted = runs[0] ?? [];
      }
      if (gen !== this.generation) continue; // the view changed meanwhile: build again
      this.instances.clear();
      for (const [k, v] of instances) this.instances.set(k, v);
      const rows = this.categories === 0 ? sorted.map((r) => r.id) : await this.categorizeSliced(this.orderCategories(sorted as { id: number; props: PropMap }[]));
      if (gen !== this.generation) continue; // changed while grouping: build again
      this.rows = rows;
      if (this.cursor > this.rows.length) this.cursor = this.rows.length;
    }
    if (this.rows === null) this.materialize();
  }

  /**
   * The rows one stored row stands for: itself, or with a sort key carrying MV_INSTANCE on a
   * multi-valued column, one row per value (for example, arranged by categories), each with its
   * own row id registered in `instances`.
   */
  private expandInstances(id: number, props: PropMap, mvi: SortKey | undefined, instances: Map<number, { id: number; props: PropMap }>, add: (rowId: number, props: PropMap) => void): void {
    if (mvi === undefined) {
      add(id, props);
      return;
    }
    const values = props.get((mvi.tag & ~MV_INSTANCE) >>> 0);
    const list = Array.isArray(values) && values.length > 0 ? values : [undefined];
    list.forEach((value, k) => {
      const vid = INSTANCE_ID_BASE + instances.size;
      const view = new Map(props);
      if (value === undefined) view.delete(mvi.tag);
      else view.set(mvi.tag, value);
      view.set(PidTagInstanceNum, k);
      instances.set(vid, { id, props: view });
      add(vid, view);
    });
  }

  private materialize(): number[] {
    if (this.rows !== null) return this.rows;
    const ctx = new RestrictionContext();
    const loaded: { id: number; props: PropMap; n: number }[] = [];
    let n = 0;
    const mvi = this.sortKeys.find((k) => (k.tag & MV_INSTANCE) !== 0);
    this.instances.clear();
    const load = this.source.rowLite ?? this.source.row;
    for (const id of this.source.ids()) {
      const props = load.call(this.source, id);
      if (props === undefined) continue;
      if (this.restriction !== null && !evaluate(this.restriction, mapRow(props), ctx)) continue;
      this.expandInstances(id, props, mvi, this.instances, (rowId, p) => loaded.push({ id: rowId, props: p, n: n++ }));
    }
    if (this.sortKeys.length > 0) {
      const keys = this.sortKeys;
      loaded.sort((a, b) => {
        for (const k of keys) {
          const c = orderOf(a.props.get(k.tag), b.props.get(k.tag));
          if (c !== 0) return k.desc ? -c : c;
        }
        return a.n - b.n; // stable
      });
    }
    this.rows = this.categories === 0 ? loaded.map((r) => r.id) : this.categorize(this.orderCategories(loaded));
    if (this.cursor > this.rows.length) this.cursor = this.rows.length;
    return this.rows;
  }

  /**
   * MaxCategory / MinCategory: reorders the top-level groups by the aggregate of the key that
   * follows the category keys; rows keep their order inside each group.
   */
  private orderCategories<T extends { props: PropMap }>(sorted: T[]): T[] {
    const agg = this.sortKeys[this.categories];
    if (agg?.category === undefined || this.categories === 0) return sorted;
    const top = this.sortKeys[0]!;
    const groups: { key: string; rows: T[]; best: PropValue | undefined }[] = [];
    for (const r of sorted) {
      const key = keyText(r.props.get(top.tag));
      let g = groups[groups.length - 1];
      if (g === undefined || g.key !== key) groups.push((g = { key, rows: [], best: undefined }));
      g.rows.push(r);
      const v = sortKeyOf(r.props.get(agg.tag));
      if (v !== undefined && (g.best === undefined || orderOfKeys(v, g.best) * (agg.category === 'max' ? 1 : -1) > 0)) g.best = v;
    }
    groups.sort((a, b) => {
      const c = orderOfKeys(a.best, b.best);
      return agg.desc ? -c : c;
    });
    return groups.flatMap((g) => g.rows);
  }

  private isExpanded(h: Header): boolean {
    return this.expandState.get(h.key) ?? h.depth < this.expandedLevels;
  }

  
  /** Groups sorted rows into headers in one go (see categorizeSteps). */
  private categorize(sorted: { id: number; props: PropMap }[]): number[] {
    const steps = this.categorizeSteps(sorted);
    for (let r = steps.next(); ; r = steps.next()) if (r.done === true) return r.value;
  }

  /** The same, yielding to the event loop whenever a slice's time is up. */
  private async categorizeSliced(sorted: { id: number; props: PropMap }[]): Promise<number[]> {
    const steps = this.categorizeSteps(sorted);
    let slice = performance.now();
    for (let r = steps.next(); ; r = steps.next()) {
      if (r.done === true) return r.value;
      if (performance.now() - slice >= SLICE_MS) {
        await yieldNow();
        slice = performance.now();
      }
    }
  }

  /** Builds headers over the sorted rows and returns the visible entries (headers negative); pauses every 256 rows. */
  private *categorizeSteps(sorted: { id: number; props: PropMap }[]): Generator<void, number[], void> {
    const headers = new Map<number, Header>();
    const visible: number[] = [];
    const open: (Header | null)[] = [];
    const pathOf: string[] = [];
    const leafParent = new Map<number, number>();
    for (const r of sorted) {
      let path = '';
      for (let d = 0; d < this.categories; d++) {
        const k = this.sortKeys[d]!;
        const v = r.props.get(k.tag);
        path += `\u0000${keyText(v)}`;
        if (pathOf[d] !== path) {
          pathOf[d] = path;
          for (let x = d + 1; x < this.categories; x++) pathOf[x] = '';
          let key = this.headerKeys.get(path);
          if (key === undefined) this.headerKeys.set(path, (key = this.headerKeys.size + 1));
          const h: Header = { key, depth: d, tag: k.tag, value: v, count: 0, unread: 0, parent: d === 0 ? null : open[d - 1]!.key };
          headers.set(key, h);
          open[d] = h;
        }
        const h = open[d]!;
        h.count++;
        const flags = r.props.get(PidTagMessageFlags);
        if (typeof flags === 'number' && (flags & 1) === 0) h.unread++;
      }
      leafParent.set(r.id, open[this.categories - 1]!.key);
      if ((leafParent.size & 255) === 0) yield;
    }
    this.headers = headers;
    const shown = (key: number | null): boolean => {
      for (let k = key; k !== null; k = headers.get(k)!.parent) if (!this.isExpanded(headers.get(k)!)) return false;
      return true;
    };
    let lastHeaders: number[] = [];
    for (const r of sorted) {
      const chain: number[] = [];
      for (let k: number | null = leafParent.get(r.id)!; k !== null; k = headers.get(k)!.parent) chain.unshift(k);
      for (let d = 0; d < chain.length; d++) {
        if (lastHeaders[d] === chain[d]) continue;
        if (d === 0 || shown(chain[d - 1]!)) visible.push(-chain[d]!);
      }
      lastHeaders = chain;
      if (shown(chain[chain.length - 1]!)) visible.push(r.id);
      if ((visible.length & 255) === 0) yield;
    }
    return visible;
  }

  /** RopExpandRow: opens a category; answers how many rows it shows now and up to `maxRows` of them. */
  expandRow(headerKey: number, maxRows: number): { expandedCount: number; ids: number[]; rows: (PropValue | undefined)[][] } {
    this.materialize();
    const h = this.headers.get(headerKey);
    if (h === undefined) throw actorError('ecNotFound', `no category ${headerKey}`);
    if (this.isExpanded(h)) throw actorError('ecNotCollapsed', 'the category is expanded already');
    this.expandState.set(headerKey, true);
    this.rows = null;
    const rows = this.materialize();
    const at = rows.indexOf(-headerKey);
    const ids: number[] = [];
    for (let i = at + 1; i < rows.length; i++) {
      const id = rows[i]!;
      if (id < 0 && this.headers.get(-id)!.depth <= h.depth) break;
      ids.push(id);
    }
    return { expandedCount: ids.length, ids: ids.slice(0, Math.max(0, maxRows)), rows: ids.slice(0, Math.max(0, maxRows)).map((id) => this.project(id)) };
  }

  /** RopCollapseRow: closes a category; answers how many rows it hid. */
  collapseRow(headerKey: number): { collapsedCount: number } {
    const before = this.materialize().length;
    const h = this.headers.get(headerKey);
    if (h === undefined) throw actorError('ecNotFound', `no category ${headerKey}`);
    if (!this.isExpanded(h)) throw actorError('ecNotExpanded', 'the category is collapsed already');
    this.expandState.set(headerKey, false);
    this.rows = null;
    return { collapsedCount: before - this.materialize().length };
  }

  /** RopGetCollapseState: the expand/collapse choices, to restore with setCollapseState. */
  getCollapseState(): [number, boolean][] {
    return [...this.expandState];
  }

  setCollapseState(state: readonly [number, boolean][]): void {
    this.expandState.clear();
    for (const [k, v] of state) this.expandState.set(k, v);
    this.rows = null;
  }

  rowCount(): number {
    return this.materialize().length;
  }

  /** The stored row behind a table row id (an MV instance maps to its message). */
  sourceId(id: number): number {
    return this.instances.get(id)?.id ?? id;
  }

  /** RopSeekRow by PidTagInstanceKey (as FindRow with an instance key does): the cursor moves to that row. */
  seekInstanceKey(key: Uint8Array): boolean {
    if (key.byteLength !== 8) return false;
    const id = Number(Buffer.from(key.buffer, key.byteOffset, 8).readBigInt64LE(0));
    const at = this.materialize().indexOf(id);
    if (at < 0) return false;
    this.cursor = at;
    return true;
  }

  private project(id: number): (PropValue | undefined)[] {
    if (id < 0) return this.projectHeader(this.headers.get(-id)!);
    const props = this.instances.get(id)?.props ?? this.source.row(id);
    if (this.categories === 0) return this.columns.map((t) => (t === PidTagInstanceKey ? instanceKey(id) : props?.get(t)));
    return this.columns.map((t) => (t === PidTagRowType ? RowType.TBL_LEAF_ROW : t === PidTagDepth ? this.categories : t === PidTagInstanceKey ? instanceKey(id) : props?.get(t)));
  }

  private projectHeader(h: Header): (PropValue | undefined)[] {
    return this.columns.map((t) => {
      if (t === PidTagRowType) return this.isExpanded(h) ? RowType.TBL_EXPANDED_CATEGORY : RowType.TBL_COLLAPSED_CATEGORY;
      if (t === PidTagDepth) return h.depth;
      if (t === PidTagInstanceKey) return instanceKey(-h.key);
      if (t === PidTagContentCount) return h.count;
      if (t === PidTagContentUnreadCount) return h.unread;
      // A header shows its own category column and the ones above it.
      for (let x: Header | undefined = h; x !== undefined; x = x.parent === null ? undefined : this.headers.get(x.parent)) if (x.tag === t) return x.value;
      return undefined;
    });
  }

  /**
   * RopQueryRows: up to `count` rows from the cursor, forward or backward, moving the cursor.
   * Returns the row ids too (instance keys for the doors).
   */
  queryRows(count: number, forward = true, advance = true): { ids: number[]; rows: (PropValue | undefined)[][]; origin: Origin } {
    if (this.columns.length === 0) throw actorError('ecNullObject', 'SetColumns first');
    if (this.seen === null || this.rows === null) this.snapshot();
    const rows = this.materialize();
    const n = Math.max(0, Math.min(count, MAX_ROWS_PER_QUERY));
    let ids: number[];
    let cursor: number;
    if (forward) {
      ids = rows.slice(this.cursor, this.cursor + n);
      cursor = this.cursor + ids.length;
    } else {
      const start = Math.max(0, this.cursor - n);
      ids = rows.slice(start, this.cursor).reverse();
      cursor = start;
    }
    if (advance) this.cursor = cursor;
    const origin: Origin = this.cursor === 0 ? Bookmark.BEGINNING : this.cursor >= rows.length ? Bookmark.END : Bookmark.CURRENT;
    const projected = ids.map((id) => this.project(id));
    this.markSent(ids, projected);
    return { ids, rows: projected, origin };
  }

  /** RopSeekRow: moves `count` rows from an origin; reports how many it moved and whether it hit an end. */
  seek(origin: Origin, count: number): { sought: number; hitLimit: boolean } {
    const total = this.materialize().length;
    const from = origin === Bookmark.BEGINNING ? 0 : origin === Bookmark.END ? total : this.cursor;
    const target = Math.min(total, Math.max(0, from + count));
    this.cursor = target;
    return { sought: target - from, hitLimit: target - from !== count };
  }

  /** RopSeekRowFractional: to numerator / denominator of the way through the table. */
  seekFractional(numerator: number, denominator: number): void {
    if (denominator === 0) throw actorError('ecInvalidParam', 'the denominator is zero');
    const total = this.materialize().length;
    this.cursor = Math.min(total, Math.max(0, Math.floor((numerator * total) / denominator)));
  }

  /** RopQueryPosition. */
  position(): { numerator: number; denominator: number } {
    return { numerator: this.cursor, denominator: this.materialize().length };
  }

  /** RopCreateBookmark: remembers the row at the cursor (null at the end). */
  createBookmark(): number {
    if (this.bookmarks.size >= MAX_BOOKMARKS) throw actorError('ecInsufficientResrc', `a table holds at most ${MAX_BOOKMARKS} bookmarks`);
    const rows = this.materialize();
    const id = this.nextBookmark++;
    this.bookmarks.set(id, this.cursor < rows.length ? rows[this.cursor]! : null);
    return id;
  }

  freeBookmark(bm: number): void {
    if (!this.bookmarks.delete(bm)) throw actorError('ecInvalidBookmark', `no bookmark ${bm}`);
  }

  /**
   * RopSeekRowBookmark: to the bookmarked row plus `count`. When that row is gone, from where it
   * was (rowNoLongerVisible).
   */
  seekBookmark(bm: number, count: number): { rowNoLongerVisible: boolean; sought: number; hitLimit: boolean } {
    if (!this.bookmarks.has(bm)) throw actorError('ecInvalidBookmark', `no bookmark ${bm}`);
    const rows = this.materialize();
    const id = this.bookmarks.get(bm)!;
    let at = id === null ? rows.length : rows.indexOf(id);
    const gone = at < 0;
    if (gone) at = Math.min(this.cursor, rows.length);
    this.cursor = at;
    const r = this.seek(Bookmark.CURRENT, count);
    return { rowNoLongerVisible: gone, ...r };
  }

  /** RopFindRow: the first row from the origin (or backward) matching the restriction; the cursor moves there. */
  findRow(r: Restriction, origin: Origin, backward = false): { id: number; row: (PropValue | undefined)[] } | null {
    const rows = this.materialize();
    const start = origin === Bookmark.BEGINNING ? 0 : origin === Bookmark.END ? rows.length - 1 : this.cursor;
    const ctx = new RestrictionContext();
    for (let i = start; backward ? i >= 0 : i < rows.length; i += backward ? -1 : 1) {
      const props = this.source.row(rows[i]!);
      if (props !== undefined && evaluate(r, mapRow(props), ctx)) {
        this.cursor = i;
        return { id: rows[i]!, row: this.project(rows[i]!) };
      }
    }
    return null;
  }
}

export type TableEvent =
  | { type: 'rowAdded' | 'rowModified'; instanceKey: Uint8Array; prevInstanceKey: Uint8Array | null; row: (PropValue | undefined)[] }
  | { type: 'rowDeleted'; instanceKey: Uint8Array }
  | { type: 'tableChanged' };

/** Exact text of a row's values (case and all), to see whether a client-visible row changed. */
function rowText(row: (PropValue | undefined)[]): string {
  const one = (v: PropValue | undefined): string =>
    v === undefined ? '' : v instanceof Uint8Array ? `b${Buffer.from(v).toString('hex')}` : Array.isArray(v) ? `a${v.map(one).join('\u0001')}` : `${typeof v}${String(v)}`;
  return row.map(one).join('\u0002');
}

/** A row's PidTagInstanceKey: 8 bytes, little-endian (headers are negative row ids). */
function instanceKey(id: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(BigInt(id));
  return b;
}

/** A sort key normalized once: the first value of a multi-valued column, text in lower case. */
function sortKeyOf(v: PropValue | undefined): PropValue | undefined {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === 'string' ? x.toLocaleLowerCase('und') : x;
}

/** Orders two normalized sort keys: missing first. */
function orderOfKeys(x: PropValue | undefined, y: PropValue | undefined): number {
  if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
  if (typeof x === 'string' && typeof y === 'string') return x === y ? 0 : x < y ? -1 : 1;
  const c = compareValues(x, y);
  return Number.isNaN(c) ? 0 : c;
}

/** A value as text for grouping (equal values group together, text without case). */
function keyText(v: PropValue | undefined): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return `s${v.toLocaleLowerCase('und')}`;
  if (v instanceof Uint8Array) return `b${Buffer.from(v).toString('hex')}`;
  if (Array.isArray(v)) return `a${v.map((x) => keyText(x)).join('\u0001')}`;
  return `${typeof v}${String(v)}`;
}

/** Sort order of two column values: missing values first, then by value (text without case). */
function orderOf(a: PropValue | undefined, b: PropValue | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const x = Array.isArray(a) ? a[0] : a;
  const y = Array.isArray(b) ? b[0] : b;
  if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
  const c = compareValues(x, y);
  return Number.isNaN(c) ? 0 : c;
}
