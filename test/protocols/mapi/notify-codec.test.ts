/**
 * RopNotify's NotificationData (MS-OXCNOTIF 2.2.1.4.1.2, MS-OXCROPS 2.2.14.2): byte layouts
 * written out by hand from the section's field list, round trips of every notification type, and
 * TableRowData over the table's columns (by handle, or kept as bytes when the reader does not
 * know them).
 */
import test from 'ava';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { Notify, NotificationType as NT, NotificationFlag as NF, TableEventType as TE, type NotificationData, type NotifyCtx } from '../../../protocols/mapi/rops/codec/oxcnotif.js';
import { RopId } from '../../../protocols/mapi/rops/ids.js';
import { rowOf, cellAbsent } from '../../../protocols/mapi/wire/prop-values.js';
import { makeEid } from '../../../storage/ids.js';
import { rng } from '../../helpers.js';
import { hex, toHex } from './hex.js';

const FID = makeEid(1, 0x12); // ReplicaId 1, GlobalCounter 0x12: 01 00 00 00 00 00 00 12
const MID = makeEid(1, 0x34);

function push(data: NotificationData, ctx: NotifyCtx = {}, handle = 0x01000005, logonId = 0): Uint8Array {
  const w = new WireWriter();
  Notify.pushResponse(w, { ropId: RopId.Notify, handleIndex: 0, returnValue: 0, ok: { notificationHandle: handle, logonId, notificationData: data } }, ctx);
  return w.toBytes();
}

function pull(bytes: Uint8Array, ctx: NotifyCtx = {}) {
  const r = new WireReader(bytes);
  const resp = Notify.pullResponse(r, ctx);
  return { r, ok: resp.ok!, data: resp.ok!.notificationData };
}

test('NewMail: FolderId, MessageId, MessageFlags, UnicodeFlag, MessageClass (8-bit and UTF-16)', (t) => {
  const bytes = push({ notificationFlags: NT.NewMail | NF.M, folderId: FID, messageId: MID, messageFlags: 0, unicodeFlag: false, messageClass: 'IPM.Note' });
  t.is(
    toHex(bytes),
    toHex(hex('2a 05 00 00 01 00  02 80  01 00 00 00 00 00 00 12  01 00 00 00 00 00 00 34  00 00 00 00  00  49 50 4d 2e 4e 6f 74 65 00')),
  );
  const { r, data, ok } = pull(bytes);
  t.true(r.ok);
  t.is(r.remaining, 0);
  t.is(ok.notificationHandle, 0x01000005);
  t.like(data, { notificationFlags: 0x8002, folderId: FID, messageId: MID, messageFlags: 0, unicodeFlag: false, messageClass: 'IPM.Note' });
  t.is(data.parentFolderId, undefined);
  t.is(data.tags, undefined);

  const u = push({ notificationFlags: NT.NewMail | NF.M, folderId: FID, messageId: MID, messageFlags: 1, unicodeFlag: true, messageClass: 'IPM' });
  t.is(toHex(u.subarray(u.length - 9)), '01 49 00 50 00 4d 00 00 00');
  t.is(pull(u).data.messageClass, 'IPM');
});

test('object notifications: which ids each type carries (folder vs message, search folder, move / copy)', (t) => {
  // A folder created: FolderId, ParentFolderId, TagCount + Tags.
  let b = push({ notificationFlags: NT.ObjectCreated, folderId: FID, parentFolderId: makeEid(1, 0x01), tags: [0x3001001f] });
  t.is(toHex(b.subarray(6)), toHex(hex('04 00  01 00 00 00 00 00 00 12  01 00 00 00 00 00 00 01  01 00 1f 00 01 30')));
  // A message created: FolderId, MessageId, no ParentFolderId, TagCount 0.
  b = push({ notificationFlags: NT.ObjectCreated | NF.M, folderId: FID, messageId: MID, tags: [] });
  t.is(toHex(b.subarray(6)), toHex(hex('04 80  01 00 00 00 00 00 00 12  01 00 00 00 00 00 00 34  00 00')));
  // A message in a search folder (S): ParentFolderId is there too.
  b = push({ notificationFlags: NT.ObjectDeleted | NF.M | NF.S, folderId: FID, messageId: MID, parentFolderId: makeEid(1, 0x09) });
  t.is(b.byteLength, 6 + 2 + 24);
  // A message moved: FolderId, MessageId, OldFolderId, OldMessageId.
  b = push({ notificationFlags: NT.ObjectMoved | NF.M, folderId: FID, messageId: MID, oldFolderId: makeEid(1, 0x07), oldMessageId: makeEid(1, 0x08) });
  t.is(b.byteLength, 6 + 2 + 32);
  t.like(pull(b).data, { oldFolderId: makeEid(1, 0x07), oldMessageId: makeEid(1, 0x08), oldParentFolderId: undefined, parentFolderId: undefined });
  // A folder copied: FolderId, ParentFolderId, OldFolderId, OldParentFolderId.
  b = push({ notificationFlags: NT.ObjectCopied, folderId: FID, parentFolderId: 1n, oldFolderId: 2n, oldParentFolderId: 3n });
  t.is(b.byteLength, 6 + 2 + 32);
  t.like(pull(b).data, { parentFolderId: 1n, oldFolderId: 2n, oldParentFolderId: 3n });
  // A folder modified with its counts (T, U): FolderId, TagCount, TotalMessageCount, UnreadMessageCount.
  b = push({ notificationFlags: NT.ObjectModified | NF.T | NF.U, folderId: FID, tags: [], totalMessageCount: 7, unreadMessageCount: 2 });
  t.is(toHex(b.subarray(6)), toHex(hex('10 30  01 00 00 00 00 00 00 12  00 00  07 00 00 00  02 00 00 00')));
  // Search complete: FolderId only. The reserved type: nothing.
  t.is(push({ notificationFlags: NT.SearchCompleted, folderId: FID }).byteLength, 6 + 2 + 8);
  t.is(push({ notificationFlags: NT.Reserved }).byteLength, 6 + 2);
});

test('a field the flags call for must be given (push throws rather than writing a short structure)', (t) => {
  t.throws(() => push({ notificationFlags: NT.NewMail | NF.M, folderId: FID }), { instanceOf: TypeError });
});

test('TableModified: row added over the table columns (from the handle), deleted, table changed', (t) => {
  const columns = [0x0037001f, 0x0e080003];
  const ctx: NotifyCtx = { notifyColumns: (h) => (h === 0x01000005 ? columns : undefined) };
  const row = rowOf(['Hi', 42]);
  const added: NotificationData = {
    notificationFlags: NT.TableModified | NF.M,
    tableEventType: TE.TableRowAdded,
    tableRowFolderId: FID,
    tableRowMessageId: MID,
    tableRowInstance: 0,
    insertAfterTableRowFolderId: FID,
    insertAfterTableRowId: makeEid(1, 0x33),
    insertAfterTableRowInstance: 0,
    tableRowData: row,
  };
  const b = push(added, ctx);
  t.is(
    toHex(b.subarray(6)),
    toHex(
      hex(
        '00 81  03 00  01 00 00 00 00 00 00 12  01 00 00 00 00 00 00 34  00 00 00 00' +
          '  01 00 00 00 00 00 00 12  01 00 00 00 00 00 00 33  00 00 00 00' +
          '  0b 00  00  48 00 69 00 00 00  2a 00 00 00',
      ),
    ),
  );
  const back = pull(b, ctx);
  t.true(back.r.ok);
  t.is(back.r.remaining, 0);
  t.deepEqual(back.data.tableRowData, row);
  // Without the columns the row stays bytes, and the reader still finds the end of the ROP.
  const raw = pull(Uint8Array.from([...b, RopId.Pending, 0, 0]));
  t.true(raw.data.tableRowData instanceof Uint8Array);
  t.is((raw.data.tableRowData as Uint8Array).byteLength, 11);
  t.is(raw.r.remaining, 3);
  // A hierarchy table's row (no M): folder ids only.
  const h = push({ notificationFlags: NT.TableModified, tableEventType: TE.TableRowModified, tableRowFolderId: FID, insertAfterTableRowFolderId: 0n, tableRowData: rowOf(['x', cellAbsent()]) }, { columns });
  t.is(h.byteLength, 6 + 2 + 2 + 8 + 8 + 2 + (1 + 1 + 4 + 1)); // FlaggedPropertyRow: flag, (flag + "x"), absent flag
  t.deepEqual(pull(h, { columns }).data.tableRowData, rowOf(['x', cellAbsent()]));
  t.is(toHex(push({ notificationFlags: NT.TableModified | NF.M, tableEventType: TE.TableRowDeleted, tableRowFolderId: FID, tableRowMessageId: MID, tableRowInstance: 0 }).subarray(6, 10)), '00 81 04 00');
  t.is(push({ notificationFlags: NT.TableModified, tableEventType: TE.TableChanged }).byteLength, 6 + 4);
  t.is(push({ notificationFlags: NT.TableModified, tableEventType: TE.TableRestrictionChanged }).byteLength, 6 + 4);
});

test('round trip: generated notifications of every type and flag combination', (t) => {
  const g = rng(8);
  const ctxs: NotifyCtx[] = [{ columns: [0x3001001f, 0x0e080003, 0x0fff0102] }, {}];
  const seen = new Set<number>();
  for (let i = 0; i < 600; i++) {
    const ctx = ctxs[i % 2]!;
    const resp = Notify.genResponse(g, ctx, 0);
    seen.add(resp.ok!.notificationData.notificationFlags & 0x0fff);
    const w = new WireWriter();
    Notify.pushResponse(w, resp, ctx);
    const r = new WireReader(w.toBytes());
    const back = Notify.pullResponse(r, ctx);
    t.true(r.ok, r.error?.detail);
    t.is(r.remaining, 0);
    t.deepEqual(back, resp);
  }
  t.is(seen.size, 9);
});
