import test from 'ava';
import { Placement, rendezvous } from '../../runtime/placement.js';

const keys = Array.from({ length: 20_000 }, (_, i) => `mailbox/user${i}@example.test`);

test('placement spreads keys evenly', (t) => {
  for (const n of [2, 3, 7]) {
    const counts = new Array<number>(n).fill(0);
    for (const k of keys) counts[rendezvous(k, n)]!++;
    const mean = keys.length / n;
    for (const c of counts) t.true(Math.abs(c - mean) / mean < 0.05, `n=${n}: ${counts.join(',')}`);
  }
});

test('changing the worker count moves only the keys it must', (t) => {
  const moved = (from: number, to: number) => keys.filter((k) => rendezvous(k, from) !== rendezvous(k, to)).length / keys.length;
  // 2 → 3: about a third move (those that now prefer worker 2), none between 0 and 1.
  t.true(Math.abs(moved(2, 3) - 1 / 3) < 0.03);
  for (const k of keys) {
    const a = rendezvous(k, 2);
    const b = rendezvous(k, 3);
    if (a !== b) t.is(b, 2);
  }
  t.true(Math.abs(moved(3, 2) - 1 / 3) < 0.03);
  t.is(moved(4, 4), 0);
});

test('the override table pins a key, and falls back when its worker is gone', (t) => {
  const p = new Placement(3);
  const k = keys[0]!;
  const natural = p.place(k);
  const other = (natural + 1) % 3;
  p.setOverride(k, other);
  t.is(p.place(k), other);
  t.deepEqual(p.overridesList(), [{ key: k, worker: other }]);
  p.workers = 1;
  t.is(p.place(k), 0);
  p.workers = 3;
  p.setOverride(k, null);
  t.is(p.place(k), natural);
});
