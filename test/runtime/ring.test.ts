import test from 'ava';
import { Worker } from 'node:worker_threads';
import { Ring, RING_HEADER_BYTES } from '../../runtime/ring.js';
import { frameFor } from '../fixtures/ring-peer.js';

const peerUrl = new URL('../fixtures/ring-peer.js', import.meta.url);

/** A frame read back, as a plain Uint8Array for deepEqual (read() returns a Buffer). */
function plain(b: Uint8Array | null): Uint8Array | null {
  return b === null ? null : new Uint8Array(b);
}

function bytes(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 131 + i * 17) & 0xff;
  return b;
}

test('frames come out as they went in, in order', (t) => {
  const r = new Ring(Ring.allocate(1024));
  const sent = [0, 1, 3, 4, 5, 100, 500].map((n, i) => bytes(n, i));
  for (const f of sent) t.true(r.tryWrite(f));
  for (const f of sent) t.deepEqual(plain(r.read()), f);
  t.is(r.read(), null);
  t.true(r.isEmpty());
});

test('a frame made of two parts reads back as one', (t) => {
  const r = new Ring(Ring.allocate(256));
  t.true(r.tryWrite(bytes(10, 1), bytes(20, 2)));
  const got = plain(r.read())!;
  t.is(got.byteLength, 30);
  t.deepEqual(got.subarray(0, 10), bytes(10, 1));
  t.deepEqual(got.subarray(10), bytes(20, 2));
});

test('empty ring reads null; full ring refuses writes until a read frees room', (t) => {
  const r = new Ring(Ring.allocate(64));
  t.is(r.read(), null);
  // Each 12-byte frame takes 16 bytes with its length prefix: exactly four fit in 64.
  for (let i = 0; i < 4; i++) t.true(r.tryWrite(bytes(12, i)), `frame ${i}`);
  t.is(r.used(), 64);
  t.false(r.tryWrite(bytes(12, 9)));
  t.false(r.tryWrite(new Uint8Array(0)), 'even an empty frame needs 4 bytes');
  t.deepEqual(plain(r.read()), bytes(12, 0));
  t.true(r.tryWrite(bytes(12, 4)));
  for (let i = 1; i <= 4; i++) t.deepEqual(plain(r.read()), bytes(12, i));
  t.is(r.read(), null);
});

test('a frame larger than the limit is refused loudly, never truncated', (t) => {
  const r = new Ring(Ring.allocate(64));
  t.is(r.maxFrame, 60);
  t.throws(() => r.tryWrite(new Uint8Array(61)), { instanceOf: RangeError });
  t.true(r.tryWrite(new Uint8Array(60)));
  const small = new Ring(Ring.allocate(1024), 100);
  t.throws(() => small.tryWrite(new Uint8Array(101)), { instanceOf: RangeError });
});

test('bad capacities are rejected', (t) => {
  t.throws(() => Ring.allocate(100));
  t.throws(() => Ring.allocate(32));
  t.throws(() => new Ring(new SharedArrayBuffer(RING_HEADER_BYTES + 100)));
});

test('frames split at every offset of the wrap-around, for every length', (t) => {
  const cap = 64;
  let checked = 0;
  for (let offset = 0; offset < cap; offset++) {
    for (let len = 0; len <= cap - 4; len++) {
      const r = new Ring(Ring.allocate(cap));
      // Move head and tail to `offset`: one filler frame of `offset` bytes, or, below the 4-byte
      // minimum, two fillers adding up to cap + offset (the same position modulo cap).
      const fillers = offset === 0 ? [] : offset >= 4 ? [offset] : [32, cap + offset - 32];
      for (const total of fillers) {
        t.true(r.tryWrite(new Uint8Array(total - 4)));
        r.read();
      }
      const f = bytes(len, offset * 100 + len);
      if (!r.tryWrite(f)) {
        t.fail(`offset ${offset} len ${len}: write refused`);
        return;
      }
      const got = r.read();
      if (got === null || got.byteLength !== len || Buffer.compare(Buffer.from(got), Buffer.from(f)) !== 0) {
        t.fail(`offset ${offset} len ${len}: frame differs`);
        return;
      }
      checked++;
    }
  }
  t.is(checked, 64 * 61);
});

test('wrap-around over a long run of varied frames (counters pass 2^32 safely)', (t) => {
  const r = new Ring(Ring.allocate(256));
  let next = 0;
  let expect = 0;
  for (let round = 0; round < 20_000; round++) {
    while (r.tryWrite(frameFor(next, 100))) next++;
    const n = 1 + (round % 3);
    for (let k = 0; k < n; k++) {
      const got = r.read();
      if (got === null) break;
      const want = frameFor(expect, 100);
      if (Buffer.compare(Buffer.from(got), Buffer.from(want)) !== 0) {
        t.fail(`frame ${expect} differs`);
        return;
      }
      expect++;
    }
  }
  t.true(expect > 20_000);
});

test('waitForData parks without blocking and wakes on a write from another thread', async (t) => {
  const a = Ring.allocate(1024);
  const b = Ring.allocate(1024);
  const w = new Worker(peerUrl, { workerData: { mode: 'echo', a, b, count: 3, maxLen: 0, spin: 0 } });
  const out = new Ring(a);
  const inn = new Ring(b);
  let timerRan = false;
  setTimeout(() => (timerRan = true), 5);
  await new Promise((r) => setTimeout(r, 20));
  t.true(timerRan, 'the event loop keeps running while a ring end is parked');
  for (let i = 0; i < 3; i++) {
    t.true(out.tryWrite(bytes(8, i)));
    let got = inn.read();
    while (got === null) {
      await inn.waitForData(0);
      got = inn.read();
    }
    t.deepEqual(plain(got), bytes(8, i));
  }
  await w.terminate();
});

test('close wakes a parked consumer', async (t) => {
  const r = new Ring(Ring.allocate(64));
  const waiting = r.waitForData(0);
  r.close();
  await waiting;
  t.true(r.closed());
});

for (const spin of [0, 50]) {
  test(`concurrent producer thread and consumer, small ring, back-pressure both ways (spin ${spin} µs)`, async (t) => {
    const count = 100_000;
    const maxLen = 300;
    const a = Ring.allocate(1024); // far smaller than the data: the producer waits for room often
    const w = new Worker(peerUrl, { workerData: { mode: 'produce', a, count, maxLen, spin } });
    const inn = new Ring(a);
    let i = 0;
    while (i < count) {
      const f = inn.read();
      if (f === null) {
        await inn.waitForData(spin);
        continue;
      }
      const want = frameFor(i, maxLen);
      if (Buffer.compare(Buffer.from(f), Buffer.from(want)) !== 0) {
        await w.terminate();
        t.fail(`frame ${i} differs`);
        return;
      }
      i++;
    }
    t.is(i, count);
    t.is(inn.read(), null);
    await w.terminate();
  });
}

test('batched writes stay invisible until published; batched reads hold room until released', (t) => {
  const r = new Ring(Ring.allocate(64));
  t.true(r.tryWrite(bytes(12, 1), undefined, 12, false));
  t.true(r.tryWrite(bytes(12, 2), undefined, 12, false));
  t.is(r.read(), null, 'not published yet');
  r.publish();
  t.deepEqual(plain(r.read(false)), bytes(12, 1));
  t.deepEqual(plain(r.read(false)), bytes(12, 2));
  t.is(r.used(), 32, 'room not handed back before release');
  r.release();
  t.is(r.used(), 0);
  // Two unpublished 28-byte frames fill the ring: the writer sees its own unpublished bytes.
  t.true(r.tryWrite(new Uint8Array(28), undefined, 28, false));
  t.true(r.tryWrite(new Uint8Array(28), undefined, 28, false));
  t.false(r.tryWrite(new Uint8Array(0), undefined, 0, false));
});
