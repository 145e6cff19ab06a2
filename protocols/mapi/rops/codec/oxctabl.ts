/** MS-OXCTABL ROPs (MS-OXCROPS 2.2.5): tables. Row-bearing responses take ctx.columns. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u16, u32, i32, u64, bool, when, arr, propTags, sizedRestriction, sortOrderSet, row, tableColumns, sized } from './fields.js';

const DOC = 'MS-OXCTABL';
const status = { tableStatus: u8 };

export const SetColumns = defineRop({ id: RopId.SetColumns, doc: DOC, handles: 'in', req: { setColumnsFlags: u8, propertyTags: propTags }, ok: status });

export const SortTable = defineRop({ id: RopId.SortTable, doc: DOC, handles: 'in', req: { sortTableFlags: u8, sortOrderSet }, ok: status });

export const Restrict = defineRop({ id: RopId.Restrict, doc: DOC, handles: 'in', req: { restrictFlags: u8, restriction: sizedRestriction }, ok: status });

export const QueryRows = defineRop({
  id: RopId.QueryRows,
  doc: DOC,
  handles: 'in',
  req: { queryRowsFlags: u8, forwardRead: bool, rowCount: u16 },
  ok: { origin: u8, rows: arr(2, row(tableColumns), 1) },
});

export const Abort = defineRop({ id: RopId.Abort, doc: DOC, handles: 'in', ok: status });

export const GetStatus = defineRop({ id: RopId.GetStatus, doc: DOC, handles: 'in', ok: status });

export const QueryPosition = defineRop({ id: RopId.QueryPosition, doc: DOC, handles: 'in', ok: { numerator: u32, denominator: u32 } });

export const SeekRow = defineRop({
  id: RopId.SeekRow,
  doc: DOC,
  handles: 'in',
  req: { origin: u8, rowCount: i32, wantRowMovedCount: bool },
  ok: { hasSoughtLess: bool, rowsSought: i32 },
});

export const SeekRowBookmark = defineRop({
  id: RopId.SeekRowBookmark,
  doc: DOC,
  handles: 'in',
  req: { bookmark: sized(2), rowCount: i32, wantRowMovedCount: bool },
  ok: { rowNoLongerVisible: bool, hasSoughtLess: bool, rowsSought: i32 },
});

export const SeekRowFractional = defineRop({ id: RopId.SeekRowFractional, doc: DOC, handles: 'in', req: { numerator: u32, denominator: u32 } });

export const CreateBookmark = defineRop({ id: RopId.CreateBookmark, doc: DOC, handles: 'in', ok: { bookmark: sized(2) } });

export const QueryColumnsAll = defineRop({ id: RopId.QueryColumnsAll, doc: DOC, handles: 'in', ok: { propertyTags: propTags } });

export const FindRow = defineRop({
  id: RopId.FindRow,
  doc: DOC,
  handles: 'in',
  req: { findRowFlags: u8, restriction: sizedRestriction, origin: u8, bookmark: sized(2) },
  ok: { rowNoLongerVisible: bool, hasRowData: bool, rowData: when((so) => so.hasRowData === true, row(tableColumns)) },
});

export const FreeBookmark = defineRop({ id: RopId.FreeBookmark, doc: DOC, handles: 'in', req: { bookmark: sized(2) } });

export const ResetTable = defineRop({ id: RopId.ResetTable, doc: DOC, handles: 'in' });

export const ExpandRow = defineRop({
  id: RopId.ExpandRow,
  doc: DOC,
  handles: 'in',
  req: { maxRowCount: u16, categoryId: u64 },
  ok: { expandedRowCount: u32, rows: arr(2, row(tableColumns), 1) },
});

export const CollapseRow = defineRop({ id: RopId.CollapseRow, doc: DOC, handles: 'in', req: { categoryId: u64 }, ok: { collapsedRowCount: u32 } });

export const GetCollapseState = defineRop({
  id: RopId.GetCollapseState,
  doc: DOC,
  handles: 'in',
  req: { rowId: u64, rowInstanceNumber: u32 },
  ok: { collapseState: sized(2) },
});

export const SetCollapseState = defineRop({ id: RopId.SetCollapseState, doc: DOC, handles: 'in', req: { collapseState: sized(2) }, ok: { bookmark: sized(2) } });

export const ROPS = [
  SetColumns, SortTable, Restrict, QueryRows, Abort, GetStatus, QueryPosition, SeekRow, SeekRowBookmark, SeekRowFractional, CreateBookmark,
  QueryColumnsAll, FindRow, FreeBookmark, ResetTable, ExpandRow, CollapseRow, GetCollapseState, SetCollapseState,
] as const;
