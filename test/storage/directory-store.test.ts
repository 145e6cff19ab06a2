import test from 'ava';
import { DirectoryError, DirectoryStore, isHidden, userView, type UserRecord } from '../../storage/directory-store.js';
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

test('profile fields and hiding: set, cleared, validated; records without them read as no profile, not hidden; synced users', async (t) => {
  const s = await dir(t);
  await s.addDomain('example.test');
  const alice = await s.addUser({ address: 'alice@example.test', displayName: 'Alice Example' });
  t.is(alice.profile, undefined);
  t.false(isHidden(alice));
  t.false(userView(alice).hidden, 'userView says hidden: false for a record without the field');
  let u = await s.setProfile('alice@example.test', { title: '  Engineer ', department: 'R&D', phone: '+1 555 0100' });
  t.deepEqual(u.profile, { title: 'Engineer', department: 'R&D', phone: '+1 555 0100' });
  u = await s.setProfile('ALICE@example.test', { title: '', mobile: '+1 555 0199', givenName: 'Alice', surname: 'Example' });
  t.deepEqual(s.userById(alice.id)!.profile, { department: 'R&D', phone: '+1 555 0100', mobile: '+1 555 0199', givenName: 'Alice', surname: 'Example' }, "'' clears a field; others are kept");
  await s.setProfile('alice@example.test', { department: '', phone: '', mobile: '', givenName: '', surname: '' });
  t.false('profile' in s.userById(alice.id)!, 'an empty profile is not stored');
  t.is(await code(s.setProfile('alice@example.test', { title: 'x'.repeat(257) })), 'INVALID');
  t.is(await code(s.setProfile('alice@example.test', { title: 'a\nb' })), 'INVALID');
  t.is(await code(s.setProfile('alice@example.test', { nickname: 'x' } as never)), 'INVALID');
  t.is(await code(s.setProfile('nobody@example.test', { title: 'x' })), 'NOT_FOUND');
  await s.setProfile('alice@example.test', { title: 'x'.repeat(256) });
  t.is(s.userById(alice.id)!.profile?.title?.length, 256);

  t.true(isHidden(await s.setHidden('alice@example.test', true)));
  t.true(userView(s.userById(alice.id)!).hidden);
  t.false(isHidden(await s.setHidden('alice@example.test', false)));
  t.false('hidden' in s.userById(alice.id)!);

  // A record written before the fields existed.
  const old = { ...s.userById(alice.id)! } as Partial<UserRecord>;
  delete old.profile;
  delete old.hidden;
  await s.db.put(['u', alice.id], old);
  t.false(isHidden(s.userById(alice.id)!));
  t.is(s.userById(alice.id)!.profile, undefined);

  // A synced user: the profile comes from the directory; hiding here holds whatever it says.
  const base = { config: 'corp', sourceId: 'id-1', userId: 'u-1', dn: 'uid=bob', address: 'bob@example.test', aliases: [], displayName: 'Bob', disabled: false, passwordStamp: '' };
  const [made] = await s.applySourcedUsers([{ ...base, profile: { title: 'Builder' }, hidden: false }]);
  t.is(made?.kind, 'created');
  t.deepEqual(s.userByAddress('bob@example.test')!.profile, { title: 'Builder' });
  const [same] = await s.applySourcedUsers([{ ...base, profile: { title: 'Builder' }, hidden: false }]);
  t.is(same?.kind, 'unchanged');
  const [changed] = await s.applySourcedUsers([{ ...base, profile: { title: 'Chief Builder', department: 'Works' }, hidden: true }]);
  t.is(changed?.kind, 'updated');
  let bob = s.userByAddress('bob@example.test')!;
  t.deepEqual(bob.profile, { title: 'Chief Builder', department: 'Works' });
  t.true(isHidden(bob), 'hidden in the directory');
  t.is(await code(s.setProfile('bob@example.test', { title: 'x' })), 'INVALID');
  bob = await s.setHidden('bob@example.test', false);
  t.true(isHidden(bob), 'showing a user the directory hides lifts only the local choice');
  await s.applySourcedUsers([{ ...base, hidden: false }]);
  bob = s.userByAddress('bob@example.test')!;
  t.false(isHidden(bob));
  t.is(bob.profile, undefined, 'fields gone from the directory are gone here');
  await s.setHidden('bob@example.test', true);
  const [again] = await s.applySourcedUsers([{ ...base, hidden: false }]);
  t.is(again?.kind, 'unchanged');
  t.true(isHidden(s.userByAddress('bob@example.test')!), 'an operator\'s hiding survives the sync');
});
