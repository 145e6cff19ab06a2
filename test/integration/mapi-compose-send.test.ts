/**
 * Outlook's compose and send through the real server (issue 11), driven by the spec-following
 * client: a message written with an EX and an SMTP recipient, an attachment, an embedded message
 * and a named property, saved as a draft, reopened and edited, then sent: the local recipient
 * (read through his own MAPI session) has the same properties, named property included; the remote
 * one is a MIME message in the outbound queue (`queue list`); the sender finds it in Sent Items.
 */
import test from 'ava';
import { runCli, startedServer, testEnv } from './server-process.js';
import { legacyDnOf } from './autodiscover-client.js';
import { MapiClient } from '../fixtures/mapi-client/client.js';
import { RopId } from '../../protocols/mapi/rops/ids.js';
import { RecipientFlag, RecipientType, type RecipientRow } from '../../protocols/mapi/wire/recipient-row.js';
import { NameKind } from '../../protocols/mapi/wire/prop-values.js';
import { guidFromString } from '../../storage/guid.js';
import { Tag } from '../../storage/prop-tags.js';
import { PropType, propTag } from '../../storage/prop-types.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test', STOA_OUTBOUND_SMARTHOST: '127.0.0.1:9' });
const NO = 0xffffffff;
const PS_PUBLIC_STRINGS = guidFromString('00020329-0000-0000-c000-000000000046');
const ATTACH_DATA = propTag(0x3701, PropType.PtypBinary);
const ATTACH_NAME = propTag(0x3707, PropType.PtypString);
const W = (tag: number) => ((tag & 0xffff) === 0x001e ? ((tag & 0xffff0000) | 0x001f) >>> 0 : tag);

const row = (flags: number, fields: Partial<RecipientRow>): RecipientRow => ({ flags: flags | RecipientFlag.D | RecipientFlag.U, columnCount: 0, properties: { flagged: false, cells: [] }, ...fields }) as RecipientRow;

test('compose with recipients, attachment and embedded message; draft, reopen, edit; send to a local and a remote recipient', async (t) => {
  const s = await startedServer(t, env);
  for (const [u, name] of [['alice', 'Alice'], ['bob', 'Bob']]) t.is((await runCli(['--data', s.data, 'user', 'add', `${u}@mail.example.test`, '--name', name!, '--password', `${u} password`], env)).code, 0);
  const port = s.base + 443;
  const [aliceDn, bobDn] = [await legacyDnOf(port, 'alice@mail.example.test', 'alice password'), await legacyDnOf(port, 'bob@mail.example.test', 'bob password')];
  const alice = new MapiClient({ baseUrl: `https://127.0.0.1:${port}`, user: 'alice@mail.example.test', password: 'alice password' });
  t.teardown(() => alice.close());
  await alice.connect(aliceDn);
  const a = await alice.logon(aliceDn);
  const ok = (r: { responses: { returnValue: number; ropId: number }[] }, what: string) => r.responses.forEach((x, i) => t.is(x.returnValue, 0, `${what} #${i} (RopId 0x${x.ropId.toString(16)})`));

  // Drafts, from the Inbox's PidTagIpmDraftsEntryId; the named property's id.
  const prep = await alice.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: a.folders.inbox!, openModeFlags: 0 },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagIpmDraftsEntryId] },
      { ropId: RopId.GetPropertyIdsFromNames, logonId: 0, inputHandleIndex: 0, flags: 0x02, propertyNames: [{ kind: NameKind.MNID_STRING, guid: PS_PUBLIC_STRINGS, name: 'x-project' }] },
    ] as never,
    [a.handle, NO],
  );
  ok(prep, 'prep');
  const draftsEid = (prep.responses[1]!.ok as { rowData: { cells: Uint8Array[] } }).rowData.cells[0]!;
  const drafts = folderIdOf(draftsEid);
  const named = ((((prep.responses[2]!.ok as { propertyIds: number[] }).propertyIds[0]! << 16) | 0x001f) >>> 0);

  // Write the draft.
  const write = await alice.execute(
    [
      { ropId: RopId.CreateMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: drafts, associatedFlag: false },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: [{ tag: W(Tag.PidTagSubject), value: 'Plans (draft)' }, { tag: W(Tag.PidTagBody), value: 'See the attached plan.' }, { tag: named, value: 'Apollo' }] },
      {
        ropId: RopId.ModifyRecipients,
        logonId: 0,
        inputHandleIndex: 1,
        recipientColumns: [],
        recipientRows: [
          { rowId: 0, recipientType: 1, recipientRow: row(RecipientType.X500DN, { addressPrefixUsed: 0, displayType: 0, x500dn: bobDn, displayName: 'Bob' }) },
          { rowId: 1, recipientType: 2, recipientRow: row(RecipientType.SMTP | RecipientFlag.E, { emailAddress: 'dana@remote.example', displayName: 'Dana' }) },
        ],
      },
      { ropId: RopId.CreateAttachment, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2 },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 2, propertyValues: [{ tag: Tag.PidTagAttachMethod, value: 1 }, { tag: ATTACH_NAME, value: 'plan.txt' }, { tag: ATTACH_DATA, value: Buffer.from('step 1, step 2') }] },
      { ropId: RopId.SaveChangesAttachment, logonId: 0, responseHandleIndex: 2, inputHandleIndex: 2, saveFlags: 0 },
      { ropId: RopId.CreateAttachment, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 3 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 3, outputHandleIndex: 4, reserved: 0, codePageId: 0x0fff, openModeFlags: 0x02 },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 4, propertyValues: [{ tag: W(Tag.PidTagSubject), value: 'Earlier note' }] },
      { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 4, inputHandleIndex: 4, saveFlags: 0x02 },
      { ropId: RopId.SaveChangesAttachment, logonId: 0, responseHandleIndex: 3, inputHandleIndex: 3, saveFlags: 0 },
      { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, saveFlags: 0x02 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ] as never,
    [a.handle, NO, NO, NO, NO],
  );
  ok(write, 'write');
  const mid = (write.responses[11]!.ok as { messageId: bigint }).messageId;

  // Reopen the draft, edit it, send it.
  const send = await alice.execute(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: drafts, openModeFlags: 1, messageId: mid },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [W(Tag.PidTagSubject), named, Tag.PidTagMessageFlags] },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: [{ tag: W(Tag.PidTagSubject), value: 'Plans' }] },
      { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, saveFlags: 0x02 },
      { ropId: RopId.SubmitMessage, logonId: 0, inputHandleIndex: 1, submitFlags: 0 },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ] as never,
    [a.handle, NO],
  );
  ok(send, 'send');
  t.deepEqual((send.responses[1]!.ok as { rowData: { cells: unknown[] } }).rowData.cells.slice(0, 2), ['Plans (draft)', 'Apollo'], 'the draft as saved');

  // Bob reads it through his own session: same properties, named property included, attachment and embedded message.
  const bob = new MapiClient({ baseUrl: `https://127.0.0.1:${port}`, user: 'bob@mail.example.test', password: 'bob password' });
  t.teardown(() => bob.close());
  await bob.connect(bobDn);
  const b = await bob.logon(bobDn);
  let rows: { cells: unknown[] }[] = [];
  for (let i = 0; i < 50 && rows.length === 0; i++) {
    const q = await bob.execute(
      [
        { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: b.folders.inbox!, openModeFlags: 0 },
        { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
        { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, W(Tag.PidTagSubject), Tag.PidTagMessageFlags] },
        { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
      ] as never,
      [b.handle, NO, NO],
    );
    rows = (q.responses[3]!.ok as { rows: { cells: unknown[] }[] }).rows;
    if (rows.length === 0) await new Promise((r) => setTimeout(r, 100));
  }
  t.is(rows.length, 1);
  t.is(rows[0]!.cells[1], 'Plans');
  const bobNamed = await bob.execute([{ ropId: RopId.GetPropertyIdsFromNames, logonId: 0, inputHandleIndex: 0, flags: 0, propertyNames: [{ kind: NameKind.MNID_STRING, guid: PS_PUBLIC_STRINGS, name: 'x-project' }] }] as never, [b.handle]);
  const bobTag = ((((bobNamed.responses[0]!.ok as { propertyIds: number[] }).propertyIds[0]! << 16) | 0x001f) >>> 0);
  const read = await bob.execute(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: b.folders.inbox!, openModeFlags: 0, messageId: BigInt.asUintN(64, rows[0]!.cells[0] as bigint) },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [W(Tag.PidTagSubject), bobTag, W(Tag.PidTagSenderName), W(Tag.PidTagDisplayTo), W(Tag.PidTagDisplayCc)] },
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, openAttachmentFlags: 0, attachmentId: 0 },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 2, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [ATTACH_NAME, ATTACH_DATA] },
      { ropId: RopId.OpenAttachment, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 3, openAttachmentFlags: 0, attachmentId: 1 },
      { ropId: RopId.OpenEmbeddedMessage, logonId: 0, inputHandleIndex: 3, outputHandleIndex: 4, reserved: 0, codePageId: 0x0fff, openModeFlags: 0 },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 4, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [W(Tag.PidTagSubject)] },
    ] as never,
    [b.handle, NO, NO, NO, NO],
  );
  ok(read, 'bob reads');
  const c = (i: number) => (read.responses[i]!.ok as { rowData: { cells: unknown[] } }).rowData.cells;
  t.deepEqual(c(1), ['Plans', 'Apollo', 'Alice', 'Bob', 'Dana'], 'same properties, named property included');
  t.is(c(3)[0], 'plan.txt');
  t.is(Buffer.from(c(3)[1] as Uint8Array).toString(), 'step 1, step 2');
  t.deepEqual(c(6), ['Earlier note'], 'the embedded message came along');

  // The remote copy waits in the outbound queue; the sender has it in Sent Items.
  const queue = await runCli(['--data', s.data, 'queue', 'list'], env);
  t.is(queue.code, 0, queue.stderr);
  t.regex(queue.stdout, /dana@remote\.example/);
  const sent = await alice.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: a.folders.sentItems!, openModeFlags: 0 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [W(Tag.PidTagSubject), Tag.PidTagMessageFlags] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
    ] as never,
    [a.handle, NO, NO],
  );
  const sentRows = (sent.responses[3]!.ok as { rows: { cells: unknown[] }[] }).rows;
  t.deepEqual(sentRows.map((r) => r.cells[0]), ['Plans']);
  t.is((sentRows[0]!.cells[1] as number) & 0x08, 0, 'no longer unsent');
});

/** The folder id (replica 1 + GLOBCNT) inside a 46-byte folder entry id. */
function folderIdOf(eid: Uint8Array): bigint {
  const b = Buffer.from(eid);
  const gc = b.readUIntBE(38, 6);
  const id = Buffer.alloc(8);
  id.writeUInt16LE(1, 0);
  id.writeUIntBE(gc, 2, 6);
  return id.readBigUInt64LE(0);
}
