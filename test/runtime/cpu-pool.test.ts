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

test('DKIM signing runs in the pool and returns the signed message', async (t) => {
  const { CpuPool } = await import('../../runtime/cpu-pool.js');
  const { makeDkimKey } = await import('../../protocols/smtp/outbound/dkim.js');
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  t.teardown(() => pool.close());
  const key = await makeDkimKey(new Date('2026-01-02T00:00:00Z'));
  const raw = Buffer.from('From: a@example.test\r\nTo: b@example.org\r\nSubject: s\r\n\r\nbody\r\n');
  const signed = Buffer.from(await pool.run('dkimSign', { raw, domain: 'example.test', selector: key.selector, privateKey: key.privateKey }, { route: 'pool' }));
  t.true(pool.pooledRuns >= 1);
  t.regex(signed.toString('latin1'), /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=example\.test;[\s\S]* s=stoa20260102;/);
  t.true(signed.toString('latin1').endsWith(raw.toString('latin1')));
});
