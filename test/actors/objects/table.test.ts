import test from 'ava';
import { Table, Bookmark, type RowSource } from '../../../actors/mailbox/objects/table.js';
import { Tag } from '../../../storage/prop-tags.js';
import { Fuzzy, RelOp } from '../../../storage/restriction.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import type { PropValue } from '../../../storage/prop-types.js';
import { codeOf } from '../../helpers.js';

const S = Tag.PidTagSubject;
const SIZE = Tag.PidTagMessageSize;

function source(rows: [number, string, number][]): RowSource & { rows: Map<number, PropMap> } {
  const m = new Map<number, PropMap>(rows.map(([id, subject, size]) => [id, new Map<number, PropValue>([[S, subject], [SIZE, size]])]));
  return { rows: m, ids: () => [...m.keys()], row: (id) => m.get(id) };
}

const data: [number, string, number][] = [
  [1, 'delta', 40],
  [2, 'Alpha', 10],
  [3, 'charlie', 30],
  [4, 'bravo', 20],
  [5, 'echo', 50],
];

test('columns, sort (text without case, descending, stable), restriction and paged reads', (t) => {
  const tb = new Table(source(data));
  t.is(codeOf(() => tb.queryRows(10)), 'ecNullObject', 'SetColumns comes first');
  tb.setColumns([S, SIZE, Tag.PidTagComment]);
  tb.sort([{ tag: S, desc: false }]);
  const page1 = tb.queryRows(2);
  t.deepEqual(page1.rows, [['Alpha', 10, undefined], ['bravo', 20, undefined]], 'a missing column reads as undefined');
  t.is(page1.origin, Bookmark.CURRENT);
  t.deepEqual(tb.queryRows(10).ids, [3, 1, 5]);
  t.is(tb.queryRows(10).origin, Bookmark.END);
  t.deepEqual(tb.queryRows(2, false).ids, [5, 1], 'backward from the end');
  tb.sort([{ tag: SIZE, desc: true }]);
  t.deepEqual(tb.queryRows(10).ids, [5, 1, 3, 4, 2]);
  tb.restrict({ type: 'property', relop: RelOp.GE, tag: SIZE, value: 30 });
  t.deepEqual(tb.queryRows(10).ids, [5, 1, 3]);
  t.is(tb.rowCount(), 3);
  tb.restrict({ type: 'content', fuzzy: Fuzzy.FL_PREFIX | Fuzzy.FL_IGNORECASE, tag: S, value: 'A' });
  t.deepEqual(tb.queryRows(10).rows, [['Alpha', 10, undefined]]);
  tb.reset();
  t.deepEqual(tb.queryRows(10).ids, [1, 2, 3, 4, 5], 'reset: natural order, no restriction');
});

test('seek, fractional seek, position, bookmarks (also for a row that vanished), find row', (t) => {
  const src = source(data);
  const tb = new Table(src);
  tb.setColumns([S]);
  t.deepEqual(tb.seek(Bookmark.BEGINNING, 2), { sought: 2, hitLimit: false });
  t.deepEqual(tb.position(), { numerator: 2, denominator: 5 });
  t.deepEqual(tb.seek(Bookmark.CURRENT, 10), { sought: 3, hitLimit: true });
  t.deepEqual(tb.seek(Bookmark.END, -1), { sought: -1, hitLimit: false });
  t.deepEqual(tb.queryRows(1, true, false).ids, [5], 'a peek does not move the cursor');
  tb.seekFractional(1, 2);
  t.deepEqual(tb.position(), { numerator: 2, denominator: 5 });
  t.is(codeOf(() => tb.seekFractional(1, 0)), 'ecInvalidParam');
  const bm = tb.createBookmark(); // at row 3
  tb.seek(Bookmark.BEGINNING, 0);
  t.deepEqual(tb.seekBookmark(bm, 1), { rowNoLongerVisible: false, sought: 1, hitLimit: false });
  t.deepEqual(tb.queryRows(1).ids, [4]);
  src.rows.delete(3);
  tb.invalidate();
  tb.seek(Bookmark.BEGINNING, 1);
  t.true(tb.seekBookmark(bm, 0).rowNoLongerVisible);
  tb.freeBookmark(bm);
  t.is(codeOf(() => tb.seekBookmark(bm, 0)), 'ecInvalidBookmark');
  const found = tb.findRow({ type: 'content', fuzzy: Fuzzy.FL_FULLSTRING, tag: S, value: 'echo' }, Bookmark.BEGINNING);
  t.is(found?.id, 5);
  t.deepEqual(tb.position(), { numerator: 3, denominator: 4 });
  t.is(tb.findRow({ type: 'exist', tag: Tag.PidTagComment }, Bookmark.BEGINNING), null);
  const back = tb.findRow({ type: 'exist', tag: S }, Bookmark.END, true);
  t.is(back?.id, 5);
});

test('categorized views: header rows with depth, counts and instance keys; expand, collapse and their saved state', async (t) => {
  const { RowType, PidTagRowType, PidTagDepth, PidTagInstanceKey } = await import('../../../actors/mailbox/objects/table.js');
  const CAT = 0x66110003 & 0xffff0000 | 0x001f; // a string column
  const FLAGS = Tag.PidTagMessageFlags;
  const m = new Map<number, PropMap>([
    [1, new Map<number, PropValue>([[CAT, 'Work'], [S, 'w2'], [FLAGS, 1]])],
    [2, new Map<number, PropValue>([[CAT, 'Home'], [S, 'h1'], [FLAGS, 0]])],
    [3, new Map<number, PropValue>([[CAT, 'work'], [S, 'w1'], [FLAGS, 0]])],
    [4, new Map<number, PropValue>([[CAT, 'Home'], [S, 'h2'], [FLAGS, 0]])],
    [5, new Map<number, PropValue>([[S, 'none'], [FLAGS, 1]])],
  ]);
  const tb = new Table({ ids: () => [...m.keys()], row: (id) => m.get(id) });
  tb.setColumns([PidTagRowType, PidTagDepth, CAT, S, Tag.PidTagContentCount, Tag.PidTagContentUnreadCount, PidTagInstanceKey]);
  tb.sort([{ tag: CAT, desc: false }, { tag: S, desc: false }], 1, 1);
  const view = () => tb.queryRows(100, true, false).rows.map((r) => (r[0] === RowType.TBL_LEAF_ROW ? `  ${String(r[3])}` : `${String(r[2] ?? '(none)')} [${String(r[4])}/${String(r[5])}] ${r[0] === RowType.TBL_EXPANDED_CATEGORY ? '-' : '+'}`));
  t.deepEqual(view(), ['(none) [1/0] -', '  none', 'Home [2/2] -', '  h1', '  h2', 'work [2/1] -', '  w1', '  w2'], 'grouped (text without case; a header shows its first row value), counted, expanded');
  const rows = tb.queryRows(100, true, false).rows;
  t.is(rows[1]![1], 1, 'leaf depth = number of categories');
  t.is(rows[0]![1], 0);
  const home = tb.queryRows(100, true, false).ids[2]!;
  t.true(home < 0, 'headers have their own row ids');
  t.deepEqual(tb.collapseRow(-home), { collapsedCount: 2 });
  t.deepEqual(view(), ['(none) [1/0] -', '  none', 'Home [2/2] +', 'work [2/1] -', '  w1', '  w2']);
  t.is(codeOf(() => tb.collapseRow(-home)), 'ecNotExpanded');
  const state = tb.getCollapseState();
  const ex = tb.expandRow(-home, 1);
  t.is(ex.expandedCount, 2);
  t.deepEqual(ex.rows.map((r) => r[3]), ['h1']);
  t.is(codeOf(() => tb.expandRow(-home, 1)), 'ecNotCollapsed');
  tb.setCollapseState(state);
  t.deepEqual(view()[2], 'Home [2/2] +', 'a saved collapse state comes back');
  // Two levels, only the first expanded: second-level headers start collapsed.
  tb.sort([{ tag: CAT, desc: false }, { tag: FLAGS, desc: false }, { tag: S, desc: false }], 2, 1);
  t.deepEqual(tb.queryRows(100, true, false).rows.map((r) => [r[0], r[1]]), [
    [RowType.TBL_EXPANDED_CATEGORY, 0],
    [RowType.TBL_COLLAPSED_CATEGORY, 1],
    [RowType.TBL_EXPANDED_CATEGORY, 0],
    [RowType.TBL_COLLAPSED_CATEGORY, 1],
    [RowType.TBL_EXPANDED_CATEGORY, 0],
    [RowType.TBL_COLLAPSED_CATEGORY, 1],
    [RowType.TBL_COLLAPSED_CATEGORY, 1],
  ]);
  t.is(codeOf(() => tb.sort([{ tag: S, desc: false }], 2, 1)), 'ecInvalidParam');
});

test('multi-valued instance sorts list a row once per value, also categorized; instance keys seek', async (t) => {
  const { MV_INSTANCE, PidTagInstanceKey, PidTagRowType, RowType } = await import('../../../actors/mailbox/objects/table.js');
  const KEYWORDS = 0x8001101f;
  const m = new Map<number, PropMap>([
    [1, new Map<number, PropValue>([[S, 'one'], [KEYWORDS, ['Red', 'Blue']]])],
    [2, new Map<number, PropValue>([[S, 'two'], [KEYWORDS, ['blue']]])],
    [3, new Map<number, PropValue>([[S, 'three']])],
  ]);
  const tb = new Table({ ids: () => [...m.keys()], row: (id) => m.get(id) });
  const MVI = (KEYWORDS | MV_INSTANCE) >>> 0;
  tb.setColumns([S, MVI, PidTagInstanceKey, PidTagRowType]);
  tb.sort([{ tag: MVI, desc: false }, { tag: S, desc: false }]);
  const r = tb.queryRows(10, true, false);
  t.deepEqual(r.rows.map((x) => [x[0], x[1]]), [['three', undefined], ['one', 'Blue'], ['two', 'blue'], ['one', 'Red']]);
  t.deepEqual(r.ids.map((id) => tb.sourceId(id)), [3, 1, 2, 1], 'instances map back to their message');
  t.is(new Set(r.rows.map((x) => Buffer.from(x[2] as Uint8Array).toString('hex'))).size, 4, 'each instance has its own instance key');
  t.true(tb.seekInstanceKey(r.rows[3]![2] as Uint8Array));
  t.deepEqual(tb.position(), { numerator: 3, denominator: 4 });
  t.false(tb.seekInstanceKey(new Uint8Array(3)));
  tb.sort([{ tag: MVI, desc: false }, { tag: S, desc: false }], 1, 1);
  const cats = tb.queryRows(20, true, false).rows.filter((x) => x[3] !== RowType.TBL_LEAF_ROW).map((x) => x[1] ?? '(none)');
  t.deepEqual(cats, ['(none)', 'Blue', 'Red'], 'arranged by category: a message appears under each of its categories');
});

test('table notifications: rows added (after their previous row), modified and deleted; categorized tables say changed', async (t) => {
  const m = new Map<number, PropMap>([
    [1, new Map<number, PropValue>([[S, 'a']])],
    [3, new Map<number, PropValue>([[S, 'c']])],
  ]);
  const tb = new Table({ ids: () => [...m.keys()], row: (id) => m.get(id) });
  tb.setColumns([S]);
  tb.sort([{ tag: S, desc: false }]);
  t.deepEqual(await tb.changes(), [], 'nothing to report before the client read rows');
  tb.queryRows(10);
  m.set(2, new Map<number, PropValue>([[S, 'b']]));
  const added = await tb.changes();
  t.is(added.length, 1);
  t.is(added[0]!.type, 'rowAdded');
  const key = (id: number) => Buffer.from(BigInt.asUintN(64, BigInt(id)).toString(16).padStart(16, '0'), 'hex').reverse().toString('hex');
  if (added[0]!.type === 'rowAdded') {
    t.is(Buffer.from(added[0]!.instanceKey).toString('hex'), key(2));
    t.is(Buffer.from(added[0]!.prevInstanceKey!).toString('hex'), key(1), 'inserted after row 1');
    t.deepEqual(added[0]!.row, ['b']);
  }
  m.set(3, new Map<number, PropValue>([[S, 'C']]));
  t.deepEqual((await tb.changes()).map((e) => e.type), ['rowModified'], 'a case-only change is a change');
  m.delete(1);
  t.deepEqual((await tb.changes()).map((e) => e.type), ['rowDeleted']);
  t.deepEqual(await tb.changes(), [], 'nothing new');
  tb.sort([{ tag: S, desc: false }], 1, 1);
  tb.queryRows(10);
  m.set(4, new Map<number, PropValue>([[S, 'd']]));
  t.deepEqual(await tb.changes(), [{ type: 'tableChanged' }]);
});

test('a view sorted on one indexed column is read from the index: no row loads, no sort', async (t) => {
  const order = [5, 3, 9, 1];
  let loads = 0;
  const DT = 0x0e060040;
  const tb = new Table({
    ids: () => [1, 3, 5, 9],
    page: () => [],
    row: (id) => (loads++, new Map<number, PropValue>([[S, `m${id}`]])),
    indexPage: (tag, after, limit) => (tag !== DT ? null : after === null ? { ids: order.slice(0, limit), last: order.length } : { ids: [], last: null }),
  });
  tb.setColumns([S]);
  tb.sort([{ tag: DT, desc: true }]);
  await tb.prepare();
  t.is(loads, 0);
  t.is(tb.indexedBuilds, 1);
  t.deepEqual(tb.queryRows(10).ids, [1, 9, 3, 5], 'descending: the index read backwards');
});

test('MaxCategory: conversations ordered by their newest message', (t) => {
  const TOPIC = 0x0070001f;
  const DT = 0x0e060040;
  const m = new Map<number, PropMap>([
    [1, new Map<number, PropValue>([[TOPIC, 'alpha'], [DT, 100n], [S, 'a-old']])],
    [2, new Map<number, PropValue>([[TOPIC, 'beta'], [DT, 300n], [S, 'b-new']])],
    [3, new Map<number, PropValue>([[TOPIC, 'alpha'], [DT, 500n], [S, 'a-newest']])],
    [4, new Map<number, PropValue>([[TOPIC, 'gamma'], [DT, 200n], [S, 'g']])],
  ]);
  const tb = new Table({ ids: () => [...m.keys()], row: (id) => m.get(id) });
  tb.setColumns([S]);
  tb.sort([{ tag: TOPIC, desc: false }, { tag: DT, desc: true, category: 'max' }], 1, 1);
  const leaves = tb.queryRows(20).rows.map((r) => r[0]).filter((x) => x !== undefined);
  t.deepEqual(leaves, ['a-newest', 'a-old', 'b-new', 'g'], 'alpha (newest 500) first, then beta (300), then gamma (200)');
  tb.sort([{ tag: TOPIC, desc: false }, { tag: DT, desc: false, category: 'min' }], 1, 1);
  t.deepEqual(tb.queryRows(20).rows.map((r) => r[0]).filter((x) => x !== undefined), ['a-old', 'a-newest', 'g', 'b-new'], 'MinCategory ascending: alpha (100), gamma (200), beta (300)');
});

test('sliced builds give the same categorized and multi-valued-instance views as one-go builds', async (t) => {
  const { MV_INSTANCE, PidTagRowType, PidTagDepth } = await import('../../../actors/mailbox/objects/table.js');
  const KEYWORDS = 0x8001101f;
  const CAT = 0x6611001f;
  const m = new Map<number, PropMap>();
  for (let i = 1; i <= 500; i++) {
    m.set(i, new Map<number, PropValue>([[S, `s${(i * 37) % 101}`], [CAT, `c${i % 7}`], [KEYWORDS, i % 3 === 0 ? [] : [`k${i % 5}`, `k${i % 4}`]], [Tag.PidTagMessageFlags, i % 2]]));
  }
  const ids = [...m.keys()];
  const make = (paged: boolean) =>
    new Table({
      ids: () => ids,
      row: (id) => m.get(id),
      ...(paged ? { page: (after: number | null, limit: number) => ids.filter((x) => after === null || x > after).slice(0, limit) } : {}),
    });
  const views: [string, (tb: Table) => void][] = [
    ['categorized 2 levels', (tb) => tb.sort([{ tag: CAT, desc: false }, { tag: S, desc: true }, { tag: Tag.PidTagMessageFlags, desc: false }], 2, 1)],
    ['multi-valued instances', (tb) => tb.sort([{ tag: (KEYWORDS | MV_INSTANCE) >>> 0, desc: false }, { tag: S, desc: false }])],
    ['categorized by instance', (tb) => tb.sort([{ tag: (KEYWORDS | MV_INSTANCE) >>> 0, desc: false }, { tag: S, desc: false }], 1, 1)],
  ];
  for (const [name, apply] of views) {
    const out: unknown[] = [];
    for (const paged of [false, true]) {
      const tb = make(paged);
      tb.setColumns([S, CAT, (KEYWORDS | MV_INSTANCE) >>> 0, PidTagRowType, PidTagDepth]);
      apply(tb);
      await tb.prepare();
      out.push(tb.queryRows(5000).rows);
    }
    t.deepEqual(out[1], out[0], name);
  }
});
