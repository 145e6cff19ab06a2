import test from 'ava';
import { join } from 'node:path';
import { actorRef } from '../../runtime/actor.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { pickProps, ImapTag, type SearchNode } from '../../actors/mailbox/imap-view.js';
import { mapiToWire } from '../../actors/mailbox/wire-message.js';
import { packWire } from '../../actors/mailbox/imap-pack.js';
import { mimeToMapi } from '../../protocols/mail/mime-to-mapi.js';
import { decodePropBag, encodePropBag } from '../../storage/prop-bag.js';
import { Tag } from '../../storage/prop-tags.js';
import { PropType, propTag, type PropValue } from '../../storage/prop-types.js';
import { Fuzzy, toWireRestriction } from '../../storage/restriction.js';
import { Flag } from '../../protocols/imap/flags.js';
import { rng, startTestSystem, tempDir } from '../helpers.js';

const mbx = (address: string) => actorRef<MailboxProtocol>('mailbox', address);
const who = { ownerName: 'Alice', legacyDn: '/o=Stoa/cn=Recipients/cn=alice', serverShortname: 'mail' };

function mail(i: number, extra = ''): Buffer {
  return Buffer.from(`From: Sender ${i} <s${i}@example.org>\r\nTo: Alice <alice@example.test>, Bob <bob@example.test>\r\nSubject: hello ${i}\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nX-Tag: t${i}\r\n${extra}\r\nbody text number ${i}\r\n`);
}

/** One actor system for the file; each test has its own mailbox. */
let sys: ActorSystem;
let n = 0;
test.before(async () => {
  const d = tempDir();
  sys = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [join(d.path, 'mbx')] } });
});
test.after.always(async () => {
  await sys?.shutdown();
});

async function mailbox(count: number) {
  const ref = mbx(`user${++n}@example.test`);
  await sys.call(ref, 'provision', who);
  for (let i = 1; i <= count; i++) {
    const raw = mail(i);
    await sys.call(ref, 'deliver', mapiToWire(mimeToMapi(raw).message, raw));
  }
  const info = await sys.call(ref, 'logonInfo', null);
  return { ref, inbox: info.special.inbox };
}

test('pickProps reads exactly what decodePropBag reads, for the wanted tags only', (t) => {
  const rand = rng(7);
  const types = [PropType.PtypInteger32, PropType.PtypString, PropType.PtypBinary, PropType.PtypTime, PropType.PtypBoolean, PropType.PtypMultipleString, PropType.PtypInteger64, PropType.PtypGuid, PropType.PtypMultipleInteger32, PropType.PtypFloating64];
  for (let k = 0; k < 200; k++) {
    const props: [number, PropValue][] = [];
    for (let i = 0; i < 1 + Math.floor(rand() * 12); i++) {
      const type = types[Math.floor(rand() * types.length)]!;
      const tag = propTag(0x6000 + i, type);
      const v: PropValue =
        type === PropType.PtypInteger32 ? Math.floor(rand() * 1000) - 500
        : type === PropType.PtypString ? 'x'.repeat(Math.floor(rand() * 40)) + 'ü'
        : type === PropType.PtypBinary ? Buffer.alloc(Math.floor(rand() * 30), 7)
        : type === PropType.PtypTime ? BigInt(Math.floor(rand() * 1e15))
        : type === PropType.PtypBoolean ? rand() < 0.5
        : type === PropType.PtypMultipleString ? ['a', 'bc', 'Grün']
        : type === PropType.PtypInteger64 ? -5n
        : type === PropType.PtypGuid ? Buffer.alloc(16, 3)
        : type === PropType.PtypMultipleInteger32 ? [1, 2, 3]
        : rand();
      props.push([tag, v]);
    }
    const bag = encodePropBag(props);
    const full = decodePropBag(bag);
    const want = props.filter(() => rand() < 0.5).map(([tag]) => tag);
    const picked = pickProps(bag, want);
    t.deepEqual([...picked.keys()].sort(), [...new Set(want)].sort());
    for (const tag of want) t.deepEqual(picked.get(tag), full.get(tag));
  }
});

test('imapSelect: messages in UID order with flags and MODSEQs; imapSync: flag changes keep the UID, content changes retire it', async (t) => {
  const { ref, inbox } = await mailbox(3);
  const sel = await sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.deepEqual(sel.uids, [1, 2, 3]);
  t.deepEqual(sel.flags, [0, 0, 0]);
  t.true(sel.highestModseq >= Math.max(...sel.modseqs));
  const [m1, m2, m3] = sel.mids;
  await sys.call(ref, 'setRead', { mids: [m1!], read: true });
  await sys.call(ref, 'setFlagProps', { mid: m2!, set: encodePropBag([[Tag.PidTagFlagStatus, 2]]) });
  await sys.call(ref, 'updateMessage', { mid: m3!, set: encodePropBag([[Tag.PidTagSubject, 'changed']]) });
  const s = await sys.call(ref, 'imapSync', { folder: inbox, since: sel.highestModseq });
  t.deepEqual(
    s.changed.map((c) => [c.uid, c.flags]),
    [
      [1, Flag.Seen],
      [2, Flag.Flagged],
      [4, 0],
    ],
  );
  t.deepEqual(s.expunged, [3]);
  t.true(s.changed.every((c) => c.modseq > sel.highestModseq));
  t.is(s.uidNext, 5);
  const again = await sys.call(ref, 'imapSync', { folder: inbox, since: s.highestModseq });
  t.deepEqual(again.changed, []);
  t.deepEqual(again.expunged, []);
});

test('imapStore maps flags to MAPI: read state, follow-up flag, verbs (both at once), draft, categories, IMAP-only flags', async (t) => {
  const { ref, inbox } = await mailbox(1);
  const sel = await sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  const mid = sel.mids[0]!;
  const r = await sys.call(ref, 'imapStore', { folder: inbox, mids: [mid], mode: 'add', flags: Flag.Seen | Flag.Flagged | Flag.Answered | Flag.Forwarded | Flag.Draft | Flag.Deleted | Flag.Junk, keywords: ['$Label1'] });
  t.is(r.updated[0]!.uid, 1, 'flag changes keep the UID');
  t.is(r.updated[0]!.flags, Flag.Seen | Flag.Flagged | Flag.Answered | Flag.Forwarded | Flag.Draft | Flag.Deleted | Flag.Junk);
  t.deepEqual(r.updated[0]!.keywords, ['$Label1']);
  const [kwId] = await sys.call(ref, 'idsFromNames', { names: [{ guid: '00020329-0000-0000-c000-000000000046', name: 'Keywords' }], create: false });
  const kwTag = propTag(kwId!, PropType.PtypMultipleString);
  const tags = [Tag.PidTagMessageFlags, Tag.PidTagFlagStatus, ImapTag.PidTagFollowupIcon, ImapTag.PidTagToDoItemFlags, Tag.PidTagLastVerbExecuted, Tag.PidTagIconIndex, kwTag];
  let p = decodePropBag(Buffer.from((await sys.call(ref, 'getMessage', { mid, tags })).props));
  t.is((p.get(Tag.PidTagMessageFlags) as number) & 0x9, 0x9, 'MSGFLAG_READ | MSGFLAG_UNSENT');
  t.is(p.get(Tag.PidTagFlagStatus), 2);
  t.is(p.get(ImapTag.PidTagFollowupIcon), 6);
  t.is(p.get(ImapTag.PidTagToDoItemFlags), 1);
  t.is(p.get(Tag.PidTagLastVerbExecuted), 104);
  t.is(p.get(Tag.PidTagIconIndex), 0x106);
  t.deepEqual(p.get(kwTag), ['$Label1'], '$Junk is not a category');
  await sys.call(ref, 'imapStore', { folder: inbox, mids: [mid], mode: 'remove', flags: Flag.Flagged | Flag.Forwarded | Flag.Draft, keywords: ['$label1'] });
  p = decodePropBag(Buffer.from((await sys.call(ref, 'getMessage', { mid, tags })).props));
  t.is(p.get(Tag.PidTagFlagStatus), undefined);
  t.is(p.get(ImapTag.PidTagFollowupIcon), undefined);
  t.is(p.get(Tag.PidTagLastVerbExecuted), 102, 'the answer stays');
  t.is(p.get(kwTag), undefined);
  t.is((p.get(Tag.PidTagMessageFlags) as number) & 0x9, 0x1);
  const s = await sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.deepEqual(s.uids, [1]);
  t.is(s.flags[0], Flag.Seen | Flag.Answered | Flag.Deleted | Flag.Junk);
  // UNCHANGEDSINCE (for CONDSTORE): a message changed since is left alone.
  const cond = await sys.call(ref, 'imapStore', { folder: inbox, mids: [mid], mode: 'add', flags: Flag.Flagged, keywords: [], unchangedSince: 1 });
  t.deepEqual(cond.modified, [mid]);
});

test('imapExpunge removes only \\Deleted messages (and only those named, for UID EXPUNGE); imapCopy answers UID pairs', async (t) => {
  const { ref, inbox } = await mailbox(4);
  const sel = await sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  await sys.call(ref, 'imapStore', { folder: inbox, mids: sel.mids.slice(0, 3), mode: 'add', flags: Flag.Deleted, keywords: [] });
  t.deepEqual((await sys.call(ref, 'imapExpunge', { folder: inbox, uids: [2, 4] })).expunged, [2]);
  t.deepEqual((await sys.call(ref, 'imapExpunge', { folder: inbox })).expunged.sort(), [1, 3]);
  await sys.call(ref, 'imapCreate', { path: ['A', 'B'] });
  const c = await sys.call(ref, 'imapCopy', { from: inbox, to: ['A', 'B'], mids: [sel.mids[3]!], move: true });
  t.deepEqual(c.pairs, [[4, 1]]);
  const folders = await sys.call(ref, 'imapFolders', null);
  t.deepEqual(folders.folders.filter((f) => f.path[0] === 'A').map((f) => [f.path.join('/'), f.messages, f.hasChildren]), [
    ['A', 0, true],
    ['A/B', 1, false],
  ]);
  t.false(folders.folders.some((f) => f.path[0] === 'Calendar' || f.path[0] === 'Contacts'));
});

test('imapAppend stores the message with its flags and the original MIME', async (t) => {
  const { ref } = await mailbox(0);
  const raw = mail(9);
  const r = await sys.call(ref, 'imapAppend', { path: ['Drafts'], message: packWire(mapiToWire(mimeToMapi(raw).message, raw)), flags: Flag.Seen | Flag.Draft, keywords: ['todo'] });
  t.is(r.uid, 1);
  const s = await sys.call(ref, 'imapSelect', { path: ['Drafts'] });
  t.is(s.flags[0], Flag.Seen | Flag.Draft);
  t.deepEqual(s.keywords[0], ['todo']);
  const f = await sys.call(ref, 'imapFetch', { folder: s.folder, mids: s.mids, uids: s.uids, want: 'full', budget: 1 << 20 });
  const at = f.messages[0]!.mime!;
  t.deepEqual(Buffer.from(f.data).subarray(at[0], at[0] + at[1]), raw);
  t.is(f.messages[0]!.mimeSize, raw.length);
  const h = await sys.call(ref, 'imapFetch', { folder: s.folder, mids: s.mids, uids: s.uids, want: 'header', budget: 1 << 20 });
  const hat = h.messages[0]!.mime!;
  t.true(Buffer.from(h.data).subarray(hat[0], hat[0] + hat[1]).toString().endsWith('X-Tag: t9\r\n\r\n'));
  const gone = await sys.call(ref, 'imapFetch', { folder: s.folder, mids: s.mids, uids: [99], want: 'none', budget: 1 << 20 });
  t.deepEqual(gone.missing, s.mids, 'a mid under another UID is missing');
});

test('imapSearch: restrictions on subject, senders, recipients; header, body, size, date and flag nodes', async (t) => {
  const { ref, inbox } = await mailbox(3);
  const sel = await sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  await sys.call(ref, 'setRead', { mids: [sel.mids[0]!], read: true });
  const search = async (program: SearchNode) => (await sys.call(ref, 'imapSearch', { folder: inbox, candidates: sel.mids, program })).mids.map((m) => sel.mids.indexOf(m) + 1);
  const content = (tag: number, value: string): SearchNode => ({ k: 'restriction', r: toWireRestriction({ type: 'content', fuzzy: Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE, tag, value }) });
  t.deepEqual(await search(content(Tag.PidTagSubject, 'HELLO 2')), [2]);
  t.deepEqual(await search(content(Tag.PidTagSentRepresentingSmtpAddress, 's3@')), [3]);
  t.deepEqual(await search({ k: 'header', name: 'x-tag', value: 'T1' }), [1]);
  t.deepEqual(await search({ k: 'body', value: 'number 3' }), [3]);
  t.deepEqual(await search({ k: 'text', value: 'x-tag: t2' }), [2]);
  t.deepEqual(await search({ k: 'flag', bit: Flag.Seen, set: false }), [2, 3]);
  t.deepEqual(await search({ k: 'and', c: [{ k: 'size', op: 'larger', n: 10 }, { k: 'date', field: 'sent', op: 'on', day: Date.UTC(2020, 2, 3) }, { k: 'not', c: { k: 'mids', mids: [sel.mids[1]!] } }] }), [1, 3]);
  t.deepEqual(await search({ k: 'or', a: { k: 'mids', mids: [sel.mids[0]!] }, b: { k: 'keyword', name: 'x', set: true } }), [1]);
});

test('the folder index kept current from the change index equals one built afresh (after passivation)', async (t) => {
  const d = tempDir();
  const own = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [join(d.path, 'mbx')] }, limits: { idleMs: 300 } });
  t.teardown(async () => {
    await own.shutdown();
    d.remove();
  });
  const ref = mbx('index@example.test');
  await own.call(ref, 'provision', who);
  const deliver = async (i: number) => {
    const raw = mail(i);
    await own.call(ref, 'deliver', mapiToWire(mimeToMapi(raw).message, raw));
  };
  for (let i = 1; i <= 8; i++) await deliver(i);
  const rand = rng(3);
  let sel = await own.call(ref, 'imapSelect', { path: ['INBOX'] });
  for (let step = 0; step < 40; step++) {
    const mids = sel.mids;
    const mid = mids[Math.floor(rand() * mids.length)]!;
    const op = Math.floor(rand() * 6);
    if (op === 0) await deliver(100 + step);
    else if (op === 1) await own.call(ref, 'imapStore', { folder: sel.folder, mids: [mid], mode: rand() < 0.5 ? 'add' : 'remove', flags: Flag.Flagged | Flag.Deleted, keywords: ['k' + step % 3] });
    else if (op === 2) await own.call(ref, 'setRead', { mids: [mid], read: rand() < 0.5 });
    else if (op === 3) await own.call(ref, 'updateMessage', { mid, set: encodePropBag([[Tag.PidTagSubject, `edit ${step}`]]) });
    else if (op === 4) await own.call(ref, 'imapExpunge', { folder: sel.folder });
    else await own.call(ref, 'deleteMessages', { folder: sel.folder, mids: [mid], hard: false });
    sel = await own.call(ref, 'imapSelect', { path: ['INBOX'] });
    const sync = await own.call(ref, 'imapSync', { folder: sel.folder, since: 0 });
    t.deepEqual(sync.changed.map((c) => c.uid), sel.uids, `step ${step}`);
  }
  // Let the actor passivate: the next SELECT builds its index from the records.
  await new Promise((r) => setTimeout(r, 1500));
  const fresh = await own.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.deepEqual({ ...fresh, keywords: fresh.keywords, folderKeywords: [...fresh.folderKeywords].sort() }, { ...sel, folderKeywords: [...sel.folderKeywords].sort() });
});
