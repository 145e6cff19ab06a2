import test from 'ava';
import { DirectoryError, DirectoryStore } from '../../storage/directory-store.js';
import { tempDir } from '../helpers.js';

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof DirectoryError ? err.code : String(err);
  }
}

test('full-access grants: durable, one way, idempotent, listed, revoked, and gone with either user', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  let s = DirectoryStore.open(d.path);
  await s.addDomain('example.test');
  const alice = await s.addUser({ address: 'alice@example.test' });
  const bob = await s.addUser({ address: 'bob@example.test' });
  const carol = await s.addUser({ address: 'carol@example.test' });
  t.true(s.hasFullAccess(alice.id, alice.id), 'the owner');
  t.false(s.hasFullAccess(alice.id, bob.id));
  const g = await s.grantFullAccess('Bob@example.test', 'alice@example.test');
  t.like(g, { mailbox: 'bob@example.test', user: 'alice@example.test', rights: ['full-access'] });
  t.deepEqual(await s.grantFullAccess('bob@example.test', 'alice@example.test'), g, 'granting again changes nothing');
  await s.grantFullAccess('carol@example.test', 'alice@example.test');
  await s.close();
  s = DirectoryStore.open(d.path);
  t.true(s.hasFullAccess(alice.id, bob.id), 'kept across a reopen');
  t.false(s.hasFullAccess(bob.id, alice.id), 'one way');
  t.deepEqual(s.grants('bob@example.test').map((x) => x.user), ['alice@example.test']);
  t.is(s.grants().length, 2);
  t.is(await code(s.grantFullAccess('alice@example.test', 'alice@example.test')), 'INVALID');
  t.is(await code(s.grantFullAccess('nobody@example.test', 'alice@example.test')), 'NOT_FOUND');
  t.is(await code(s.revokeFullAccess('bob@example.test', 'carol@example.test')), 'NOT_FOUND');
  await s.revokeFullAccess('bob@example.test', 'alice@example.test');
  t.false(s.hasFullAccess(alice.id, bob.id));
  await s.removeUser('alice@example.test');
  t.deepEqual(s.grants(), [], 'removing the grantee removes its grants');
  t.false(s.hasFullAccess(alice.id, carol.id));
  await s.close();
});
