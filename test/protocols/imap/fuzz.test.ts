import test from 'ava';
import { connect } from 'node:net';
import { startImap, RawClient, ALICE, PASSWORD, sampleMessage } from './harness.js';
import { rng } from '../../helpers.js';
import { pino } from 'pino';
import { Writable } from 'node:stream';

/** A logger that keeps error lines (a handler bug shows up as 'IMAP session failed'). */
function errorLog(): { log: pino.Logger; errors: string[] } {
  const errors: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      errors.push(chunk.toString());
      cb();
    },
  });
  return { log: pino({ level: 'error' }, dest), errors };
}

const WORDS = ['FETCH', 'UID', 'STORE', 'SEARCH', 'SELECT', 'LIST', 'APPEND', 'COPY', 'MOVE', 'EXPUNGE', 'NOOP', 'IDLE', 'STATUS', 'BODY[', 'BODY.PEEK[HEADER.FIELDS (', ']<0.10>', '(', ')', '{5}', '{3+}', '"', '\\', '*', '1:*', '2,4:3', 'FLAGS', '+FLAGS.SILENT', '\\Seen', 'INBOX', '&', '&Jjo-', 'OR', 'NOT', 'HEADER', 'CHARSET', 'UTF-8', ' ', ' ', ' ', 'x', '\r\n', '%', 'DONE'];

/** A random command: mostly grammar pieces, some raw bytes. */
function garbage(rand: () => number): Buffer {
  const parts: Buffer[] = [Buffer.from(`f${Math.floor(rand() * 1000)} `)];
  const n = 1 + Math.floor(rand() * 12);
  for (let i = 0; i < n; i++) {
    if (rand() < 0.1) parts.push(Buffer.from([Math.floor(rand() * 256)]));
    else parts.push(Buffer.from(WORDS[Math.floor(rand() * WORDS.length)]!));
  }
  parts.push(Buffer.from('\r\n'));
  return Buffer.concat(parts);
}

test('fuzz: random commands and bytes never crash the door; a fresh connection still works afterwards', async (t) => {
  const { log, errors } = errorLog();
  const { port, stack } = await startImap(t, { log, limits: { badCommands: 1000, lineBytes: 4096, literalBytes: 4096 } });
  const alice = stack.dir.userByAddress(ALICE)!;
  for (let i = 1; i <= 3; i++) await stack.delivery.deliver(Buffer.from(sampleMessage(i)), [alice]);
  for (let seed = 1; seed <= 12; seed++) {
    const rand = rng(seed);
    const { client } = await RawClient.open(port);
    await client.cmd(`LOGIN ${ALICE} "${PASSWORD}"`);
    if (seed % 2 === 0) await client.cmd('SELECT INBOX');
    for (let k = 0; k < 60; k++) {
      const g = garbage(rand);
      // Split the bytes at random places, as TCP may.
      let at = 0;
      while (at < g.length) {
        const step = 1 + Math.floor(rand() * g.length);
        client.write(g.subarray(at, at + step));
        at += step;
      }
    }
    client.write('zz1 NOOP\r\n');
    // Whatever the garbage did (an unfinished literal or IDLE may swallow our NOOP), the door
    // must answer or close cleanly, never hang the process or crash it.
    await client.readUntil((b) => /zz1 (OK|NO|BAD)/.test(b) || client.closed, 1500);
    client.close();
  }
  const { client } = await RawClient.open(port);
  t.regex(await client.cmd(`LOGIN ${ALICE} "${PASSWORD}"`), /OK/);
  t.regex(await client.cmd('SELECT INBOX'), /\* 3 EXISTS/);
  t.regex(await client.cmd('FETCH 1:* (FLAGS)'), /OK/);
  client.close();
  t.deepEqual(errors, [], 'no handler threw');
});

test('fuzz: raw random bytes before login', async (t) => {
  const { port } = await startImap(t);
  const rand = rng(99);
  for (let k = 0; k < 20; k++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    const b = Buffer.alloc(2000);
    for (let i = 0; i < b.length; i++) b[i] = Math.floor(rand() * 256);
    s.write(b);
    await new Promise((r) => setTimeout(r, 20));
    s.destroy();
  }
  const { client } = await RawClient.open(port);
  t.regex(await client.cmd('CAPABILITY'), /OK/);
  client.close();
});
