/**
 * Outbound mail: is nodemailer's SMTP client good enough, and what does the queue cost on top?
 * Every figure is against Postfix's smtp-sink (accepts and discards), in the same run:
 * - the protocol layer: our client (nodemailer's SMTPConnection through smtp-client.ts, one
 *   connection per message as the queue uses it) vs Postfix's smtp-source on the same sink;
 * - the queue end to end: durable enqueue, attempt, DKIM signing, delivery, the entry settled on
 *   disk, vs our client alone;
 * - DKIM signing per message (rsa-sha256 over relaxed canonicalization) for 4 KiB and 1 MiB.
 * Skipped when smtp-sink / smtp-source are not installed (`apt-get install postfix`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';

import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { DirectoryStore } from '../../storage/directory-store.js';
import { OutboundService } from '../../protocols/smtp/outbound/outbound-service.js';
import { sendToHosts } from '../../protocols/smtp/outbound/smtp-client.js';
import { dkimSign, makeDkimKey } from '../../protocols/smtp/outbound/dkim.js';
import { quiet, type Row } from './common.js';
import { freePort, hasCommand, waitPort } from '../load/peers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const SESSIONS = 10;

function message(size: number): Buffer {
  const head = 'From: Alice <alice@example.test>\r\nTo: bob@remote.example\r\nSubject: outbound\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nMessage-ID: <o@example.test>\r\nMIME-Version: 1.0\r\n\r\n';
  const line = 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return Buffer.from(head + line.repeat(Math.max(1, Math.ceil((size - head.length) / line.length))), 'latin1');
}

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;/** Messages per second through our client, SESSIONS loops in parallel, for SECONDS. */
async function clientRate(port: number, msg: Buffer): Promise<number> {
  const host = { name: 'sink.example', addresses: ['127.0.0.1'], port, tls: 'opportunistic' as const, rejectUnauthorized: false, auth: null };
  const opts = { heloName: 'mail.example.test', connectTimeoutMs: 10_000, greetingTimeoutMs: 10_000, socketTimeoutMs: 10_000 };
  let sent = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: SESSIONS }, async () => {
      while (performance.now() < end) {
        const r = await sendToHosts([host], { from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], message: msg }, opts);
        if (r.get('bob@remote.example')?.reply.code !== 250) throw new Error(`sink refused: ${JSON.stringify(r.get('bob@remote.example'))}`);
        sent++;
      }
    }),
  );
  return sent / ((performance.now() - t0) / 1000);
}

/** Postfix's client on the same sink: smtp-source, one message per connection. */
function sourceRate(port: number, size: number, count: number): number {
  const t0 = performance.now();
  const r = spawnSync('smtp-source', ['-s', String(SESSIONS), '-m', String(count), '-l', String(size), '-f', 'alice@example.test', '-t', 'bob@remote.example', `127.0.0.1:${port}`]);
  if (r.status !== 0) throw new Error(`smtp-source failed: ${r.stderr.toString()}`);
  return count / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<Row[]> {
  if (!hasCommand('smtp-sink') || !hasCommand('smtp-source')) {
    process.stderr.write('  outbound: smtp-sink / smtp-source not installed, skipped\n');
    return [];
  }
  const rows: Row[] = [];
  const port = await freePort();
  const sink = spawn('smtp-sink', ['-u', process.getuid?.() === 0 ? 'nobody' : String(process.env.USER ?? 'nobody'), '-m', '1000', `127.0.0.1:${port}`, '1024'], { stdio: 'ignore' });
  const tmp = mkdtempSync(join(tmpdir(), 'stoa-outbound-bench-'));
  try {
    await waitPort(port);
    const msg = message(4096);
    // Warm-up, then the client against smtp-source.
    await sendToHosts([{ name: 'sink', addresses: ['127.0.0.1'], port, tls: 'none', rejectUnauthorized: false, auth: null }], { from: 'a@example.test', recipients: [{ address: 'b@remote.example' }], message: msg }, { heloName: 'h', connectTimeoutMs: 5000, greetingTimeoutMs: 5000, socketTimeoutMs: 5000 });
    const ours = await clientRate(port, msg);
    const postfix = sourceRate(port, 4096, Math.max(200, Math.round(ours * SECONDS)));
    rows.push({ bench: 'outbound', metric: `SMTP client msg/s, 4 KiB, ${SESSIONS} connections, one message each`, value: ours, unit: 'msg/s', baseline: { name: 'Postfix smtp-source', value: postfix }, ratio: ours / postfix });

    // The queue end to end: enqueue N at once (each acknowledged on disk), until all are delivered and settled.
    const dir = DirectoryStore.open(join(tmp, 'directory'));
    await dir.addDomain('example.test', { dkim: await makeDkimKey() });
    const svc = new OutboundService({
      dataDir: tmp,
      dir,
      delivery: { deliver: () => Promise.reject(new Error('no local delivery in this bench')) },
      hostname: 'mail.example.test',
      log: quiet,
      resolver: { resolveMx: async (d) => [{ exchange: `mx.${d}`, priority: 10 }], resolveHost: async () => ['127.0.0.1'] },
      mxPort: port,
      concurrency: { global: SESSIONS, perDomain: SESSIONS },
    });
    await svc.start();
    const n = Math.max(200, Math.round(ours * SECONDS));
    const t0 = performance.now();
    await Promise.all(Array.from({ length: n }, () => svc.enqueue({ from: 'alice@example.test', recipients: [{ address: 'bob@remote.example' }], raw: msg })));
    const enqueueRate = n / ((performance.now() - t0) / 1000);
    await svc.idle();
    const e2e = n / ((performance.now() - t0) / 1000);
    if (svc.stats.delivered !== n) throw new Error(`delivered ${svc.stats.delivered} of ${n}`);
    rows.push({ bench: 'outbound', metric: `queue end to end msg/s, 4 KiB, ${SESSIONS} connections (durable enqueue, DKIM, settle)`, value: e2e, unit: 'msg/s', baseline: { name: 'our client alone', value: ours }, ratio: e2e / ours, note: `durable enqueue alone (all at once): ${enqueueRate.toFixed(0)}/s` });
    await svc.stop();
    await dir.close();

    // DKIM signing cost.
    const key = await makeDkimKey();
    for (const size of [4096, 1 << 20]) {
      const m = message(size);
      const reps = size > 100_000 ? 20 : 300;
      for (let i = 0; i < 5; i++) await dkimSign(m, 'example.test', key);
      const t = performance.now();
      for (let i = 0; i < reps; i++) await dkimSign(m, 'example.test', key);
      rows.push({ bench: 'outbound', metric: `DKIM signing, ${size >= 1 << 20 ? '1 MiB' : '4 KiB'} message`, value: (performance.now() - t) / reps, unit: 'ms', note: 'rsa-sha256 2048, relaxed/relaxed (main thread)' });
    }
  } finally {
    sink.kill();
    rmSync(tmp, { recursive: true, force: true });
  }
  return rows;
}
