import test from 'ava';
import { Receiver, type Received } from '../../../protocols/imap/receiver.js';
import { rng } from '../../helpers.js';

const LIMITS = { lineBytes: 100, literalBytes: 50, appendBytes: 1000 };

type Event = { kind: 'cmd'; text: string } | { kind: 'cont'; size: number } | { kind: 'err'; why: string; tag: string | null };

/** Feeds the chunks, draining after each; returns what came out. */
function feed(chunks: Buffer[], limits = LIMITS): Event[] {
  const rx = new Receiver(limits);
  const out: Event[] = [];
  for (const c of chunks) {
    rx.push(c);
    for (;;) {
      const r: Received = rx.next();
      if (r.kind === 'needMore') break;
      if (r.kind === 'ok') out.push({ kind: 'cmd', text: r.command.toString('latin1') });
      else if (r.kind === 'needLiteral') out.push({ kind: 'cont', size: r.size });
      else out.push({ kind: 'err', why: r.why, tag: r.tag });
    }
    rx.shrink();
  }
  return out;
}

function splits(input: string): Buffer[][] {
  const b = Buffer.from(input, 'latin1');
  const out: Buffer[][] = [[b]];
  for (let i = 1; i < b.length; i++) out.push([b.subarray(0, i), b.subarray(i)]);
  out.push([...b].map((x) => Buffer.from([x])));
  return out;
}

/** Runs a case whole, split at every offset, and one byte at a time: all must agree. */
function check(t: import('ava').ExecutionContext, input: string, want: Event[], limits = LIMITS): void {
  for (const chunks of splits(input)) t.deepEqual(feed(chunks, limits), want, `split into ${chunks.map((c) => c.length).join('+')}`);
}

test('plain commands, CRLF and bare LF, pipelined', (t) => {
  check(t, 'a1 NOOP\r\na2 CAPABILITY\na3 LOGOUT\r\n', [
    { kind: 'cmd', text: 'a1 NOOP' },
    { kind: 'cmd', text: 'a2 CAPABILITY' },
    { kind: 'cmd', text: 'a3 LOGOUT' },
  ]);
});

test('synchronizing literal: continuation, then the command with the literal inline', (t) => {
  check(t, 'a1 LOGIN {5}\r\nalice {3}\r\npw!\r\na2 NOOP\r\n', [
    { kind: 'cont', size: 5 },
    { kind: 'cont', size: 3 },
    { kind: 'cmd', text: 'a1 LOGIN {5}\r\nalice {3}\r\npw!' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
});

test('non-synchronizing literal (LITERAL+) needs no continuation; a literal may hold CRLF and braces', (t) => {
  check(t, 'a1 APPEND INBOX {11+}\r\nx\r\n{3}\r\nabc\r\n', [{ kind: 'cmd', text: 'a1 APPEND INBOX {11+}\r\nx\r\n{3}\r\nabc' }]);
});

test('empty literal', (t) => {
  check(t, 'a1 LOGIN {0}\r\n {1+}\r\nx\r\n', [{ kind: 'cont', size: 0 }, { kind: 'cmd', text: 'a1 LOGIN {0}\r\n {1+}\r\nx' }]);
});

test('line too long: BAD with the tag, skipped to its end, the next command works', (t) => {
  const long = 'x'.repeat(150);
  check(t, `a1 NOOP ${long}\r\na2 NOOP\r\n`, [
    { kind: 'err', why: 'lineTooLong', tag: 'a1' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
});

test('an over-long line ending in a non-synchronizing literal skips the literal too', (t) => {
  const long = 'x'.repeat(150);
  check(t, `a1 LOGIN ${long} {5+}\r\nhello\r\na2 NOOP\r\n`, [
    { kind: 'err', why: 'lineTooLong', tag: 'a1' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
});

test('a literal over the limit: synchronizing is refused (never sent); non-synchronizing is discarded unbuffered', (t) => {
  check(t, 'a1 LOGIN {60}\r\na2 NOOP\r\n', [
    { kind: 'err', why: 'literalTooLarge', tag: 'a1' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
  const big = 'y'.repeat(60);
  check(t, `a1 LOGIN {60+}\r\n${big} {2+}\r\nzz\r\na2 NOOP\r\n`, [
    { kind: 'err', why: 'literalTooLarge', tag: 'a1' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
});

test('APPEND gets the larger limit', (t) => {
  const msg = 'm'.repeat(500);
  check(t, `a1 APPEND INBOX {500+}\r\n${msg}\r\n`, [{ kind: 'cmd', text: `a1 APPEND INBOX {500+}\r\n${msg}` }]);
});

test('a discarded literal is never held: buffer stays small while 10 MB stream by', (t) => {
  const rx = new Receiver({ lineBytes: 1000, literalBytes: 100, appendBytes: 1000 });
  rx.push(Buffer.from('a1 APPEND INBOX {10000000+}\r\n'));
  t.is(rx.next().kind, 'error');
  const chunk = Buffer.alloc(65536, 0x41);
  let sent = 0;
  let maxCap = 0;
  while (sent < 10_000_000) {
    const n = Math.min(chunk.length, 10_000_000 - sent);
    rx.push(chunk.subarray(0, n));
    sent += n;
    t.is(rx.next().kind, 'needMore');
    maxCap = Math.max(maxCap, rx.capacity);
  }
  rx.push(Buffer.from('\r\na2 NOOP\r\n'));
  const r = rx.next();
  t.is(r.kind, 'ok');
  t.true(maxCap <= 128 * 1024, `capacity ${maxCap}`);
});

test('the buffer shrinks back to at most 4 KiB after a big command', (t) => {
  const rx = new Receiver({ lineBytes: 1000, literalBytes: 100, appendBytes: 1_000_000 });
  rx.push(Buffer.from(`a1 APPEND INBOX {100000+}\r\n${'z'.repeat(100000)}\r\n`));
  t.is(rx.next().kind, 'ok');
  t.true(rx.capacity >= 100000);
  rx.shrink();
  t.true(rx.capacity <= 4096);
  rx.push(Buffer.from('a2 NOOP\r\n'));
  const r = rx.next();
  t.is(r.kind === 'ok' ? r.command.toString() : '', 'a2 NOOP');
});

test('malformed literal sizes are errors', (t) => {
  check(t, 'a1 LOGIN {99999999999}\r\na2 NOOP\r\n', [
    { kind: 'err', why: 'badLiteral', tag: 'a1' },
    { kind: 'cmd', text: 'a2 NOOP' },
  ]);
});

test('nextLine reads plain lines (IDLE DONE, SASL responses)', (t) => {
  const rx = new Receiver(LIMITS);
  rx.push(Buffer.from('DO'));
  t.is(rx.nextLine().kind, 'needMore');
  rx.push(Buffer.from('NE\r\na1 NOOP\r\n'));
  const l = rx.nextLine();
  t.is(l.kind === 'line' ? l.line.toString() : '', 'DONE');
  const r = rx.next();
  t.is(r.kind === 'ok' ? r.command.toString() : '', 'a1 NOOP');
});

test('fuzz: random bytes in random chunks never throw, never hold more than the limits allow', (t) => {
  const alphabet = Buffer.from('a1 NOOP{}+\r\n0123456789 LOGIN APPEND "x"\\()*', 'latin1');
  for (let seed = 1; seed <= 300; seed++) {
    const rand = rng(seed);
    const rx = new Receiver({ lineBytes: 64, literalBytes: 32, appendBytes: 256 });
    const total = 1 + Math.floor(rand() * 2000);
    let fed = 0;
    while (fed < total) {
      const n = 1 + Math.floor(rand() * 64);
      const chunk = Buffer.alloc(n);
      for (let i = 0; i < n; i++) chunk[i] = rand() < 0.7 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      rx.push(chunk);
      fed += n;
      for (let k = 0; k < 10_000; k++) {
        const r = rx.next();
        if (r.kind === 'needMore') break;
        if (r.kind === 'ok') t.true(r.command.length <= 64 * 40 + 256 + 32 * 40, `seed ${seed}`);
      }
      rx.shrink();
      t.true(rx.buffered <= 64 + 256 + 64 * 2 + 64, `seed ${seed}: ${rx.buffered} buffered`);
    }
  }
});
