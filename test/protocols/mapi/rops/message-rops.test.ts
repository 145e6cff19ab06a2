/**
 * Message ROPs, read side (MS-OXCMSG) over a real MAPI session: RopOpenMessage's header and
 * RecipientRows, RopReadRecipients, attachments and embedded messages, read flags and message
 * status, with the refusals (wrong folder, unknown ids, wrong object kinds, read-only objects).
 */
import test from 'ava';
import { RopId, Ec } from '../../../../protocols/mapi/rops/ids.js';
import { TypedStringType } from '../../../../protocols/mapi/rops/codec/fields.js';
import { RecipientFlag, RecipientType } from '../../../../protocols/mapi/wire/recipient-row.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { eidGlobcnt, makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { MSGFLAG_READ } from '../../../../storage/message-store.js';
import { RECIPIENT_COLUMNS } from '../../../../actors/mailbox/rop/message-rops.js';
import { startMapiSession, NO_HANDLE, type MapiSession } from '../../../fixtures/mapi-session.js';

type Resp = { returnValue: number; ok?: Record<string, unknown>; always?: Record<string, unknown> };

const open = (folderId: bigint, messageId: bigint, mode = 0, out = 1) => ({ ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: out, codePageId: 0x0fff, folderId, openModeFlags: mode, messageId });

async function withMessage(t: Parameters<typeof startMapiSession>[0]) {
  const s = await startMapiSession(t);
  const ref = s.stack.mailbox(s.alice.address);
  const inbox = eidGlobcnt(s.logon.folders.inbox);
  const made = await s.stack.sys.call(ref, 'createMessage', {
    folder: inbox,
    props: encodePropBag([
      [Tag.PidTagSubject, 'RE: Lunch'],
      [Tag.PidTagSubjectPrefix, 'RE: '],
      [Tag.PidTagNormalizedSubject, 'Lunch'],
      [Tag.PidTagBody, 'see you'],
      [0x0e170003, 0x1000],
    ]),
    recipients: [
      encodePropBag([[Tag.PidTagRecipientType, 1], [Tag.PidTagDisplayName, 'Bob'], [Tag.PidTagAddressType, 'SMTP'], [Tag.PidTagEmailAddress, 'bob@example.test'], [Tag.PidTagSmtpAddress, 'bob@example.test']]),
      encodePropBag([[Tag.PidTagRecipientType, 2], [Tag.PidTagDisplayName, 'Carol'], [Tag.PidTagAddressType, 'EX'], [Tag.PidTagEmailAddress, '/o=Org/cn=Recipients/cn=carol'], [Tag.PidTagDisplayType, 0]]),
    ],
    attachments: [
      { props: encodePropBag([[Tag.PidTagAttachLongFilename, 'a.txt'], [Tag.PidTagAttachMethod, 1]]), data: new TextEncoder().encode('hello') },
      {
        props: encodePropBag([[Tag.PidTagAttachMethod, 5], [Tag.PidTagDisplayName, 'inner']]),
        embedded: { props: encodePropBag([[Tag.PidTagSubject, 'Inner'], [Tag.PidTagNormalizedSubject, 'Inner']]) },
      },
    ],
  });
  return { ...s, ref, inbox, mid: made.mid, midEid: makeEid(REPLID_LOCAL, made.mid) };
}

async function flagsOf(s: MapiSession & { ref: ReturnType<MapiSession['stack']['mailbox']> }, mid: number): Promise<number> {
  const { decodePropBag } = await import('../../../../storage/prop-bag.js');
  const r = await s.stack.sys.call(s.ref, 'getMessage', { mid, tags: [Tag.PidTagMessageFlags] });
  return decodePropBag(Buffer.from(r.props)).get(Tag.PidTagMessageFlags) as number;
}

test('RopOpenMessage answers the subject TypedStrings, the recipient count, columns and rows', async (t) => {
  const s = await withMessage(t);
  const r = await s.exec([open(s.logon.folders.inbox, s.midEid)], [s.logon.handle, NO_HANDLE]);
  const resp = r.responses[0] as Resp;
  t.is(resp.returnValue, 0);
  const ok = resp.ok!;
  t.deepEqual(ok.subjectPrefix, { stringType: TypedStringType.Unicode, value: 'RE: ' });
  t.deepEqual(ok.normalizedSubject, { stringType: TypedStringType.Unicode, value: 'Lunch' });
  t.is(ok.recipientCount, 2);
  t.deepEqual(ok.recipientColumns, [...RECIPIENT_COLUMNS]);
  const rows = ok.recipientRows as { recipientType: number; recipientRow: { flags: number; displayName?: string; emailAddress?: string; x500dn?: string } }[];
  t.is(rows.length, 2);
  t.is(rows[0]!.recipientType, 1);
  t.is(rows[0]!.recipientRow.flags & RecipientFlag.TypeMask, RecipientType.SMTP);
  t.is(rows[0]!.recipientRow.displayName, 'Bob');
  t.is(rows[0]!.recipientRow.emailAddress, 'bob@example.test');
  t.is(rows[1]!.recipientType, 2);
  t.is(rows[1]!.recipientRow.flags & RecipientFlag.TypeMask, RecipientType.X500DN);
  t.is(rows[1]!.recipientRow.x500dn, '/o=Org/cn=Recipients/cn=carol');
  t.not(r.handles[1], NO_HANDLE, 'a message object at OutputHandleIndex');
  t.false(ok.hasNamedProperties);
});

test('RopOpenMessage refuses another folder, unknown ids and a non-folder input', async (t) => {
  const s = await withMessage(t);
  const r = await s.exec(
    [open(s.logon.folders.sentItems, s.midEid), open(s.logon.folders.inbox, makeEid(REPLID_LOCAL, 999_999)), open(s.logon.folders.inbox, makeEid(7, s.mid)), open(s.logon.folders.inbox, s.midEid, 0, 1)],
    [s.logon.handle, NO_HANDLE],
  );
  t.is((r.responses[0] as Resp).returnValue, Ec.ecNotFound);
  t.is((r.responses[1] as Resp).returnValue, Ec.ecNotFound);
  t.is((r.responses[2] as Resp).returnValue, Ec.ecNotFound);
  t.is((r.responses[3] as Resp).returnValue, 0);
  // A message object is not a folder: RopOpenMessage on it is not served.
  const again = await s.exec([{ ...open(s.logon.folders.inbox, s.midEid), inputHandleIndex: 1, outputHandleIndex: 2 }], [s.logon.handle, r.handles[1]!, NO_HANDLE]);
  t.is((again.responses[0] as Resp).returnValue, Ec.ecNotSupported);
  const bad = await s.exec([{ ...open(s.logon.folders.inbox, s.midEid), inputHandleIndex: 1 }], [s.logon.handle, 0x00abcdef]);
  t.is((bad.responses[0] as Resp).returnValue, Ec.ecNullObject);
});

test('RopReadRecipients from a row id, RopReloadCachedInformation, RopGetValidAttachments', async (t) => {
  const s = await withMessage(t);
  const o = await s.exec([open(s.logon.folders.inbox, s.midEid)], [s.logon.handle, NO_HANDLE]);
  const msg = o.handles[1]!;
  const r = await s.exec(
    [
      { ropId: RopId.ReadRecipients, logonId: 0, inputHandleIndex: 0, rowId: 1, reserved: 0 },
      { ropId: RopId.ReadRecipients, logonId: 0, inputHandleIndex: 0, rowId: 5, reserved: 0 },
      { ropId: RopId.ReloadCachedInformation, logonId: 0, inputHandleIndex: 0, reserved: 0 },
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 0 },
    ],
    [msg],
    { ctxFor: (q) => (q?.ropId === RopId.ReadRecipients ? { recipientColumns: RECIPIENT_COLUMNS } : {}) },
  );
  const rr = r.responses[0] as Resp;
  t.is(rr.returnValue, 0);
  const rows = rr.ok!.recipientRows as { rowId: number; recipientRow: { displayName: string } }[];
  t.deepEqual(rows.map((x) => [x.rowId, x.recipientRow.displayName]), [[1, 'Carol']]);
  t.is((r.responses[1] as Resp).returnValue, Ec.ecNotFound, 'no recipient from row 5 on');
  const reload = r.responses[2] as Resp;
  t.is(reload.returnValue, 0);
  t.is(reload.ok!.recipientCount, 2);
  t.deepEqual(reload.ok!.normalizedSubject, { stringType: TypedStringType.Unicode, value: 'Lunch' });
  t.deepEqual((r.responses[3] as Resp).ok!.attachmentIds, [0, 1]);
  // On the logon these are not message ROPs.
  const onLogon = await s.exec([{ ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 0 }], [s.logon.handle]);
  t.is((onLogon.responses[0] as Resp).returnValue, Ec.ecNotSupported);
});

test('attachments: the table object, opening read-only / read-write, embedded messages', async (t) => {
  const s = await withMessage(t);
  const o = await s.exec([open(s.logon.folders.inbox, s.midEid, 0)], [s.logon.handle, NO_HANDLE]);
  const ro = o.handles[1]!;
  const r = await s.exec(
    [
      { ropId: RopId.GetAttachmentTable, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, tableFlags: 0 },
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 2, openAttachmentFlags: 1, attachmentId: 0 },
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 2, openAttachmentFlags: 0, attachmentId: 9 },
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 2, openAttachmentFlags: 3, attachmentId: 1 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 3, reserved: 0, codePageId: 0x0fff, openModeFlags: 0 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 4, reserved: 0, codePageId: 0x0fff, openModeFlags: 2 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 4, reserved: 0, codePageId: 0x0fff, openModeFlags: 1 },
    ],
    [ro, NO_HANDLE, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  const rv = r.responses.map((x) => (x as Resp).returnValue);
  t.deepEqual(rv, [0, Ec.ecAccessDenied, Ec.ecNotFound, 0, 0, Ec.ecAccessDenied, Ec.ecAccessDenied], 'Create and ReadWrite need a writable attachment');
  t.not(r.handles[1], NO_HANDLE);
  const emb = r.responses[4] as Resp;
  t.deepEqual(emb.ok!.normalizedSubject, { stringType: TypedStringType.Unicode, value: 'Inner' });
  t.is(emb.ok!.recipientCount, 0);
  // The attachment with no embedded message has none to open.
  const a0 = await s.exec(
    [
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, openAttachmentFlags: 0, attachmentId: 0 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, reserved: 0, codePageId: 0x0fff, openModeFlags: 0 },
    ],
    [ro, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(a0.responses.map((x) => (x as Resp).returnValue), [0, Ec.ecNotFound]);
});

test('RopSetMessageReadFlag on an open message and RopSetReadFlags on a folder (via RopOpenFolder when it exists)', async (t) => {
  const s = await withMessage(t);
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, 0);
  const o = await s.exec([open(s.logon.folders.inbox, s.midEid, 1)], [s.logon.handle, NO_HANDLE]);
  const msg = o.handles[1]!;
  const setFlag = (readFlags: number) => ({ ropId: RopId.SetMessageReadFlag, logonId: 0, responseHandleIndex: 0, inputHandleIndex: 1, readFlags });
  let r = await s.exec([setFlag(0)], [s.logon.handle, msg]);
  t.is((r.responses[0] as Resp).returnValue, 0);
  t.is((r.responses[0] as Resp).ok!.readStatusChanged, false, 'private mailbox: no public-folder read state');
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, MSGFLAG_READ);
  r = await s.exec([setFlag(0x10)], [s.logon.handle, msg]);
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, MSGFLAG_READ, 'rfGenerateReceiptOnly leaves the read flag');
  r = await s.exec([setFlag(0x05)], [s.logon.handle, msg]);
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, 0, 'rfClearReadFlag | rfSuppressReceipt clears it');
  // The message object's own flags follow.
  const g = await s.exec([{ ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagMessageFlags] }], [s.logon.handle, msg]);
  t.is(((g.responses[0] as Resp).ok!.rowData as { cells: number[] }).cells[0]! & MSGFLAG_READ, 0);
  // On the logon object RopSetMessageReadFlag is not served.
  r = await s.exec([{ ...setFlag(0), inputHandleIndex: 0 }], [s.logon.handle]);
  t.is((r.responses[0] as Resp).returnValue, Ec.ecNotSupported);

  const of = await s.exec([{ ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: s.logon.folders.inbox, openModeFlags: 0 }], [s.logon.handle, NO_HANDLE]);
  if ((of.responses[0] as Resp).returnValue !== 0) {
    t.log('RopOpenFolder not served yet: folder ROPs checked for their refusal only');
    const x = await s.exec([{ ropId: RopId.SetReadFlags, logonId: 0, inputHandleIndex: 0, wantAsynchronous: false, readFlags: 0, messageIds: [s.midEid] }], [s.logon.handle]);
    t.is((x.responses[0] as Resp).returnValue, Ec.ecNotSupported);
    return;
  }
  const folder = of.handles[1]!;
  const sr = await s.exec(
    [
      { ropId: RopId.SetReadFlags, logonId: 0, inputHandleIndex: 0, wantAsynchronous: false, readFlags: 0, messageIds: [s.midEid, makeEid(REPLID_LOCAL, 999_999)] },
      { ropId: RopId.GetMessageStatus, logonId: 0, inputHandleIndex: 0, messageId: s.midEid },
      { ropId: RopId.SetMessageStatus, logonId: 0, inputHandleIndex: 0, messageId: s.midEid, messageStatusFlags: 0x2000, messageStatusMask: 0x3000 },
      { ropId: RopId.GetMessageStatus, logonId: 0, inputHandleIndex: 0, messageId: s.midEid },
      { ropId: RopId.GetMessageStatus, logonId: 0, inputHandleIndex: 0, messageId: makeEid(REPLID_LOCAL, 999_999) },
    ],
    [folder],
  );
  t.is((sr.responses[0] as Resp).always!.partialCompletion, true, 'an unknown id is a partial completion');
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, MSGFLAG_READ);
  t.is((sr.responses[1] as Resp).ok!.messageStatusFlags, 0x1000);
  t.is((sr.responses[2] as Resp).ok!.messageStatusFlags, 0x1000, 'the status before the change');
  t.is((sr.responses[3] as Resp).ok!.messageStatusFlags, 0x2000);
  t.is((sr.responses[4] as Resp).returnValue, Ec.ecNotFound);
  const clr = await s.exec([{ ropId: RopId.SetReadFlags, logonId: 0, inputHandleIndex: 0, wantAsynchronous: false, readFlags: 0x05, messageIds: [s.midEid] }], [folder]);
  t.is((clr.responses[0] as Resp).always!.partialCompletion, false);
  t.is((await flagsOf(s, s.mid)) & MSGFLAG_READ, 0);
});

test('fast transfer sources answer ecNotSupported cleanly', async (t) => {
  const s = await withMessage(t);
  const o = await s.exec([open(s.logon.folders.inbox, s.midEid)], [s.logon.handle, NO_HANDLE]);
  const r = await s.exec(
    [
      { ropId: RopId.FastTransferSourceCopyProperties, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, level: 0, copyFlags: 0, sendOptions: 0, propertyTags: [Tag.PidTagSubject] },
      { ropId: RopId.FastTransferSourceGetBuffer, logonId: 0, inputHandleIndex: 0, bufferSize: 100 },
    ],
    [o.handles[1]!, NO_HANDLE],
  );
  t.is(r.responses.length, 2);
  for (const x of r.responses) t.is((x as Resp).returnValue, Ec.ecNotSupported);
});
