import test from 'ava';
import { DirectoryError, DirectoryStore, userView } from '../../storage/directory-store.js';
import { tempDir } from '../helpers.js';

async function dir(t: { teardown(fn: () => unknown): void }) {
  const d = tempDir();
  const s = DirectoryStore.open(d.path);
  t.teardown(async () => {
    await s.close();
    d.remove();
  });
  return s;
}

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return err instanceof DirectoryError ? err.code : String(err);
  }
}

test('domains, users and aliases with clear errors for duplicates, unknown domains and bad addresses', async (t) => {
  const s = await dir(t);
  t.is(await code(s.addUser({ address: 'alice@example.test' })), 'NOT_FOUND', 'the domain must exist first');
  await s.addDomain('Example.TEST');
  t.is(await code(s.addDomain('example.test')), 'EXISTS');
  t.is(await code(s.addDomain('not a domain')), 'INVALID');
  t.deepEqual(s.domains().map((d) => d.name), ['example.test']);
  const alice = await s.addUser({ address: 'Alice@Example.test', displayName: 'Alice Example' });
  t.is(alice.address, 'alice@example.test');
  t.regex(alice.legacyDn, /^\/o=Stoa\/ou=Exchange Administrative Group \(FYDIBOHF23SPDLT\)\/cn=Recipients\/cn=[0-9a-f]{32}$/);
  t.is(await code(s.addUser({ address: 'ALICE@example.test' })), 'EXISTS');
  t.is(await code(s.addUser({ address: '../x@example.test' })), 'INVALID');
  await s.addAlias('alice@example.test', 'a.example@example.test');
  t.is(s.userByAddress('A.Example@EXAMPLE.test')?.id, alice.id, 'aliases resolve in any case');
  t.is(await code(s.addAlias('alice@example.test', 'alice@example.test')), 'EXISTS');
  t.is(s.userByLegacyDn(alice.legacyDn.toUpperCase())?.id, alice.id, 'legacy DNs compare case-insensitively');
  await s.removeAlias('alice@example.test', 'A.EXAMPLE@example.test');
  t.is(s.userByAddress('a.example@example.test'), undefined);
  t.is(await code(s.removeDomain('example.test')), 'IN_USE');
  t.false('passwordHash' in userView(alice));
  await s.removeUser('alice@example.test');
  t.is(s.userByAddress('alice@example.test'), undefined);
  t.is(s.userByLegacyDn(alice.legacyDn), undefined);
  await s.removeDomain('example.test');
  t.deepEqual(s.domains(), []);
});

test('password changes and disabling bump the credential generation; quotas validate', async (t) => {
  const s = await dir(t);
  await s.addDomain('example.test');
  const u = await s.addUser({ address: 'bob@example.test', passwordHash: 'scrypt$x' });
  const g0 = u.credentialGeneration;
  t.is((await s.setPassword('bob@example.test', 'scrypt$y', 'abcd')).credentialGeneration, g0 + 1);
  t.is((await s.setEnabled('bob@example.test', false)).credentialGeneration, g0 + 2);
  t.false(s.userByAddress('bob@example.test')!.enabled);
  t.is((await s.setQuota('bob@example.test', 1 << 30)).quotaBytes, 1 << 30);
  t.is(await code(s.setQuota('bob@example.test', -1)), 'INVALID');
  t.is(await code(s.setPassword('nobody@example.test', 'h', null)), 'NOT_FOUND');
  const secret = await s.secret();
  t.is(secret.length, 32);
  t.deepEqual(await s.secret(), secret, 'the secret is kept');
});

test('groups expand to their users, nested, without looping', async (t) => {
  const s = await dir(t);
  await s.addDomain('example.test');
  for (const n of ['a', 'b', 'c']) await s.addUser({ address: `${n}@example.test` });
  await s.addGroup('team@example.test', 'Team');
  await s.addGroup('all@example.test');
  await s.setGroupMember('team@example.test', 'a@example.test', true);
  await s.setGroupMember('team@example.test', 'b@example.test', true);
  await s.setGroupMember('all@example.test', 'team@example.test', true);
  await s.setGroupMember('all@example.test', 'c@example.test', true);
  await s.setGroupMember('team@example.test', 'all@example.test', true); // a cycle
  t.deepEqual(s.expand('ALL@example.test').map((u) => u.address).sort(), ['a@example.test', 'b@example.test', 'c@example.test']);
  t.deepEqual(s.expand('b@example.test').map((u) => u.address), ['b@example.test']);
  t.deepEqual(s.expand('nobody@example.test'), []);
  t.is(await code(s.setGroupMember('team@example.test', 'ghost@example.test', true)), 'NOT_FOUND');
  t.is(await code(s.setGroupMember('team@example.test', 'team@example.test', true)), 'INVALID');
  await s.setGroupMember('team@example.test', 'a@example.test', false);
  t.deepEqual(s.expand('team@example.test').map((u) => u.address).sort(), ['b@example.test', 'c@example.test']);
});
