/**
 * Outlook's start and a folder click, replayed through the real server by the spec-following
 * client (issue 8): the store and special-folder properties, the IPM subtree hierarchy with
 * Depth, the associated contents tables of Common Views, Views and the Inbox, named properties
 * with create, the Finder and the Reminders search folder, RegisterNotification for the whole
 * store, the Inbox contents table with Outlook's columns sorted by delivery time and grouped by
 * conversation; then open a message, read its properties and body stream, mark it read, flag
 * and categorize it, move it, delete it; and mail delivered by SMTP meanwhile completes
 * NotificationWait and arrives as RopNotify.
 */
import test from 'ava';
import nodemailer from 'nodemailer';
import { runCli, startedServer, testEnv } from './server-process.js';
import { legacyDnOf } from './autodiscover-client.js';
import { MapiClient } from '../fixtures/mapi-client/client.js';
import { RopId } from '../../protocols/mapi/rops/ids.js';
import { Tag } from '../../storage/prop-tags.js';
import { RestrictionType } from '../../storage/restriction.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test' });
const NO = 0xffffffff;
const W = (tag: number) => ((tag & 0xffff) === 0x001e ? (tag & 0xffff0000) | 0x001f : tag);
const PidTagDepth = 0x30050003;
const PidTagFolderId = 0x67480014;
const PidTagRowType = 0x0ff50003;
const PidTagFollowupIcon = 0x10950003;
const sortOn = (tag: number, order: number) => ({ propertyType: tag & 0xffff, propertyId: tag >>> 16, order });
const PS_PUBLIC_STRINGS = Buffer.from('2908020000000000c000000000000046', 'hex');
const PSETID_COMMON = Buffer.from('0820060000000000c000000000000046', 'hex');

test('Outlook start, folder click, read / flag / categorize / move / delete, new mail notification', async (t) => {
  const s = await startedServer(t, env);
  t.is((await runCli(['--data', s.data, 'user', 'add', 'alice@mail.example.test', '--name', 'Alice', '--password', 'alice password'], env)).code, 0);
  const smtp = nodemailer.createTransport({ host: '127.0.0.1', port: s.base + 25, secure: false, ignoreTLS: true, name: 'client.example.org' });
  const send = (subject: string, text: string) => smtp.sendMail({ from: 'Carol <carol@example.org>', to: 'alice@mail.example.test', subject, text });
  await send('Lunch plans', 'Shall we meet at noon?');
  await send('RE: Lunch plans', 'Noon works.');
  await send('Quarterly report', 'Numbers attached later.');

  const dn = await legacyDnOf(s.base + 443, 'alice@mail.example.test', 'alice password');
  const c = new MapiClient({ baseUrl: `https://127.0.0.1:${s.base + 443}`, user: 'alice@mail.example.test', password: 'alice password' });
  t.teardown(() => c.close());
  await c.connect(dn);
  const logon = await c.logon(dn);
  t.is(logon.returnValue, 0);
  const f = logon.folders;
  const L = logon.handle;
  const ok = (r: { returnValue: number; ropId: number }, what: string) => t.is(r.returnValue, 0, `${what} (RopId 0x${r.ropId.toString(16)}: 0x${(r.returnValue >>> 0).toString(16)})`);

  // 1. Receive folder, store properties, Root and Inbox with the special folders' entry ids.
  const specialTags = [Tag.PidTagIpmAppointmentEntryId, Tag.PidTagIpmDraftsEntryId, Tag.PidTagRemindersOnlineEntryId, Tag.PidTagAdditionalRenEntryIds, Tag.PidTagAdditionalRenEntryIdsEx];
  const start = await c.execute(
    [
      { ropId: RopId.GetReceiveFolder, logonId: 0, inputHandleIndex: 0, messageClass: '' },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 0, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagIpmSubtreeEntryId, Tag.PidTagFinderEntryId, Tag.PidTagStoreSupportMask] },
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: f.root!, openModeFlags: 0 },
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 2, folderId: f.inbox!, openModeFlags: 0 },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: specialTags },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 2, propertySizeLimit: 0, wantUnicode: 1, propertyTags: specialTags },
    ] as never,
    [L, NO, NO],
  );
  for (const r of start.responses) ok(r, 'start');
  const rootCells = (start.responses[4]!.ok as { rowData: { cells: unknown[] } }).rowData.cells;
  t.true(rootCells[0] instanceof Uint8Array && (rootCells[0] as Uint8Array).byteLength === 46, 'Calendar entry id on Root');
  const inboxCells = (start.responses[5]!.ok as { rowData: { cells: unknown[] } }).rowData.cells;
  t.true(inboxCells[1] instanceof Uint8Array, 'Drafts entry id on the Inbox');
  const inboxH = start.handles[2]!;

  // 2. The IPM subtree's hierarchy with Depth.
  const hier = await c.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: f.ipmSubtree!, openModeFlags: 0 },
      { ropId: RopId.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x04 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [W(Tag.PidTagDisplayName), PidTagFolderId, PidTagDepth, W(Tag.PidTagContainerClass), Tag.PidTagContentCount, Tag.PidTagContentUnreadCount, Tag.PidTagSubfolders] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 200 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    ] as never,
    [L, NO, NO],
  );
  for (const r of hier.responses) ok(r, 'hierarchy');
  const hrows = (hier.responses[3]!.ok as { rows: { cells: unknown[] }[] }).rows.map((r) => r.cells);
  const inboxRow = hrows.find((r) => r[0] === 'Inbox');
  t.truthy(inboxRow, 'the Inbox is in the IPM subtree');
  t.is(inboxRow![1], f.inbox);
  t.is(inboxRow![2], 0, 'Inbox at depth 0');
  t.is(inboxRow![4], 3);
  t.is(inboxRow![5], 3);
  t.true(hrows.some((r) => r[0] === 'Calendar' && r[3] === 'IPF.Appointment'));
  const ipmH = hier.handles[1]!;

  // 3. Associated contents tables of Common Views, Views and the Inbox.
  const fai = await c.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: f.commonViews!, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0x02 },
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 3, folderId: f.views!, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 3, outputHandleIndex: 4, tableFlags: 0x02 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 5, outputHandleIndex: 6, tableFlags: 0x02 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 6, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, W(Tag.PidTagMessageClass)] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 6, queryRowsFlags: 0, forwardRead: true, rowCount: 100 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 4 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 6 },
    ] as never,
    [L, NO, NO, NO, NO, inboxH, NO],
  );
  for (const r of fai.responses) ok(r, 'associated tables');

  // 4. Named properties, many in one ROP, with create.
  const names = [
    { kind: 0, guid: PSETID_COMMON, lid: 0x8501 },
    { kind: 0, guid: PSETID_COMMON, lid: 0x8503 },
    { kind: 0, guid: PSETID_COMMON, lid: 0x8560 },
    { kind: 1, guid: PS_PUBLIC_STRINGS, name: 'Keywords' },
    { kind: 1, guid: PS_PUBLIC_STRINGS, name: 'urn:schemas-microsoft-com:office:office#Keywords' },
  ];
  const named = await c.execute([{ ropId: RopId.GetPropertyIdsFromNames, logonId: 0, inputHandleIndex: 0, flags: 0x02, propertyNames: names }] as never, [L]);
  ok(named.responses[0]!, 'GetPropertyIdsFromNames');
  const ids = (named.responses[0]!.ok as { propertyIds: number[] }).propertyIds;
  t.is(ids.length, names.length);
  for (const id of ids) t.true(id >= 0x8000, `named id 0x${id.toString(16)}`);
  const keywordsTag = ((ids[3]! << 16) | 0x101f) >>> 0;

  // 5. The Finder's hierarchy and the Reminders search folder with its criteria.
  const finder = await c.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: f.search!, openModeFlags: 0 },
      { ropId: RopId.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [W(Tag.PidTagDisplayName), PidTagFolderId] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
      { ropId: RopId.CreateFolder, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 3, folderType: 2, useUnicodeStrings: true, openExisting: true, reserved: 0, displayName: 'Reminders', comment: '' },
      {
        ropId: RopId.SetSearchCriteria,
        logonId: 0,
        inputHandleIndex: 3,
        restriction: { type: RestrictionType.Exist, tag: ((ids[0]! << 16) | 0x000b) >>> 0 },
        folderIds: [f.ipmSubtree!],
        searchFlags: 0x02 | 0x04,
      },
      { ropId: RopId.GetSearchCriteria, logonId: 0, inputHandleIndex: 3, useUnicode: true, includeRestriction: true, includeFolders: true },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    ] as never,
    [L, NO, NO, NO],
  );
  for (const r of finder.responses) ok(r, 'finder');

  // 6. Notifications for the whole store.
  const reg = await c.execute([{ ropId: RopId.RegisterNotification, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, notificationTypes: 0x02 | 0x04 | 0x08 | 0x10 | 0x20 | 0x40 | 0x80, reserved: 0, wantWholeStore: true }] as never, [L, NO]);
  ok(reg.responses[0]!, 'RegisterNotification');

  // 7. The Inbox contents table: Outlook's columns, grouped by conversation, newest first.
  const cols = [Tag.PidTagMid, W(Tag.PidTagSubject), W(Tag.PidTagSenderName), Tag.PidTagMessageDeliveryTime, Tag.PidTagMessageFlags, Tag.PidTagInstanceKey, W(Tag.PidTagConversationTopic), PidTagRowType, PidTagDepth, W(Tag.PidTagBody)];
  const table = await c.execute(
    [
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 1, setColumnsFlags: 0, propertyTags: cols },
      {
        ropId: RopId.SortTable,
        logonId: 0,
        inputHandleIndex: 1,
        sortTableFlags: 0,
        sortOrderSet: { categorizedCount: 1, expandedCount: 1, sortOrders: [sortOn(W(Tag.PidTagConversationTopic), 0), sortOn(Tag.PidTagMessageDeliveryTime, 1)] },
      },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 1, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ] as never,
    [inboxH, NO],
  );
  for (const r of table.responses) ok(r, 'contents table');
  const rows = (table.responses[3]!.ok as { rows: { cells: unknown[] }[] }).rows.map((r) => r.cells);
  const headers = rows.filter((r) => r[7] !== 1);
  const leaves = rows.filter((r) => r[7] === 1);
  t.is(leaves.length, 3, 'three messages');
  t.is(headers.length, 2, 'two conversations');
  // A body in a table: an error cell when large (read it through a stream), else at most 255 characters (MS-OXCTABL).
  t.true(leaves.every((r) => (typeof r[9] === 'object' && r[9] !== null && 'error' in (r[9] as object)) || (typeof r[9] === 'string' && r[9].length <= 255)), 'bodies in a table are cut or refused');
  const tableH = table.handles[1]!;
  const lunch = leaves.find((r) => r[1] === 'Lunch plans')!;
  const mid = lunch[0] as bigint;

  // 8. Open it, read it, mark it read, flag and categorize it.
  const read = await c.execute(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: f.inbox!, openModeFlags: 0x01, messageId: mid },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [W(Tag.PidTagSubject), Tag.PidTagMessageFlags] },
      { ropId: RopId.OpenStream, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, propertyTag: W(Tag.PidTagBody), openModeFlags: 0 },
      { ropId: RopId.ReadStream, logonId: 0, inputHandleIndex: 2, byteCount: 4096 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
      { ropId: RopId.SetMessageReadFlag, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, readFlags: 0 },
      {
        ropId: RopId.SetProperties,
        logonId: 0,
        inputHandleIndex: 1,
        propertyValues: [
          { tag: Tag.PidTagFlagStatus, value: 2 },
          { tag: PidTagFollowupIcon, value: 6 },
          { tag: keywordsTag, value: ['Red Category'] },
        ],
      },
      { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, saveFlags: 0x02 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ] as never,
    [L, NO, NO],
  );
  for (const r of read.responses) ok(r, 'read');
  const body = Buffer.from((read.responses[3]!.always as { data: Uint8Array }).data).toString('utf16le');
  t.regex(body, /Shall we meet at noon\?/);
  const check = await c.execute(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: f.inbox!, openModeFlags: 0, messageId: mid },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagMessageFlags, Tag.PidTagFlagStatus, keywordsTag] },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ] as never,
    [L, NO],
  );
  const cells = (check.responses[1]!.ok as { rowData: { cells: unknown[] } }).rowData.cells;
  t.is((cells[0] as number) & 0x01, 0x01, 'read');
  t.is(cells[1], 2, 'flagged');
  t.deepEqual(cells[2], ['Red Category'], 'categorized');

  // 9. Move it to a folder of its own, then delete it there.
  const moved = await c.execute(
    [
      { ropId: RopId.CreateFolder, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, folderType: 1, useUnicodeStrings: true, openExisting: true, reserved: 0, displayName: 'Lunch', comment: '' },
      { ropId: RopId.MoveCopyMessages, logonId: 0, inputHandleIndex: 3, destHandleIndex: 2, messageIds: [mid], wantAsynchronous: false, wantCopy: false },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 4, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 4, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, W(Tag.PidTagSubject)] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 4, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
    ] as never,
    [L, ipmH, NO, inboxH, NO],
  );
  for (const r of moved.responses) ok(r, 'move');
  const movedRows = (moved.responses[4]!.ok as { rows: { cells: unknown[] }[] }).rows;
  t.is(movedRows.length, 1);
  const newMid = movedRows[0]!.cells[0] as bigint;
  const del = await c.execute([{ ropId: RopId.DeleteMessages, logonId: 0, inputHandleIndex: 0, wantAsynchronous: false, notifyNonRead: false, messageIds: [newMid] }] as never, [moved.handles[2]!]);
  ok(del.responses[0]!, 'DeleteMessages');
  t.is((del.responses[0]!.always as { partialCompletion: boolean }).partialCompletion, false);

  // 10. New mail while NotificationWait waits: it completes, and the next Execute carries RopNotify.
  const wait = c.notificationWait();
  await new Promise((r) => setTimeout(r, 200));
  await send('Are you there?', 'New mail while Outlook waits.');
  const w = await wait;
  t.is(w.ok.ok && w.ok.eventPending, 1);
  const after = await c.execute([{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }] as never, [L]);
  const notes = after.responses.filter((r) => r.ropId === RopId.Notify);
  t.true(notes.length >= 1, 'RopNotify follows');
  const data = notes.map((n) => n.ok as { notificationHandle: number; notificationData: { notificationFlags: number; tableEventType?: number; messageClass?: string; folderId?: bigint } });
  const newMail = data.find((n) => (n.notificationData.notificationFlags & 0x0fff) === 0x0002);
  t.truthy(newMail, 'a NewMail notification for the whole-store subscription');
  t.is(newMail!.notificationHandle, reg.handles[1]);
  t.is(newMail!.notificationData.folderId, f.inbox);
  t.is(newMail!.notificationData.messageClass, 'IPM.Note');
  const rowAdded = data.find((n) => n.notificationHandle === tableH && (n.notificationData.notificationFlags & 0x0fff) === 0x0100);
  t.truthy(rowAdded, 'the open Inbox table hears about the new row without registering');
});
