/**
 * "250 means on disk": messages are delivered over SMTP to the real server process, which is
 * killed with SIGKILL at a random point; after a restart every message that got 250 is in the
 * mailbox exactly once.
 */
import test from 'ava';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { freePortBase } from '../ports.js';
import { runCli, spawnServer, testEnv, waitStarted } from './server-process.js';

const env = testEnv({ STOA_AUTH_SCRYPT_N: '1024', STOA_SERVER_HOSTNAME: 'mail.example.test' });
const SESSIONS = 4;

function lines(s: Socket): () => Promise<string> {
  let buf = '';
  const waiting: ((l: string) => void)[] = [];
  const ready: string[] = [];
  s.setEncoding('latin1');
  s.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const l = buf.slice(0, nl).trimEnd();
      buf = buf.slice(nl + 1);
      if (l[3] === '-') continue;
      const w = waiting.shift();
      if (w !== undefined) w(l);
      else ready.push(l);
    }
  });
  return () => (ready.length > 0 ? Promise.resolve(ready.shift()!) : new Promise((r) => waiting.push(r)));
}

test('every message answered 250 survives a SIGKILL exactly once', async (t) => {
  const data = tempDir();
  t.teardown(data.remove);
  const base = await freePortBase();
  const args = ['--data', data.path, '--port-base', String(base), '--workers', '1'];
  let s = spawnServer(args, env);
  t.teardown(() => s.proc.kill('SIGKILL'));
  await waitStarted(s);
  t.is((await runCli(['--data', data.path, 'user', 'add', 'kill@mail.example.test', '--password', 'kill password'], env)).code, 0);

  const acked = new Set<number>();
  let next = 0;
  let killed = false;
  const failures: string[] = [];
  let ended = 0;
  const session = async () => {
    const sock = connect(base + 25, '127.0.0.1');
    sock.on('error', () => undefined);
    const read = lines(sock);
    try {
      await read();
      sock.write('EHLO killer\r\n');
      await read();
      while (!killed) {
        const i = next++;
        sock.write(`MAIL FROM:<k@example.org>\r\nRCPT TO:<kill@mail.example.test>\r\nDATA\r\n`);
        const r = [await read(), await read(), await read()];
        if (!r[2]!.startsWith('354')) {
          failures.push(r.join(' | '));
          break;
        }
        sock.write(`Message-ID: <kill-${i}@example.org>\r\nSubject: ${i}\r\n\r\nbody ${i}\r\n.\r\n`);
        const done = await read();
        if (done.startsWith('250')) acked.add(i);
      }
    } catch {
      // the server died under us
    }
    sock.destroy();
    ended++;
  };
  const running = Array.from({ length: SESSIONS }, () => session());
  // Kill at a random point once some mail got through.
  const killAfter = 30 + Math.floor(Math.random() * 120);
  while (acked.size < killAfter && ended < SESSIONS) await new Promise((r) => setTimeout(r, 5));
  t.deepEqual(failures, [], 'no refusals before the kill');
  const exited = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGKILL');
  killed = true;
  await Promise.race([Promise.all(running), new Promise((r) => setTimeout(r, 5000))]);
  await exited;
  t.true(acked.size >= killAfter);

  s = spawnServer(args, env);
  await waitStarted(s);
  const out = join(data.path, 'after.mbox');
  const exp = await runCli(['--data', data.path, 'mailbox', 'export', 'kill@mail.example.test', 'Inbox', out], env);
  t.is(exp.code, 0, exp.stderr);
  const ids = [...readFileSync(out, 'latin1').matchAll(/^Message-ID: <kill-(\d+)@example\.org>$/gm)].map((m) => Number(m[1]));
  const counts = new Map<number, number>();
  for (const i of ids) counts.set(i, (counts.get(i) ?? 0) + 1);
  for (const i of acked) t.is(counts.get(i), 1, `message ${i} was acknowledged`);
  t.true([...counts.values()].every((c) => c === 1), 'no message is there twice');
});
