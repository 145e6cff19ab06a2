import test from 'ava';
import { Authenticator } from '../../runtime/auth.js';
import { CpuPool } from '../../runtime/cpu-pool.js';
import { DirectoryStore } from '../../storage/directory-store.js';
import { tempDir } from '../helpers.js';

const FAST = { n: 1024, r: 8, p: 1 };

async function setup(t: { teardown(fn: () => unknown): void }, cacheMs = 300_000) {
  const d = tempDir();
  const dir = DirectoryStore.open(d.path);
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: FAST, cacheMs, storeNtHash: true });
  t.teardown(async () => {
    await pool.close();
    await dir.close();
    d.remove();
  });
  await dir.addDomain('example.test');
  const h = await auth.hash('correct horse');
  await dir.addUser({ address: 'alice@example.test', ...h });
  return { dir, pool, auth };
}

test('passwords are stored as salted scrypt hashes (with the NT hash) and checked in the CPU pool', async (t) => {
  const { dir, pool, auth } = await setup(t);
  const u = dir.userByAddress('alice@example.test')!;
  t.regex(u.passwordHash!, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  t.not((await auth.hash('correct horse')).passwordHash, u.passwordHash, 'salted: the same password hashes differently');
  t.is(u.ntHash!.length, 32);
  const before = pool.pooledRuns;
  t.is((await auth.verify('Alice@Example.test', 'correct horse')).result, 'ok');
  t.true(pool.pooledRuns > before, 'the check ran in the pool');
  t.is((await auth.verify('alice@example.test', 'wrong')).result, 'bad-credentials');
  t.is((await auth.verify('alice@example.test', '')).result, 'bad-credentials', 'an empty password never passes');
  t.is((await auth.verify('nobody@example.test', 'correct horse')).result, 'bad-credentials', 'unknown users look like wrong passwords');
});

test('successful checks are cached; a password change or disable voids the cache at once', async (t) => {
  const { dir, pool, auth } = await setup(t);
  t.is((await auth.verify('alice@example.test', 'correct horse')).result, 'ok');
  const runs = pool.pooledRuns;
  t.is((await auth.verify('ALICE@example.test', 'correct horse')).result, 'ok');
  t.is(pool.pooledRuns, runs, 'no scrypt for a cached login');
  t.is(auth.hits, 1);
  const h = await auth.hash('battery staple');
  await dir.setPassword('alice@example.test', h.passwordHash, h.ntHash);
  t.is((await auth.verify('alice@example.test', 'correct horse')).result, 'bad-credentials', 'the old password is dead, cache or not');
  t.is((await auth.verify('alice@example.test', 'battery staple')).result, 'ok');
  await dir.setEnabled('alice@example.test', false);
  t.is((await auth.verify('alice@example.test', 'battery staple')).result, 'bad-credentials', 'a disabled account fails even when cached');
});

test('with the pool gone, a check answers temporarily-unavailable instead of failing the login', async (t) => {
  const { pool, auth } = await setup(t, 0);
  await pool.close();
  t.is((await auth.verify('alice@example.test', 'correct horse')).result, 'temporarily-unavailable');
});
