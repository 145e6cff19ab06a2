import test from 'ava';
import { Histogram } from '../../runtime/histogram.js';

test('percentiles are within a bucket (~6%) of the exact value', (t) => {
  const h = new Histogram();
  const values: number[] = [];
  for (let i = 0; i < 100_000; i++) {
    const v = Math.floor(Math.exp(Math.random() * 12)); // 1 .. ~160k, log-uniform
    values.push(v);
    h.record(v);
  }
  values.sort((a, b) => a - b);
  for (const q of [0.5, 0.9, 0.99, 0.999]) {
    const exact = values[Math.ceil(q * values.length) - 1]!;
    const got = h.percentile(q);
    t.true(Math.abs(got - exact) <= Math.max(1, exact * 0.07), `q=${q}: exact ${exact}, got ${got}`);
  }
  t.is(h.count, 100_000);
  t.is(h.max, values[values.length - 1]);
});

test('small values are exact; empty histograms read zero; merge adds counts', (t) => {
  const a = new Histogram();
  t.is(a.percentile(0.5), 0);
  for (const v of [1, 2, 3, 4, 5]) a.record(v);
  t.is(a.percentile(0.5), 3.5);
  const b = new Histogram();
  b.record(1000);
  a.merge(b);
  t.is(a.count, 6);
  t.is(a.max, 1000);
  t.true(a.percentile(1) >= 960);
});
