/**
 * Message ROPs, write side (MS-OXCMSG) over a real MAPI session: a draft composed with
 * RopCreateMessage, RopModifyRecipients (an EX and an SMTP recipient), an attachment with data,
 * an embedded message, saved and read back through RopOpenMessage / RopReadRecipients / the
 * attachment table / RopOpenEmbeddedMessage; edits saved again; stale saves (ecObjectModified,
 * ForceSave), read-only objects (ecAccessDenied), named properties on a new message.
 */
import test from 'ava';
import { RopId, Ec } from '../../../../protocols/mapi/rops/ids.js';
import { TypedStringType } from '../../../../protocols/mapi/rops/codec/fields.js';
import { NameKind } from '../../../../protocols/mapi/wire/prop-values.js';
import { RecipientFlag, RecipientType, type RecipientRow } from '../../../../protocols/mapi/wire/recipient-row.js';
import { pushExecuteRequest } from '../../../../protocols/mapi/emsmdb/bodies.js';
import { guidFromString } from '../../../../storage/guid.js';
import { eidGlobcnt, makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { PropType, propTag } from '../../../../storage/prop-types.js';
import { RECIPIENT_COLUMNS } from '../../../../actors/mailbox/rop/message-rops.js';
import * as client from '../../../fixtures/mapi-client/emsmdb.js';
import { startMapiSession, NO_HANDLE, type MapiSession } from '../../../fixtures/mapi-session.js';

type Resp = { returnValue: number; handleIndex?: number; ok?: Record<string, unknown> };
type Row = { flagged: boolean; cells: unknown[] };
type ReadRow = { rowId: number; recipientType: number; recipientRow: RecipientRow };

const PR = {
  IpmDraftsEntryId: propTag(0x36d7, PropType.PtypBinary),
  DisplayCc: propTag(0x0e03, PropType.PtypString),
  RecipientOrder: propTag(0x5fdf, PropType.PtypInteger32),
  AttachDataBinary: propTag(0x3701, PropType.PtypBinary),
  AttachNumber: propTag(0x0e21, PropType.PtypInteger32),
  HasAttachments: propTag(0x0e1b, PropType.PtypBoolean),
  Associated: propTag(0x67aa, PropType.PtypBoolean),
} as const;
const PS_PUBLIC_STRINGS = guidFromString('00020329-0000-0000-c000-000000000046');
const AB_PROVIDER = Buffer.from('dca740c8c042101ab4b908002b2fe182', 'hex');

const createMessage = (folderId: bigint, out = 1, associatedFlag = false, input = 0) => ({ ropId: RopId.CreateMessage, logonId: 0, inputHandleIndex: input, outputHandleIndex: out, codePageId: 0x0fff, folderId, associatedFlag });
const openMessage = (folderId: bigint, messageId: bigint, mode: number, out = 1) => ({ ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: out, codePageId: 0x0fff, folderId, openModeFlags: mode, messageId });
const save = (input: number, saveFlags: number) => ({ ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 0, inputHandleIndex: input, saveFlags });
const saveAttachment = (input: number, response = 0) => ({ ropId: RopId.SaveChangesAttachment, logonId: 0, responseHandleIndex: response, inputHandleIndex: input, saveFlags: 0 });
const setProps = (input: number, values: { tag: number; value: unknown }[]) => ({ ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: input, propertyValues: values });
const getProps = (input: number, tags: number[]) => ({ ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: input, propertySizeLimit: 0, wantUnicode: 1, propertyTags: tags });
const createAttachment = (input: number, out: number) => ({ ropId: RopId.CreateAttachment, logonId: 0, inputHandleIndex: input, outputHandleIndex: out });
const openAttachment = (input: number, out: number, attachmentId: number, flags = 0) => ({ ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: input, outputHandleIndex: out, openAttachmentFlags: flags, attachmentId });
const openEmbedded = (input: number, out: number, openModeFlags: number) => ({ ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: input, outputHandleIndex: out, reserved: 0, codePageId: 0x0fff, openModeFlags });
const release = (input: number) => ({ ropId: RopId.Release, logonId: 0, inputHandleIndex: input });
const readRecipients = (input: number, rowId = 0) => ({ ropId: RopId.ReadRecipients, logonId: 0, inputHandleIndex: input, rowId, reserved: 0 });
const modify = (input: number, columns: number[], rows: { rowId: number; recipientType: number; recipientRow: RecipientRow | null }[]) => ({ ropId: RopId.ModifyRecipients, logonId: 0, inputHandleIndex: input, recipientColumns: columns, recipientRows: rows });

const COLUMNS = [Tag.PidTagObjectType, PR.RecipientOrder];
const MAPI_MAILUSER = 6;

/** An EX recipient by its legacy DN (X500DN type), with a display name. */
const exRow = (dn: string, name: string, order: number, prefixUsed = 0): RecipientRow => ({
  flags: RecipientType.X500DN | RecipientFlag.D | RecipientFlag.U,
  addressPrefixUsed: prefixUsed,
  displayType: 0,
  x500dn: dn,
  displayName: name,
  columnCount: 2,
  properties: { flagged: false, cells: [MAPI_MAILUSER, order] },
});
/** An SMTP recipient; the transmittable name is the display name (S flag). */
const smtpRow = (address: string, name: string, order: number): RecipientRow => ({
  flags: RecipientType.SMTP | RecipientFlag.E | RecipientFlag.D | RecipientFlag.S | RecipientFlag.U,
  emailAddress: address,
  displayName: name,
  columnCount: 2,
  properties: { flagged: false, cells: [MAPI_MAILUSER, order] },
});

const rv = (r: { responses: unknown[] }) => r.responses.map((x) => (x as Resp).returnValue);
const ok = (r: { responses: unknown[] }, i: number) => (r.responses[i] as Resp).ok!;
const cells = (r: { responses: unknown[] }, i: number) => (ok(r, i).rowData as Row).cells;
/** The recipient columns for RopReadRecipients, the requests' own context for the rest. */
const recipientCtx = {
  ctxFor: (q: client.AnyRopRequest | null) => (q === null ? {} : q.ropId === RopId.ReadRecipients ? { recipientColumns: RECIPIENT_COLUMNS } : client.defaultRequestCtx(q)),
};

/** The Drafts folder id, from the Inbox's PidTagIpmDraftsEntryId (a Folder EntryID, MS-OXCDATA 2.2.4.1). */
async function draftsOf(s: MapiSession): Promise<bigint> {
  const r = await s.exec(
    [{ ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: s.logon.folders.inbox, openModeFlags: 0 }, getProps(1, [PR.IpmDraftsEntryId]), release(1)],
    [s.logon.handle, NO_HANDLE],
  );
  const eid = Buffer.from(cells(r, 1)[0] as Uint8Array);
  // Flags 4, ProviderUID 16, FolderType 2, DatabaseGuid 16, GlobalCounter 6 (big-endian), Pad 2.
  const globcnt = Number(eid.readUIntBE(38, 6));
  return makeEid(REPLID_LOCAL, globcnt);
}

test('a draft with recipients, an attachment and an embedded message is saved and read back', async (t) => {
  const s = await startMapiSession(t);
  const drafts = await draftsOf(s);
  const data = Buffer.from('attachment bytes \u00e9', 'utf8');

  // The message, its recipients, a file attachment written through a stream.
  const a = await s.exec(
    [
      createMessage(drafts, 1),
      setProps(1, [{ tag: Tag.PidTagSubject, value: 'Quarterly numbers' }, { tag: Tag.PidTagNormalizedSubject, value: 'Quarterly numbers' }]),
      modify(1, COLUMNS, [
        { rowId: 0, recipientType: 1, recipientRow: exRow(s.bob.legacyDn, 'Bob', 0) },
        { rowId: 1, recipientType: 2, recipientRow: smtpRow('carol@example.net', 'Carol', 1) },
      ]),
      createAttachment(1, 2),
      setProps(2, [{ tag: Tag.PidTagAttachMethod, value: 1 }, { tag: Tag.PidTagAttachLongFilename, value: 'numbers.csv' }]),
      { ropId: RopId.OpenStream, logonId: 0, inputHandleIndex: 2, outputHandleIndex: 3, propertyTag: PR.AttachDataBinary, openModeFlags: 2 },
      { ropId: RopId.WriteStream, logonId: 0, inputHandleIndex: 3, data },
      { ropId: RopId.CommitStream, logonId: 0, inputHandleIndex: 3 },
      saveAttachment(2, 1),
    ],
    [s.logon.handle, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(rv(a), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
  t.is(ok(a, 0).hasMessageId, false, 'no id before the save');
  t.is(ok(a, 3).attachmentId, 0);
  t.is((a.responses[8] as Resp).handleIndex, 1, 'RopSaveChangesAttachment answers on ResponseHandleIndex');
  const msg = a.handles[1]!;

  // An embedded message in a second attachment; a third attachment is created and dropped unsaved.
  const b = await s.exec(
    [
      createAttachment(0, 1),
      setProps(1, [{ tag: Tag.PidTagAttachMethod, value: 5 }, { tag: Tag.PidTagDisplayName, value: 'Forwarded' }]),
      openEmbedded(1, 2, 2),
      setProps(2, [{ tag: Tag.PidTagSubject, value: 'Inner' }, { tag: Tag.PidTagNormalizedSubject, value: 'Inner' }]),
      modify(2, COLUMNS, [{ rowId: 0, recipientType: 1, recipientRow: smtpRow('dave@example.net', 'Dave', 0) }]),
      save(2, 0x02),
      release(2),
      saveAttachment(1),
      release(1),
      createAttachment(0, 3),
      release(3),
      save(0, 0x01),
    ],
    [msg, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(b.responses.map((x) => (x as Resp).returnValue), [0, 0, 0, 0, 0, 0, 0, 0, 0], 'RopRelease has no response');
  t.is(ok(b, 0).attachmentId, 1);
  const emb = ok(b, 2);
  t.is(emb.messageId, 0n);
  t.is(emb.recipientCount, 0, 'a new embedded message');
  t.is(ok(b, 5).messageId, 0n, 'an embedded message saves into its attachment, without an id');
  t.is(ok(b, 5).inputHandleIndex, 2);
  t.is(ok(b, 7).attachmentId, 2);
  const saved = ok(b, 8);
  t.is(saved.inputHandleIndex, 0);
  const mid = saved.messageId as bigint;
  t.not(mid, 0n);

  // KeepOpenReadOnly: the object stays open, read-only.
  const after = await s.exec([getProps(0, [Tag.PidTagSubject]), setProps(0, [{ tag: Tag.PidTagSubject, value: 'no' }]), save(0, 0x02)], [msg]);
  t.deepEqual(rv(after), [0, Ec.ecAccessDenied, Ec.ecAccessDenied]);
  t.deepEqual(cells(after, 0), ['Quarterly numbers']);

  // Reopened from Drafts: the header, the recipients, computed properties.
  const o = await s.exec(
    [openMessage(drafts, mid, 0), readRecipients(1), getProps(1, [Tag.PidTagDisplayTo, PR.DisplayCc, Tag.PidTagMessageFlags, PR.HasAttachments, Tag.PidTagImportance, Tag.PidTagMessageClass])],
    [s.logon.handle, NO_HANDLE],
    recipientCtx,
  );
  t.deepEqual(rv(o), [0, 0, 0]);
  const head = ok(o, 0);
  t.deepEqual(head.normalizedSubject, { stringType: TypedStringType.Unicode, value: 'Quarterly numbers' });
  t.is(head.recipientCount, 2);
  const rows = ok(o, 1).recipientRows as ReadRow[];
  t.deepEqual(rows.map((r) => [r.rowId, r.recipientType]), [[0, 1], [1, 2]]);
  const ex = rows[0]!.recipientRow;
  t.is(ex.flags & RecipientFlag.TypeMask, RecipientType.X500DN);
  t.is(ex.x500dn, s.bob.legacyDn);
  t.is(ex.displayName, 'Bob');
  const col = (r: RecipientRow, tag: number) => r.properties.cells[RECIPIENT_COLUMNS.indexOf(tag)];
  t.is(col(ex, Tag.PidTagObjectType), MAPI_MAILUSER, 'the row\'s columns are kept');
  const exEid = Buffer.from(col(ex, Tag.PidTagEntryId) as Uint8Array);
  t.true(exEid.subarray(4, 20).equals(AB_PROVIDER), 'an address book entry id for the EX recipient');
  t.true(exEid.includes(Buffer.from(s.bob.legacyDn, 'latin1')));
  t.deepEqual(Buffer.from(col(ex, Tag.PidTagSearchKey) as Uint8Array).toString('latin1'), `EX:${s.bob.legacyDn.toUpperCase()}\0`);
  const smtp = rows[1]!.recipientRow;
  t.is(smtp.flags & RecipientFlag.TypeMask, RecipientType.SMTP);
  t.is(smtp.emailAddress, 'carol@example.net');
  t.is(smtp.displayName, 'Carol');
  t.true((smtp.flags & RecipientFlag.S) !== 0, 'the transmittable name is the display name');
  t.is(col(smtp, Tag.PidTagSmtpAddress), 'carol@example.net');
  t.is(col(smtp, PR.RecipientOrder), 1);
  const [to, cc, flags, hasAttach, importance, cls] = cells(o, 2);
  t.is(to, 'Bob');
  t.is(cc, 'Carol');
  t.is((flags as number) & 0x08, 0x08, 'unsent');
  t.true(hasAttach as boolean);
  t.is(importance, 1);
  t.is(cls, 'IPM.Note');
  const reopened = o.handles[1]!;

  // The attachment table: the two saved attachments, not the unsaved third.
  const cols = [PR.AttachNumber, Tag.PidTagAttachMethod, Tag.PidTagAttachLongFilename];
  const tb = await s.exec(
    [
      { ropId: RopId.GetAttachmentTable, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, tableFlags: 0x40 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 1, setColumnsFlags: 0, propertyTags: cols },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 1, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 0 },
      openAttachment(0, 2, 0),
      getProps(2, [PR.AttachDataBinary, Tag.PidTagAttachLongFilename]),
      openAttachment(0, 3, 1),
      openEmbedded(3, 4, 0),
      readRecipients(4),
    ],
    [reopened, NO_HANDLE, NO_HANDLE, NO_HANDLE, NO_HANDLE],
    { ctxFor: (q) => (q?.ropId === RopId.QueryRows ? { columns: cols } : recipientCtx.ctxFor(q)) },
  );
  t.deepEqual(rv(tb), [0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const trows = (ok(tb, 2).rows as Row[]).map((r) => r.cells);
  t.deepEqual(trows.map((c) => c.slice(0, 2)), [
    [0, 1],
    [1, 5],
  ]);
  t.is(trows[0]![2], 'numbers.csv');
  t.deepEqual(ok(tb, 3).attachmentIds, [0, 1]);
  t.deepEqual(cells(tb, 5), [Uint8Array.from(data), 'numbers.csv']);
  t.deepEqual(ok(tb, 7).normalizedSubject, { stringType: TypedStringType.Unicode, value: 'Inner' });
  t.is(ok(tb, 7).recipientCount, 1);
  t.deepEqual((ok(tb, 8).recipientRows as ReadRow[]).map((r) => r.recipientRow.emailAddress), ['dave@example.net']);
});

test('edit and save again; stale saves answer ecObjectModified unless ForceSave; read-only objects ecAccessDenied', async (t) => {
  const s = await startMapiSession(t);
  const inbox = s.logon.folders.inbox;
  const c = await s.exec([createMessage(inbox), setProps(1, [{ tag: Tag.PidTagSubject, value: 'v1' }]), save(1, 0x02)], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(rv(c), [0, 0, 0]);
  const mid = ok(c, 2).messageId as bigint;
  const first = c.handles[1]!;
  // KeepOpenReadWrite: edit the same object and save again; the id stays.
  const again = await s.exec([setProps(0, [{ tag: Tag.PidTagSubject, value: 'v2' }]), save(0, 0x02)], [first]);
  t.deepEqual(rv(again), [0, 0]);
  t.is(ok(again, 1).messageId, mid);

  // Two read-write opens: the first save wins, the second is stale.
  const two = await s.exec([openMessage(inbox, mid, 1, 1), openMessage(inbox, mid, 1, 2), openMessage(inbox, mid, 0, 3)], [s.logon.handle, NO_HANDLE, NO_HANDLE, NO_HANDLE]);
  const [, x, y, ro] = two.handles;
  const race = await s.exec(
    [
      setProps(0, [{ tag: Tag.PidTagSubject, value: 'from x' }]),
      save(0, 0x02),
      setProps(1, [{ tag: Tag.PidTagSubject, value: 'from y' }]),
      save(1, 0x02),
      save(2, 0x02),
      setProps(2, [{ tag: Tag.PidTagSubject, value: 'no' }]),
      { ropId: RopId.RemoveAllRecipients, logonId: 0, inputHandleIndex: 2, reserved: 0 },
      modify(2, COLUMNS, [{ rowId: 0, recipientType: 1, recipientRow: smtpRow('a@example.net', 'A', 0) }]),
      createAttachment(2, 3),
      { ropId: RopId.DeleteAttachment, logonId: 0, inputHandleIndex: 2, attachmentId: 0 },
    ],
    [x!, y!, ro!, NO_HANDLE],
  );
  t.deepEqual(rv(race), [0, 0, 0, Ec.ecObjectModified, Ec.ecAccessDenied, Ec.ecAccessDenied, Ec.ecAccessDenied, Ec.ecAccessDenied, Ec.ecAccessDenied, Ec.ecAccessDenied]);
  // A failed save leaves the object read-write; ForceSave overwrites and keeps it read-write.
  const forced = await s.exec([save(1, 0x04), setProps(1, [{ tag: Tag.PidTagSubject, value: 'from y, forced' }]), save(1, 0x04), save(0, 0x02)], [x!, y!]);
  t.deepEqual(rv(forced), [0, 0, 0, Ec.ecObjectModified], 'x is stale now');
  const read = await s.exec([openMessage(inbox, mid, 0), getProps(1, [Tag.PidTagSubject])], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(cells(read, 1), ['from y, forced']);

  // Another session (another Outlook) saving over this one's change.
  const other = s.connect('other');
  const execOther = async (rops: object[], handles: number[]) => {
    const body = pushExecuteRequest({ flags: 0, ropBuffer: client.buildExecuteRopBuffer(rops as never, handles), maxRopOut: 0x10008, aux: new Uint8Array(0) });
    return client.decodeExecuteRops(client.decodeExecuteResponse(await s.svc.execute(body, other)), rops as never);
  };
  const lr = await execOther([{ ropId: RopId.Logon, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 0, logonFlags: 1, openFlags: 0x01000000, storeState: 0, essdn: s.alice.legacyDn }], [NO_HANDLE]);
  const theirs = await execOther([openMessage(inbox, mid, 1)], [lr.handles[0]!, NO_HANDLE]);
  t.is((theirs.responses[0] as Resp).returnValue, 0);
  const mine = await s.exec([openMessage(inbox, mid, 1), setProps(1, [{ tag: Tag.PidTagSubject, value: 'mine' }]), save(1, 0x02)], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(rv(mine), [0, 0, 0]);
  const stale = await execOther([setProps(0, [{ tag: Tag.PidTagSubject, value: 'theirs' }]), save(0, 0x02), save(0, 0x06)], [theirs.handles[1]!]);
  t.deepEqual(rv(stale), [0, Ec.ecObjectModified, 0]);
  const final = await s.exec([openMessage(inbox, mid, 0), getProps(1, [Tag.PidTagSubject])], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(cells(final, 1), ['theirs']);
});

test('RopModifyRecipients adds, replaces and removes by row id; AddressPrefixUsed; RopRemoveAllRecipients', async (t) => {
  const s = await startMapiSession(t);
  const inbox = s.logon.folders.inbox;
  // The DN prefix RopConnect gives: the X500DN may leave out that many leading characters.
  const prefix = s.alice.legacyDn.replace(/\/cn=Recipients\/.*$/i, '');
  t.true(s.bob.legacyDn.startsWith(prefix));
  const r = await s.exec(
    [
      createMessage(inbox),
      modify(1, COLUMNS, [
        { rowId: 0, recipientType: 1, recipientRow: smtpRow('zero@example.net', 'Zero', 0) },
        { rowId: 1, recipientType: 1, recipientRow: smtpRow('one@example.net', 'One', 1) },
        { rowId: 2, recipientType: 3, recipientRow: exRow(s.bob.legacyDn.slice(prefix.length), 'Bob', 2, prefix.length) },
      ]),
      modify(1, COLUMNS, [
        { rowId: 0, recipientType: 1, recipientRow: null },
        { rowId: 1, recipientType: 2, recipientRow: smtpRow('uno@example.net', 'Uno', 1) },
      ]),
      readRecipients(1),
      readRecipients(1, 2),
    ],
    [s.logon.handle, NO_HANDLE],
    recipientCtx,
  );
  t.deepEqual(rv(r), [0, 0, 0, 0, 0]);
  const rows = ok(r, 3).recipientRows as ReadRow[];
  t.deepEqual(
    rows.map((x) => [x.rowId, x.recipientType, x.recipientRow.displayName, x.recipientRow.emailAddress ?? x.recipientRow.x500dn]),
    [
      [1, 2, 'Uno', 'uno@example.net'],
      [2, 3, 'Bob', s.bob.legacyDn],
    ],
  );
  t.deepEqual((ok(r, 4).recipientRows as ReadRow[]).map((x) => x.rowId), [2]);
  const saved = await s.exec([save(0, 0x02), getProps(0, [Tag.PidTagDisplayTo, PR.DisplayCc, propTag(0x0e02, PropType.PtypString)])], [r.handles[1]!]);
  t.deepEqual(rv(saved), [0, 0]);
  t.deepEqual(cells(saved, 1), ['', 'Uno', 'Bob'], 'PidTagDisplayTo / Cc / Bcc follow the recipients');
  const cleared = await s.exec([{ ropId: RopId.RemoveAllRecipients, logonId: 0, inputHandleIndex: 0, reserved: 0 }, readRecipients(0), save(0, 0x02)], [r.handles[1]!], recipientCtx);
  t.deepEqual(rv(cleared), [0, Ec.ecNotFound, 0]);
  const back = await s.exec([openMessage(inbox, ok(saved, 0).messageId as bigint, 0)], [s.logon.handle, NO_HANDLE]);
  t.is(ok(back, 0).recipientCount, 0);
  // Not a message: these ROPs are not served on a folder or the logon.
  const onLogon = await s.exec([{ ropId: RopId.RemoveAllRecipients, logonId: 0, inputHandleIndex: 0, reserved: 0 }, modify(0, COLUMNS, [])], [s.logon.handle]);
  t.deepEqual(rv(onLogon), [Ec.ecNotSupported, Ec.ecNotSupported]);
});

test('attachments: delete, an unsaved one is dropped, read-only attachment objects, RopCreateMessage refusals and FAI', async (t) => {
  const s = await startMapiSession(t);
  const inbox = s.logon.folders.inbox;
  const r = await s.exec(
    [
      createMessage(inbox),
      createAttachment(1, 2),
      saveAttachment(2),
      createAttachment(1, 3),
      saveAttachment(3),
      { ropId: RopId.DeleteAttachment, logonId: 0, inputHandleIndex: 1, attachmentId: 0 },
      { ropId: RopId.DeleteAttachment, logonId: 0, inputHandleIndex: 1, attachmentId: 7 },
      createAttachment(1, 2),
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 1 },
      release(2),
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 1 },
      save(1, 0x02),
    ],
    [s.logon.handle, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(rv(r), [0, 0, 0, 0, 0, 0, Ec.ecNotFound, 0, 0, 0, 0]);
  t.deepEqual(ok(r, 8).attachmentIds, [1, 2], 'listed while its object is open');
  t.deepEqual(ok(r, 9).attachmentIds, [1], 'released unsaved: gone');
  const mid = ok(r, 10).messageId as bigint;
  const back = await s.exec(
    [
      openMessage(inbox, mid, 1),
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 1 },
      openAttachment(1, 2, 1, 0),
      saveAttachment(2),
      openAttachment(1, 3, 1, 1),
      saveAttachment(3),
      openAttachment(1, 2, 0, 0),
      createAttachment(1, 3),
      { ropId: RopId.GetValidAttachments, logonId: 0, inputHandleIndex: 1 },
    ],
    [s.logon.handle, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(rv(back), [0, 0, 0, Ec.ecAccessDenied, 0, 0, Ec.ecNotFound, 0, 0]);
  // Attachment numbers are stable: #1 stays #1 after #0 was deleted, and a new one gets #2.
  t.deepEqual(ok(back, 1).attachmentIds, [1], 'the deleted one and the unsaved one are gone; #1 keeps its number');
  t.deepEqual(ok(back, 8).attachmentIds, [1, 2], 'the next new attachment follows the highest number');

  // RopCreateMessage: a missing folder, another replica's id; on a folder object; an FAI message.
  const bad = await s.exec([createMessage(makeEid(REPLID_LOCAL, 999_999)), createMessage(makeEid(9, eidGlobcnt(inbox)))], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(rv(bad), [Ec.ecNotFound, Ec.ecNotFound]);
  const fai = await s.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: inbox, openModeFlags: 0 },
      createMessage(inbox, 2, true, 1),
      setProps(2, [{ tag: Tag.PidTagMessageClass, value: 'IPM.Configuration.Test' }]),
      save(2, 0x02),
      getProps(2, [PR.Associated, Tag.PidTagMessageClass]),
    ],
    [s.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(rv(fai), [0, 0, 0, 0, 0]);
  t.deepEqual(cells(fai, 4), [true, 'IPM.Configuration.Test']);
});

test('named properties set on a new message survive the save', async (t) => {
  const s = await startMapiSession(t);
  const inbox = s.logon.folders.inbox;
  const names = [{ kind: NameKind.MNID_STRING, guid: PS_PUBLIC_STRINGS, name: 'x-stoa-compose' }];
  const r = await s.exec([createMessage(inbox), { ropId: RopId.GetPropertyIdsFromNames, logonId: 0, inputHandleIndex: 1, flags: 0x02, propertyNames: names }], [s.logon.handle, NO_HANDLE]);
  t.deepEqual(rv(r), [0, 0]);
  const id = (ok(r, 1).propertyIds as number[])[0]!;
  t.true(id >= 0x8000);
  const tag = propTag(id, PropType.PtypString);
  const w = await s.exec([setProps(0, [{ tag, value: 'kept' }]), save(0, 0x01)], [r.handles[1]!]);
  t.deepEqual(rv(w), [0, 0]);
  const back = await s.exec([openMessage(inbox, ok(w, 1).messageId as bigint, 0), getProps(1, [tag])], [s.logon.handle, NO_HANDLE]);
  t.true(ok(back, 0).hasNamedProperties as boolean);
  t.deepEqual(cells(back, 1), ['kept']);
});
