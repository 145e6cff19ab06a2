/**
 * One Execute, several ROPs, some failing: each ROP answers on its own and its writes commit or
 * roll back alone (a child transaction each); the ROPs after a failure still run; the answer
 * leaves once the run's writes are durable.
 */
import test from 'ava';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import { eidGlobcnt, makeEid, REPLID_LOCAL } from '../../../../storage/ids.js';
import { NO_HANDLE, startMapiSession } from '../../../fixtures/mapi-session.js';

const create = (name: string, out: number, openExisting = false) => ({ ropId: RopId.CreateFolder, logonId: 0, inputHandleIndex: 1, outputHandleIndex: out, folderType: 1, useUnicodeStrings: true, openExisting, reserved: 0, displayName: name, comment: '' });

test('a failing ROP in the middle of a run: the others run, each write on its own', async (t) => {
  const m = await startMapiSession(t);
  const r = await m.exec(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: m.logon.folders.ipmSubtree, openModeFlags: 0 },
      create('Projects', 2),
      create('Projects', 3),
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 4, folderId: makeEid(REPLID_LOCAL, 999_999), openModeFlags: 0 },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 4, propertyValues: [{ tag: 0x3004001f, value: 'never' }] },
      create('Archive', 5),
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 5, propertyValues: [{ tag: 0x3004001f, value: 'old mail' }] },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.deepEqual(
    r.responses.map((x) => x.returnValue),
    [0, 0, Ec.ecCollision, Ec.ecNotFound, Ec.ecNullObject, 0, 0],
    'ecDuplicateName (0x80040604), a missing folder, a handle never set, then success again',
  );
  t.is(r.handles[3], NO_HANDLE, 'a failed ROP sets no output handle');
  // Everything that succeeded is stored: the session ends, the store still has it.
  await m.stack.sys.call(m.stack.mailbox('alice@example.test'), 'endSession', { session: 'test-session' });
  const h = await m.stack.sys.call(m.stack.mailbox('alice@example.test'), 'listFolders', { parent: eidGlobcnt(m.logon.folders.ipmSubtree) });
  const names = h.map((f) => f.name);
  t.is(names.filter((n) => n === 'Projects').length, 1);
  t.true(names.includes('Archive'));
  const archive = h.find((f) => f.name === 'Archive')!;
  const props = await m.stack.sys.call(m.stack.mailbox('alice@example.test'), 'getFolderProps', { folder: archive.id, tags: [0x3004001f] });
  t.true(Buffer.from(props).includes(Buffer.from('old mail', 'utf16le')) || Buffer.from(props).includes(Buffer.from('old mail')));
  // The old session's objects went with endSession: its next Execute is refused, never silently.
  await t.throwsAsync(m.exec([{ ropId: RopId.GetStoreState, logonId: 0, inputHandleIndex: 0 }], [m.logon.handle]), { message: /gone/ });
});
