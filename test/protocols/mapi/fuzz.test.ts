import test from 'ava';
import { WireReader } from '../../../protocols/mapi/wire/reader.js';
import { WireWriter } from '../../../protocols/mapi/wire/writer.js';
import { pullRestriction, pushRestriction } from '../../../protocols/mapi/wire/prop-values.js';
import { pullExtendedBuffers, pushExtendedBuffers, decompress, compress } from '../../../protocols/mapi/wire/rpc-ext.js';
import { pullRopRequestBuffer, pushRopRequestBuffer } from '../../../protocols/mapi/rops/buffer.js';
import { allCodecs } from '../../../protocols/mapi/rops/codec/registry.js';
import type { RopRequest } from '../../../protocols/mapi/rops/codec/rop.js';
import type { Schema } from '../../../protocols/mapi/rops/codec/fields.js';
import { rng } from '../../helpers.js';

function mutate(g: () => number, src: Uint8Array): Uint8Array {
  const b = Array.from(src);
  const n = 1 + Math.floor(g() * 6);
  for (let i = 0; i < n; i++) {
    const op = Math.floor(g() * 4);
    const at = Math.floor(g() * (b.length + 1));
    if (op === 0 && b.length) b[at % b.length] = Math.floor(g() * 256);
    else if (op === 1) b.splice(at, 0, Math.floor(g() * 256));
    else if (op === 2 && b.length) b.splice(at % b.length, 1);
    else if (b.length) b[at % b.length] ^= 1 << Math.floor(g() * 8);
  }
  return Uint8Array.from(b);
}

const ITER = 4000;

test('fuzz: ROP request buffers (every ROP generated, then mutated)', (t) => {
  const g = rng(99);
  const ctx = { columns: [0x3001001f], propTags: [0x0e080003], privateLogon: true };
  const seeds: Uint8Array[] = [];
  for (const c of allCodecs()) {
    if (c.handles === 'none') continue;
    seeds.push(pushRopRequestBuffer([c.genRequest(g, ctx) as RopRequest<Schema>], [0xffffffff]));
  }
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < ITER * 3; i++) {
    const input = mutate(g, seeds[i % seeds.length]);
    t.notThrows(() => pullRopRequestBuffer(input));
  }
  t.true(process.memoryUsage().heapUsed - before < 256 * 1024 * 1024);
});

test('fuzz: RPC_HEADER_EXT chains and decompression', (t) => {
  const g = rng(5);
  const text = new TextEncoder().encode('RopGetPropertiesSpecific '.repeat(40));
  const seeds = [pushExtendedBuffers([text], { compress: true, xor: true }), pushExtendedBuffers([text, text], { compress: true }), compress(text)];
  for (let i = 0; i < ITER; i++) {
    const input = mutate(g, seeds[i % seeds.length]);
    t.notThrows(() => pullExtendedBuffers(input));
    t.notThrows(() => decompress(input, Math.floor(g() * 2000)));
  }
});

test('fuzz: restrictions', (t) => {
  const g = rng(3);
  const w = new WireWriter();
  pushRestriction(w, {
    type: 'or',
    children: [
      { type: 'content', fuzzy: 1, tag: 0x0037001f, value: 'x' },
      { type: 'sub', subobject: 0x0e12000d, child: { type: 'comment', props: [[0x3001001f, 'a']], child: { type: 'exist', tag: 1 } } },
      { type: 'property', relop: 4, tag: 0x0e080003, value: 1 },
    ],
  });
  const seed = w.toBytes();
  for (let i = 0; i < ITER; i++) {
    const input = mutate(g, seed);
    t.notThrows(() => pullRestriction(new WireReader(input)));
  }
});

test('fuzz: every ROP response pull (the test client side) on mutated responses', (t) => {
  const g = rng(17);
  const ctx = { columns: [0x3001001f, 0x0e080003], propTags: [0x0e080003], privateLogon: true };
  for (const c of allCodecs()) {
    if (c.noResponse) continue;
    const w = new WireWriter();
    c.pushResponse(w, c.genResponse(g, ctx, 0), ctx);
    const seed = w.toBytes();
    for (let i = 0; i < 60; i++) {
      const input = mutate(g, seed);
      t.notThrows(() => c.pullResponse(new WireReader(input), ctx), c.name);
      t.notThrows(() => c.pullRequest(new WireReader(input), ctx), c.name);
    }
  }
});
