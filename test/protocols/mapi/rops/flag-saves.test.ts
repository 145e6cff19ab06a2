/**
 * Outlook flags and categorizes with RopSetProperties + RopSaveChangesMessage. Such a save
 * touches no content, so the message keeps its IMAP UID and its original MIME (IMAP clients see
 * a flag change, not a new message); a save that changes the subject is a content change.
 */
import test from 'ava';
import { RopId } from '../../../../protocols/mapi/rops/ids.js';
import { makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { Tag } from '../../../../storage/prop-tags.js';
import { NO_HANDLE, startMapiSession } from '../../../fixtures/mapi-session.js';

test('a flag or category save keeps the IMAP UID and the original MIME; a subject change does not', async (t) => {
  const m = await startMapiSession(t);
  await m.stack.delivery.deliver(Buffer.from('From: carol@example.org\r\nTo: alice@example.test\r\nSubject: report\r\nMessage-ID: <r1@example.org>\r\n\r\nnumbers\r\n'), [m.alice]);
  const ref = m.stack.mailbox('alice@example.test');
  const before = await m.stack.sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.is(before.uids.length, 1);
  const mid = before.mids[0]!;
  t.not(await m.stack.sys.call(ref, 'getOriginalMime', { mid }), null);
  const save = (values: { tag: number; value: unknown }[]) =>
    m.exec(
      [
        { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: m.logon.folders.inbox, openModeFlags: 1, messageId: makeEid(REPLID_LOCAL, mid) },
        { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: values },
        { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, saveFlags: 0x02 },
        { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
      ],
      [m.logon.handle, NO_HANDLE],
    );
  const flagged = await save([
    { tag: Tag.PidTagFlagStatus, value: 2 },
    { tag: 0x10950003, value: 6 },
  ]);
  t.deepEqual(flagged.responses.map((x) => x.returnValue), [0, 0, 0]);
  const after = await m.stack.sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.deepEqual(after.uids, before.uids, 'same UID after flagging');
  t.true(after.modseqs[0]! > before.modseqs[0]!, 'a new MODSEQ: IMAP sees a flag change');
  t.not(await m.stack.sys.call(ref, 'getOriginalMime', { mid }), null, 'the original MIME is kept');
  const edited = await save([{ tag: 0x0037001f, value: 'report (edited)' }]);
  t.deepEqual(edited.responses.map((x) => x.returnValue), [0, 0, 0]);
  const last = await m.stack.sys.call(ref, 'imapSelect', { path: ['INBOX'] });
  t.not(last.uids[0], before.uids[0], 'a content change gives a new UID');
  t.is(await m.stack.sys.call(ref, 'getOriginalMime', { mid }), null, 'and drops the original MIME');
});
