import test from 'ava';
import { createHash } from 'node:crypto';
import { CpuPool } from '../../runtime/cpu-pool.js';

test('small jobs run inline, big ones in the pool with their buffers moved; results agree', async (t) => {
  const pool = new CpuPool({ threads: 1, minBytes: 64 * 1024 });
  t.teardown(() => pool.close());
  const small = new Uint8Array(1000).fill(1);
  const want = createHash('sha256').update(small).digest('hex');
  t.is(await pool.run('sha256', { data: small }, { bytes: small.byteLength }), want);
  t.is(pool.inlineRuns, 1);
  const big = new Uint8Array(1 << 20).fill(7);
  const wantBig = createHash('sha256').update(big).digest('hex');
  t.is(await pool.run('sha256', { data: big }, { transfer: [big.buffer] }), wantBig);
  t.is(pool.pooledRuns, 1);
  t.is(big.byteLength, 0, 'moved to the pool thread');
  const s = pool.stats();
  t.is(s.threads, 1);
  t.is(s.completed, 1);
});
