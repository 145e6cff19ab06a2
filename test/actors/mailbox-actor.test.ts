import test from 'ava';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { actorRef } from '../../runtime/actor.js';
import { ActorError } from '../../runtime/errors.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { decodePropBag, encodePropBag } from '../../storage/prop-bag.js';
import { Tag } from '../../storage/prop-tags.js';
import { parseEntryId } from '../../storage/entry-ids.js';
import { guidFromString } from '../../storage/guid.js';
import { startTestSystem, sleep, tempDir } from '../helpers.js';

const mbx = (address: string) => actorRef<MailboxProtocol>('mailbox', address);
const who = { ownerName: 'Alice Example', legacyDn: '/o=Stoa/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alice', serverShortname: 'mail' };

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof ActorError ? err.code : String(err);
  }
}

async function setup(t: { teardown(fn: () => unknown): void }, opts: { idleMs?: number; partitions?: number } = {}) {
  const d = tempDir();
  const partitions = Array.from({ length: opts.partitions ?? 1 }, (_, i) => join(d.path, `part${i}`));
  const sys = await startTestSystem(2, { kinds: ACTOR_KINDS, settings: { partitions }, limits: { idleMs: opts.idleMs ?? 60_000 } });
  t.teardown(async () => {
    await sys.shutdown();
    d.remove();
  });
  return { sys, partitions };
}

test('a mailbox is provisioned through its actor and answers logon, folder and store questions', async (t) => {
  const { sys, partitions } = await setup(t);
  const a = mbx('Alice@Example.TEST');
  t.false(await sys.call(a, 'exists', null));
  t.is(await codeOf(sys.call(a, 'logonInfo', null)), 'ecNotFound');
  const made = await sys.call(a, 'provision', who);
  t.is(made.path, join(partitions[0]!, 'example.test', 'alice'), 'lower-cased <partition>/<domain>/<localpart>');
  t.true(existsSync(join(made.path, 'data.mdb')));
  t.is(await codeOf(sys.call(a, 'provision', who)), 'ecDuplicateName');
  const info = await sys.call(a, 'logonInfo', null);
  t.is(info.mailboxGuid, made.mailboxGuid);
  t.is(info.folders.length, 13);
  t.is(info.folders[4], info.special.inbox);
  const inboxProps = decodePropBag(Buffer.from(await sys.call(a, 'getFolderProps', { folder: info.special.inbox })));
  t.is(inboxProps.get(Tag.PidTagDisplayName), 'Inbox');
  const eid = parseEntryId(inboxProps.get(Tag.PidTagEntryId) as Uint8Array);
  t.deepEqual(eid?.kind === 'folder' ? [...eid.providerUid] : null, [...guidFromString(made.mailboxGuid)], 'entry ids carry the MailboxGuid');
  const some = decodePropBag(Buffer.from(await sys.call(a, 'getStoreProps', { tags: [Tag.PidTagMailboxOwnerName, Tag.PidTagIpmSubtreeEntryId, 0x12340003] })));
  t.deepEqual([...some.keys()], [Tag.PidTagMailboxOwnerName, Tag.PidTagIpmSubtreeEntryId]);
  const top = await sys.call(a, 'listFolders', { parent: info.special.ipmSubtree });
  t.true(top.some((f) => f.name === 'Inbox' && f.special === 'inbox' && f.containerClass === 'IPF.Note'));
  t.true(top.some((f) => f.name === 'Calendar' && f.containerClass === 'IPF.Appointment'));
  t.deepEqual(await sys.call(a, 'receiveFolder', { messageClass: 'IPM.Note' }), { folder: info.special.inbox, explicitClass: 'ipm' });
});

test('folder writes go through the actor, with MAPI error codes, and emit change events', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('bob@example.test');
  await sys.call(a, 'provision', { ...who, ownerName: 'Bob' });
  const { special } = await sys.call(a, 'logonInfo', null);
  const events: unknown[] = [];
  sys.subscribe(a, (topic, data) => events.push([topic, data]));
  const f = await sys.call(a, 'createFolder', { parent: special.inbox, name: 'Invoices', containerClass: 'IPF.Note' });
  t.false(f.existed);
  t.is(await codeOf(sys.call(a, 'createFolder', { parent: special.inbox, name: 'invoices' })), 'ecDuplicateName');
  t.deepEqual(await sys.call(a, 'createFolder', { parent: special.inbox, name: 'INVOICES', openIfExists: true }), { id: f.id, existed: true });
  t.is(await codeOf(sys.call(a, 'createFolder', { parent: 424242, name: 'x' })), 'ecNotFound');
  const problems = await sys.call(a, 'setFolderProps', { folder: f.id, props: encodePropBag([[Tag.PidTagComment, '2026'], [Tag.PidTagFolderId, 1n]]) });
  t.deepEqual(problems, [{ tag: Tag.PidTagFolderId, error: 'ecAccessDenied' }]);
  t.is(decodePropBag(Buffer.from(await sys.call(a, 'getFolderProps', { folder: f.id }))).get(Tag.PidTagComment), '2026');
  await sleep(20);
  t.deepEqual(events, [['objectCreated', { folder: f.id, parent: special.inbox }]]);
});

test('mailboxes are passivated when idle and come back with their data; mailboxes never see each other', async (t) => {
  const { sys } = await setup(t, { idleMs: 150 });
  const a = mbx('carol@example.test');
  const b = mbx('dave@example.test');
  await sys.call(a, 'provision', { ...who, ownerName: 'Carol' });
  await sys.call(b, 'provision', { ...who, ownerName: 'Dave' });
  const sa = (await sys.call(a, 'logonInfo', null)).special;
  const made = await sys.call(a, 'createFolder', { parent: sa.inbox, name: 'Only Carol' });
  await sleep(700);
  const st = await sys.stats();
  t.is(st.workers.reduce((n, w) => n + w.activeActors, 0), 0, 'both passivated (environments closed)');
  const names = (await sys.call(a, 'listFolders', { parent: sa.inbox })).map((f) => f.name);
  t.deepEqual(names, ['Only Carol']);
  const sb = (await sys.call(b, 'logonInfo', null)).special;
  t.deepEqual(await sys.call(b, 'listFolders', { parent: sb.inbox }), []);
  t.is(decodePropBag(Buffer.from(await sys.call(b, 'getStoreProps', { tags: [Tag.PidTagMailboxOwnerName] }))).get(Tag.PidTagMailboxOwnerName), 'Dave');
  t.not(made.id, 0);
});

test('an address that cannot be a mailbox (or tries to leave its folder) is refused', async (t) => {
  const { sys } = await setup(t);
  for (const bad of ['../../etc@example.test', 'a/b@example.test', 'alice@exa_mple.test', 'noatsign', '@example.test', 'alice@', 'al\u0000ice@example.test', '.alice@example.test', 'x'.repeat(65) + '@example.test']) {
    t.is(await codeOf(sys.call(mbx(bad), 'provision', who)), 'ecInvalidParam', bad);
  }
  t.is(await codeOf(sys.call(mbx('ünïcode.user@example.test'), 'provision', who)), 'resolved', 'UTF-8 local parts are fine (RFC 6531)');
  t.true((await sys.call(mbx('alice.smith@example.test'), 'provision', who)).path.endsWith('alice.smith'), 'a dot in the folder name is still a folder');
  const odd = await sys.call(mbx("o'brien+tag@example.test"), 'provision', who);
  t.true(odd.path.endsWith(join('example.test', 'o%27brien+tag')), odd.path);
  t.true(await sys.call(mbx('ÜNÏCODE.user@Example.Test'), 'exists', null), 'the same mailbox in any letter case');
});

test('a named partition is used when given; otherwise the one with most free space', async (t) => {
  const { sys, partitions } = await setup(t, { partitions: 2 });
  const r = await sys.call(mbx('erin@example.test'), 'provision', { ...who, partition: partitions[1] });
  t.is(r.path, join(partitions[1]!, 'example.test', 'erin'));
  t.is(await codeOf(sys.call(mbx('frank@example.test'), 'provision', { ...who, partition: '/tmp/elsewhere' })), 'ecInvalidParam');
  const g = await sys.call(mbx('gina@example.test'), 'provision', who);
  t.true(partitions.some((p) => g.path.startsWith(p)));
});

test('messages through the actor: delivery raises newMail, reads, flags, changes and deletes, durable across passivation', async (t) => {
  const { sys } = await setup(t, { idleMs: 150 });
  const a = mbx('henry@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const events: [string, unknown][] = [];
  sys.subscribe(a, (topic, data) => events.push([topic, data]));
  const props = encodePropBag([
    [Tag.PidTagMessageClass, 'IPM.Note'],
    [Tag.PidTagSubject, 'Quarterly numbers'],
  ]);
  const bigAttachment = new Uint8Array(200_000).fill(3);
  const got = await sys.call(a, 'deliver', { props, attachments: [{ props: encodePropBag([]), data: bigAttachment }] });
  t.is(got.folder, special.inbox);
  t.is(got.uid, 1);
  await sleep(20);
  t.deepEqual(events[0], ['newMail', got]);
  const m = await sys.call(a, 'getMessage', { mid: got.mid, tags: [Tag.PidTagSubject] });
  t.deepEqual([...decodePropBag(Buffer.from(m.props))], [[Tag.PidTagSubject, 'Quarterly numbers']]);
  t.is(m.attachments.length, 1);
  t.is((await sys.call(a, 'getAttachmentData', { mid: got.mid, num: 0 }))!.byteLength, 200_000);
  const mark = (await sys.call(a, 'changesSince', { folder: special.inbox, cn: 0 })).cn;
  await sys.call(a, 'setRead', { mids: [got.mid], read: true });
  const ch = await sys.call(a, 'changesSince', { folder: special.inbox, cn: mark });
  t.deepEqual(ch.readChanged.map((x) => [x.mid, x.read]), [[got.mid, true]]);
  await sleep(600); // passivated: the environment is closed and reopened on the next call
  t.deepEqual(await sys.call(a, 'listContents', { folder: special.inbox }), [got.mid]);
  t.is(decodePropBag(Buffer.from(await sys.call(a, 'getFolderProps', { folder: special.inbox }))).get(Tag.PidTagContentUnreadCount), 0);
  t.deepEqual(await sys.call(a, 'deleteMessages', { folder: special.inbox, mids: [got.mid], hard: true }), { deleted: [got.mid], missing: [] });
  t.is(await codeOf(sys.call(a, 'getMessage', { mid: got.mid })), 'ecNotFound');
});

test('named properties, quota, stats and folder moves through the actor', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('ivy@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const names = [
    { guid: '00062008-0000-0000-c000-000000000046', lid: 0x8503 },
    { guid: '00020329-0000-0000-c000-000000000046', name: 'Keywords' },
  ];
  t.deepEqual(await sys.call(a, 'idsFromNames', { names, create: false }), [0, 0]);
  const ids = await sys.call(a, 'idsFromNames', { names, create: true });
  t.deepEqual(ids, [0x8000, 0x8001]);
  t.deepEqual(await sys.call(a, 'namesFromIds', { ids: [...ids, 0x8123] }), [...names, null]);
  t.is(await codeOf(sys.call(a, 'idsFromNames', { names: [{ guid: 'nope', lid: 1 }], create: true })), 'ecInvalidParam');
  const f = await sys.call(a, 'createFolder', { parent: special.inbox, name: 'Move me' });
  await sys.call(a, 'moveFolder', { folder: f.id, parent: special.drafts, name: 'Moved' });
  t.deepEqual((await sys.call(a, 'listFolders', { parent: special.drafts })).map((x) => x.name), ['Moved']);
  await sys.call(a, 'deleteFolder', { folder: f.id, messages: false, folders: false, hard: true });
  t.deepEqual(await sys.call(a, 'listFolders', { parent: special.drafts }), []);
  await sys.call(a, 'setQuota', { bytes: 1000 });
  const body = encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [0x1000001f, 'x'.repeat(2000)]]);
  await sys.call(a, 'deliver', { props: body });
  const st = await sys.call(a, 'stats', null);
  t.is(st.quotaState, 'receive-prohibited');
  t.deepEqual(st.quota, { warnBytes: 900, sendBytes: 1000, receiveBytes: 1100 });
  t.is(st.messages, 1);
  t.true(st.folders >= 28);
  t.is(await codeOf(sys.call(a, 'deliver', { props: body })), 'ecQuotaExceeded');
});

test('backup under concurrent writes restores to a consistent mailbox; restore holds calls until done', async (t) => {
  const { sys, partitions } = await setup(t);
  const a = mbx('jack@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const props = encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, 'x']]);
  let stop = false;
  let delivered = 0;
  const writer = (async () => {
    while (!stop) {
      await Promise.all(Array.from({ length: 8 }, () => sys.call(a, 'deliver', { props })));
      delivered += 8;
    }
  })();
  await sleep(150);
  const file = join(partitions[0]!, '..', 'jack.backup');
  const b = await sys.call(a, 'backup', { file });
  t.true(b.bytes > 0);
  await sleep(100);
  stop = true;
  await writer;
  const live = await sys.call(a, 'stats', null);
  t.is(live.messages, delivered);
  const path = live.path;
  const { restoreEnv } = await import('../../storage/backup.js');
  const during = sys.withPassivated('mailbox', 'jack@example.test', async () => {
    await sleep(100);
    return restoreEnv(file, path);
  });
  const heldCall = sys.call(a, 'stats', null); // waits for the restore, then sees the restored mailbox
  await during;
  const restored = await heldCall;
  t.true(restored.messages > 0 && restored.messages < delivered, `backup caught ${restored.messages} of ${delivered} messages mid-stream`);
  const inbox = decodePropBag(Buffer.from(await sys.call(a, 'getFolderProps', { folder: special.inbox })));
  t.is(inbox.get(Tag.PidTagContentCount), restored.messages, 'counts agree with contents: a consistent copy');
  t.is((await sys.call(a, 'listContents', { folder: special.inbox })).length, restored.messages);
  const maxBefore = Math.max(...(await sys.call(a, 'listContents', { folder: special.inbox })));
  const fresh = await sys.call(a, 'deliver', { props });
  t.true(fresh.mid > maxBefore, 'and it takes new mail');
  t.true(fresh.mid > live.messages * 2, 'with ids past everything handed out before the restore (never reused)');
});

test('message instances: compose across calls with recipients, attachments and an embedded message, then save', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('kate@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const { instance } = await sys.call(a, 'newMessage', { session: 's1', folder: special.drafts });
  t.deepEqual(await sys.call(a, 'instanceSetProps', { instance, props: encodePropBag([[Tag.PidTagSubject, 'Draft'], [Tag.PidTagMid, 5n]]) }), [{ tag: Tag.PidTagMid, error: 'ecAccessDenied' }]);
  await sys.call(a, 'instanceModifyRecipients', { instance, rows: [{ rowid: 0, props: encodePropBag([[0x3001001f, 'Bob']]) }, { rowid: 1, props: encodePropBag([[0x3001001f, 'Carol']]) }] });
  await sys.call(a, 'instanceModifyRecipients', { instance, rows: [{ rowid: 0, props: null }] });
  const att = await sys.call(a, 'instanceCreateAttachment', { instance });
  await sys.call(a, 'instanceSetAttachment', { instance, num: att.num, props: encodePropBag([[0x3707001f, 'notes.txt']]), data: Buffer.from('hello') });
  const att2 = await sys.call(a, 'instanceCreateAttachment', { instance });
  const child = await sys.call(a, 'instanceOpenEmbedded', { instance, num: att2.num, create: true });
  await sys.call(a, 'instanceSetProps', { instance: child.instance, props: encodePropBag([[Tag.PidTagSubject, 'Forwarded original']]) });
  t.deepEqual(await sys.call(a, 'saveMessage', { instance: child.instance, keepOpen: false, force: false }), { mid: null }, 'an embedded save goes into its parent');
  t.deepEqual(await sys.call(a, 'listContents', { folder: special.drafts }), [], 'nothing stored before the top-level save');
  const saved = await sys.call(a, 'saveMessage', { instance, keepOpen: false, force: false });
  t.truthy(saved.mid);
  const m = await sys.call(a, 'getMessage', { mid: saved.mid! });
  t.is(decodePropBag(Buffer.from(m.props)).get(Tag.PidTagSubject), 'Draft');
  t.deepEqual(m.recipients.map((r) => decodePropBag(Buffer.from(r)).get(0x3001001f)), ['Carol']);
  t.is(m.attachments.length, 2);
  t.is(Buffer.from((await sys.call(a, 'getAttachmentData', { mid: saved.mid!, num: 0 }))!).toString(), 'hello');
  // Reopen and read the embedded message back.
  const again = await sys.call(a, 'openMessage', { session: 's1', mid: saved.mid! });
  const emb = await sys.call(a, 'instanceOpenEmbedded', { instance: again.instance, num: 1, create: false });
  t.is(decodePropBag(Buffer.from(await sys.call(a, 'instanceGetProps', { instance: emb.instance }))).get(Tag.PidTagSubject), 'Forwarded original');
  t.is(await codeOf(sys.call(a, 'instanceOpenEmbedded', { instance: again.instance, num: 0, create: false })), 'ecNotFound');
  t.is(await codeOf(sys.call(a, 'instanceGetProps', { instance: 9999 })), 'ecNullObject');
});

test('two sessions edit one message: the stale save gets ecObjectModified unless forced; instances keep the mailbox active', async (t) => {
  const { sys } = await setup(t, { idleMs: 150 });
  const a = mbx('liam@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const made = await sys.call(a, 'createMessage', { folder: special.inbox, props: encodePropBag([[Tag.PidTagSubject, 'v1']]) });
  const one = await sys.call(a, 'openMessage', { session: 'outlook', mid: made.mid });
  const two = await sys.call(a, 'openMessage', { session: 'phone', mid: made.mid });
  await sys.call(a, 'instanceSetProps', { instance: two.instance, props: encodePropBag([[Tag.PidTagSubject, 'from phone']]) });
  await sys.call(a, 'saveMessage', { instance: two.instance, keepOpen: false, force: false });
  await sys.call(a, 'instanceSetProps', { instance: one.instance, props: encodePropBag([[Tag.PidTagSubject, 'from outlook']]) });
  t.is(await codeOf(sys.call(a, 'saveMessage', { instance: one.instance, keepOpen: true, force: false })), 'ecObjectModified');
  await sleep(500);
  t.is((await sys.stats()).workers.reduce((n, w) => n + w.activeActors, 0), 1, 'an open instance keeps the mailbox active');
  await sys.call(a, 'saveMessage', { instance: one.instance, keepOpen: true, force: true });
  t.is(decodePropBag(Buffer.from((await sys.call(a, 'getMessage', { mid: made.mid })).props)).get(Tag.PidTagSubject), 'from outlook');
  await sys.call(a, 'instanceSetProps', { instance: one.instance, props: encodePropBag([[Tag.PidTagSubject, 'again']]) });
  await sys.call(a, 'saveMessage', { instance: one.instance, keepOpen: false, force: false });
  t.deepEqual(await sys.call(a, 'endSession', { session: 'outlook' }), { released: 0 });
  await sleep(600);
  t.is((await sys.stats()).workers.reduce((n, w) => n + w.activeActors, 0), 0, 'passivated once no session holds state');
});

test('tables through the actor: contents and hierarchy views with columns, sort, restriction, paging; writes show up', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('mona@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  for (const [subject, size] of [['b', 1], ['a', 2], ['c', 3]] as const) {
    await sys.call(a, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, subject], [0x66010003, size]]) });
  }
  const { table, rows } = await sys.call(a, 'openTable', { session: 's', folder: special.inbox, kind: 'contents' });
  t.is(rows, 3);
  await sys.call(a, 'tableSetColumns', { table, tags: [Tag.PidTagSubject, Tag.PidTagMid] });
  await sys.call(a, 'tableSort', { table, keys: [{ tag: Tag.PidTagSubject, desc: true }] });
  const subjects = async () => (await sys.call(a, 'tableQueryRows', { table, count: 50, advance: false })).rows.map((r) => decodePropBag(Buffer.from(r)).get(Tag.PidTagSubject));
  t.deepEqual(await subjects(), ['c', 'b', 'a']);
  const { toWireRestriction, RelOp } = await import('../../storage/restriction.js');
  await sys.call(a, 'tableRestrict', { table, restriction: toWireRestriction({ type: 'property', relop: RelOp.GE, tag: 0x66010003, value: 2 }) });
  t.deepEqual(await subjects(), ['c', 'a']);
  await sys.call(a, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, 'd'], [0x66010003, 9]]) });
  t.deepEqual(await subjects(), ['d', 'c', 'a'], 'a write invalidates the view');
  t.deepEqual(await sys.call(a, 'tablePosition', { table }), { numerator: 0, denominator: 3 });
  const hier = await sys.call(a, 'openTable', { session: 's', folder: special.ipmSubtree, kind: 'hierarchy' });
  await sys.call(a, 'tableSetColumns', { table: hier.table, tags: [Tag.PidTagDisplayName, Tag.PidTagContainerClass] });
  const names = (await sys.call(a, 'tableQueryRows', { table: hier.table, count: 100 })).rows.map((r) => decodePropBag(Buffer.from(r)).get(Tag.PidTagDisplayName));
  t.true(names.includes('Inbox') && names.includes('Calendar'));
  t.is(await codeOf(sys.call(a, 'tableRestrict', { table, restriction: { type: 'not', child: { type: 'not', child: { type: 'exist', tag: 1 } } } as never })), 'resolved');
  t.deepEqual(await sys.call(a, 'endSession', { session: 's' }), { released: 2 });
  t.is(await codeOf(sys.call(a, 'tableQueryRows', { table, count: 1 })), 'ecNullObject');
});

test('a search folder through the actor: matches listed in its contents table, new matches announced', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('nina@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const { toWireRestriction, Fuzzy } = await import('../../storage/restriction.js');
  const sf = await sys.call(a, 'createFolder', { parent: special.finder, name: 'Invoices', searchFolder: true });
  const r = await sys.call(a, 'setSearchCriteria', {
    folder: sf.id,
    restriction: toWireRestriction({ type: 'content', fuzzy: Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE, tag: Tag.PidTagSubject, value: 'invoice' }),
    scope: [special.ipmSubtree],
    recursive: true,
  });
  t.is(r.matches, 0);
  const events: [string, unknown][] = [];
  sys.subscribe(a, (topic, data) => events.push([topic, data]));
  const hit = await sys.call(a, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, 'Your INVOICE #12']]) });
  await sys.call(a, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, 'Lunch?']]) });
  await sleep(30);
  t.deepEqual(events.filter(([topic]) => topic === 'searchRowAdded'), [['searchRowAdded', { folder: sf.id, mid: hit.mid, added: true }]]);
  const tb = await sys.call(a, 'openTable', { session: 's', folder: sf.id, kind: 'contents' });
  await sys.call(a, 'tableSetColumns', { table: tb.table, tags: [Tag.PidTagSubject, 0x67490014] });
  const rows = (await sys.call(a, 'tableQueryRows', { table: tb.table, count: 10 })).rows.map((x) => decodePropBag(Buffer.from(x)));
  t.deepEqual(rows.map((x) => x.get(Tag.PidTagSubject)), ['Your INVOICE #12']);
  const crit = await sys.call(a, 'getSearchCriteria', { folder: sf.id });
  t.deepEqual(crit.criteria?.scope, [special.ipmSubtree]);
  t.true(crit.criteria!.recursive);
  t.is(crit.state & 0x1000, 0x1000);
});

test('table notifications reach the owning session through the change events', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('olga@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const { table } = await sys.call(a, 'openTable', { session: 'outlook-7', folder: special.inbox, kind: 'contents' });
  await sys.call(a, 'tableSetColumns', { table, tags: [Tag.PidTagSubject] });
  await sys.call(a, 'tableQueryRows', { table, count: 10 });
  const notes: { session: string; table: number; events: { type: string }[] }[] = [];
  sys.subscribe(a, (topic, data) => {
    if (topic === 'tableNotify') notes.push(data as (typeof notes)[number]);
  });
  const got = await sys.call(a, 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, 'ping']]) });
  await sleep(30);
  t.is(notes.length, 1);
  t.is(notes[0]!.session, 'outlook-7');
  t.is(notes[0]!.table, table);
  t.deepEqual(notes[0]!.events.map((e) => e.type), ['rowAdded']);
  await sys.call(a, 'setRead', { mids: [got.mid], read: true });
  await sleep(30);
  t.is(notes.length, 1, 'a change outside the columns shown is not a row change');
});

test('Reminders: a message that gains a reminder appears in the search folder table and raises a row notification', async (t) => {
  const { sys } = await setup(t);
  const a = mbx('pia@example.test');
  await sys.call(a, 'provision', who);
  const { special } = await sys.call(a, 'logonInfo', null);
  const [lid] = await sys.call(a, 'idsFromNames', { names: [{ guid: '00062008-0000-0000-c000-000000000046', lid: 0x8503 }], create: true }); // PidLidReminderSet
  const reminderSet = ((lid! << 16) | 0x000b) >>> 0;
  const { toWireRestriction, RelOp } = await import('../../storage/restriction.js');
  await sys.call(a, 'setSearchCriteria', {
    folder: special.reminders,
    restriction: toWireRestriction({ type: 'property', relop: RelOp.EQ, tag: reminderSet, value: true }),
    scope: [special.ipmSubtree],
    recursive: true,
  });
  const { table } = await sys.call(a, 'openTable', { session: 'outlook', folder: special.reminders, kind: 'contents' });
  await sys.call(a, 'tableSetColumns', { table, tags: [Tag.PidTagSubject] });
  t.deepEqual((await sys.call(a, 'tableQueryRows', { table, count: 10 })).rows, []);
  const notes: { table: number; events: { type: string }[] }[] = [];
  sys.subscribe(a, (topic, data) => {
    if (topic === 'tableNotify') notes.push(data as (typeof notes)[number]);
  });
  const m = await sys.call(a, 'createMessage', { folder: special.calendar, props: encodePropBag([[Tag.PidTagSubject, 'Dentist'], [reminderSet, false]]) });
  await sleep(30);
  t.deepEqual(notes, [], 'no reminder yet: nothing in the search folder');
  await sys.call(a, 'setFlagProps', { mid: m.mid, set: encodePropBag([[reminderSet, true]]) });
  await sleep(30);
  t.deepEqual(notes.map((n) => [n.table, n.events.map((e) => e.type)]), [[table, ['rowAdded']]]);
  await sys.call(a, 'tableSeek', { table, origin: 0, count: 0 });
  t.deepEqual((await sys.call(a, 'tableQueryRows', { table, count: 10 })).rows.map((r) => decodePropBag(Buffer.from(r)).get(Tag.PidTagSubject)), ['Dentist']);
});
