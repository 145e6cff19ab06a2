import test from 'ava';
import { compress, decompress, pullExtendedBuffers, pushExtendedBuffers, xorObfuscate, ExtFlags, EXT_LIMITS } from '../../../protocols/mapi/wire/rpc-ext.js';
import { hex, toHex } from './hex.js';
import { rng } from '../../helpers.js';

// Golden pairs of the LZ77 + DIRECT2 encoding (the "plain LZ77" of [MS-XCA] 2.3-2.4: bitmask
// MSB first, 13-bit offset, 3-bit length, shared nibble, byte, 2-byte length). MS-OXCRPC has no
// compression example of its own. These pairs are the two examples of [MS-XCA] section 3.1 as
// recalled: the reference corpus holds MS-XCA's LZ77+Huffman examples (3.2) but not the text of
// 3.1, so the bytes are NOT confirmed against the spec. They agree with the encoding rules above
// and with our own decoder.
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';
const ALPHABET_Z = '3f 00 00 00 61 62 63 64 65 66 67 68 69 6a 6b 6c 6d 6e 6f 70 71 72 73 74 75 76 77 78 79 7a';
const ABC300 = 'abc'.repeat(100);
const ABC300_Z = 'ff ff ff 1f 61 62 63 17 00 0f ff 26 01';

const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

test('golden: compress and decompress the literal-only example', (t) => {
  t.is(toHex(compress(ascii(ALPHABET))), ALPHABET_Z);
  const d = decompress(hex(ALPHABET_Z), 26);
  t.true(d.ok && new TextDecoder().decode(d.data) === ALPHABET);
});

test('golden: compress and decompress the long overlapping match example', (t) => {
  t.is(toHex(compress(ascii(ABC300))), ABC300_Z);
  const d = decompress(hex(ABC300_Z), 300);
  t.true(d.ok && new TextDecoder().decode(d.data) === ABC300);
});

test('compression round trips over varied inputs (shared nibbles, all length forms)', (t) => {
  const rand = rng(7);
  const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1), new Uint8Array(70000).fill(9)];
  for (let k = 0; k < 60; k++) {
    const n = Math.floor(rand() * 20000);
    const alpha = 1 + Math.floor(rand() * 8);
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) b[i] = rand() < 0.05 ? Math.floor(rand() * 256) : 97 + Math.floor(rand() * alpha);
    inputs.push(b);
  }
  for (const b of inputs) {
    const c = compress(b);
    const d = decompress(c, b.byteLength);
    t.true(d.ok, d.ok ? '' : d.detail);
    if (d.ok) t.deepEqual(d.data, b);
  }
});

test('decompression rejects outputs that do not match SizeActual', (t) => {
  t.false(decompress(hex(ABC300_Z), 299).ok);
  t.false(decompress(hex(ABC300_Z), 301).ok);
  t.false(decompress(hex('ff ff ff ff 00 00'), 10).ok); // a match before any output
});

test('golden: RPC_HEADER_EXT chain with XOR and Last', (t) => {
  const chain = pushExtendedBuffers([hex('01 02'), hex('03')], { xor: true });
  t.is(toHex(chain), '00 00 02 00 02 00 02 00 a4 a7 00 00 06 00 01 00 01 00 a6');
  const p = pullExtendedBuffers(chain);
  t.true(p.ok);
  if (p.ok) t.deepEqual(p.payloads, [hex('01 02'), hex('03')]);
});

test('chains: compressed + obfuscated payloads come back; bad chains are errors', (t) => {
  const big = ascii('RopQueryRows'.repeat(400));
  const chain = pushExtendedBuffers([big, ascii('tail')], { compress: true, xor: true });
  t.is(chain[2] & ExtFlags.Compressed, ExtFlags.Compressed);
  const p = pullExtendedBuffers(chain);
  t.true(p.ok);
  if (p.ok) t.deepEqual(p.payloads, [big, ascii('tail')]);
  t.false(pullExtendedBuffers(hex('00 00 00 00 01 00 01 00 aa')).ok, 'no Last flag');
  t.false(pullExtendedBuffers(hex('01 00 04 00 00 00 00 00')).ok, 'version 1');
  t.false(pullExtendedBuffers(hex('00 00 04 00 01 00 02 00 aa')).ok, 'sizes differ');
  t.false(pullExtendedBuffers(hex('00 00 05 00 04 00 ff ff ff ff ff ff')).ok, 'SizeActual over the limit');
  t.false(pullExtendedBuffers(hex('00 00 04 00 00 00 00 00 00')).ok, 'trailing byte');
  t.deepEqual(xorObfuscate(hex('a5 00')), hex('00 a5'));
  const many = pushExtendedBuffers(Array.from({ length: EXT_LIMITS.maxBuffers + 1 }, () => hex('00')));
  const m = pullExtendedBuffers(many);
  t.true(!m.ok && m.error.code === 'too-many');
});
