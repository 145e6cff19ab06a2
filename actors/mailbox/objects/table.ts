/**
 * A table view (MS-OXCTABL) held by the mailbox actor per session: column set, sort order,
 * restriction, cursor and bookmarks over a row source (a folder's contents, its subfolders, a
 * message's recipients or attachments). Rows are materialized on demand: restriction first, then
 * a stable sort, and kept until the view or the source changes.
 *
 * Not here yet: categorized (grouped) views and their expand / collapse state, multi-valued
 * instance expansion in sorts, and per-folder sort indexes (see docs/ARCHITECTURE.md).
 */
import { actorError } from '../../../runtime/errors.js';
import { compareValues, evaluate, mapRow, RestrictionContext, type Restriction } from '../../../storage/restriction.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import type { PropValue } from '../../../storage/prop-types.js';

export interface RowSource {
  /** Row ids in their natural order. */
  ids(): number[];
  /** All properties of a row (undefined when it vanished). */
  row(id: number): PropMap | undefined;
}

export interface SortKey {
  tag: number;
  desc: boolean;
}

/** SeekRow origins (MS-OXCTABL 2.2.2.16.1). */
export const Bookmark = { BEGINNING: 0, CURRENT: 1, END: 2 } as const;
export type Origin = (typeof Bookmark)[keyof typeof Bookmark];

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

  constructor(private readonly source: RowSource) {}

  setColumns(tags: readonly number[]): void {
    if (tags.length === 0) throw actorError('ecInvalidParam', 'a column set has at least one column');
    this.columns = [...tags];
  }

  getColumns(): number[] {
    return [...this.columns];
  }

  /** RopSortTable: a new order; the cursor goes back to the beginning. */
  sort(keys: readonly SortKey[]): void {
    this.sortKeys = [...keys];
    this.rows = null;
    this.cursor = 0;
  }

  /** RopRestrict (null removes the restriction); the cursor goes back to the beginning. */
  restrict(r: Restriction | null): void {
    this.restriction = r;
    this.rows = null;
    this.cursor = 0;
  }

  /** The source changed: rows are rebuilt on next use; the cursor keeps its position. */
  invalidate(): void {
    this.rows = null;
  }

  /** RopResetTable: no restriction, no sort, cursor at the beginning, bookmarks dropped. */
  reset(): void {
    this.restriction = null;
    this.sortKeys = [];
    this.rows = null;
    this.cursor = 0;
    this.bookmarks.clear();
  }

  private materialize(): number[] {
    if (this.rows !== null) return this.rows;
    const ctx = new RestrictionContext();
    const loaded: { id: number; props: PropMap; n: number }[] = [];
    let n = 0;
    for (const id of this.source.ids()) {
      const props = this.source.row(id);
      if (props === undefined) continue;
      if (this.restriction !== null && !evaluate(this.restriction, mapRow(props), ctx)) continue;
      loaded.push({ id, props, n: n++ });
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
    this.rows = loaded.map((r) => r.id);
    if (this.cursor > this.rows.length) this.cursor = this.rows.length;
    return this.rows;
  }

  rowCount(): number {
    return this.materialize().length;
  }

  private project(id: number): (PropValue | undefined)[] {
    const props = this.source.row(id);
    return this.columns.map((t) => props?.get(t));
  }

  /**
   * RopQueryRows: up to `count` rows from the cursor, forward or backward, moving the cursor.
   * Returns the row ids too (instance keys for the doors).
   */
  queryRows(count: number, forward = true, advance = true): { ids: number[]; rows: (PropValue | undefined)[][]; origin: Origin } {
    if (this.columns.length === 0) throw actorError('ecNullObject', 'SetColumns first');
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
    return { ids, rows: ids.map((id) => this.project(id)), origin };
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

/** Sort order of two column values: missing values first, then by value (text without case). */
function orderOf(a: PropValue | undefined, b: PropValue | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  const x = Array.isArray(a) ? a[0] : a;
  const y = Array.isArray(b) ? b[0] : b;
  if (x === undefined || y === undefined) return x === y ? 0 : x === undefined ? -1 : 1;
  const c = compareValues(x, y);
  return Number.isNaN(c) ? 0 : c;
}
