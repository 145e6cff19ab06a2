import test from 'ava';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { freePortBase } from '../ports.js';
import { runCli, spawnServer, testEnv, waitStarted } from './server-process.js';
import { DirectoryStore } from '../../storage/directory-store.js';
import { verifyPassword } from '../../runtime/cpu-tasks.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';

// Cheap hashing for tests; the default (N = 32768) is the production setting.
const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test' });

test('first start creates the first admin login; the CLI manages users live and offline; mailboxes follow', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const base = await freePortBase();
  const s = spawnServer(['--data', data.path, '--port-base', String(base), '--workers', '1'], env);
  t.teardown(() => s.proc.kill('SIGKILL'));
  await waitStarted(s);
  const m = /first admin login: (admin@mail\.example\.test) \/ (\S+) \(also in (\S+);/.exec(s.stderr());
  t.truthy(m, s.stderr());
  const [, admin, password, file] = m!;
  t.is(statSync(file!).mode & 0o777, 0o600);
  t.regex(readFileSync(file!, 'utf8'), new RegExp(`password: ${password}`));

  // Live: through the control socket, the mailbox actor provisions the mailbox.
  const add = await runCli(['--data', data.path, 'user', 'add', 'Alice@mail.example.test', '--name', 'Alice Example'], env);
  t.is(add.code, 0, add.stderr);
  const added = JSON.parse(add.stdout) as { user: { address: string; legacyDn: string }; mailbox: string; password: string };
  t.is(added.user.address, 'alice@mail.example.test');
  t.is(added.password.length, 24, 'a generated password is printed once');
  t.true(added.mailbox.endsWith(join('mailboxes', 'mail.example.test', 'alice')));
  const dup = await runCli(['--data', data.path, 'user', 'add', 'alice@mail.example.test'], env);
  t.is(dup.code, 1);
  t.regex(dup.stderr, /alice@mail\.example\.test is already in use/);
  const noDomain = await runCli(['--data', data.path, 'user', 'add', 'bob@elsewhere.test', '--password', 'long enough'], env);
  t.is(noDomain.code, 1);
  t.regex(noDomain.stderr, /domain elsewhere\.test is not served here \(add it first: domain add elsewhere\.test\)/);
  const bad = await runCli(['--data', data.path, 'user', 'frobnicate'], env);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /unknown command: user frobnicate/);
  const list = JSON.parse((await runCli(['--data', data.path, 'user', 'list'], env)).stdout) as { address: string; admin: boolean }[];
  t.deepEqual(list.map((u) => [u.address, u.admin]).sort(), [
    [admin, true],
    ['alice@mail.example.test', false],
  ]);
  // Mailbox commands, live: stats, quota, a hot backup, and a restore (the mailbox is held meanwhile).
  const stats = JSON.parse((await runCli(['--data', data.path, 'mailbox', 'stats', 'alice@mail.example.test'], env)).stdout) as { folders: number; messages: number; quotaState: string };
  t.true(stats.folders >= 28);
  t.is(stats.messages, 0);
  t.is((await runCli(['--data', data.path, 'user', 'quota', 'alice@mail.example.test', '1000000'], env)).code, 0);
  t.deepEqual((JSON.parse((await runCli(['--data', data.path, 'mailbox', 'stats', 'alice@mail.example.test'], env)).stdout) as { quota: unknown }).quota, { warnBytes: 900000, sendBytes: 1000000, receiveBytes: 1100000 });
  const backupFile = join(data.path, 'alice.backup');
  const bk = await runCli(['--data', data.path, 'mailbox', 'backup', 'alice@mail.example.test', backupFile], env);
  t.is(bk.code, 0, bk.stderr);
  t.true(statSync(backupFile).size > 0);
  const again1 = await runCli(['--data', data.path, 'mailbox', 'backup', 'alice@mail.example.test', backupFile], env);
  t.is(again1.code, 1);
  t.regex(again1.stderr, /exists already/);
  const rs = await runCli(['--data', data.path, 'mailbox', 'restore', 'alice@mail.example.test', backupFile], env);
  t.is(rs.code, 0, rs.stderr);
  const wrong = await runCli(['--data', data.path, 'mailbox', 'restore', admin!, backupFile], env);
  t.is(wrong.code, 1);
  t.regex(wrong.stderr, /is a backup of another mailbox \(Alice Example\)/);

  t.is((await runCli(['--data', data.path, 'shutdown'], env)).code, 0);
  t.is(await s.exited, 0);

  // Offline: the CLI opens the directory and the mailbox directly.
  t.is((await runCli(['--data', data.path, 'domain', 'add', 'second.test'], env)).code, 0);
  const off = await runCli(['--data', data.path, 'user', 'add', 'carol@second.test', '--password', 'carols secret'], env);
  t.is(off.code, 0, off.stderr);
  t.is((await runCli(['--data', data.path, 'alias', 'add', 'carol@second.test', 'c@second.test'], env)).code, 0);
  // Profile fields and hiding from address lists.
  const set = await runCli(['--data', data.path, 'user', 'set', 'carol@second.test', '--title', 'Engineer', '--given-name', 'Carol', '--phone', '+1 555 0100', '--hidden', 'yes'], env);
  t.is(set.code, 0, set.stderr);
  const setOut = JSON.parse(set.stdout) as { profile: unknown; hidden: boolean; passwordHash?: unknown };
  t.deepEqual(setOut.profile, { title: 'Engineer', phone: '+1 555 0100', givenName: 'Carol' });
  t.true(setOut.hidden);
  t.false('passwordHash' in setOut);
  const cleared = JSON.parse((await runCli(['--data', data.path, 'user', 'set', 'carol@second.test', '--phone', '', '--hidden', 'no'], env)).stdout) as { profile: unknown; hidden: boolean };
  t.deepEqual(cleared, { ...cleared, profile: { title: 'Engineer', givenName: 'Carol' }, hidden: false });
  const badHidden = await runCli(['--data', data.path, 'user', 'set', 'carol@second.test', '--hidden', 'maybe'], env);
  t.is(badHidden.code, 2);
  t.regex(badHidden.stderr, /--hidden takes yes or no/);
  t.is((await runCli(['--data', data.path, 'user', 'set', 'carol@second.test'], env)).code, 2, 'nothing to set');
  const tooLong = await runCli(['--data', data.path, 'user', 'set', 'carol@second.test', '--title', 'x'.repeat(300)], env);
  t.is(tooLong.code, 1);
  t.regex(tooLong.stderr, /title has 1 to 256 characters/);

  const dir = DirectoryStore.open(join(data.path, 'directory'));
  const carol = dir.userByAddress('C@second.test')!;
  t.is(carol.address, 'carol@second.test');
  t.true(verifyPassword({ password: 'carols secret', encoded: carol.passwordHash! }), 'a salted scrypt hash of the password');
  t.false(verifyPassword({ password: 'wrong', encoded: carol.passwordHash! }));
  t.true(verifyPassword({ password: password!, encoded: dir.userByAddress(admin!)!.passwordHash! }));
  await dir.close();
  const mbxEnv = await MailboxEnv.open(join(data.path, 'mailboxes', 'second.test', 'carol'));
  const store = new MailboxStore(mbxEnv);
  t.is(store.identity()?.legacyDn, carol.legacyDn, 'the mailbox knows its owner by the same legacy DN');
  await mbxEnv.close();

  // Offline mailbox commands.
  t.is((await runCli(['--data', data.path, 'mailbox', 'restore', 'alice@mail.example.test', backupFile], env)).code, 0);
  t.is(JSON.parse((await runCli(['--data', data.path, 'mailbox', 'stats', 'carol@second.test'], env)).stdout).messages, 0);

  // The next start creates no second admin.
  const again = spawnServer(['--data', data.path, '--port-base', String(base), '--workers', '1'], env);
  t.teardown(() => again.proc.kill('SIGKILL'));
  await waitStarted(again);
  t.notRegex(again.stderr(), /first admin login/);
  t.is((await runCli(['--data', data.path, 'shutdown'], env)).code, 0);
  t.is(await again.exited, 0);
});
