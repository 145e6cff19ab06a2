import test from 'ava';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';
import { MessageStore, MSGFLAG_READ, MSGFLAG_HASATTACH, BLOB_THRESHOLD, MsgTag } from '../../storage/message-store.js';
import { Tag } from '../../storage/prop-tags.js';
import { PropType, propTag, type PropValue } from '../../storage/prop-types.js';
import { parseEntryId } from '../../storage/entry-ids.js';
import { newGuid } from '../../storage/guid.js';
import { eidGlobcnt } from '../../storage/ids.js';
import { codeOf, tempDir } from '../helpers.js';

const PidTagBody = propTag(0x1000, PropType.PtypString);
const PidTagRecipientType = propTag(0x0c15, PropType.PtypInteger32);
const PidTagSmtpAddress = propTag(0x39fe, PropType.PtypString);
const PidTagAttachLongFilename = propTag(0x3707, PropType.PtypString);

async function setup(t: { teardown(fn: () => unknown): void }) {
  const d = tempDir();
  const env = await MailboxEnv.open(d.path);
  const mbx = new MailboxStore(env);
  await env.write(() => mbx.provision({ mailboxGuid: newGuid(), replGuid: newGuid(), ownerName: 'A', legacyDn: '/o=x/cn=a', serverShortname: 'mail' }));
  const msgs = new MessageStore(mbx);
  t.teardown(async () => {
    await env.close();
    d.remove();
  });
  return { env, mbx, msgs, s: mbx.specialFolders() };
}

const mail = (subject: string, extra: [number, PropValue][] = []) =>
  new Map<number, PropValue>([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, subject], ...extra]);

const code = codeOf;

test('a message with recipients and attachments round-trips; counts and sizes follow', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const body = 'Grüße! '.repeat(5000); // over the blob threshold
  const big = new Uint8Array(BLOB_THRESHOLD * 4).fill(7);
  const made = await env.write(() =>
    msgs.create(s.inbox, {
      props: mail('Hello', [[PidTagBody, body]]),
      recipients: [new Map<number, PropValue>([[PidTagRecipientType, 1], [PidTagSmtpAddress, 'bob@example.test']])],
      attachments: [
        { props: new Map<number, PropValue>([[PidTagAttachLongFilename, 'big.bin']]), data: big },
        { props: new Map<number, PropValue>([[PidTagAttachLongFilename, 'small.txt']]), data: Buffer.from('hi') },
      ],
    }),
  );
  t.is(made.uid, 1);
  const p = msgs.props(made.mid);
  t.is(p.get(Tag.PidTagSubject), 'Hello');
  t.is(p.get(PidTagBody), body, 'a blob-stored body reads back whole');
  t.is(msgs.blobView(made.mid, PidTagBody)!.toString('utf8'), body);
  t.is((p.get(Tag.PidTagMessageFlags) as number) & MSGFLAG_HASATTACH, MSGFLAG_HASATTACH);
  t.true(p.get(MsgTag.PidTagHasAttachments) as boolean);
  const eid = parseEntryId(p.get(Tag.PidTagEntryId) as Uint8Array);
  t.deepEqual(eid?.kind === 'message' ? [eid.folderGlobcnt, eid.globcnt] : null, [s.inbox, made.mid]);
  t.is(eidGlobcnt(p.get(Tag.PidTagMid) as bigint), made.mid);
  t.deepEqual(msgs.recipients(made.mid).map((r) => [r.get(PidTagSmtpAddress), r.get(MsgTag.PidTagRowid)]), [['bob@example.test', 0]]);
  t.deepEqual(msgs.attachments(made.mid).map((a) => [a.num, a.props.get(PidTagAttachLongFilename)]), [[0, 'big.bin'], [1, 'small.txt']]);
  t.is(msgs.attachmentData(made.mid, 0)!.length, big.length);
  t.is(msgs.attachmentData(made.mid, 1)!.toString(), 'hi');
  const size = p.get(Tag.PidTagMessageSize) as number;
  t.true(size > big.length + Buffer.byteLength(body));
  const inbox = mbx.folderProps(s.inbox);
  t.is(inbox.get(Tag.PidTagContentCount), 1);
  t.is(inbox.get(Tag.PidTagContentUnreadCount), 1);
  t.is(inbox.get(Tag.PidTagMessageSizeExtended), BigInt(size));
  t.is(mbx.storeProps().get(Tag.PidTagMessageSizeExtended), BigInt(size), 'the store size too');
  const fai = await env.write(() => msgs.create(s.inbox, { props: mail('view settings') }, { assoc: true }));
  t.is(fai.uid, 0, 'FAI messages have no IMAP UID');
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagAssociatedContentCount), 1);
  t.deepEqual(msgs.contents(s.inbox), [made.mid]);
  t.deepEqual(msgs.contents(s.inbox, true), [fai.mid]);
});

test('read-state changes take a read CN, keep change key and UID; content changes take a new CN, change key and UID', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const m = await env.write(() => msgs.create(s.inbox, { props: mail('A') }));
  const before = msgs.props(m.mid);
  await env.write(() => msgs.setRead([m.mid], true));
  const read = msgs.props(m.mid);
  t.is((read.get(Tag.PidTagMessageFlags) as number) & MSGFLAG_READ, MSGFLAG_READ);
  t.deepEqual([...(read.get(Tag.PidTagChangeKey) as Uint8Array)], [...(before.get(Tag.PidTagChangeKey) as Uint8Array)], 'change key unchanged');
  t.true((read.get(Tag.PidTagChangeNumber) as bigint) > (before.get(Tag.PidTagChangeNumber) as bigint));
  t.is(msgs.message(m.mid)!.uid, m.uid, 'UID kept');
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagContentUnreadCount), 0);
  t.deepEqual(await env.write(() => msgs.setRead([m.mid], true)), [{ mid: m.mid, changed: false }]);
  const upd = await env.write(() => msgs.update(m.mid, { set: mail('A, edited') }, { expectChangeKey: read.get(Tag.PidTagChangeKey) as Uint8Array }));
  t.is(upd.oldUid, m.uid);
  t.true(upd.uid > m.uid, 'a content change gives a new UID');
  const after = msgs.props(m.mid);
  t.is(after.get(Tag.PidTagSubject), 'A, edited');
  t.notDeepEqual([...(after.get(Tag.PidTagChangeKey) as Uint8Array)], [...(read.get(Tag.PidTagChangeKey) as Uint8Array)]);
  t.is((after.get(Tag.PidTagMessageFlags) as number) & MSGFLAG_READ, MSGFLAG_READ, 'still read');
  // A save based on the old change key is refused unless forced.
  t.is(await env.write(() => code(() => msgs.update(m.mid, { set: mail('stale') }, { expectChangeKey: read.get(Tag.PidTagChangeKey) as Uint8Array }))), 'ecObjectModified');
  t.is(msgs.props(m.mid).get(Tag.PidTagSubject), 'A, edited');
  await env.write(() => msgs.update(m.mid, { set: mail('forced') }, { expectChangeKey: read.get(Tag.PidTagChangeKey) as Uint8Array, force: true }));
  t.is(msgs.props(m.mid).get(Tag.PidTagSubject), 'forced');
});

test('changes since a CN: new, changed, read-changed, deleted, and UIDs replaced by content changes', async (t) => {
  const { env, msgs, s } = await setup(t);
  const a = await env.write(() => msgs.create(s.inbox, { props: mail('a') }));
  const b = await env.write(() => msgs.create(s.inbox, { props: mail('b') }));
  const c = await env.write(() => msgs.create(s.inbox, { props: mail('c') }));
  const mark = msgs.changesSince(s.inbox, 0).cn;
  await env.write(() => msgs.setRead([a.mid], true));
  const bu = await env.write(() => msgs.update(b.mid, { set: mail('b2') }));
  await env.write(() => msgs.delete(s.inbox, [c.mid], true));
  const d = await env.write(() => msgs.create(s.inbox, { props: mail('d') }));
  const ch = msgs.changesSince(s.inbox, mark);
  t.deepEqual(ch.changed.map((x) => x.mid), [b.mid, d.mid]);
  t.deepEqual(ch.readChanged.map((x) => [x.mid, x.read]), [[a.mid, true]]);
  t.deepEqual(ch.deleted.map((x) => [x.mid, x.uid]), [[c.mid, c.uid]]);
  t.deepEqual(ch.replacedUids.map((x) => x.uid), [b.uid]);
  t.true(ch.cn > mark);
  t.is(bu.oldUid, b.uid);
  const none = msgs.changesSince(s.inbox, ch.cn);
  t.deepEqual([none.changed.length, none.readChanged.length, none.deleted.length], [0, 0, 0]);
});

test('delete (soft and hard), move and copy keep counts right and answer missing ids', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const ids: number[] = [];
  for (const x of ['1', '2', '3', '4']) ids.push((await env.write(() => msgs.create(s.inbox, { props: mail(x), attachments: [{ props: new Map(), data: Buffer.alloc(BLOB_THRESHOLD) }] }))).mid);
  const r = await env.write(() => msgs.delete(s.inbox, [ids[0]!, 999_999], false));
  t.deepEqual(r, { deleted: [ids[0]], missing: [999_999] });
  t.is(msgs.message(ids[0]!), undefined, 'soft-deleted messages are out of sight');
  await env.write(() => msgs.delete(s.inbox, [ids[1]!], true));
  const moved = await env.write(() => msgs.moveCopy(s.inbox, s.deletedItems, [ids[2]!], true));
  const copied = await env.write(() => msgs.moveCopy(s.inbox, s.drafts, [ids[3]!], false));
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagContentCount), 1);
  t.is(mbx.folderProps(s.deletedItems).get(Tag.PidTagContentCount), 1);
  t.is(mbx.folderProps(s.drafts).get(Tag.PidTagContentCount), 1);
  t.is(msgs.props(moved[0]!.to).get(Tag.PidTagSubject), '3');
  t.is(msgs.attachmentData(copied[0]!.to, 0)!.length, BLOB_THRESHOLD, 'attachment data is copied with the message');
  t.is(msgs.attachmentData(ids[3]!, 0)!.length, BLOB_THRESHOLD, 'and still there on the original');
  t.is(await env.write(() => code(() => msgs.moveCopy(s.inbox, s.drafts, [ids[2]!], true))), 'ecNotFound');
  const sizes = [s.inbox, s.deletedItems, s.drafts].map((f) => Number(mbx.folderProps(f).get(Tag.PidTagMessageSizeExtended)));
  t.is(sizes.reduce((a, b) => a + b), Number(mbx.storeProps().get(Tag.PidTagMessageSizeExtended)));
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagContentUnreadCount), 1);
});

test('delivery files a message into the receive folder for its class, unread', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const faxes = await env.write(() => mbx.createFolder(s.inbox, 'Faxes'));
  await env.write(() => mbx.setReceiveFolder('IPM.Note.Fax', faxes.id));
  const a = await env.write(() => msgs.deliver({ props: mail('plain', [[Tag.PidTagMessageFlags, MSGFLAG_READ]]) }));
  const b = await env.write(() => msgs.deliver({ props: new Map<number, PropValue>([[Tag.PidTagMessageClass, 'IPM.Note.Fax.G3']]) }));
  const c = await env.write(() => msgs.deliver({ props: new Map<number, PropValue>([[Tag.PidTagMessageClass, 'IPC.Whatever']]) }));
  t.is(a.folder, s.inbox);
  t.is(b.folder, faxes.id);
  t.is(c.folder, s.root);
  t.is((msgs.props(a.mid).get(Tag.PidTagMessageFlags) as number) & MSGFLAG_READ, 0, 'delivered mail is unread');
});

test('folders move, delete (empty only unless asked; never special ones) and empty, keeping counts and tombstones', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const proj = await env.write(() => mbx.createFolder(s.inbox, 'Projects'));
  const sub = await env.write(() => mbx.createFolder(proj.id, 'Alpha'));
  await env.write(() => msgs.create(sub.id, { props: mail('in alpha') }));
  await env.write(() => msgs.create(proj.id, { props: mail('in projects') }));
  t.is(await env.write(() => code(() => mbx.moveFolder(proj.id, sub.id))), 'ecInvalidParam', 'not into its own subtree');
  t.is(await env.write(() => code(() => mbx.moveFolder(s.inbox, s.drafts))), 'ecAccessDenied');
  await env.write(() => mbx.createFolder(s.drafts, 'Projects'));
  t.is(await env.write(() => code(() => mbx.moveFolder(proj.id, s.drafts))), 'ecDuplicateName');
  await env.write(() => mbx.moveFolder(proj.id, s.drafts, 'Projects 2026'));
  t.is(mbx.folder(proj.id)!.parent, s.drafts);
  t.is(mbx.childByName(s.drafts, 'projects 2026'), proj.id);
  t.is(mbx.childByName(s.inbox, 'projects'), undefined);
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagFolderChildCount), 0);
  t.is(await env.write(() => code(() => msgs.deleteFolder(proj.id, { messages: false, folders: false, hard: false }))), 'ecHasFolders');
  t.is(await env.write(() => code(() => msgs.deleteFolder(sub.id, { messages: false, folders: false, hard: false }))), 'ecHasMessages');
  t.is(await env.write(() => code(() => msgs.deleteFolder(s.calendar, { messages: true, folders: true, hard: true }))), 'ecAccessDenied');
  const before = mbx.storeProps().get(Tag.PidTagMessageSizeExtended) as bigint;
  t.true(before > 0n);
  await env.write(() => msgs.deleteFolder(proj.id, { messages: true, folders: true, hard: true }));
  t.is(mbx.folder(proj.id), undefined);
  t.is(mbx.folder(sub.id), undefined);
  t.is(mbx.storeProps().get(Tag.PidTagMessageSizeExtended), 0n, 'the store size drops with the deleted messages');
  // Empty: messages and subfolders go, the folder stays; FAI only when asked.
  await env.write(() => msgs.create(s.junk, { props: mail('spam') }));
  await env.write(() => msgs.create(s.junk, { props: mail('rule') }, { assoc: true }));
  await env.write(() => mbx.createFolder(s.junk, 'Old'));
  await env.write(() => msgs.emptyFolder(s.junk, { associated: false, hard: false }));
  const junk = mbx.folderProps(s.junk);
  t.deepEqual([junk.get(Tag.PidTagContentCount), junk.get(Tag.PidTagAssociatedContentCount), junk.get(Tag.PidTagFolderChildCount)], [0, 1, 0]);
});

test('quota levels: warning, send-prohibited, and deliveries refused past receive-prohibited', async (t) => {
  const { env, mbx, msgs } = await setup(t);
  t.is(mbx.quotaState(), 'ok');
  const body: [number, PropValue][] = [[PidTagBody, 'x'.repeat(20_000)]];
  await env.write(() => mbx.setQuota({ warnBytes: 10_000, sendBytes: 30_000, receiveBytes: 50_000 }));
  await env.write(() => msgs.deliver({ props: mail('1', body) }));
  t.is(mbx.quotaState(), 'warning');
  await env.write(() => msgs.deliver({ props: mail('2', body) }));
  t.is(mbx.quotaState(), 'send-prohibited');
  await env.write(() => msgs.deliver({ props: mail('3', body) }));
  t.is(mbx.quotaState(), 'receive-prohibited');
  t.is(await env.write(() => code(() => msgs.deliver({ props: mail('4') }))), 'ecQuotaExceeded');
  t.is(await env.write(() => code(() => mbx.setQuota({ warnBytes: -1, sendBytes: 0, receiveBytes: 0 }))), 'ecInvalidParam');
});

test('tombstones past the horizon are purged; a sync state older than what was purged must resync in full', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const a = await env.write(() => msgs.create(s.inbox, { props: mail('a') }));
  const b = await env.write(() => msgs.create(s.inbox, { props: mail('b') }));
  const old = msgs.changesSince(s.inbox, 0).cn;
  const day = 86_400_000;
  const t0 = Date.now();
  await env.write(() => msgs.delete(s.inbox, [a.mid], true, t0 - 40 * day));
  const mid = msgs.changesSince(s.inbox, 0).cn;
  await env.write(() => msgs.delete(s.inbox, [b.mid], true, t0));
  t.is(await env.write(() => mbx.purgeTombstones(30 * day, t0)), 1);
  const stale = msgs.changesSince(s.inbox, old);
  t.true(stale.fullResync, 'a state from before the purged tombstone cannot be brought up to date');
  const fresh = msgs.changesSince(s.inbox, mid);
  t.false(fresh.fullResync);
  t.deepEqual(fresh.deleted.map((d) => d.mid), [b.mid]);
});

test('keyword and flag changes keep the IMAP UID (new change key); folders copy with their messages; folder and store props can be set and removed', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const m = await env.write(() => msgs.create(s.inbox, { props: mail('flag me') }));
  const ck = msgs.props(m.mid).get(Tag.PidTagChangeKey) as Uint8Array;
  const PidTagFlagStatus = propTag(0x1090, PropType.PtypInteger32);
  const r = await env.write(() => msgs.setFlagProps(m.mid, new Map([[PidTagFlagStatus, 2]])));
  t.is(r.uid, m.uid, 'same UID');
  t.notDeepEqual([...(msgs.props(m.mid).get(Tag.PidTagChangeKey) as Uint8Array)], [...ck], 'new change key');
  t.is(msgs.props(m.mid).get(PidTagFlagStatus), 2);
  const ch = msgs.changesSince(s.inbox, 0);
  t.deepEqual(ch.replacedUids, [], 'no UID retired');
  // Copy a folder tree.
  const top = await env.write(() => mbx.createFolder(s.inbox, 'Top', { containerClass: 'IPF.Note' }));
  const sub = await env.write(() => mbx.createFolder(top.id, 'Sub'));
  await env.write(() => msgs.create(sub.id, { props: mail('deep') }));
  const copy = await env.write(() => msgs.copyFolder(top.id, s.drafts, 'Top copy', true));
  const subCopy = mbx.childByName(copy, 'sub')!;
  t.is(msgs.props(msgs.contents(subCopy)[0]!).get(Tag.PidTagSubject), 'deep');
  t.is(mbx.folderProps(copy).get(Tag.PidTagContainerClass), 'IPF.Note');
  t.is(await env.write(() => code(() => msgs.copyFolder(top.id, sub.id, undefined, true))), 'ecInvalidParam');
  // Folder and store properties.
  await env.write(() => mbx.setFolderProps(copy, new Map([[Tag.PidTagComment, 'c']])));
  t.deepEqual(await env.write(() => mbx.deleteFolderProps(copy, [Tag.PidTagComment, Tag.PidTagFolderId])), [{ tag: Tag.PidTagFolderId, error: 'ecAccessDenied' }]);
  t.is(mbx.folderProps(copy).get(Tag.PidTagComment), undefined);
  const custom = propTag(0x6801, PropType.PtypString);
  t.deepEqual(await env.write(() => mbx.setStoreProps(new Map<number, PropValue>([[custom, 'x'], [Tag.PidTagIpmSubtreeEntryId, new Uint8Array(1)]]))), [{ tag: Tag.PidTagIpmSubtreeEntryId, error: 'ecAccessDenied' }]);
  t.is(mbx.storeProps().get(custom), 'x');
});

test('soft-deleted messages and folders are purged for good past the horizon', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const day = 86_400_000;
  const t0 = Date.now();
  const big = new Uint8Array(BLOB_THRESHOLD);
  const a = await env.write(() => msgs.create(s.inbox, { props: mail('old'), attachments: [{ props: new Map(), data: big }] }));
  const b = await env.write(() => msgs.create(s.inbox, { props: mail('recent') }));
  await env.write(() => msgs.delete(s.inbox, [a.mid], false, t0 - 40 * day));
  await env.write(() => msgs.delete(s.inbox, [b.mid], false, t0));
  const f = await env.write(() => mbx.createFolder(s.inbox, 'Gone'));
  await env.write(() => msgs.deleteFolder(f.id, { messages: false, folders: false, hard: false }));
  t.is(await env.write(() => msgs.purgeSoftDeleted(30 * day, t0)), 1);
  t.is(env.db.messages.get(a.mid), undefined, 'the old one is gone for good');
  t.truthy(env.db.messages.get(b.mid), 'the recent one is still recoverable');
  t.is([...env.db.blobs.getKeys()].length, 0, 'with its blobs');
  await env.write(() => mbx.purgeTombstones(0, Date.now() + 1000));
  t.is(env.db.folders.get(f.id), undefined, 'a soft-deleted folder goes with its tombstone');
});

test('soft-deleted messages can be recovered (new CN and UID); store properties can be deleted', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const a = await env.write(() => msgs.create(s.inbox, { props: mail('oops') }));
  await env.write(() => msgs.delete(s.inbox, [a.mid], false));
  t.deepEqual(msgs.softDeleted(s.inbox), [a.mid]);
  const mark = msgs.changesSince(s.inbox, 0).cn;
  t.deepEqual(await env.write(() => msgs.recover(s.inbox, [a.mid, 12345])), { recovered: [a.mid], missing: [12345] });
  t.is(msgs.props(a.mid).get(Tag.PidTagSubject), 'oops');
  t.true(msgs.message(a.mid)!.uid > a.uid);
  t.is(mbx.folderProps(s.inbox).get(Tag.PidTagContentCount), 1);
  t.deepEqual(msgs.changesSince(s.inbox, mark).changed.map((c) => c.mid), [a.mid]);
  const custom = propTag(0x6802, PropType.PtypInteger32);
  await env.write(() => mbx.setStoreProps(new Map([[custom, 7]])));
  t.deepEqual(await env.write(() => mbx.deleteStoreProps([custom, Tag.PidTagMailboxOwnerName])), [{ tag: Tag.PidTagMailboxOwnerName, error: 'ecAccessDenied' }]);
  t.is(mbx.storeProps().get(custom), undefined);
});

test('search folders: criteria over scope (recursive), kept current by every write, each match keeping its real folder', async (t) => {
  const { env, mbx, msgs, s } = await setup(t);
  const { toWireRestriction } = await import('../../storage/restriction.js');
  const { FolderType } = await import('../../storage/prop-tags.js');
  const PidTagReplyRequested = propTag(0x0c17, PropType.PtypBoolean); // stands in for a reminder flag
  const sub = await env.write(() => mbx.createFolder(s.inbox, 'Sub'));
  const pre = await env.write(() => msgs.create(sub.id, { props: mail('before', [[PidTagReplyRequested, true]]) }));
  await env.write(() => msgs.create(s.inbox, { props: mail('no flag') }));
  const sf = await env.write(() => mbx.createFolder(s.finder, 'Flagged', { type: FolderType.FOLDER_SEARCH }));
  const criteria = { restriction: toWireRestriction({ type: 'property', relop: 4, tag: PidTagReplyRequested, value: true }), scope: [s.inbox], recursive: true };
  t.deepEqual(await msgs.searches.evaluateSliced(sf.id, criteria, 5), [pre.mid], 'the sliced evaluation finds the same');
  t.is(await env.write(() => msgs.searches.setCriteria(sf.id, criteria)), 1, 'existing matches found when the criteria are set');
  t.deepEqual(msgs.searches.results(sf.id), [pre.mid]);
  t.is(msgs.message(pre.mid)!.folder, sub.id, 'the match keeps its real parent folder');
  // Kept current: a new match, a message that gains the flag, one that loses it, one deleted, one out of scope.
  msgs.searchChanges = [];
  const added = await env.write(() => msgs.create(s.inbox, { props: mail('new', [[PidTagReplyRequested, true]]) }));
  const gains = await env.write(() => msgs.create(s.inbox, { props: mail('later') }));
  await env.write(() => msgs.setFlagProps(gains.mid, new Map([[PidTagReplyRequested, true]])));
  await env.write(() => msgs.setFlagProps(pre.mid, new Map([[PidTagReplyRequested, false]])));
  await env.write(() => msgs.create(s.drafts, { props: mail('out of scope', [[PidTagReplyRequested, true]]) }));
  await env.write(() => msgs.delete(s.inbox, [added.mid], true));
  t.deepEqual(msgs.searches.results(sf.id), [gains.mid]);
  t.deepEqual(msgs.searchChanges.map((c) => [c.mid, c.added]), [[added.mid, true], [gains.mid, true], [pre.mid, false], [added.mid, false]]);
  t.is(msgs.searches.state(sf.id) & 0x1000, 0x1000, 'SEARCH_COMPLETE');
  t.is(await env.write(() => codeOf(() => msgs.searches.setCriteria(s.inbox, criteria))), 'ecNotSearchFolder');
  t.is(await env.write(() => codeOf(() => msgs.searches.setCriteria(sf.id, { ...criteria, scope: [sf.id] }))), 'ecInvalidParam');
});

test('per-folder delivery-time and modification-time indexes follow every write', async (t) => {
  const { env, msgs, s } = await setup(t);
  const DT = propTag(0x0e06, PropType.PtypTime);
  const { dateToFiletime } = await import('../../storage/prop-types.js');
  const at = (iso: string) => dateToFiletime(new Date(iso));
  const a = await env.write(() => msgs.create(s.inbox, { props: mail('a', [[DT, at('2026-01-03T00:00:00Z')]]) }));
  const b = await env.write(() => msgs.create(s.inbox, { props: mail('b', [[DT, at('2026-01-01T00:00:00Z')]]) }));
  const c = await env.write(() => msgs.create(s.inbox, { props: mail('c', [[DT, at('2026-01-02T00:00:00Z')]]) }));
  const all = (tag: number) => {
    const out: number[] = [];
    for (let p = msgs.indexPage(s.inbox, false, tag, null, 2); p !== null && p.ids.length > 0; p = p.last === null ? null : msgs.indexPage(s.inbox, false, tag, p.last, 2)) out.push(...p.ids);
    return out;
  };
  t.deepEqual(all(DT), [b.mid, c.mid, a.mid], 'by delivery time, read in pages');
  await env.write(() => msgs.update(b.mid, { set: mail('b', [[DT, at('2026-02-01T00:00:00Z')]]) }));
  t.deepEqual(all(DT), [c.mid, a.mid, b.mid], 'an update moves its entry');
  await env.write(() => msgs.delete(s.inbox, [c.mid], true));
  t.deepEqual(all(DT), [a.mid, b.mid], 'a delete removes it');
  t.is(msgs.indexPage(s.inbox, false, Tag.PidTagSubject, null, 10), null, 'no index for other columns');
  t.is(all(propTag(0x3008, PropType.PtypTime)).length, 2);
});

test('decoded records are kept between writes only: reads after a write, and reads while a commit was in flight, see the new record', async (t) => {
  const { env, msgs, s } = await setup(t);
  const made = await env.write(() => msgs.create(s.inbox, { props: mail('first') }));
  t.is(msgs.props(made.mid).get(Tag.PidTagSubject), 'first');
  t.is(msgs.props(made.mid).get(Tag.PidTagSubject), 'first', 'from the kept record');
  await env.write(() => msgs.update(made.mid, { set: new Map([[Tag.PidTagSubject, 'second']]) }, { force: true }));
  t.is(msgs.props(made.mid).get(Tag.PidTagSubject), 'second', 'a write voids kept records');
  // A read while a queued write commits decodes the old record; the commit voids it.
  const queued = env.enqueue(() => msgs.setRead([made.mid], true));
  void msgs.message(made.mid); // decoded (and kept) while the commit is in flight
  await queued;
  t.is(msgs.message(made.mid)!.flags & MSGFLAG_READ, MSGFLAG_READ, 'after the commit the new record is read');
  // Inside a write, records are fresh objects the write may change; a failed write leaves the kept ones untouched.
  await t.throwsAsync(
    env.write(() => {
      msgs.setRead([made.mid], false);
      throw new Error('roll back');
    }),
  );
  t.is(msgs.message(made.mid)!.flags & MSGFLAG_READ, MSGFLAG_READ, 'the rolled-back change is not seen');
});
