/**
 * Notifications through a real MAPI session (MS-OXCNOTIF): RopRegisterNotification on the whole
 * store or one folder, a delivery that wakes NotificationWait, the next Execute carrying RopNotify
 * (NewMail, ObjectCreated, the folder's counts) decoded by the shared codec, subscriptions by
 * type and scope, released subscriptions, one door subscription per mailbox, and table
 * notifications to an open contents table (none with NoNotifications).
 */
import test from 'ava';
import { startMapiSession, NO_HANDLE, type MapiSession } from '../../../fixtures/mapi-session.js';
import { pushExecuteRequest } from '../../../../protocols/mapi/emsmdb/bodies.js';
import * as client from '../../../fixtures/mapi-client/emsmdb.js';
import { RopId } from '../../../../protocols/mapi/rops/ids.js';
import { NotificationType as NT, NotificationFlag as NF, TableEventType as TE, type NotificationData, type NotifyCtx } from '../../../../protocols/mapi/rops/codec/oxcnotif.js';
import type { EmsmdbSession } from '../../../../protocols/mapi/emsmdb/emsmdb-service.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { eidGlobcnt } from '../../../../storage/ids.js';

const L = 0;
const H = (n: number) => Array.from({ length: n }, () => NO_HANDLE);
const register = (types: number, input: number, output: number, scope?: { folderId: bigint; messageId?: bigint }) => ({
  ropId: RopId.RegisterNotification,
  logonId: L,
  inputHandleIndex: input,
  outputHandleIndex: output,
  notificationTypes: types,
  reserved: 0,
  wantWholeStore: scope === undefined,
  ...(scope === undefined ? {} : { folderId: scope.folderId, messageId: scope.messageId ?? 0n }),
});
const storeState = (input = 0) => ({ ropId: RopId.GetStoreState, logonId: L, inputHandleIndex: input });

type Note = { ropId: number; ok: { notificationHandle: number; logonId: number; notificationData: NotificationData } };
type Resp = { ropId: number; returnValue: number; ok?: Record<string, unknown> };

async function deliver(s: MapiSession, subject: string) {
  return s.stack.sys.call(s.stack.mailbox('alice@example.test'), 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, subject]]) });
}

/** Waits (NotificationWait) until a notification is queued for the session. */
async function waitEvent(s: MapiSession, session: EmsmdbSession, ms = 5000): Promise<number> {
  const body = await s.svc.notificationWait(client.encodeNotificationWaitRequest({ flags: 0 }), session, ms);
  const r = client.decodeNotificationWaitResponse(body);
  return r.ok ? r.eventPending : -1;
}

/** An Execute with one cheap ROP on the logon: the queued RopNotify responses come after it. */
async function collect(s: MapiSession, logonHandle: number, ctx?: NotifyCtx, exec = s.exec): Promise<Note[]> {
  const r = await exec([storeState()], [logonHandle], ctx === undefined ? {} : { ctxFor: (q) => (q === null ? ctx : {}) });
  return (r.responses as unknown as Note[]).filter((x) => x.ropId === RopId.Notify);
}

test('whole-store subscription: a delivery wakes NotificationWait and the next Execute carries NewMail, ObjectCreated and the inbox counts', async (t) => {
  const s = await startMapiSession(t);
  const reg = await s.exec([register(NT.NewMail | NT.ObjectCreated | NT.ObjectModified | NT.ObjectDeleted, 0, 1)], [s.logon.handle, NO_HANDLE]);
  t.is((reg.responses[0] as unknown as Resp).returnValue, 0);
  const notifyHandle = reg.handles[1]!;
  t.not(notifyHandle, NO_HANDLE);
  t.is(s.svc.subscriptions, 1);

  const waiting = waitEvent(s, s.session);
  const d = await deliver(s, 'Hello');
  t.is(await waiting, 1);
  const notes = await collect(s, s.logon.handle);
  t.true(notes.length >= 3, JSON.stringify(notes.map((n) => n.ok.notificationData.notificationFlags)));
  for (const n of notes) {
    t.is(n.ok.notificationHandle, notifyHandle);
    t.is(n.ok.logonId, L);
  }
  const newMail = notes.find((n) => (n.ok.notificationData.notificationFlags & 0x0fff) === NT.NewMail)!.ok.notificationData;
  t.is(newMail.notificationFlags, NT.NewMail | NF.M);
  t.is(newMail.folderId, s.logon.folders.inbox);
  t.is(eidGlobcnt(newMail.messageId!), d.mid, 'MessageId carries the new message GLOBCNT');
  t.is(newMail.messageClass, 'IPM.Note');
  t.is(newMail.unicodeFlag, true);
  const created = notes.find((n) => (n.ok.notificationData.notificationFlags & 0x0fff) === NT.ObjectCreated)!.ok.notificationData;
  t.like(created, { notificationFlags: NT.ObjectCreated | NF.M, folderId: s.logon.folders.inbox, messageId: newMail.messageId });
  const counts = notes.find((n) => (n.ok.notificationData.notificationFlags & 0x0fff) === NT.ObjectModified)!.ok.notificationData;
  t.like(counts, { notificationFlags: NT.ObjectModified | NF.T | NF.U, folderId: s.logon.folders.inbox, totalMessageCount: 1, unreadMessageCount: 1 });
  t.is(s.session.pendingNotify.length, 0, 'all of them went out');
});

test('subscriptions by type and folder; another session gets its own; released subscriptions stop; one door subscription per mailbox', async (t) => {
  const s = await startMapiSession(t);
  // NewMail only, on the inbox; everything on Sent Items.
  const reg = await s.exec(
    [register(NT.NewMail, 0, 1, { folderId: s.logon.folders.inbox }), register(0xfe, 0, 2, { folderId: s.logon.folders.sentItems })],
    [s.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const [inboxSub, sentSub] = [reg.handles[1]!, reg.handles[2]!];
  // A second session of Alice's, logged on, without a subscription.
  const other = s.connect('other-session');
  const execOther = async (rops: readonly object[], handles: readonly number[], opts?: object) => {
    const body = pushExecuteRequest({
      flags: 0,
      ropBuffer: client.buildExecuteRopBuffer(rops as never, handles),
      maxRopOut: 0x10008,
      aux: new Uint8Array(0),
    });
    const resp = client.decodeExecuteResponse(await s.svc.execute(body, other));
    return client.decodeExecuteRops(resp, rops as never, (opts as { ctxFor?: client.CtxForResponse } | undefined)?.ctxFor);
  };
  const lr = await execOther([{ ropId: RopId.Logon, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 0, logonFlags: 1, openFlags: 0x01000000, storeState: 0, essdn: s.alice.legacyDn }], [NO_HANDLE]);
  const otherLogon = lr.handles[0]!;
  t.is(s.svc.subscriptions, 1, 'two sessions on one mailbox share one subscription');

  await deliver(s, 'one');
  t.is(await waitEvent(s, s.session), 1);
  let notes = await collect(s, s.logon.handle);
  t.deepEqual(
    notes.map((n) => [n.ok.notificationHandle, n.ok.notificationData.notificationFlags & 0x0fff]),
    [[inboxSub, NT.NewMail]],
    'only the inbox subscription, only NewMail',
  );
  t.is(other.pendingNotify.length, 0, 'a session without subscriptions gets nothing');
  t.not(sentSub, inboxSub);

  // The other session subscribes too; both get the next delivery.
  const reg2 = await execOther([register(NT.NewMail, 0, 1)], [otherLogon, NO_HANDLE]);
  const otherSub = reg2.handles[1]!;
  await deliver(s, 'two');
  t.is(await waitEvent(s, other), 1);
  const otherNotes = (await execOther([storeState()], [otherLogon])).responses.filter((r) => r.ropId === RopId.Notify) as unknown as Note[];
  t.deepEqual(otherNotes.map((n) => n.ok.notificationHandle), [otherSub]);
  notes = await collect(s, s.logon.handle);
  t.is(notes.length, 1);

  // Released: no more notifications for the first session.
  await s.exec([{ ropId: RopId.Release, logonId: L, inputHandleIndex: 1 }], [s.logon.handle, inboxSub]);
  await deliver(s, 'three');
  t.is(await waitEvent(s, other), 1);
  t.is(s.session.pendingNotify.length, 0);

  // Sessions ending drop the door's subscription once none is left on the mailbox.
  await s.svc.end(other);
  t.is(s.svc.subscriptions, 1);
  await s.svc.end(s.session);
  t.is(s.svc.subscriptions, 0);
});

const COLUMNS = [Tag.PidTagSubject, Tag.PidTagMessageFlags];

async function openInboxTable(s: MapiSession, tableFlags: number) {
  const r = await s.exec(
    [
      { ropId: RopId.OpenFolder, logonId: L, inputHandleIndex: 0, outputHandleIndex: 1, folderId: s.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: L, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags },
      { ropId: RopId.SetColumns, logonId: L, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: COLUMNS },
      { ropId: RopId.QueryRows, logonId: L, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ],
    [s.logon.handle, ...H(2)],
  );
  allOk(r.responses as unknown as Resp[]);
  return r.handles[2]!;
}

function allOk(rs: Resp[]) {
  for (const r of rs) if (r.returnValue !== 0) throw new Error(`ROP 0x${r.ropId.toString(16)} failed: 0x${r.returnValue.toString(16)}`);
}

test('table notifications: an open contents table hears a new row (with its data over the columns), without registering', async (t) => {
  const s = await startMapiSession(t);
  await deliver(s, 'first');
  const table = await openInboxTable(s, 0x40 /* UseUnicode */);
  const waiting = waitEvent(s, s.session);
  const d = await deliver(s, 'second');
  t.is(await waiting, 1);
  const ctx: NotifyCtx = { notifyColumns: (h) => (h === table ? COLUMNS : undefined) };
  const notes = await collect(s, s.logon.handle, ctx);
  const added = notes.find((n) => n.ok.notificationHandle === table && n.ok.notificationData.tableEventType === TE.TableRowAdded);
  t.truthy(added, JSON.stringify(notes.map((n) => n.ok.notificationData.tableEventType)));
  const data = added!.ok.notificationData;
  t.is(data.notificationFlags, NT.TableModified | NF.M);
  t.is(data.tableRowFolderId, s.logon.folders.inbox);
  t.is(eidGlobcnt(data.tableRowMessageId!), d.mid);
  t.is(data.insertAfterTableRowFolderId !== undefined, true);
  t.is((data.tableRowData as PropertyRow).cells[0], 'second');
});

test('table notifications: none for a table opened with NoNotifications', async (t) => {
  const s = await startMapiSession(t);
  await deliver(s, 'first');
  const table = await openInboxTable(s, 0x10 | 0x40);
  // A NewMail subscription tells when the delivery's events have come through.
  const reg = await s.exec([register(NT.NewMail, 0, 1)], [s.logon.handle, NO_HANDLE]);
  const waiting = waitEvent(s, s.session);
  await deliver(s, 'second');
  t.is(await waiting, 1);
  await new Promise((r) => setTimeout(r, 100));
  const notes = await collect(s, s.logon.handle);
  t.deepEqual(notes.map((n) => n.ok.notificationHandle), [reg.handles[1]]);
  t.false(notes.some((n) => n.ok.notificationHandle === table));
});

test('SearchCompleted reaches a subscription once a search folder\'s criteria are stored', async (t) => {
  const s = await startMapiSession(t);
  const reg = await s.exec([register(NT.SearchCompleted, 0, 1)], [s.logon.handle, NO_HANDLE]);
  t.is((reg.responses[0] as unknown as Resp).returnValue, 0);
  const made = await s.exec(
    [
      { ropId: RopId.OpenFolder, logonId: L, inputHandleIndex: 0, outputHandleIndex: 1, folderId: s.logon.folders.finder, openModeFlags: 0 },
      { ropId: RopId.CreateFolder, logonId: L, inputHandleIndex: 1, outputHandleIndex: 2, folderType: 2, useUnicodeStrings: true, openExisting: false, reserved: 0, displayName: 'Unread', comment: '' },
      { ropId: RopId.SetSearchCriteria, logonId: L, inputHandleIndex: 2, restriction: { type: 8, tag: Tag.PidTagSubject }, folderIds: [s.logon.folders.inbox], searchFlags: 0x02 },
    ],
    [s.logon.handle, ...H(2)],
  );
  const replies = (made.responses as unknown as Resp[]).filter((r) => r.ropId !== RopId.Notify);
  for (const r of replies) t.is(r.returnValue, 0);
  const searchFolder = (made.responses[1] as unknown as { ok: { folderId: bigint } }).ok.folderId;
  // The search completes with its write: the notification is queued before this Execute's answer
  // is assembled, so it rides along (or, at the latest, with the next one).
  let notes = (made.responses as unknown as Note[]).filter((x) => x.ropId === RopId.Notify);
  if (notes.length === 0) {
    t.is(await waitEvent(s, s.session), 1);
    notes = await collect(s, s.logon.handle);
  }
  const done = notes.find((n) => (n.ok.notificationData.notificationFlags & 0x0fff) === NT.SearchCompleted);
  t.truthy(done);
  t.is(done!.ok.notificationHandle, reg.handles[1]);
  t.is(done!.ok.notificationData.folderId, searchFolder);
});
