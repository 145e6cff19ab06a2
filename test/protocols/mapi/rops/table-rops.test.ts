/**
 * Table ROPs (MS-OXCTABL) through a real MAPI session over contents and hierarchy views: columns
 * (8-bit string columns, long values), sorting, restriction, paging both ways with and without
 * advancing, seeks (rows, fractions, bookmarks), find row, categories (expand, collapse, collapse
 * state), status, abort, reset; and the errors for the wrong object kinds and bad input.
 */
import test from 'ava';
import { startMapiSession, NO_HANDLE, type MapiSession } from '../../../fixtures/mapi-session.js';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import { eidGlobcnt } from '../../../../storage/ids.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import type { PropValue } from '../../../../storage/prop-types.js';

const L = 0;
const SUBJECT8 = 0x0037001e;
const IMPORTANCE = 0x00170003;
const ROW_TYPE = 0x0ff50003;
const DEPTH = 0x30050003;
const INST_ID = 0x674d0014;
const CONTENT_COUNT = 0x36020003;
const BIG = 0x7f010102; // a binary property of our own, 40 KiB on one message

type Resp = { returnValue: number; ok?: Record<string, unknown> };
const r0 = (input: number, rops: object[]) => rops.map((x) => ({ logonId: L, inputHandleIndex: input, ...x }) as { ropId: number; logonId: number; inputHandleIndex: number });
const setColumns = (propertyTags: number[]) => ({ ropId: RopId.SetColumns, setColumnsFlags: 0, propertyTags });
const query = (rowCount: number, o: { back?: boolean; noAdvance?: boolean } = {}) => ({ ropId: RopId.QueryRows, queryRowsFlags: o.noAdvance ? 1 : 0, forwardRead: !o.back, rowCount });
const sort = (orders: [number, number][], categorizedCount = 0, expandedCount = 0) => ({
  ropId: RopId.SortTable,
  sortTableFlags: 0,
  sortOrderSet: { categorizedCount, expandedCount, sortOrders: orders.map(([tag, order]) => ({ propertyType: tag & 0xffff, propertyId: tag >>> 16, order })) },
});
const seek = (origin: number, rowCount: number) => ({ ropId: RopId.SeekRow, origin, rowCount, wantRowMovedCount: true });
const position = { ropId: RopId.QueryPosition };

const cellsOf = (r: Resp): unknown[][] => (r.ok!.rows as PropertyRow[]).map((x) => x.cells.map((c) => (typeof c === 'object' && c !== null && !(c instanceof Uint8Array) && 'error' in c ? `err:${(c as { error: number }).error.toString(16)}` : c)));

/** Alice's Inbox with messages, and a contents table on it at handle slot 2. */
async function inboxTable(t: Parameters<typeof startMapiSession>[0], messages: [string, number][]) {
  const s = await startMapiSession(t);
  const a = s.stack.mailbox(s.alice.address);
  for (const [subject, importance] of messages) {
    const props: [number, PropValue][] = [[Tag.PidTagSubject, subject], [IMPORTANCE, importance]];
    if (subject === 'big') props.push([BIG, new Uint8Array(40 * 1024)]);
    await s.stack.sys.call(a, 'createMessage', { folder: eidGlobcnt(s.logon.folders.inbox), props: encodePropBag(props) });
  }
  const o = await s.exec(
    [
      { ropId: RopId.OpenFolder, logonId: L, inputHandleIndex: 0, outputHandleIndex: 1, folderId: s.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: L, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    ],
    [s.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const handles = o.handles;
  const exec = async (rops: object[], known?: number[]): Promise<Resp[]> => {
    const reqs = r0(2, rops);
    const cols = known;
    const r = await s.exec(reqs, handles, {
      ctxFor: (q, i) => {
        if (q === null) return {};
        if (q.ropId !== RopId.QueryRows && q.ropId !== RopId.FindRow && q.ropId !== RopId.ExpandRow) return {};
        let c = cols;
        for (let k = 0; k < i; k++) if (reqs[k]!.ropId === RopId.SetColumns) c = (reqs[k] as unknown as { propertyTags: number[] }).propertyTags;
        return c === undefined ? {} : { columns: c };
      },
    });
    return r.responses as unknown as Resp[];
  };
  return { s, handles, exec, rowCount: (o.responses[1] as unknown as Resp).ok!.rowCount as number };
}

test('SetColumns / SortTable / QueryRows: order both ways, NoAdvance, Origin, 8-bit columns, long and huge values', async (t) => {
  const long = 'x'.repeat(300);
  const { exec, rowCount } = await inboxTable(t, [['bravo', 1], ['alpha', 2], ['Ünïcode', 0], [long, 1], ['big', 1]]);
  t.is(rowCount, 5);
  const cols = [Tag.PidTagSubject, SUBJECT8, BIG];
  const r = await exec([setColumns(cols), sort([[Tag.PidTagSubject, 0]]), query(2, { noAdvance: true }), position, query(2), query(10), query(2)]);
  t.true(r.every((x) => x.returnValue === 0), r.map((x) => x.returnValue.toString(16)).join());
  t.deepEqual(r[0]!.ok, { tableStatus: 0 });
  const peek = cellsOf(r[2]!);
  t.deepEqual(peek.map((c) => c[0]), ['alpha', 'big']);
  t.is(peek[0]![2], `err:${Ec.ecNotFound.toString(16)}`, 'no such property: an error cell');
  t.is(peek[1]![2], `err:${Ec.ecMAPIOOM.toString(16)}`, 'a 40 KiB value is too large for a table row');
  t.deepEqual(r[3]!.ok, { numerator: 0, denominator: 5 }, 'NoAdvance left the cursor');
  t.is(r[2]!.ok!.origin, 0);
  t.deepEqual(cellsOf(r[4]!).map((c) => c[0]), ['alpha', 'big']);
  t.is(r[4]!.ok!.origin, 1, 'BOOKMARK_CURRENT');
  const rest = cellsOf(r[5]!);
  t.deepEqual(rest.map((c) => c[0]), ['bravo', 'x'.repeat(255), 'Ünïcode'], 'text cut at 255 characters');
  t.deepEqual(rest.map((c) => c[1]), ['bravo', 'x'.repeat(255), 'Ünïcode'], '8-bit column (Latin-1 letters kept)');
  t.is(r[5]!.ok!.origin, 2, 'BOOKMARK_END');
  t.deepEqual(cellsOf(r[6]!), [], 'nothing after the end');
  // Backward from the end, descending sort.
  const b = await exec([sort([[Tag.PidTagSubject, 1]]), seek(2, 0), query(2, { back: true })], cols);
  t.deepEqual(cellsOf(b[2]!).map((c) => c[0]), ['alpha', 'big']);
});

test('Restrict, SeekRow (moved counts), SeekRowFractional, QueryPosition, bookmarks, FindRow, ResetTable, GetStatus, Abort, QueryColumnsAll', async (t) => {
  const { exec } = await inboxTable(t, [['a1', 0], ['a2', 1], ['b1', 2], ['b2', 1], ['c1', 0]]);
  const cols = [Tag.PidTagSubject, IMPORTANCE];
  const restriction = { type: 'property', relop: 4, tag: IMPORTANCE, value: 1 };
  const r = await exec([
    setColumns(cols),
    sort([[Tag.PidTagSubject, 0]]),
    { ropId: RopId.Restrict, restrictFlags: 0, restriction },
    query(10),
    { ropId: RopId.Restrict, restrictFlags: 0, restriction: null },
    seek(0, 2),
    seek(1, 10),
    seek(2, -1),
    position,
    { ropId: RopId.SeekRowFractional, numerator: 2, denominator: 5 },
    { ropId: RopId.CreateBookmark },
    query(1),
    { ropId: RopId.SeekRowBookmark, bookmark: new Uint8Array([9, 9, 9, 9]), rowCount: 0, wantRowMovedCount: true },
    { ropId: RopId.GetStatus },
    { ropId: RopId.Abort },
    { ropId: RopId.SeekRowFractional, numerator: 1, denominator: 0 },
    seek(7, 1),
  ]);
  t.deepEqual(cellsOf(r[3]!), [['a2', 1], ['b2', 1]], 'restricted');
  t.deepEqual(r[5]!.ok, { hasSoughtLess: false, rowsSought: 2 });
  t.deepEqual(r[6]!.ok, { hasSoughtLess: true, rowsSought: 3 }, 'stopped at the end');
  t.deepEqual(r[7]!.ok, { hasSoughtLess: false, rowsSought: -1 });
  t.deepEqual(r[8]!.ok, { numerator: 4, denominator: 5 });
  t.deepEqual(cellsOf(r[11]!), [['b1', 2]], 'two fifths of the way');
  t.is(r[12]!.returnValue, Ec.ecInvalidBookmark);
  t.deepEqual(r[13]!.ok, { tableStatus: 0 });
  t.is(r[14]!.returnValue, Ec.ecUnableToAbort);
  t.is(r[15]!.returnValue, Ec.ecInvalidParam);
  t.is(r[16]!.returnValue, Ec.ecInvalidParam, 'no such origin');
  const bm = r[10]!.ok!.bookmark as Uint8Array;
  const f = await exec(
    [
      { ropId: RopId.SeekRowBookmark, bookmark: bm, rowCount: 1, wantRowMovedCount: true },
      query(1, { noAdvance: true }),
      { ropId: RopId.FindRow, findRowFlags: 0, restriction: { type: 'property', relop: 4, tag: SUBJECT8, value: 'C1' }, origin: 0, bookmark: new Uint8Array(0) },
      { ropId: RopId.FindRow, findRowFlags: 1, restriction: { type: 'content', fuzzy: 0x00010002, tag: Tag.PidTagSubject, value: 'A' }, origin: 3, bookmark: bm },
      { ropId: RopId.FindRow, findRowFlags: 0, restriction: { type: 'property', relop: 4, tag: Tag.PidTagSubject, value: 'zz' }, origin: 0, bookmark: new Uint8Array(0) },
      { ropId: RopId.FreeBookmark, bookmark: bm },
      { ropId: RopId.FreeBookmark, bookmark: bm },
      { ropId: RopId.QueryColumnsAll },
      { ropId: RopId.ResetTable },
      position,
    ],
    cols,
  );
  t.deepEqual(f.map((x) => x.returnValue), [0, 0, 0, 0, Ec.ecNotFound, 0, Ec.ecInvalidBookmark, 0, 0, 0]);
  t.deepEqual(f[0]!.ok, { rowNoLongerVisible: false, hasSoughtLess: false, rowsSought: 1 });
  t.deepEqual(cellsOf(f[1]!), [['b2', 1]]);
  t.like(f[2]!.ok!, { rowNoLongerVisible: false, hasRowData: true });
  t.deepEqual((f[2]!.ok!.rowData as PropertyRow).cells, ['c1', 0], 'an 8-bit restriction matches without case');
  t.deepEqual((f[3]!.ok!.rowData as PropertyRow).cells, ['a2', 1], 'backward from the bookmark');
  t.is(f[4]!.returnValue, Ec.ecNotFound);
  t.is(f[5]!.returnValue, 0);
  t.is(f[6]!.returnValue, Ec.ecInvalidBookmark, 'freed already');
  const all = f[7]!.ok!.propertyTags as number[];
  t.true(all.includes(Tag.PidTagSubject) && all.includes(IMPORTANCE) && all.includes(INST_ID));
  t.deepEqual(f[9]!.ok, { numerator: 0, denominator: 5 });
});

test('Categorized views: headers with counts, ExpandRow / CollapseRow by PidTagInstId, collapse state round trip', async (t) => {
  const { exec } = await inboxTable(t, [['a', 1], ['b', 2], ['c', 1], ['d', 0]]);
  const cols = [IMPORTANCE, Tag.PidTagSubject, ROW_TYPE, DEPTH, INST_ID, CONTENT_COUNT];
  const r = await exec([setColumns(cols), sort([[IMPORTANCE, 1], [Tag.PidTagSubject, 0]], 1, 0), query(50)]);
  t.true(r.every((x) => x.returnValue === 0));
  const headers = cellsOf(r[2]!);
  t.deepEqual(headers.map((c) => [c[0], c[2], c[3], c[5]]), [[2, 4, 0, 1], [1, 4, 0, 2], [0, 4, 0, 1]], 'collapsed headers, highest importance first');
  const normal = headers[1]![4] as bigint;
  t.true((normal & 0x8000000000000000n) !== 0n, 'a category row has a category PidTagInstId');
  const e = await exec(
    [
      { ropId: RopId.ExpandRow, maxRowCount: 1, categoryId: normal },
      { ropId: RopId.ExpandRow, maxRowCount: 1, categoryId: normal },
      { ropId: RopId.ExpandRow, maxRowCount: 1, categoryId: 0x8000000000000099n },
      { ropId: RopId.GetCollapseState, rowId: normal, rowInstanceNumber: 0 },
      seek(0, 0),
      query(50),
      { ropId: RopId.CollapseRow, categoryId: normal },
      { ropId: RopId.CollapseRow, categoryId: normal },
    ],
    cols,
  );
  t.is(e[0]!.returnValue, 0);
  t.is(e[0]!.ok!.expandedRowCount, 2);
  t.deepEqual(cellsOf(e[0]!).map((c) => [c[1], c[2], c[3]]), [['a', 1, 1]], 'MaxRowCount rows of the category, as leaves at depth 1');
  t.is(e[1]!.returnValue, Ec.ecInvalidParam, 'expanded already');
  t.is(e[2]!.returnValue, Ec.ecNotFound);
  t.deepEqual(cellsOf(e[5]!).map((c) => c[2]), [4, 3, 1, 1, 4]);
  t.is(e[6]!.ok!.collapsedRowCount, 2);
  t.is(e[7]!.returnValue, Ec.ecInvalidParam, 'collapsed already');
  const state = e[3]!.ok!.collapseState as Uint8Array;
  const back = await exec([{ ropId: RopId.SetCollapseState, collapseState: state }, { ropId: RopId.SeekRowBookmark, bookmark: new Uint8Array(0), rowCount: 0, wantRowMovedCount: false }, { ropId: RopId.SetCollapseState, collapseState: new Uint8Array([1, 2, 3]) }], cols);
  t.is(back[0]!.returnValue, 0);
  t.is(back[1]!.returnValue, Ec.ecInvalidBookmark);
  t.is(back[2]!.returnValue, Ec.ecInvalidParam);
  const after = await exec([{ ropId: RopId.SeekRowBookmark, bookmark: back[0]!.ok!.bookmark, rowCount: 0, wantRowMovedCount: true }, query(50, { noAdvance: true }), seek(0, 0), query(50)], cols);
  t.deepEqual(cellsOf(after[1]!).map((c) => [c[0], c[2]]), [[1, 3], [1, 1], [1, 1], [0, 4]], 'the bookmark is on the row the state was taken at');
  t.deepEqual(cellsOf(after[3]!).map((c) => c[2]), [4, 3, 1, 1, 4], 'the expanded category is back');
});

test('table ROPs refuse other objects, run before SetColumns, empty column sets and released tables', async (t) => {
  const { s, handles, exec } = await inboxTable(t, [['a', 0]]);
  const r = await exec([query(1), setColumns([]), setColumns([0x00010000 | 0x000a])]);
  t.is(r[0]!.returnValue, Ec.ecNullObject, 'QueryRows before SetColumns');
  t.is(r[1]!.returnValue, Ec.ecInvalidParam);
  t.is(r[2]!.returnValue, Ec.ecInvalidParam);
  const onFolder = await s.exec(r0(1, [setColumns([Tag.PidTagSubject]), query(1), position]), handles);
  t.deepEqual((onFolder.responses as unknown as Resp[]).map((x) => x.returnValue), [Ec.ecNotSupported, Ec.ecNotSupported, Ec.ecNotSupported], 'a folder is not a table');
  const released = await s.exec([{ ropId: RopId.Release, logonId: L, inputHandleIndex: 2 }, ...r0(2, [position])], handles);
  t.is((released.responses[0] as unknown as Resp).returnValue, Ec.ecNullObject);
  // The hierarchy table of a folder: flat, sorted by name.
  const h = await s.exec(
    [
      { ropId: RopId.CreateFolder, logonId: L, inputHandleIndex: 1, outputHandleIndex: 3, folderType: 1, useUnicodeStrings: true, openExisting: false, reserved: 0, displayName: 'Zed', comment: '' },
      { ropId: RopId.CreateFolder, logonId: L, inputHandleIndex: 1, outputHandleIndex: 3, folderType: 1, useUnicodeStrings: true, openExisting: false, reserved: 0, displayName: 'Amy', comment: '' },
      { ropId: RopId.GetHierarchyTable, logonId: L, inputHandleIndex: 1, outputHandleIndex: 3, tableFlags: 0 },
      ...r0(3, [setColumns([Tag.PidTagDisplayName, Tag.PidTagFolderId]), sort([[Tag.PidTagDisplayName, 1]]), query(10)]),
    ],
    handles,
  );
  const rows = (h.responses[5] as unknown as Resp).ok!.rows as PropertyRow[];
  t.deepEqual(rows.map((x) => x.cells[0]), ['Zed', 'Amy']);
  t.is(typeof rows[0]!.cells[1], 'bigint');
});
