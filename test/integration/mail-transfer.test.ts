import test from 'ava';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCli, startedServer, testEnv } from './server-process.js';
import { allFixtures, thunderbird, webmail } from '../fixtures/mail/messages.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test' });

function mboxOf(messages: Buffer[]): Buffer {
  return Buffer.concat(
    messages.map((m, i) => {
      const body = m.toString('latin1').replace(/\r\n/g, '\n').replace(/^(>*From )/gm, '>$1');
      return Buffer.from(`From sender${i}@example.com Tue Mar  3 12:00:0${i % 10} 2020\n${body}${body.endsWith('\n') ? '' : '\n'}\n`, 'latin1');
    }),
  );
}

test('mailbox import (mbox and .eml folder) and export through the running server, with a summary', async (t) => {
  const { data: dataPath, base } = await startedServer(t, env);
  const data = { path: dataPath };
  t.is((await runCli(['--data', data.path, 'user', 'add', 'alice@mail.example.test', '--password', 'secret password'], env)).code, 0);

  const fixtures = Object.values(allFixtures);
  const mbox = join(data.path, 'in.mbox');
  writeFileSync(mbox, Buffer.concat([mboxOf(fixtures), Buffer.from('From nobody Tue Mar  3 12:00:00 2020\n\n')]));
  const imp = await runCli(['--data', data.path, 'mailbox', 'import', 'alice@mail.example.test', mbox, '--folder', 'Archive/2020'], env);
  t.is(imp.code, 0, imp.stderr);
  const sum = JSON.parse(imp.stdout) as { state: string; total: number; imported: number; skipped: number; failed: number };
  t.is(sum.state, 'done');
  t.is(sum.total, fixtures.length + 1);
  t.is(sum.imported, fixtures.length);
  t.is(sum.skipped, 1, 'the empty message');

  // Again: everything already there (same Message-ID) is skipped.
  const again = JSON.parse((await runCli(['--data', data.path, 'mailbox', 'import', 'alice@mail.example.test', mbox, '--folder', 'archive/2020'], env)).stdout) as { imported: number; skipped: number };
  const withIds = fixtures.filter((f) => /^Message-ID:/im.test(f.toString('latin1'))).length;
  t.is(again.skipped, withIds + 1);
  t.is(again.imported, fixtures.length - withIds);

  // A folder of .eml files into the Inbox.
  const emlDir = join(data.path, 'eml');
  mkdirSync(emlDir);
  writeFileSync(join(emlDir, 'a.eml'), thunderbird);
  writeFileSync(join(emlDir, 'b.eml'), webmail);
  writeFileSync(join(emlDir, 'ignored.txt'), 'x');
  const eml = JSON.parse((await runCli(['--data', data.path, 'mailbox', 'import', 'alice@mail.example.test', emlDir], env)).stdout) as { imported: number; folder: string };
  t.is(eml.imported, 2);
  t.is(eml.folder, 'Inbox');

  // Export: original MIME unchanged (line ends as mbox writes them), "From " lines escaped.
  const out = join(data.path, 'out.mbox');
  const exp = await runCli(['--data', data.path, 'mailbox', 'export', 'alice@mail.example.test', 'Inbox', out], env);
  t.is(exp.code, 0, exp.stderr);
  t.is((JSON.parse(exp.stdout) as { exported: number }).exported, 2);
  const text = readFileSync(out, 'latin1');
  t.is(text.match(/^From \S+ \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/gm)?.length, 2);
  t.true(text.includes(thunderbird.toString('latin1').replace(/\r\n/g, '\n')));

  const bad = await runCli(['--data', data.path, 'mailbox', 'export', 'alice@mail.example.test', 'No Such Folder', out], env);
  t.is(bad.code, 1);
  t.regex(bad.stderr, /no folder No Such Folder/);
  const nobody = await runCli(['--data', data.path, 'mailbox', 'import', 'nobody@mail.example.test', mbox], env);
  t.is(nobody.code, 1);
  t.regex(nobody.stderr, /no user nobody@mail\.example\.test/);
});
