/**
 * Table ROPs on an open message's attachment table (kept beside the message, over the same table
 * engine), through a real session: columns, paging, sort, seek, position, status; the table goes
 * with its message; permissions / rules tables open; bad column sets; QueryRows answering
 * fewer rows than asked when they would not fit one response.
 */
import test from 'ava';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { NO_HANDLE, startMapiSession, type MapiSession } from '../../../fixtures/mapi-session.js';

const ATTACH_NUM = 0x0e210003;
const ATTACH_NAME = 0x3707001f;
const ATTACH_NAME8 = 0x3707001e;
const ROWID = 0x30000003;

/** A MIME message with these attachments (text/plain parts named as given). */
function withAttachments(names: readonly string[]): Buffer {
  const parts = names.map((n, i) => `--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename="${n}"\r\n\r\npart ${i}\r\n`);
  return Buffer.from(`From: carol@example.org\r\nTo: alice@example.test\r\nSubject: files\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n${parts.join('')}--b--\r\n`);
}

/** Delivers one message, opens it read-write, opens its attachment table: handles [logon, message, table]. */
async function openAttachmentTable(m: MapiSession, names: readonly string[]): Promise<number[]> {
  await m.stack.delivery.deliver(withAttachments(names), [m.alice]);
  const list = await m.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 1 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const mid = (list.responses[3]!.ok as { rows: PropertyRow[] }).rows[0]!.cells[0] as bigint;
  const open = await m.exec(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: m.logon.folders.inbox, openModeFlags: 1, messageId: mid },
      { ropId: RopId.GetAttachmentTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  for (const r of open.responses) if (r.returnValue !== 0) throw new Error(`open: 0x${r.returnValue.toString(16)}`);
  return open.handles;
}

test('attachment tables: columns, sort, paging, seek, position, status', async (t) => {
  const m = await startMapiSession(t);
  const h = await openAttachmentTable(m, ['b.txt', 'a.pdf']);
  const r = await m.exec(
    [
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [ATTACH_NUM, ATTACH_NAME8, ROWID, Tag.PidTagSubject] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
      { ropId: RopId.QueryPosition, logonId: 0, inputHandleIndex: 2 },
      { ropId: RopId.SortTable, logonId: 0, inputHandleIndex: 2, sortTableFlags: 0, sortOrderSet: { categorizedCount: 0, expandedCount: 0, sortOrders: [{ propertyType: 0x1f, propertyId: 0x3707, order: 0 }] } },
      { ropId: RopId.SeekRow, logonId: 0, inputHandleIndex: 2, origin: 0, rowCount: 1, wantRowMovedCount: true },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
      { ropId: RopId.GetStatus, logonId: 0, inputHandleIndex: 2 },
    ],
    h,
  );
  for (const x of r.responses) t.is(x.returnValue, 0);
  const rows = (r.responses[1]!.ok as { rows: PropertyRow[] }).rows.map((x) => x.cells);
  t.deepEqual(rows.map((c) => c[1]), ['b.txt', 'a.pdf'], 'attachments in order, names in 8-bit as asked');
  t.deepEqual(rows.map((c) => c[3]), [{ error: Ec.ecNotFound }, { error: Ec.ecNotFound }]);
  t.is((r.responses[1]!.ok as { origin: number }).origin, 2, 'at the end');
  t.like(r.responses[2]!.ok, { numerator: 2, denominator: 2 });
  t.like(r.responses[4]!.ok, { hasSoughtLess: false, rowsSought: 1 });
  t.deepEqual((r.responses[5]!.ok as { rows: PropertyRow[] }).rows.map((x) => x.cells[1]), ['b.txt'], 'sorted by name: a.pdf skipped by the seek');
  t.like(r.responses[6]!.ok, { tableStatus: 0 });
});

test('the table goes with its message; permissions and rules tables open on folders; bad column sets', async (t) => {
  const m = await startMapiSession(t);
  const h = await openAttachmentTable(m, ['x.txt']);
  const bad = await m.exec([{ ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [] }], h);
  t.is(bad.responses[0]!.returnValue, Ec.ecInvalidParam);
  const gone = await m.exec(
    [
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 5 },
    ],
    h,
  );
  t.is(gone.responses[0]!.returnValue, Ec.ecNullObject, 'releasing the message released its table');
  const perm = await m.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetPermissionsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.GetRulesTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  t.is(perm.responses[0]!.returnValue, 0);
  t.is(perm.responses[1]!.returnValue, 0, 'permissions tables (perm-rops.test.ts)');
  t.is(perm.responses[2]!.returnValue, 0, 'rules tables (rule-rops.test.ts)');
});

test('QueryRows answers fewer rows than asked when they would not fit, and leaves the cursor after the last one sent', async (t) => {
  const m = await startMapiSession(t);
  const h = await openAttachmentTable(
    m,
    Array.from({ length: 400 }, (_, i) => `${i}`.padStart(200, 'n')),
  );
  const q = await m.exec(
    [
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [ATTACH_NUM, ATTACH_NAME] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 400 },
      { ropId: RopId.QueryPosition, logonId: 0, inputHandleIndex: 2 },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 1 },
    ],
    h,
  );
  const n = (q.responses[1]!.ok as { rows: PropertyRow[] }).rows.length;
  t.true(n > 10 && n < 400, `${n} rows`);
  t.is((q.responses[1]!.ok as { origin: number }).origin, 1);
  t.like(q.responses[2]!.ok, { numerator: n, denominator: 400 });
  t.is((q.responses[3]!.ok as { rows: PropertyRow[] }).rows[0]!.cells[0], n);
});
