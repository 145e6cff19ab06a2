/** The POP3 door's pure parts: line receiver, command lines, SASL PLAIN, message bytes, UIDL. */
import test from 'ava';
import { LineReceiver, type Received } from '../../../protocols/pop3/receiver.js';
import { parseCommandLine, parseMessageNumber, parseLineCount } from '../../../protocols/pop3/command-line.js';
import { decodePlain } from '../../../protocols/pop3/sasl-plain.js';
import { stuffedSegments, topEnd, wireSize } from '../../../protocols/pop3/message-bytes.js';
import { statusLine } from '../../../protocols/pop3/replies.js';
import { uidlOf } from '../../../protocols/pop3/uidl.js';
import { rng } from '../../helpers.js';

type Out = string | 'TOO_LONG';

function drain(rx: LineReceiver, out: Out[]): void {
  for (;;) {
    const r: Received = rx.next();
    if (r.kind === 'needMore') return;
    out.push(r.kind === 'tooLong' ? 'TOO_LONG' : r.line.toString('latin1'));
  }
}

function feed(chunks: Buffer[], max: number): Out[] {
  const rx = new LineReceiver(max);
  const out: Out[] = [];
  for (const c of chunks) {
    rx.push(c);
    drain(rx, out);
  }
  return out;
}

const INPUT = Buffer.from(`USER alice\r\nPASS a b  c\r\nSTAT\nLIST 1\r\n\r\n${'X'.repeat(40)}\r\nNOOP\r\n${'Y'.repeat(100)}\r\nQUIT\r\n`, 'latin1');
const EXPECTED: Out[] = ['USER alice', 'PASS a b  c', 'STAT', 'LIST 1', '', 'TOO_LONG', 'NOOP', 'TOO_LONG', 'QUIT'];

test('receiver: whole, split at every offset (in two and in three), one byte at a time', (t) => {
  t.deepEqual(feed([INPUT], 32), EXPECTED);
  for (let i = 0; i <= INPUT.length; i++) t.deepEqual(feed([INPUT.subarray(0, i), INPUT.subarray(i)], 32), EXPECTED, `split at ${i}`);
  for (let i = 0; i <= INPUT.length; i += 3) {
    for (let j = i; j <= INPUT.length; j += 5) t.deepEqual(feed([INPUT.subarray(0, i), INPUT.subarray(i, j), INPUT.subarray(j)], 32), EXPECTED, `split at ${i}, ${j}`);
  }
  t.deepEqual(
    feed(
      [...INPUT].map((b) => Buffer.from([b])),
      32,
    ),
    EXPECTED,
  );
});

test('receiver: the limit counts the line end; an endless line holds at most the limit and resyncs', (t) => {
  t.deepEqual(feed([Buffer.from('123456\r\n1234567\r\nok\r\n')], 8), ['123456', 'TOO_LONG', 'ok']);
  const rx = new LineReceiver(16);
  const out: Out[] = [];
  for (let i = 0; i < 1000; i++) {
    rx.push(Buffer.alloc(1000, 0x41));
    drain(rx, out);
    t.true(rx.buffered <= 1000, 'an over-long line is not kept');
  }
  rx.push(Buffer.from('AAA\r\nNOOP\r\n'));
  drain(rx, out);
  t.deepEqual(out, ['TOO_LONG', 'NOOP']);
});

test('receiver: fuzzed splits of random lines give the same lines', (t) => {
  const r = rng(7);
  for (let round = 0; round < 200; round++) {
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) lines.push(Array.from({ length: Math.floor(r() * 40) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join(''));
    const input = Buffer.from(lines.map((l) => `${l}\r\n`).join(''), 'latin1');
    const chunks: Buffer[] = [];
    for (let at = 0; at < input.length; ) {
      const n = 1 + Math.floor(r() * 30);
      chunks.push(input.subarray(at, at + n));
      at += n;
    }
    t.deepEqual(feed(chunks, 64), lines);
  }
});

test('receiver: discard drops what was pipelined (STLS)', (t) => {
  const rx = new LineReceiver(64);
  rx.push(Buffer.from('STLS\r\nUSER x\r\nPA'));
  const first = rx.next();
  t.is(first.kind === 'line' ? first.line.toString() : first.kind, 'STLS');
  t.is(rx.discard(), 10);
  t.is(rx.next().kind, 'needMore');
  rx.push(Buffer.from('CAPA\r\n'));
  const next = rx.next();
  t.is(next.kind === 'line' ? next.line.toString() : next.kind, 'CAPA');
});

test('command lines: keywords any case, spaces, the rest verbatim, bad forms', (t) => {
  t.deepEqual(parseCommandLine(Buffer.from('list 3')), { kind: 'command', verb: 'LIST', args: ['3'], rest: '3' });
  t.deepEqual(parseCommandLine(Buffer.from('PASS  two words ')), { kind: 'command', verb: 'PASS', args: ['two', 'words'], rest: ' two words ' });
  t.deepEqual(parseCommandLine(Buffer.from('STAT ')), { kind: 'command', verb: 'STAT', args: [], rest: '' });
  t.deepEqual(parseCommandLine(Buffer.from('   ')), { kind: 'empty' });
  t.deepEqual(parseCommandLine(Buffer.from('R3TR 1')), { kind: 'malformed' });
  t.deepEqual(parseCommandLine(Buffer.from('\u0000\u0001')), { kind: 'malformed' });
  t.is(parseMessageNumber('12'), 12);
  for (const bad of ['0', '-1', '+1', '1.5', 'x', '1234567890', '']) t.is(parseMessageNumber(bad), null, bad);
  t.is(parseLineCount('0'), 0);
  t.is(parseLineCount('99999999999999999999'), 1e9);
  t.is(parseLineCount('-1'), null);
});

test('SASL PLAIN: authzid NUL authcid NUL password, UTF-8, strict base64', (t) => {
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  t.deepEqual(decodePlain(b64('\0alice@example.test\0pässwörd with space')), { ok: true, authzid: '', authcid: 'alice@example.test', password: 'pässwörd with space' });
  t.deepEqual(decodePlain(b64('boss@example.test\0alice\0pw')), { ok: true, authzid: 'boss@example.test', authcid: 'alice', password: 'pw' });
  for (const bad of ['=', '', '!!!!', b64('alice\0pw'), b64('\0\0pw'), b64('\0alice\0'), b64('a\0b\0c\0d'), Buffer.from([0, 0x61, 0, 0xff, 0xfe]).toString('base64'), 'YWJj ZA==']) {
    t.false(decodePlain(bad).ok, JSON.stringify(bad));
  }
});

/** The output of stuffedSegments as one buffer. */
function stuffed(src: Buffer, end = src.length, chunk = 7): Buffer {
  return Buffer.concat([...stuffedSegments(src, end, chunk)].flat());
}

/** A reference of RFC 1939's rules, written the slow obvious way. */
function reference(src: Buffer): { wire: Buffer; stuffed: Buffer } {
  const text = src.toString('latin1').replace(/\r\n|\r|\n/g, '\n');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const wire = lines.map((l) => `${l}\r\n`).join('');
  return { wire: Buffer.from(wire, 'latin1'), stuffed: Buffer.from(lines.map((l) => `${l.startsWith('.') ? '.' : ''}${l}\r\n`).join(''), 'latin1') };
}

test('message bytes: byte-stuffing, CRLF line ends, a final line end; wireSize counts what is sent before stuffing', (t) => {
  const cases = [
    'Subject: x\r\n\r\nbody\r\n',
    '.starts with a dot\r\n..two\r\nmid.dle\r\n.\r\n',
    'bare\nLF\nlines\n.dot after LF\n',
    'lone\rCR\r.dot after CR\r',
    'no final line end',
    '.',
    '',
    '\r\n\r\n.\r\n',
    'mixed\r\nends\nand\r.\r\n\n\r',
  ];
  for (const c of cases) {
    const src = Buffer.from(c, 'latin1');
    const ref = reference(src);
    t.is(wireSize(src), ref.wire.length, `wireSize ${JSON.stringify(c)}`);
    for (const chunk of [1, 2, 7, 65536]) t.is(stuffed(src, src.length, chunk).toString('latin1'), ref.stuffed.toString('latin1'), `stuffed ${JSON.stringify(c)} chunk ${chunk}`);
  }
  t.is(statusLine({ kind: 'err', code: 'SYS/TEMP', text: 'x\r\ny' }).toString(), '-ERR [SYS/TEMP] x y\r\n');
  t.is(statusLine({ kind: 'ok', text: 'é'.repeat(600) }).length <= 512, true, 'response lines stay within 512 octets');
});

test('message bytes: random messages agree with the reference; a clean CRLF message is sent as views of itself', (t) => {
  const r = rng(11);
  const alphabet = ['a', 'b', '.', '\r', '\n', '\r\n', ' '];
  for (let round = 0; round < 500; round++) {
    const s = Array.from({ length: Math.floor(r() * 60) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    const src = Buffer.from(s, 'latin1');
    const ref = reference(src);
    t.is(wireSize(src), ref.wire.length, JSON.stringify(s));
    t.true(stuffed(src, src.length, 1 + Math.floor(r() * 10)).equals(ref.stuffed), JSON.stringify(s));
  }
  const clean = Buffer.from('Subject: hi\r\n\r\n' + 'line of text\r\n'.repeat(10_000));
  const batches = [...stuffedSegments(clean, clean.length, 64 * 1024)];
  t.true(batches.length >= 2, 'a long message comes in several batches');
  t.true(
    batches.flat().every((b) => b.buffer === clean.buffer),
    'no copies: every piece is a view of the stored bytes',
  );
});

test('TOP: the header, the empty line and n body lines', (t) => {
  const m = Buffer.from('A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\nl3\r\n');
  t.is(m.subarray(0, topEnd(m, 0)).toString(), 'A: 1\r\nB: 2\r\n\r\n');
  t.is(m.subarray(0, topEnd(m, 2)).toString(), 'A: 1\r\nB: 2\r\n\r\nl1\r\nl2\r\n');
  t.is(topEnd(m, 10), m.length);
  const lf = Buffer.from('A: 1\nB: 2\n\nl1\nl2\n');
  t.is(lf.subarray(0, topEnd(lf, 1)).toString(), 'A: 1\nB: 2\n\nl1\n');
  const headerOnly = Buffer.from('A: 1\r\nB: 2');
  t.is(topEnd(headerOnly, 0), headerOnly.length);
  const noHeader = Buffer.from('\r\nbody\r\n');
  t.is(noHeader.subarray(0, topEnd(noHeader, 0)).toString(), '\r\n');
});

test('UIDL: 12 hex digits of the MID and 8 of the replica GUID, within RFC 1939 limits', (t) => {
  const u = uidlOf(0x4a1f3c, '9E02AB11-0000-4000-8000-000000000001');
  t.is(u, '0000004a1f3c9e02ab11');
  t.regex(uidlOf(2 ** 48 - 1, '00000000-0000-0000-0000-000000000000'), /^[\x21-\x7e]{1,70}$/);
  t.is(uidlOf(1, 'abcdef01-0000-4000-8000-000000000000').length, 20);
});
