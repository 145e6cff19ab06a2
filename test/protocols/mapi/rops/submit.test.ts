/**
 * Sending (MS-OXOMSG) through a real session: RopSubmitMessage of a message with an EX recipient
 * (local), an SMTP recipient (remote) and a Bcc; the local copy is the MAPI object itself (its
 * named property survives, Bcc rows stay with the sender), the remote one MIME on the outbound
 * boundary, the sender's copy in Sent Items; deferred delivery and RopAbortSubmit;
 * PidTagDeleteAfterSubmit; an address that resolves nowhere gets a non-delivery report; no
 * recipients, ecNoRecipients; the spooler ROPs.
 */
import test from 'ava';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../../../storage/prop-bag.js';
import { RecipientType, Tag } from '../../../../storage/prop-tags.js';
import { dateToFiletime, propTag, PropType } from '../../../../storage/prop-types.js';
import { makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { NO_HANDLE, startMapiSession, type MapiSession } from '../../../fixtures/mapi-session.js';
import { sleep } from '../../../helpers.js';

const PS_PUBLIC_STRINGS = '00020329-0000-0000-c000-000000000046';
const DEFERRED = propTag(0x000f, PropType.PtypTime);
const DELETE_AFTER = propTag(0x0e01, PropType.PtypBoolean);

const rcpt = (type: number, name: string, addrType: string, address: string) =>
  encodePropBag([
    [Tag.PidTagRecipientType, type],
    [Tag.PidTagDisplayName, name],
    [Tag.PidTagAddressType, addrType],
    [Tag.PidTagEmailAddress, address],
  ]);

async function draft(m: MapiSession, subject: string, recipients: Uint8Array[], extra: [number, unknown][] = []): Promise<bigint> {
  const ref = m.stack.mailbox('alice@example.test');
  const info = await m.stack.sys.call(ref, 'logonInfo', null);
  const made = await m.stack.sys.call(ref, 'createMessage', {
    folder: info.special.drafts,
    props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Note'], [Tag.PidTagSubject, subject], [Tag.PidTagBody, `body of ${subject}`], [Tag.PidTagMessageFlags, 0x08], ...(extra as [number, never][])]),
    named: { names: [{ guid: PS_PUBLIC_STRINGS, name: 'x-project' }], props: encodePropBag([[0x8000001f, 'Apollo']]) },
    recipients,
  });
  return makeEid(REPLID_LOCAL, made.mid);
}

async function submit(m: MapiSession, mid: bigint, drafts: bigint) {
  return m.exec(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: drafts, openModeFlags: 1, messageId: mid },
      { ropId: RopId.SubmitMessage, logonId: 0, inputHandleIndex: 1, submitFlags: 0 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ],
    [m.logon.handle, NO_HANDLE],
  );
}

/** The messages of a user's folder as property maps (named properties by name). */
async function folderMessages(m: MapiSession, address: string, which: 'inbox' | 'sentItems' | 'drafts'): Promise<{ props: PropMap; named: Map<string, unknown>; recipients: PropMap[] }[]> {
  const ref = m.stack.mailbox(address);
  const info = await m.stack.sys.call(ref, 'logonInfo', null);
  const mids = await m.stack.sys.call(ref, 'listContents', { folder: info.special[which] });
  const out = [];
  for (const mid of mids) {
    const w = await m.stack.sys.call(ref, 'getMessageFull', { mid });
    const named = new Map<string, unknown>();
    if (w.named !== undefined) {
      const np = decodePropBag(Buffer.from(w.named.props));
      w.named.names.forEach((n, i) => {
        for (const [tag, v] of np) if (tag >>> 16 === 0x8000 + i) named.set('name' in n ? n.name : String(n.lid), v);
      });
    }
    out.push({ props: decodePropBag(Buffer.from(w.props)), named, recipients: (w.recipients ?? []).map((r) => decodePropBag(Buffer.from(r))) });
  }
  return out;
}

async function until<T>(f: () => Promise<T>, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (ok(v) || Date.now() > end) return v;
    await sleep(50);
  }
}

async function draftsId(m: MapiSession): Promise<bigint> {
  const info = await m.stack.sys.call(m.stack.mailbox('alice@example.test'), 'logonInfo', null);
  return makeEid(REPLID_LOCAL, info.special.drafts);
}

test('submit: the local recipient gets the MAPI object, the remote one MIME, the sender a copy in Sent Items', async (t) => {
  const m = await startMapiSession(t);
  const drafts = await draftsId(m);
  await m.stack.addUser('carl@example.test', 'pw', 'Carl');
  const mid = await draft(m, 'Launch', [
    rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn),
    rcpt(RecipientType.Cc, 'Dana Remote', 'SMTP', 'dana@remote.example'),
    rcpt(RecipientType.Bcc, 'Carl', 'SMTP', 'carl@example.test'),
  ]);
  const r = await submit(m, mid, drafts);
  t.deepEqual(r.responses.map((x) => x.returnValue), [0, 0]);
  const bob = await until(() => folderMessages(m, 'bob@example.test', 'inbox'), (x) => x.length > 0);
  t.is(bob.length, 1);
  t.is(bob[0]!.props.get(Tag.PidTagSubject), 'Launch');
  t.is(bob[0]!.named.get('x-project'), 'Apollo', 'named properties survive (no MIME round trip)');
  t.is(bob[0]!.props.get(Tag.PidTagSenderEmailAddress), m.alice.legacyDn);
  t.is(bob[0]!.props.get(Tag.PidTagSentRepresentingName), 'Alice');
  t.is((bob[0]!.props.get(Tag.PidTagMessageFlags) as number) & 0x09, 0, 'unread, not unsent');
  t.deepEqual(bob[0]!.recipients.map((x) => x.get(Tag.PidTagDisplayName)), ['Bob', 'Dana Remote'], 'no Bcc rows for recipients');
  const carl = await until(() => folderMessages(m, 'carl@example.test', 'inbox'), (x) => x.length > 0);
  t.is(carl.length, 1, 'the Bcc recipient got it too');
  t.is(m.sentRemote.length, 1);
  t.deepEqual(m.sentRemote[0]!.recipients.map((x) => x.address), ['dana@remote.example']);
  t.is(m.sentRemote[0]!.from, 'alice@example.test');
  const mime = m.sentRemote[0]!.raw.toString('latin1');
  t.regex(mime, /^To: .*bob@example\.test/m, 'EX recipients written as SMTP');
  t.regex(mime, /^Cc: .*dana@remote\.example/m);
  t.notRegex(mime, /carl@example\.test/, 'no Bcc in the headers');
  const sent = await until(() => folderMessages(m, 'alice@example.test', 'sentItems'), (x) => x.length > 0);
  t.is(sent.length, 1);
  t.is((sent[0]!.props.get(Tag.PidTagMessageFlags) as number) & 0x0d, 0x01, 'read, not unsent, not submitted');
  t.is((await folderMessages(m, 'alice@example.test', 'drafts')).length, 0);
});

test('deferred delivery waits; RopAbortSubmit takes one back; DeleteAfterSubmit leaves no copy', async (t) => {
  const m = await startMapiSession(t);
  const drafts = await draftsId(m);
  const later = dateToFiletime(new Date(Date.now() + 1500));
  const kept = await draft(m, 'Later', [rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn)], [[DEFERRED, later]]);
  const aborted = await draft(m, 'Never', [rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn)], [[DEFERRED, later]]);
  const gone = await draft(m, 'Gone', [rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn)], [[DELETE_AFTER, true]]);
  for (const x of [kept, aborted, gone]) t.deepEqual((await submit(m, x, drafts)).responses.map((y) => y.returnValue), [0, 0]);
  const abort = await m.exec([{ ropId: RopId.AbortSubmit, logonId: 0, inputHandleIndex: 0, folderId: drafts, messageId: aborted }], [m.logon.handle]);
  t.is(abort.responses[0]!.returnValue, 0);
  const again = await m.exec([{ ropId: RopId.AbortSubmit, logonId: 0, inputHandleIndex: 0, folderId: drafts, messageId: aborted }], [m.logon.handle]);
  t.is(again.responses[0]!.returnValue, Ec.ecNotInQueue);
  const first = await until(() => folderMessages(m, 'bob@example.test', 'inbox'), (x) => x.length > 0);
  t.deepEqual(first.map((x) => x.props.get(Tag.PidTagSubject)), ['Gone'], 'the deferred one waits');
  const all = await until(() => folderMessages(m, 'bob@example.test', 'inbox'), (x) => x.length >= 2, 6000);
  t.deepEqual(all.map((x) => x.props.get(Tag.PidTagSubject)).sort(), ['Gone', 'Later']);
  await sleep(300);
  t.is((await folderMessages(m, 'bob@example.test', 'inbox')).length, 2, 'the aborted one never went');
  const sent = await folderMessages(m, 'alice@example.test', 'sentItems');
  t.deepEqual(sent.map((x) => x.props.get(Tag.PidTagSubject)), ['Later'], 'DeleteAfterSubmit left no copy');
  const left = await folderMessages(m, 'alice@example.test', 'drafts');
  t.deepEqual(left.map((x) => x.props.get(Tag.PidTagSubject)), ['Never'], 'the aborted message stays a draft');
});

test('addresses that resolve nowhere get a non-delivery report; no recipients is ecNoRecipients; spooler ROPs', async (t) => {
  const m = await startMapiSession(t);
  const drafts = await draftsId(m);
  const bad = await draft(m, 'Lost', [rcpt(RecipientType.To, 'Nobody', 'SMTP', 'nobody@example.test'), rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn)]);
  t.deepEqual((await submit(m, bad, drafts)).responses.map((x) => x.returnValue), [0, 0]);
  const ndr = await until(() => folderMessages(m, 'alice@example.test', 'inbox'), (x) => x.length > 0);
  t.is(ndr[0]!.props.get(Tag.PidTagMessageClass), 'REPORT.IPM.Note.NDR');
  t.regex(ndr[0]!.props.get(Tag.PidTagBody) as string, /nobody@example\.test/);
  t.is((await until(() => folderMessages(m, 'bob@example.test', 'inbox'), (x) => x.length > 0)).length, 1, 'the others still get it');
  const asked = await draft(m, 'Receipt', [rcpt(RecipientType.To, 'Bob', 'EX', m.bob.legacyDn)], [[0x0023000b, true]]);
  t.deepEqual((await submit(m, asked, drafts)).responses.map((x) => x.returnValue), [0, 0]);
  const reports = await until(() => folderMessages(m, 'alice@example.test', 'inbox'), (x) => x.some((y) => y.props.get(Tag.PidTagMessageClass) === 'REPORT.IPM.Note.DR'));
  const dr = reports.find((y) => y.props.get(Tag.PidTagMessageClass) === 'REPORT.IPM.Note.DR');
  t.truthy(dr, 'a delivery report when one was asked for');
  t.regex(dr!.props.get(Tag.PidTagBody) as string, /Bob/);
  const empty = await draft(m, 'Empty', []);
  t.deepEqual((await submit(m, empty, drafts)).responses.map((x) => x.returnValue), [0, Ec.ecNoRecipients]);
  const spool = await m.exec(
    [
      { ropId: RopId.GetAddressTypes, logonId: 0, inputHandleIndex: 0 },
      { ropId: RopId.GetTransportFolder, logonId: 0, inputHandleIndex: 0 },
      { ropId: RopId.SetSpooler, logonId: 0, inputHandleIndex: 0 },
    ],
    [m.logon.handle],
  );
  t.deepEqual(spool.responses.map((x) => x.returnValue), [0, 0, 0]);
  t.deepEqual((spool.responses[0]!.ok as { addressTypes: string[] }).addressTypes, ['EX', 'SMTP']);
  t.is((spool.responses[1]!.ok as { folderId: bigint }).folderId, m.logon.folders.outbox);
});

test('read receipts: a local sender gets REPORT.IPM.Note.IPNRN, a remote one an MDN; suppressed, none', async (t) => {
  const m = await startMapiSession(t);
  const drafts = await draftsId(m);
  // Alice writes to herself asking for a read receipt (PidTagReadReceiptRequested).
  const asked = await draft(m, 'Please confirm', [rcpt(RecipientType.To, 'Alice', 'EX', m.alice.legacyDn)], [[Tag.PidTagReadReceiptRequested, true]]);
  t.deepEqual((await submit(m, asked, drafts)).responses.map((x) => x.returnValue), [0, 0]);
  // And a message from outside with Disposition-Notification-To, and one whose receipt is suppressed.
  const mime = (subject: string) =>
    Buffer.from(`From: Carol <carol@remote.example>\r\nTo: alice@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/ /g, '.')}@remote.example>\r\nDisposition-Notification-To: Carol <receipts@remote.example>\r\n\r\nhello\r\n`);
  await m.stack.delivery.deliver(mime('From outside'), [m.alice]);
  await m.stack.delivery.deliver(mime('Quietly'), [m.alice]);
  const inbox = await until(() => folderMessages(m, 'alice@example.test', 'inbox'), (x) => x.length >= 3);
  t.is(inbox.length, 3);
  for (const x of inbox) t.is((x.props.get(Tag.PidTagMessageFlags) as number) & 0x0100, 0x0100, 'a receipt is pending until read');
  const list = await m.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.inbox, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, 0x0037001f] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const rows = (list.responses[3]!.ok as { rows: { cells: unknown[] }[] }).rows;
  const midOf = (subject: string) => BigInt.asUintN(64, rows.find((r) => r.cells[1] === subject)!.cells[0] as bigint);
  const read = await m.exec(
    [
      { ropId: RopId.SetReadFlags, logonId: 0, inputHandleIndex: 1, wantAsynchronous: false, readFlags: 0, messageIds: [midOf('Please confirm'), midOf('From outside')] },
      { ropId: RopId.SetReadFlags, logonId: 0, inputHandleIndex: 1, wantAsynchronous: false, readFlags: 0x01, messageIds: [midOf('Quietly')] },
    ],
    list.handles,
  );
  t.deepEqual(read.responses.map((x) => x.returnValue), [0, 0]);
  const after = await until(() => folderMessages(m, 'alice@example.test', 'inbox'), (x) => x.some((y) => y.props.get(Tag.PidTagMessageClass) === 'REPORT.IPM.Note.IPNRN'));
  const ipnrn = after.filter((y) => y.props.get(Tag.PidTagMessageClass) === 'REPORT.IPM.Note.IPNRN');
  t.deepEqual(ipnrn.map((y) => y.props.get(Tag.PidTagSubject)), ['Read: Please confirm']);
  const mdn = await until(async () => m.sentRemote.filter((x) => x.raw.toString().includes('disposition-notification')), (x) => x.length > 0);
  t.is(mdn.length, 1, 'one MDN: the suppressed one sent nothing');
  t.deepEqual(mdn[0]!.recipients.map((x) => x.address), ['receipts@remote.example'], 'to the Disposition-Notification-To address');
  t.regex(mdn[0]!.raw.toString(), /Original-Message-ID: <From\.outside@remote\.example>/);
  t.regex(mdn[0]!.raw.toString(), /Disposition: manual-action\/MDN-sent-manually; displayed/);
  const flags = await folderMessages(m, 'alice@example.test', 'inbox');
  for (const x of flags.filter((y) => y.props.get(Tag.PidTagMessageClass) !== 'REPORT.IPM.Note.IPNRN')) t.is((x.props.get(Tag.PidTagMessageFlags) as number) & 0x0100, 0, 'no receipt pending once read');
});
