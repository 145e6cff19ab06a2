/**
 * The LDAP backend against a real private slapd (test/fixtures/ldap/slapd.ts): paged reads past
 * the server's size limit, lookups with injection attempts, binds, failover over a URI list,
 * an outage and the recovery; then the sync into the embedded directory (users, aliases, groups,
 * renames keeping the mailbox, users gone and pruned, the guard against mass disabling).
 */
import test from 'ava';
import { pino } from 'pino';
import { SizeLimitExceededError } from 'ldapts';
import { attributeMap } from '../../../storage/ldap/attribute-maps.js';
import { LdapDirectory, type LdapSettings } from '../../../storage/ldap/ldap-directory.js';
import { LdapPool, LdapUnavailable, type LdapPoolOptions } from '../../../storage/ldap/ldap-pool.js';
import { DirectoryStore, type UserRecord } from '../../../storage/directory-store.js';
import { DirectorySync, type SyncBackend } from '../../../runtime/directory-sync.js';
import { LDAP_SCHEMA, type LdapConfig } from '../../../runtime/config.js';
import { SERVICE_DN, SERVICE_PW, SUFFIX, Slapd, fixtureLdif, slapdMissing } from '../../fixtures/ldap/slapd.js';
import { tempDir } from '../../helpers.js';

const missing = slapdMissing();
if (missing !== null) console.warn(`# ${missing}`);
const ltest = missing === null ? test.serial : test.serial.skip;

/** 25 extra users; the service account may read at most 10 entries without paging. */
let slapd: Slapd;
test.before(async () => {
  if (missing !== null) return;
  slapd = await Slapd.create({ ldif: fixtureLdif(25), extraConf: `limits dn.exact="${SERVICE_DN}" size.soft=10 size.hard=10 size.pr=5 size.prtotal=unlimited` });
});
test.after.always(async () => {
  if (missing === null) await slapd?.destroy();
});

function poolOpts(extra: Partial<LdapPoolOptions> = {}): LdapPoolOptions {
  return { uris: [slapd.url], starttls: false, caFile: '', verifyTls: true, connectTimeoutMs: 2000, timeoutMs: 5000, retryMs: 300, max: 4, bind: { dn: SERVICE_DN, password: SERVICE_PW }, ...extra };
}

function settings(extra: Partial<LdapSettings> = {}): LdapSettings {
  return {
    name: 'corp',
    map: attributeMap('openldap', { disabled: 'employeeType=disabled' }),
    baseDn: SUFFIX,
    userFilter: '(!(employeeType=contractor))',
    groupFilter: '',
    groups: true,
    domains: ['example.test'],
    pageSize: 5,
    ...extra,
  };
}

function directory(extra: Partial<LdapSettings> = {}, pool: Partial<LdapPoolOptions> = {}) {
  const searches = new LdapPool(poolOpts(pool));
  const binds = new LdapPool(poolOpts({ ...pool, bind: null }));
  return { d: new LdapDirectory(settings(extra), searches, binds), searches, binds, close: () => Promise.all([searches.close(), binds.close()]) };
}

ltest('paged search reads every user past the size limit; a partial filter and other domains leave entries out', async (t) => {
  const { d, close } = directory();
  t.teardown(close);
  const reads: number[] = [];
  const r = await d.readUsers((n) => reads.push(n));
  const addrs = r.users.map((u) => u.address);
  t.is(addrs.filter((a) => a.startsWith('page')).length, 25, 'more entries than the 10 a plain search may return');
  t.true(reads.length >= 6, `pages of 5: ${reads.join(',')}`);
  t.true(addrs.includes('alice@example.test') && addrs.includes('star@example.test'));
  t.false(addrs.includes('frank@example.test'), 'contractors are filtered out');
  t.false(addrs.some((a) => a.endsWith('@elsewhere.test')));
  t.deepEqual(r.users.find((u) => u.address === 'alice@example.test')!.aliases, ['a.liddell@example.test']);
  t.true(r.users.find((u) => u.address === 'carol@example.test')!.disabled);
  t.deepEqual(r.skipped.map((s) => s.reason).sort(), ['no-address', 'other-domain']);
  const plain = new LdapPool(poolOpts());
  t.teardown(() => plain.close());
  await t.throwsAsync(plain.use((c) => c.search(SUFFIX, { scope: 'sub', filter: '(objectClass=inetOrgPerson)' })), { instanceOf: SizeLimitExceededError }, 'without paging the server stops at 10');
});

ltest('lookups escape filter metacharacters; binds check passwords; empty passwords never bind', async (t) => {
  const { d, close } = directory();
  t.teardown(close);
  const alice = await d.lookup('alice');
  t.is(alice.kind, 'found');
  if (alice.kind !== 'found') return;
  t.is((await d.lookup('A.Liddell@example.test')).kind, 'found', 'an alias finds the user');
  for (const evil of ['*', 'al*', 'alice)(uid=*', '*)(|(uid=*', 'alice\0', 'star*', '\\2a']) t.is((await d.lookup(evil)).kind, 'none', JSON.stringify(evil));
  t.is((await d.lookup('star*user')).kind, 'found', 'a literal * matches itself');
  t.is((await d.lookup('frank')).kind, 'none', 'outside the filter');
  t.true(await d.bind(alice.user.dn, 'alice-pw'));
  t.false(await d.bind(alice.user.dn, 'wrong'));
  t.false(await d.bind(alice.user.dn, ''), 'RFC 4513 5.1.2: an empty password would be an unauthenticated bind');
  const again = await d.lookupById(alice.user.id);
  t.is(again.kind === 'found' ? again.user.dn : null, alice.user.dn);
  await d.dummyBind('whatever');
});

ltest('failover: a dead first URI is passed over; a dead server answers unavailable and recovery follows', async (t) => {
  const deadPort = 1; // nothing listens on port 1 on loopback
  const { d, searches, close } = directory({}, { uris: [`ldap://127.0.0.1:${deadPort}`, slapd.url], connectTimeoutMs: 500 });
  t.teardown(close);
  t.is((await d.lookup('bob')).kind, 'found');
  t.is(searches.stats().uri, slapd.url);
  await slapd.stop();
  try {
    await t.throwsAsync(d.lookup('bob'), { instanceOf: LdapUnavailable });
    await t.throwsAsync(d.bind(`uid=bob,ou=people,${SUFFIX}`, 'bob-pw'), { instanceOf: LdapUnavailable });
    t.false(searches.stats().up);
  } finally {
    await slapd.start();
  }
  await new Promise((r) => setTimeout(r, 350)); // retry_seconds of this pool: 0.3 s
  t.is((await d.lookup('bob')).kind, 'found', 'back after the retry pause');
  t.true(await d.bind(`uid=bob,ou=people,${SUFFIX}`, 'bob-pw'));
});

function ldapConfig(extra: Partial<LdapConfig> = {}): LdapConfig {
  const c = Object.fromEntries(Object.entries(LDAP_SCHEMA).map(([k, f]) => [k, f.default])) as unknown as LdapConfig;
  return { ...c, uris: slapd.url, bind_dn: SERVICE_DN, bind_password: SERVICE_PW, base_dn: SUFFIX, domains: 'example.test', disabled_when: 'employeeType=disabled', user_filter: '(!(employeeType=contractor))', page_size: 5, retry_seconds: 0, ...extra };
}

/** A DirectorySync on a temp directory with mailboxes as a set of addresses. */
async function syncSetup(t: { teardown(fn: () => unknown): void }, extra: Partial<LdapConfig> = {}) {
  const tmp = tempDir();
  const dir = DirectoryStore.open(tmp.path);
  const mailboxes = new Map<string, string>(); // address → user id
  const moves: string[] = [];
  const backend: SyncBackend = {
    dir,
    log: pino({ level: 'silent' }),
    provisionMailbox: async (u: UserRecord) => void mailboxes.set(u.address, u.id),
    mailboxExists: (a) => mailboxes.has(a),
    moveMailbox: async (from, to, commit) => {
      moves.push(`${from}>${to}`);
      mailboxes.set(to, mailboxes.get(from)!);
      mailboxes.delete(from);
      await commit();
    },
    removeMailbox: async (u) => void mailboxes.delete(u.address),
    addDomain: async (d) => void (await dir.addDomain(d)),
  };
  const sync = new DirectorySync({ corp: ldapConfig(extra) }, backend);
  t.teardown(async () => {
    await sync.stop();
    await dir.close();
    tmp.remove();
  });
  return { dir, sync, mailboxes, moves, backend };
}

ltest('sync: users with aliases and mailboxes, the disabled one disabled, nested groups, then nothing to do', async (t) => {
  const { dir, sync, mailboxes } = await syncSetup(t);
  const progress: string[] = [];
  const [s] = await sync.sync({}, (p) => progress.push(p.phase));
  t.true(s!.ok, s!.error);
  t.is(s!.users.created, 29, 'alice, bob, carol, star*user and 25 more');
  t.is(s!.users.disabled, 1);
  t.is(s!.users.mailboxesCreated, 29);
  t.deepEqual(s!.users.conflicts, []);
  t.true(progress.includes('read') && progress.includes('users') && progress.includes('mailboxes') && progress.at(-1) === 'done');
  const alice = dir.userByAddress('a.liddell@example.test')!;
  t.is(alice.address, 'alice@example.test');
  t.is(alice.displayName, 'Alice Liddell');
  t.is(alice.source?.kind, 'ldap');
  t.is(alice.id, alice.source!.id, 'the user id is the entryUUID');
  t.false(dir.userByAddress('carol@example.test')!.enabled);
  t.is(mailboxes.size, 29);
  const staff = dir.groupByAddress('staff@example.test')!;
  t.deepEqual([...staff.members].sort(), ['alice@example.test', 'bob@example.test', 'devs@example.test'], 'team (no address) is flattened');
  t.deepEqual(dir.expand('staff@example.test').map((u) => u.address).sort(), ['alice@example.test', 'bob@example.test', 'star@example.test']);
  const [again] = await sync.sync();
  t.is(again!.users.created + again!.users.updated, 0);
  t.is(again!.users.unchanged, 29);
  t.deepEqual(again!.groups, { created: 0, updated: 0, removed: 0, conflicts: [] });
  // The profile the address book shows: inetOrgPerson's title, ou, telephoneNumber, givenName, sn.
  t.deepEqual(dir.userByAddress('alice@example.test')!.profile, { title: 'Curious Explorer', department: 'Wonderland Research', phone: '+44 1865 270000', givenName: 'Alice', surname: 'Liddell' });
  t.deepEqual(dir.userByAddress('bob@example.test')!.profile, { surname: 'Builder' });
  // A changed title is a change the sync sees and applies.
  const admin = await slapd.admin();
  t.teardown(() => admin.unbind());
  const { Change, Attribute } = await import('ldapts');
  const setTitle = (title: string) => admin.modify(`uid=alice,ou=people,${SUFFIX}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: [title] }) }));
  await setTitle('Queen');
  try {
    const [changed] = await sync.sync();
    t.is(changed!.users.updated, 1);
    t.is(dir.userByAddress('alice@example.test')!.profile?.title, 'Queen');
    t.false(dir.userByAddress('alice@example.test')!.hidden === true, 'OpenLDAP has no hiding attribute');
  } finally {
    await setTitle('Curious Explorer');
  }
});

ltest('sync: a rename keeps the user and moves its mailbox; a user gone is disabled, listed, and pruned only with --yes', async (t) => {
  const { dir, sync, mailboxes, moves } = await syncSetup(t);
  await sync.sync();
  const before = dir.userByAddress('bob@example.test')!;
  const admin = await slapd.admin();
  t.teardown(() => admin.unbind());
  const { Change, Attribute } = await import('ldapts');
  await admin.modify(`uid=bob,ou=people,${SUFFIX}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['robert@example.test'] }) }));
  await admin.modifyDN(`uid=page00001,ou=people,${SUFFIX}`, `uid=page00001,ou=contractors,${SUFFIX}`); // a move keeps the id
  const [s] = await sync.sync();
  t.deepEqual(s!.users.renamed, [{ from: 'bob@example.test', to: 'robert@example.test' }]);
  t.deepEqual(moves, ['bob@example.test>robert@example.test']);
  const after = dir.userByAddress('robert@example.test')!;
  t.is(after.id, before.id, 'same user, same id');
  t.is(dir.userByAddress('bob@example.test')?.id, before.id, 'the old address is kept as an alias');
  t.is(mailboxes.get('robert@example.test'), before.id);
  t.true(dir.groupByAddress('staff@example.test')!.members.includes('robert@example.test'));
  t.is(dir.userByAddress('page00001@example.test')!.source!.dn, `uid=page00001,ou=contractors,${SUFFIX}`);
  // Gone: deleted in LDAP.
  await admin.del(`uid=star*user,ou=people,${SUFFIX}`);
  const [g] = await sync.sync();
  t.deepEqual(g!.users.gone, ['star@example.test']);
  const star = dir.userByAddress('star@example.test')!;
  t.false(star.enabled);
  t.true(mailboxes.has('star@example.test'), 'the mailbox is kept');
  const [dry] = await sync.sync({ prune: true });
  t.deepEqual(dry!.wouldPrune, ['star@example.test']);
  t.truthy(dir.userByAddress('star@example.test'));
  const [pruned] = await sync.sync({ prune: true, yes: true });
  t.deepEqual(pruned!.users.pruned, ['star@example.test']);
  t.is(dir.userByAddress('star@example.test'), undefined);
  t.false(mailboxes.has('star@example.test'));
  // Put things back for the tests after.
  await admin.modify(`uid=bob,ou=people,${SUFFIX}`, new Change({ operation: 'replace', modification: new Attribute({ type: 'mail', values: ['bob@example.test'] }) }));
  await admin.modifyDN(`uid=page00001,ou=contractors,${SUFFIX}`, `uid=page00001,ou=people,${SUFFIX}`);
  await admin.add(`uid=star*user,ou=people,${SUFFIX}`, { objectClass: 'inetOrgPerson', uid: 'star*user', cn: 'Star User', sn: 'User', mail: 'star@example.test', userPassword: 'star-pw' });
});

ltest('sync: a filter that drops most users changes nothing without --force', async (t) => {
  const { dir, sync, backend } = await syncSetup(t);
  await sync.sync();
  // The same directory, now read through a filter that keeps one user of 29.
  const guarded = new DirectorySync({ corp: ldapConfig({ user_filter: '(uid=alice)' }) }, backend);
  t.teardown(() => guarded.stop());
  const [s] = await guarded.sync();
  t.false(s!.ok);
  t.regex(s!.error!, /refusing: 28 of 29 users would be gone/);
  t.true(dir.userByAddress('bob@example.test')!.enabled);
  const [f] = await guarded.sync({ force: true });
  t.true(f!.ok);
  t.false(dir.userByAddress('bob@example.test')!.enabled);
});

ltest('logins through the sync: bind, create on first login, refusals that reveal nothing, outage', async (t) => {
  const { dir, sync, mailboxes } = await syncSetup(t);
  const ok = await sync.verify('bob', 'bob-pw', undefined);
  t.is(ok?.result, 'ok');
  t.is(ok?.result === 'ok' ? ok.user.address : '', 'bob@example.test');
  t.true(mailboxes.has('bob@example.test'), 'created with its mailbox at first login');
  t.is((await sync.verify('bob@example.test', 'bad', dir.userByAddress('bob@example.test')))?.result, 'bad-credentials');
  t.is((await sync.verify('carol', 'carol-pw', undefined))?.result, 'bad-credentials', 'disabled in LDAP');
  t.is((await sync.verify('frank', 'frank-pw', undefined))?.result, 'bad-credentials', 'outside the filter');
  t.is((await sync.verify('nobody@example.test', 'x', undefined))?.result, 'bad-credentials');
  t.is((await sync.verify('*', 'bob-pw', undefined))?.result, 'bad-credentials');
  t.is((await sync.verify('dave@elsewhere.test', 'dave-pw', undefined)), null, 'a domain no directory serves is a local matter');
  await slapd.stop();
  try {
    t.is((await sync.verify('alice', 'alice-pw', undefined))?.result, 'temporarily-unavailable');
  } finally {
    await slapd.start();
  }
  t.is((await sync.verify('alice', 'alice-pw', undefined))?.result, 'ok', 'recovered (retry_seconds 0)');
});
