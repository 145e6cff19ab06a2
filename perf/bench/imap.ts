/**
 * The IMAP door against Dovecot (dovecot-imapd from Debian) in the same run, with one load
 * generator (perf/load/imap-load.ts, in its own process) for both:
 *
 * - operations/s at saturation on a mail-client mix (16 clients; login, select, flag sync,
 *   header and body fetches, searches, store, append, expunge, logout), with the credential
 *   cache warm and cold (ours: scrypt N=32768 in one pool thread; Dovecot: SHA512-CRYPT
 *   passwd-file, auth_cache_size 0);
 * - p99 command latency open-loop, sessions started at a fixed rate on both;
 * - idle authenticated connections: RSS delta / N of our door process with N connections (env
 *   BENCH_IMAP_IDLE, default 10,000) held by the generator, on plain TCP and on implicit TLS.
 *
 * Dovecot runs in its documented high-performance mode (imap-login service_count = 0, imap
 * processes reused: service_count = 1000, process_min_avail = 4),
 * Maildir with mail_fsync = always (our writes are acknowledged after the flush too). Skipped
 * when Dovecot is not installed (`apt-get install dovecot-imapd`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runImapLoadInChild, type ImapLoadOptions, type ImapLoadResult } from '../load/imap-load.js';
import type { Row } from './common.js';
import { startDovecot } from '../load/dovecot.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_IMAP_ROUNDS ?? 3);
const IDLE = Number(process.env.BENCH_IMAP_IDLE ?? 10_000);
const ROLE = process.env.STOA_BENCH_IMAP_ROLE;
const USERS = 16;
const CLIENTS = 16;
const MESSAGES = 50;
const PASSWORD = 'bench password 1';
const users = Array.from({ length: USERS }, (_, i) => `user${i}@example.test`);

// ---------------------------------------------------------------- the door, in a child process

async function serveDoor(cert: string, key: string): Promise<void> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { ActorSystem } = await import('../../runtime/actor-system.js');
  const { ACTOR_KINDS } = await import('../../actors/registry.js');
  const { actorRef } = await import('../../runtime/actor.js');
  const { CpuPool } = await import('../../runtime/cpu-pool.js');
  const { Authenticator } = await import('../../runtime/auth.js');
  const { DirectoryStore } = await import('../../storage/directory-store.js');
  const { makeImapDoor } = await import('../../protocols/imap/imap-door.js');
  const { createServer: createTls } = await import('node:tls');
  const { pino } = await import('pino');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-imap-'));
  process.on('exit', () => rmSync(data, { recursive: true, force: true }));
  process.on('SIGTERM', () => process.exit(0));
  const config = loadConfig({ data }, { STOA_AUTH_CACHE_SECONDS: process.env.STOA_BENCH_CACHE_SECONDS ?? '300' }, data).config;
  const log = pino({ level: 'warn' });
  const workers = process.env.STOA_BENCH_WORKERS;
  const system = await ActorSystem.start({ kinds: ACTOR_KINDS, log, logLevel: 'warn', settings: { partitions: [join(data, 'mail')] }, ...(workers === undefined ? {} : { workers: Number(workers) }) });
  const dir = DirectoryStore.open(join(data, 'directory'));
  const pool = new CpuPool({ threads: 1, minBytes: 64 * 1024 });
  const c = config.auth;
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: { n: c.scrypt_n, r: c.scrypt_r, p: c.scrypt_p }, cacheMs: c.cache_seconds * 1000, storeNtHash: false });
  await dir.addDomain('example.test');
  const hashed = await auth.hash(PASSWORD);
  for (const address of users) {
    const u = await dir.addUser({ address, ...hashed });
    await system.call(actorRef<import('../../actors/mailbox/mailbox-actor.js').MailboxProtocol>('mailbox', address), 'provision', { ownerName: address, legacyDn: u.legacyDn, serverShortname: 'bench' });
  }
  const base = { hostname: 'bench.example.test', log, auth, dir, system, pool, tls: { cert, key }, allowPlaintextAuth: true };
  const plain = makeImapDoor({ ...base, implicitTls: false, limits: { connectionsPerUser: 100_000, authFailuresPerAddressPerMinute: 1_000_000 } });
  const tlsDoor = makeImapDoor({ ...base, implicitTls: true, limits: { connectionsPerUser: 100_000, authFailuresPerAddressPerMinute: 1_000_000 } });
  const tcp = createServer(plain);
  const tls = createTls({ cert, key }, tlsDoor);
  tcp.listen(0, '127.0.0.1', () =>
    tls.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(tcp.address() as { port: number }).port} ${(tls.address() as { port: number }).port}\n`)),
  );
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    if (d.includes('rss')) {
      (globalThis as { gc?: () => void }).gc?.();
      setTimeout(() => {
        (globalThis as { gc?: () => void }).gc?.();
        process.stdout.write(`RSS ${process.memoryUsage().rss}\n`);
      }, 500);
    }
  });
}

if (ROLE === 'door') await serveDoor(readFileSync(process.env.STOA_BENCH_CERT!, 'utf8'), readFileSync(process.env.STOA_BENCH_KEY!, 'utf8'));

interface DoorChild {
  proc: ChildProcess;
  port: number;
  tlsPort: number;
  rss(): Promise<number>;
}

function startDoor(env: Record<string, string>): Promise<DoorChild> {
  // A high file limit for the idle-connection figure (10,000 sockets and more).
  const proc = spawn('sh', ['-c', `ulimit -n 65536 2>/dev/null; exec "${process.execPath}" --expose-gc "${fileURLToPath(import.meta.url)}"`], {
    env: { ...process.env, STOA_BENCH_IMAP_ROLE: 'door', ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  let out = '';
  const waiters: ((line: string) => void)[] = [];
  proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
    out += c;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      for (const w of waiters.splice(0)) w(line);
    }
  });
  const next = () => new Promise<string>((r) => waiters.push(r));
  return new Promise((resolve, reject) => {
    proc.once('exit', (code) => reject(new Error(`bench imap door exited (${code})`)));
    void next().then((line) => {
      const m = /READY (\d+) (\d+)/.exec(line);
      if (m === null) return reject(new Error(line));
      resolve({
        proc,
        port: Number(m[1]),
        tlsPort: Number(m[2]),
        async rss() {
          const p = next();
          proc.stdin!.write('rss\n');
          return Number(/RSS (\d+)/.exec(await p)![1]);
        },
      });
    });
  });
}

// ---------------------------------------------------------------- the run

export async function run(): Promise<Row[]> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { loadTlsIdentity } = await import('../../protocols/shared/tls.js');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-imap-run-'));
  chmodSync(data, 0o755); // Dovecot's mail processes run unprivileged
  const stops: (() => void)[] = [];
  try {
    const tls = await loadTlsIdentity(loadConfig({ data }, {}, data).config, 'localhost');
    const env = { STOA_BENCH_CERT: tls.certPath, STOA_BENCH_KEY: join(data, 'tls', 'key.pem') };
    const warm = await startDoor(env);
    stops.push(() => warm.proc.kill('SIGKILL'));
    const cold = await startDoor({ ...env, STOA_BENCH_CACHE_SECONDS: '0' });
    stops.push(() => cold.proc.kill('SIGKILL'));
    const dovecot = await startDovecot({ dir: data, name: 'dovecot-warm', protocol: 'imap', users, password: PASSWORD });
    if (dovecot !== null) stops.push(dovecot.stop);
    const dovecotCold = await startDovecot({ dir: data, name: 'dovecot-cold', protocol: 'imap', users, password: PASSWORD, authCache: false });
    if (dovecotCold !== null) stops.push(dovecotCold.stop);

    const base: Omit<ImapLoadOptions, 'port' | 'mode'> = { users, password: PASSWORD, clients: CLIENTS, seconds: SECONDS, messages: MESSAGES };
    for (const port of [warm.port, cold.port, dovecot?.port, dovecotCold?.port]) {
      if (port === undefined) continue;
      process.stderr.write(`  imap bench: populating ${port}\n`);
      await runImapLoadInChild({ ...base, mode: "populate", port });
    }
    // Warm-up (JIT, actors active, caches filled).
    await runImapLoadInChild({ ...base, mode: 'mix', port: warm.port, seconds: 1 });
    if (dovecot !== null) await runImapLoadInChild({ ...base, mode: 'mix', port: dovecot.port, seconds: 1 });

    const rows: Row[] = [];
    const mixName = 'imap mix (login, select, flag sync, header + body fetch, search, store, append, expunge, logout)';
    // Saturation, warm: rounds alternating between the two servers (this box is shared and
    // drifts), the median of each.
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ourRuns: ImapLoadResult[] = [];
    const theirRuns: ImapLoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      ourRuns.push(await runImapLoadInChild({ ...base, mode: 'mix', port: warm.port }));
      if (dovecot !== null) theirRuns.push(await runImapLoadInChild({ ...base, mode: 'mix', port: dovecot.port }));
    }
    const us = ourRuns.find((r) => r.perSecond === median(ourRuns.map((x) => x.perSecond)))!;
    if (ourRuns.some((r) => r.failed > 0)) process.stderr.write(`  imap bench: failures (${ourRuns.find((r) => r.failed > 0)!.firstError})\n`);
    process.stderr.write(`  imap bench: ours ${ourRuns.map((r) => r.perSecond.toFixed(0)).join(' ')} ops/s; dovecot ${theirRuns.map((r) => r.perSecond.toFixed(0)).join(' ')} ops/s\n  ours per command (ms): ${JSON.stringify(us.perCommand)}\n`);
    const usCold = await runImapLoadInChild({ ...base, mode: 'mix', port: cold.port, clients: 4 });
    if (dovecot !== null && dovecotCold !== null) {
      const d = theirRuns.find((r) => r.perSecond === median(theirRuns.map((x) => x.perSecond)))!;
      process.stderr.write(`  dovecot per command (ms): ${JSON.stringify(d.perCommand)}\n`);
      const dc = await runImapLoadInChild({ ...base, mode: 'mix', port: dovecotCold.port, clients: 4 });
      rows.push({ bench: mixName, metric: `operations/s at saturation, ${CLIENTS} clients, warm auth cache (median of ${ROUNDS} alternating rounds)`, value: us.perSecond, unit: 'ops/s', baseline: { name: 'Dovecot 2.3 (Maildir, fsync)', value: d.perSecond }, ratio: us.perSecond / d.perSecond, note: `p99 ${us.p99ms.toFixed(1)} ms vs ${d.p99ms.toFixed(1)} ms${d.failed > 0 ? `; dovecot failures: ${d.firstError}` : ''}` });
      rows.push({ bench: mixName, metric: 'operations/s at saturation, 4 clients, cold (no auth cache)', value: usCold.perSecond, unit: 'ops/s', baseline: { name: 'Dovecot 2.3, auth_cache_size 0', value: dc.perSecond }, ratio: usCold.perSecond / dc.perSecond, note: 'ours: scrypt N=32768 per login; Dovecot: SHA512-CRYPT' });
      // Open loop: sessions at a fixed rate (40 % of the slower server's saturation) on both.
      const sessionsPerSec = Math.min(us.sessions, d.sessions) / SECONDS;
      const rate = Math.max(2, Math.round(sessionsPerSec * 0.4));
      const ol = await runImapLoadInChild({ ...base, mode: 'mix', port: warm.port, rate });
      const dl = await runImapLoadInChild({ ...base, mode: 'mix', port: dovecot.port, rate });
      rows.push({ bench: mixName, metric: `p99 command latency open-loop at ${rate} sessions/s`, value: ol.p99ms, unit: 'ms', baseline: { name: 'Dovecot 2.3', value: dl.p99ms }, ratio: dl.p99ms / Math.max(ol.p99ms, 0.001), note: `ratio = dovecot/ours (higher is better); p50 ${ol.p50ms.toFixed(2)} vs ${dl.p50ms.toFixed(2)} ms` });
    } else {
      rows.push({ bench: mixName, metric: `operations/s at saturation, ${CLIENTS} clients, warm auth cache`, value: us.perSecond, unit: 'ops/s', note: 'Dovecot not installed' });
    }
    // Idle authenticated connections: RSS delta per connection, plain and TLS.
    for (const viaTls of [false, true]) {
      const before = await warm.rss();
      let after = 0;
      const r = await runImapLoadInChild({ ...base, mode: 'idle', port: viaTls ? warm.tlsPort : warm.port, tls: viaTls, clients: IDLE }, (line, stdin) => {
        if (line.startsWith('HELD')) {
          void warm.rss().then((v) => {
            after = v;
            stdin.end();
          });
        }
      });
      const perConn = (after - before) / Math.max(1, r.held ?? 1) / 1024;
      rows.push({
        bench: 'imap idle authenticated connections',
        metric: `RSS per connection, ${r.held} connections, ${viaTls ? 'implicit TLS (993)' : 'plain (143)'}`,
        value: perConn,
        unit: 'KiB',
        note: `target ≤ ${viaTls ? 90 : 50} KiB; Dovecot ~460 KiB per session here${r.failed > 0 ? `; ${r.failed} failed: ${r.firstError}` : ''}`,
      });
      await new Promise((res) => setTimeout(res, 1000));
    }
    return rows;
  } finally {
    for (const s of stops) s();
    rmSync(data, { recursive: true, force: true });
  }
}
