import test from 'ava';
import { rng } from '../../../helpers.js';
import {
  COMPTYPE_COMPRESSED,
  COMPTYPE_UNCOMPRESSED,
  HEADER_SIZE,
  INITIAL_WRITE_POSITION,
  MAX_RAW_SIZE,
  compressRtf,
  decompressRtf,
  rtfCrc32,
} from '../../../../protocols/mail/rtf/compressed-rtf.js';
import { encapsulateHtml } from '../../../../protocols/mail/rtf/rtf-encapsulation.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((h) => parseInt(h, 16)));
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');
const bytesOf = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const u32 = (b: Uint8Array, at: number): number => Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUInt32LE(at);


// [MS-OXRTFCP] 3.1.1 "Example 1: Simple Compressed RTF": the compressed bytes (3.1.1.1) and the
// text they decode to (3.1.1.6).
const SPEC_EXAMPLE_1 = hex(`
  2d 00 00 00 2b 00 00 00 4c 5a 46 75 f1 c5 c7 a7
  03 00 0a 00 72 63 70 67 31 32 35 42 32 0a f3 20
  68 65 6c 09 00 20 62 77 05 b0 6c 64 7d 0a 80 0f
  a0`);
const SPEC_EXAMPLE_1_RTF = '{\\rtf1\\ansi\\ansicpg1252\\pard hello world}\r\n';
// [MS-OXRTFCP] 3.1.2 "Example 2: Reading a Token from the Dictionary that Crosses WritePosition".
const SPEC_EXAMPLE_2 = hex('1a 00 00 00 1c 00 00 00 4c 5a 46 75 e2 d4 4b 51 41 00 04 20 57 58 59 5a 0d 6e 7d 01 0e b0');
const SPEC_EXAMPLE_2_RTF = '{\\rtf1 WXYZWXYZWXYZWXYZWXYZ}';

/** A real-looking Outlook body: encapsulated HTML with varied text. */
function realisticRtf(paragraphs: number, seed = 7): Uint8Array {
  const r = rng(seed);
  const words = ['meeting', 'Quartal', 'report', 'Übersicht', 'budget', 'Привет', 'schedule', '会議', 'invoice', 'naïve', 'deadline', 'team'];
  let body = '';
  for (let p = 0; p < paragraphs; p++) {
    let line = '';
    for (let w = 0; w < 12; w++) line += words[Math.floor(r() * words.length)] + (r() < 0.1 ? ', ' : ' ');
    body += `<p class=MsoNormal><span style='font-family:"Calibri",sans-serif'>${line.trim()} #${p}<o:p></o:p></span></p>\r\n`;
  }
  return encapsulateHtml(`<html><head><meta charset="utf-8"><style>p.MsoNormal{margin:0cm}</style></head><body lang=DE>\r\n${body}</body></html>`);
}

test('MS-OXRTFCP 3.1.1 example 1 decompresses to its text, header and CRC check out', (t) => {
  const r = decompressRtf(SPEC_EXAMPLE_1);
  t.deepEqual(r.problems, []);
  t.is(latin1(r.rtf), SPEC_EXAMPLE_1_RTF);
  // 3.1.1.2: COMPSIZE 0x2d, RAWSIZE 0x2b, COMPTYPE "LZFu", CRC 0xa7c7c5f1 over CONTENTS.
  t.is(u32(SPEC_EXAMPLE_1, 0), 0x2d);
  t.is(u32(SPEC_EXAMPLE_1, 4), 0x2b);
  t.is(u32(SPEC_EXAMPLE_1, 8), COMPTYPE_COMPRESSED);
  t.is(rtfCrc32(SPEC_EXAMPLE_1, HEADER_SIZE), 0xa7c7c5f1);
  t.is(INITIAL_WRITE_POSITION, 207, '3.1.1.3: the write position after initialization');
});

test('MS-OXRTFCP 3.1.2 example 2: a reference that runs past the write position', (t) => {
  const r = decompressRtf(SPEC_EXAMPLE_2);
  t.deepEqual(r.problems, []);
  t.is(latin1(r.rtf), SPEC_EXAMPLE_2_RTF);
});

test('compressing the spec examples gives the spec bytes (greedy longest match, oldest on ties)', (t) => {
  t.is(Buffer.from(compressRtf(bytesOf(SPEC_EXAMPLE_1_RTF))).toString('hex'), Buffer.from(SPEC_EXAMPLE_1).toString('hex'));
  t.is(Buffer.from(compressRtf(bytesOf(SPEC_EXAMPLE_2_RTF))).toString('hex'), Buffer.from(SPEC_EXAMPLE_2).toString('hex'));
});

test('MELA: stored with a zero CRC, read back as is', (t) => {
  const rtf = bytesOf('{\\rtf1\\ansi hi}');
  const mela = compressRtf(rtf, { uncompressed: true });
  t.is(u32(mela, 0), rtf.length + 12);
  t.is(u32(mela, 4), rtf.length);
  t.is(u32(mela, 8), COMPTYPE_UNCOMPRESSED);
  t.is(u32(mela, 12), 0);
  const r = decompressRtf(mela);
  t.deepEqual(r.problems, []);
  t.is(latin1(r.rtf), '{\\rtf1\\ansi hi}');
  const short = decompressRtf(mela.subarray(0, mela.length - 3));
  t.is(latin1(short.rtf), '{\\rtf1\\ansi ');
  t.true(short.problems.length > 0);
});

test('round trips: empty, tiny, random bytes, long runs, beyond the 4096-byte window', (t) => {
  const r = rng(42);
  const cases: Uint8Array[] = [new Uint8Array(0), bytesOf('{'), bytesOf('ab'), bytesOf('{\\rtf1'), new Uint8Array(100_000).fill(0x61)];
  for (const size of [3, 17, 18, 255, 4095, 4096, 4097, 9000, 70_000]) {
    const random = new Uint8Array(size);
    for (let k = 0; k < size; k++) random[k] = Math.floor(r() * 256);
    cases.push(random);
    const text = new Uint8Array(size);
    for (let k = 0; k < size; k++) text[k] = 'ab{\\ \r\n'.charCodeAt(Math.floor(r() * 7));
    cases.push(text);
  }
  for (const input of cases) {
    const c = compressRtf(input);
    t.is(u32(c, 0), c.length - 4, 'COMPSIZE counts CONTENTS + 12');
    t.is(u32(c, 4), input.length);
    t.is(u32(c, 12), rtfCrc32(c, HEADER_SIZE));
    const d = decompressRtf(c);
    t.deepEqual(d.problems, [], `size ${input.length}`);
    t.true(Buffer.from(d.rtf).equals(Buffer.from(input)), `size ${input.length}`);
    const m = decompressRtf(compressRtf(input, { uncompressed: true }));
    t.true(Buffer.from(m.rtf).equals(Buffer.from(input)));
  }
  // A run of one byte compresses to about 2 bytes per 17 (plus control bytes).
  t.true(compressRtf(new Uint8Array(100_000).fill(0x61)).length < 100_000 / 7);
});

test('round trip of real-looking RTF compresses well', (t) => {
  const rtf = realisticRtf(400);
  const c = compressRtf(rtf);
  const d = decompressRtf(c);
  t.deepEqual(d.problems, []);
  t.true(Buffer.from(d.rtf).equals(Buffer.from(rtf)));
  t.true(c.length < rtf.length * 0.5, `ratio ${(c.length / rtf.length).toFixed(2)}`);
});

test('a CRC mismatch is a problem, not an error: the data still decodes', (t) => {
  const bad = SPEC_EXAMPLE_1.slice();
  bad[12] ^= 0xff;
  const r = decompressRtf(bad);
  t.is(latin1(r.rtf), SPEC_EXAMPLE_1_RTF);
  t.is(r.problems.length, 1);
  t.regex(r.problems[0]!, /CRC/);
});

test('truncation at every offset: no exception, a prefix of the original, a problem reported', (t) => {
  const rtf = realisticRtf(20, 3);
  const c = compressRtf(rtf);
  const original = Buffer.from(rtf);
  for (let cut = 0; cut < c.length; cut++) {
    const r = decompressRtf(c.subarray(0, cut));
    t.true(r.rtf.length <= rtf.length);
    if (!original.subarray(0, r.rtf.length).equals(Buffer.from(r.rtf))) t.fail(`cut ${cut}: not a prefix`);
    if (r.problems.length === 0) t.fail(`cut ${cut}: no problem reported`);
  }
  t.pass();
});

test('lying headers: output bounded by RAWSIZE, the limit and what the input can expand to', (t) => {
  const c = compressRtf(realisticRtf(10));
  const huge = c.slice();
  Buffer.from(huge.buffer).writeUInt32LE(0xffffffff, 4);
  const r1 = decompressRtf(huge);
  t.true(r1.problems.some((p) => p.includes('limit')));
  t.true(r1.rtf.length <= c.length * 8);
  t.true(MAX_RAW_SIZE >= 64 * 1024 * 1024);

  const small = c.slice();
  Buffer.from(small.buffer).writeUInt32LE(100, 4);
  const r2 = decompressRtf(small);
  t.is(r2.rtf.length, 100);
  t.true(r2.problems.some((p) => p.includes('RAWSIZE')));

  const compSize = c.slice();
  Buffer.from(compSize.buffer).writeUInt32LE(0xfffffff0, 0);
  t.true(decompressRtf(compSize).problems.some((p) => p.includes('truncated')));

  const padded = new Uint8Array(c.length + 5);
  padded.set(c);
  const r3 = decompressRtf(padded);
  t.true(Buffer.from(r3.rtf).equals(Buffer.from(decompressRtf(c).rtf)));
  t.true(r3.problems.some((p) => p.includes('after the COMPSIZE end')));
});

test('unknown COMPTYPE and short input give empty output and a problem', (t) => {
  const bad = SPEC_EXAMPLE_1.slice();
  bad[8] = 0x58;
  const r = decompressRtf(bad);
  t.is(r.rtf.length, 0);
  t.regex(r.problems[0]!, /COMPTYPE/);
  t.regex(decompressRtf(new Uint8Array(5)).problems[0]!, /header/);
});

test('references into the untouched (zeroed) part of the dictionary read zeros', (t) => {
  // CONTROL 0x03: reference offset 300 length 4, then the end reference at 207 + 4 = 211.
  const contents = hex('03 12 c2 0d 30');
  const header = new Uint8Array(HEADER_SIZE);
  const h = Buffer.from(header.buffer);
  h.writeUInt32LE(contents.length + 12, 0);
  h.writeUInt32LE(4, 4);
  h.writeUInt32LE(COMPTYPE_COMPRESSED, 8);
  h.writeUInt32LE(rtfCrc32(contents), 12);
  const r = decompressRtf(Buffer.concat([header, contents]));
  t.deepEqual(r.problems, []);
  t.deepEqual([...r.rtf], [0, 0, 0, 0]);
});

test('fuzz: thousands of mutated streams never throw and stay bounded', (t) => {
  const r = rng(1234);
  const seeds = [SPEC_EXAMPLE_1, SPEC_EXAMPLE_2, compressRtf(realisticRtf(5, 9)), compressRtf(bytesOf('{\\rtf1 x}'), { uncompressed: true })];
  for (let k = 0; k < 4000; k++) {
    const base = seeds[k % seeds.length]!;
    let m = base.slice();
    const edits = 1 + Math.floor(r() * 6);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(r() * m.length);
      const op = r();
      if (op < 0.5) m[at] = Math.floor(r() * 256);
      else if (op < 0.7) m = Buffer.concat([m.subarray(0, at), Uint8Array.of(Math.floor(r() * 256)), m.subarray(at)]);
      else if (op < 0.9) m = Buffer.concat([m.subarray(0, at), m.subarray(at + 1)]);
      else m = m.subarray(0, at);
    }
    let out;
    try {
      out = decompressRtf(m);
    } catch (err) {
      t.fail(`case ${k} threw ${String(err)}`);
      return;
    }
    const rawSize = m.length >= 8 ? u32(m, 4) : 0;
    if (out.rtf.length > Math.min(rawSize, MAX_RAW_SIZE) || out.rtf.length > m.length * 8) t.fail(`case ${k}: ${out.rtf.length} bytes out`);
  }
  t.pass();
});
