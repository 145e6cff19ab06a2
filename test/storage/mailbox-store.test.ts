import test from 'ava';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore, LOGON_FOLDERS, SPECIAL_FOLDERS, type Identity } from '../../storage/mailbox-store.js';
import { Tag, FolderType } from '../../storage/prop-tags.js';
import { parseEntryId, parsePcl } from '../../storage/entry-ids.js';
import { newGuid } from '../../storage/guid.js';
import { eidGlobcnt } from '../../storage/ids.js';
import { codeOf, tempDir } from '../helpers.js';

const identity = (): Identity => ({
  mailboxGuid: newGuid(),
  replGuid: newGuid(),
  ownerName: 'Alice Example',
  legacyDn: '/o=Stoa/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice',
  serverShortname: 'mail',
});

async function provisioned() {
  const d = tempDir();
  const env = await MailboxEnv.open(d.path);
  const store = new MailboxStore(env);
  const id = identity();
  await env.write(() => store.provision(id, Date.UTC(2026, 10, 28)));
  return { d, env, store, id, done: async () => (await env.close(), d.remove()) };
}

const code = codeOf;

test('provisioning creates every special folder with its class, under the right parent', async (t) => {
  const m = await provisioned();
  t.teardown(m.done);
  const s = m.store.specialFolders();
  t.deepEqual(Object.keys(s).sort(), [...SPECIAL_FOLDERS].sort());
  t.is(new Set(Object.values(s)).size, SPECIAL_FOLDERS.length, 'distinct ids');
  const cls = (f: keyof typeof s) => m.store.folderProps(s[f]).get(Tag.PidTagContainerClass);
  const name = (f: keyof typeof s) => m.store.folderProps(s[f]).get(Tag.PidTagDisplayName);
  t.is(cls('inbox'), 'IPF.Note');
  t.is(cls('calendar'), 'IPF.Appointment');
  t.is(cls('contacts'), 'IPF.Contact');
  t.is(cls('tasks'), 'IPF.Task');
  t.is(cls('notes'), 'IPF.StickyNote');
  t.is(cls('journal'), 'IPF.Journal');
  t.is(cls('ipmSubtree'), undefined);
  t.is(name('deletedItems'), 'Deleted Items');
  t.is(m.store.folder(s.inbox)!.parent, s.ipmSubtree);
  t.is(m.store.folder(s.conflicts)!.parent, s.syncIssues);
  t.is(m.store.folder(s.finder)!.parent, s.root);
  t.is(m.store.folder(s.root)!.parent, 0);
  t.is(m.store.folderProps(s.root).get(Tag.PidTagFolderType), FolderType.FOLDER_ROOT);
  t.is(m.store.folderProps(s.reminders).get(Tag.PidTagFolderType), FolderType.FOLDER_SEARCH);
  t.is(m.store.folderProps(s.syncIssues).get(Tag.PidTagFolderChildCount), 3);
  t.true(m.store.folderProps(s.syncIssues).get(Tag.PidTagSubfolders) as boolean);
  t.deepEqual(
    m.store.children(s.syncIssues).map((f) => m.store.folderProps(f).get(Tag.PidTagDisplayName)),
    ['Conflicts', 'Local Failures', 'Server Failures'],
  );
  t.is(code(() => m.store.provision(identity())), 'ecDuplicateName');
});

test('entry ids, source keys and the store and Root/Inbox pointers point where they should', async (t) => {
  const m = await provisioned();
  t.teardown(m.done);
  const s = m.store.specialFolders();
  const pointsTo = (v: unknown) => {
    const p = parseEntryId(v as Uint8Array);
    if (p?.kind !== 'folder') return -1;
    t.deepEqual([...p.providerUid], [...m.id.mailboxGuid], 'ProviderUID is the MailboxGuid');
    t.deepEqual([...p.replGuid], [...m.id.replGuid]);
    return p.globcnt;
  };
  const store = m.store.storeProps();
  t.is(pointsTo(store.get(Tag.PidTagIpmSubtreeEntryId)), s.ipmSubtree);
  t.is(pointsTo(store.get(Tag.PidTagIpmOutboxEntryId)), s.outbox);
  t.is(pointsTo(store.get(Tag.PidTagIpmSentMailEntryId)), s.sentItems);
  t.is(pointsTo(store.get(Tag.PidTagIpmWastebasketEntryId)), s.deletedItems);
  t.is(pointsTo(store.get(Tag.PidTagViewsEntryId)), s.views);
  t.is(pointsTo(store.get(Tag.PidTagCommonViewsEntryId)), s.commonViews);
  t.is(pointsTo(store.get(Tag.PidTagFinderEntryId)), s.finder);
  const se = parseEntryId(store.get(Tag.PidTagStoreEntryId) as Uint8Array);
  t.deepEqual(se, { kind: 'store', public: false, serverShortname: 'mail', mailboxDn: m.id.legacyDn });
  t.is(store.get(Tag.PidTagMailboxOwnerName), 'Alice Example');
  for (const f of ['root', 'inbox'] as const) {
    const p = m.store.folderProps(s[f]);
    t.is(pointsTo(p.get(Tag.PidTagIpmAppointmentEntryId)), s.calendar, f);
    t.is(pointsTo(p.get(Tag.PidTagIpmContactEntryId)), s.contacts);
    t.is(pointsTo(p.get(Tag.PidTagIpmJournalEntryId)), s.journal);
    t.is(pointsTo(p.get(Tag.PidTagIpmNoteEntryId)), s.notes);
    t.is(pointsTo(p.get(Tag.PidTagIpmTaskEntryId)), s.tasks);
    t.is(pointsTo(p.get(Tag.PidTagIpmDraftsEntryId)), s.drafts);
    t.is(pointsTo(p.get(Tag.PidTagRemindersOnlineEntryId)), s.reminders);
    t.deepEqual((p.get(Tag.PidTagAdditionalRenEntryIds) as Uint8Array[]).map(pointsTo), [s.conflicts, s.syncIssues, s.localFailures, s.serverFailures, s.junk]);
    t.is((p.get(Tag.PidTagFreeBusyEntryIds) as Uint8Array[]).length, 4);
    const ex = Buffer.from(p.get(Tag.PidTagAdditionalRenEntryIdsEx) as Uint8Array);
    t.is(ex.readUInt16LE(0), 0x8001, 'RSS feeds block first');
    t.is(pointsTo(ex.subarray(8, 8 + ex.readUInt16LE(6))), s.rssFeeds);
  }
  const inbox = m.store.folderProps(s.inbox);
  t.is(pointsTo(inbox.get(Tag.PidTagEntryId)), s.inbox);
  t.is(pointsTo(inbox.get(Tag.PidTagParentEntryId)), s.ipmSubtree);
  t.is(Buffer.from(inbox.get(Tag.PidTagSourceKey) as Uint8Array).length, 22);
  t.is(eidGlobcnt(inbox.get(Tag.PidTagFolderId) as bigint), s.inbox);
  const ids = m.store.logonFolderIds().map(eidGlobcnt);
  t.deepEqual(ids, LOGON_FOLDERS.map((f) => s[f]));
  t.is(ids.length, 13);
});

test('creating folders: unique names per parent (any case), open-if-exists, renames', async (t) => {
  const m = await provisioned();
  t.teardown(m.done);
  const s = m.store.specialFolders();
  const a = await m.env.write(() => m.store.createFolder(s.inbox, 'Projects', { containerClass: 'IPF.Note' }));
  t.false(a.existed);
  t.is(await m.env.write(() => code(() => m.store.createFolder(s.inbox, 'PROJECTS'))), 'ecDuplicateName');
  const again = await m.env.write(() => m.store.createFolder(s.inbox, 'projects', { openIfExists: true }));
  t.deepEqual(again, { id: a.id, existed: true });
  const b = await m.env.write(() => m.store.createFolder(s.inbox, 'Archive'));
  t.is(await m.env.write(() => code(() => m.store.setFolderProps(b.id, new Map([[Tag.PidTagDisplayName, 'Projects']])))), 'ecDuplicateName');
  await m.env.write(() => m.store.setFolderProps(b.id, new Map([[Tag.PidTagDisplayName, 'Old Stuff']])));
  t.deepEqual(m.store.children(s.inbox).map((f) => m.store.folderProps(f).get(Tag.PidTagDisplayName)), ['Old Stuff', 'Projects']);
  t.is(m.store.childByName(s.inbox, 'archive'), undefined);
  t.is(m.store.folderProps(s.inbox).get(Tag.PidTagFolderChildCount), 2);
  t.is(await m.env.write(() => code(() => m.store.createFolder(999_999, 'x'))), 'ecNotFound');
  t.is(await m.env.write(() => code(() => m.store.createFolder(s.inbox, ''))), 'ecInvalidParam');
});

test('every change takes a new change number, change key and a longer-lived PCL; computed properties are read-only', async (t) => {
  const m = await provisioned();
  t.teardown(m.done);
  const s = m.store.specialFolders();
  const before = m.store.folderProps(s.drafts);
  const problems = await m.env.write(() => m.store.setFolderProps(s.drafts, new Map<number, unknown>([[Tag.PidTagComment, 'unsent mail'], [Tag.PidTagFolderId, 5n], [Tag.PidTagContentCount, 3]]) as Map<number, never>));
  t.deepEqual(problems, [
    { tag: Tag.PidTagFolderId, error: 'ecAccessDenied' },
    { tag: Tag.PidTagContentCount, error: 'ecAccessDenied' },
  ]);
  const after = m.store.folderProps(s.drafts);
  t.is(after.get(Tag.PidTagComment), 'unsent mail');
  t.true((after.get(Tag.PidTagChangeNumber) as bigint) > (before.get(Tag.PidTagChangeNumber) as bigint));
  t.notDeepEqual([...(after.get(Tag.PidTagChangeKey) as Uint8Array)], [...(before.get(Tag.PidTagChangeKey) as Uint8Array)]);
  const pcl = parsePcl(after.get(Tag.PidTagPredecessorChangeList) as Uint8Array)!;
  t.is(pcl.length, 1, 'one namespace (this store) in the PCL');
  t.deepEqual([...pcl[0]!], [...(after.get(Tag.PidTagChangeKey) as Uint8Array)], 'the PCL names the latest change');
  t.is(after.get(Tag.PidTagContentCount), 0);
});

test('the receive-folder table matches the longest class prefix, case-insensitively', async (t) => {
  const m = await provisioned();
  t.teardown(m.done);
  const s = m.store.specialFolders();
  t.is(m.store.receiveFolder('IPM.Note').folder, s.inbox);
  t.is(m.store.receiveFolder('REPORT.IPM.Note.NDR').explicitClass, 'report.ipm');
  t.is(m.store.receiveFolder('IPC.Microsoft.ICS').folder, s.root);
  t.is(m.store.receiveFolder('Something.Else').explicitClass, '');
  const x = await m.env.write(() => m.store.createFolder(s.inbox, 'Faxes'));
  await m.env.write(() => m.store.setReceiveFolder('IPM.Note.Fax', x.id));
  t.deepEqual(m.store.receiveFolder('ipm.note.fax.g3'), { folder: x.id, explicitClass: 'ipm.note.fax' });
  t.is(m.store.receiveFolder('IPM.Note.Faxes').folder, s.inbox, 'only at dot boundaries');
  await m.env.write(() => m.store.setReceiveFolder('IPM.Note.Fax', null));
  t.is(m.store.receiveFolder('IPM.Note.Fax').folder, s.inbox);
  t.is(await m.env.write(() => code(() => m.store.setReceiveFolder('', null))), 'ecError');
});

test('everything survives closing and reopening the environment', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  const id = identity();
  let env = await MailboxEnv.open(d.path);
  let store = new MailboxStore(env);
  await env.write(() => store.provision(id));
  const s = store.specialFolders();
  const made = await env.write(() => store.createFolder(s.inbox, 'Kept'));
  const before = store.folderProps(made.id);
  await env.close();
  env = await MailboxEnv.open(d.path);
  store = new MailboxStore(env);
  t.deepEqual(store.specialFolders(), s);
  const after = store.folderProps(made.id);
  t.deepEqual([...after.keys()].sort(), [...before.keys()].sort());
  t.is(after.get(Tag.PidTagDisplayName), 'Kept');
  t.deepEqual([...(after.get(Tag.PidTagEntryId) as Uint8Array)], [...(before.get(Tag.PidTagEntryId) as Uint8Array)], 'entry ids are stable');
  await env.close();
});
