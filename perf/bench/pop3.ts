/**
 * The POP3 door against a bare Node server speaking a canned POP3 dialogue over the same
 * transport and certificate, in the same run (the ratio is the figure; this box is shared).
 *
 * One session = connect (+ TLS handshake) → greeting → USER → PASS → STAT → UIDL → RETR of 10
 * messages of 4 KiB → QUIT, one command at a time, as a mail client does it.
 *  - sessions/s at saturation (16 clients in parallel), over implicit TLS and over plain TCP
 *    (where the door's own cost shows most), with a warm credential cache, door and bare server
 *    measured in alternating slices;
 *  - the same over TLS with a cold credential cache (auth.cache_seconds = 0: scrypt at the
 *    production cost, N=32768, in one pool thread, on every login);
 *  - p99 session latency open-loop at a fixed rate (40 % of the door's saturation).
 * The door runs in a child process (this file, STOA_BENCH_POP3_ROLE=door) with a real actor
 * system (mailbox actors on LMDB, default worker count), directory, authenticator and CPU pool,
 * 16 users with 10 messages each; the bare server in another child; the clients here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createTcpServer, connect as tcpConnect, type Socket } from 'node:net';
import { createServer as createTlsServer, connect as tlsConnect } from 'node:tls';
import { Histogram } from '../../runtime/histogram.js';
import { openLoopPaired, saturate, type Row } from './common.js';
import { startDovecot } from '../load/dovecot.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROLE = process.env.STOA_BENCH_POP3_ROLE;
const USERS = 16;
const MESSAGES = 10;
const PASSWORD = 'bench password 1';
const userOf = (i: number) => `user${i % USERS}@example.test`;

/** A 4 KiB message (CRLF lines, one starting with a dot), distinct per number. */
function message(n: number): Buffer {
  const head = `From: Sender <sender@example.com>\r\nTo: user@example.test\r\nSubject: bench message ${n}\r\nMessage-ID: <bench-${n}@example.com>\r\nDate: Tue, 3 Mar 2020 12:34:56 +0100\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n.a dotted line\r\n`;
  let body = '';
  while (head.length + body.length < 4096 - 80) body += 'The quick brown fox jumps over the lazy dog, again and again and again.\r\n';
  return Buffer.from(head + body, 'latin1');
}

// ---------------------------------------------------------------- child roles

/** The canned dialogue: fixed answers, a fixed 4 KiB message (byte-stuffed) for every RETR. */
function serveBare(cert: string, key: string): void {
  const msg = message(0);
  const stuffed = Buffer.from(msg.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
  const uidl = Buffer.from(`+OK\r\n${Array.from({ length: MESSAGES }, (_, i) => `${i + 1} 00000000000${i}0123abcd\r\n`).join('')}.\r\n`);
  const retr = Buffer.concat([Buffer.from(`+OK ${msg.length} octets\r\n`), stuffed, Buffer.from('.\r\n')]);
  const handle = (s: Socket) => {
    s.setNoDelay(true);
    s.on('error', () => undefined);
    s.write('+OK bare POP3 ready\r\n');
    let pending = '';
    s.on('data', (c: Buffer) => {
      pending += c.toString('latin1');
      let nl: number;
      while ((nl = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'RETR') s.write(retr);
        else if (verb === 'UIDL') s.write(uidl);
        else if (verb === 'STAT') s.write(`+OK ${MESSAGES} ${MESSAGES * msg.length}\r\n`);
        else if (verb === 'QUIT') s.end('+OK bye\r\n');
        else s.write('+OK\r\n');
      }
    });
  };
  const tls = createTlsServer({ cert, key }, handle);
  const tcp = createTcpServer(handle);
  tls.listen(0, '127.0.0.1', () => tcp.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(tls.address() as { port: number }).port} ${(tcp.address() as { port: number }).port}\n`)));
}

async function serveDoor(cert: string, key: string): Promise<void> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { ActorSystem } = await import('../../runtime/actor-system.js');
  const { ACTOR_KINDS } = await import('../../actors/registry.js');
  const { actorRef } = await import('../../runtime/actor.js');
  const { CpuPool } = await import('../../runtime/cpu-pool.js');
  const { Authenticator } = await import('../../runtime/auth.js');
  const { DirectoryStore } = await import('../../storage/directory-store.js');
  const { mimeToMapi } = await import('../../protocols/mail/mime-to-mapi.js');
  const { mapiToWire } = await import('../../actors/mailbox/wire-message.js');
  const { makePop3Door } = await import('../../protocols/pop3/pop3-door.js');
  const { pino } = await import('pino');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-pop3-'));
  process.on('exit', () => rmSync(data, { recursive: true, force: true }));
  // A clean exit on SIGTERM (so --cpu-prof can write its profile when profiling this role).
  process.on('SIGTERM', () => process.exit(0));
  const config = loadConfig({ data }, { STOA_AUTH_CACHE_SECONDS: process.env.STOA_BENCH_CACHE_SECONDS ?? '300' }, data).config;
  const log = pino({ level: 'warn' });
  const spin = process.env.STOA_BENCH_MAIN_SPIN_US;
  const system = await ActorSystem.start({ kinds: ACTOR_KINDS, log, logLevel: 'warn', settings: { partitions: [join(data, 'mail')] }, ...(spin === undefined ? {} : { mainSpinMicros: Number(spin) }) });
  const dir = DirectoryStore.open(join(data, 'directory'));
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  const c = config.auth;
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: { n: c.scrypt_n, r: c.scrypt_r, p: c.scrypt_p }, cacheMs: c.cache_seconds * 1000, storeNtHash: false });
  await dir.addDomain('example.test');
  const hashed = await auth.hash(PASSWORD);
  for (let u = 0; u < USERS; u++) {
    const address = userOf(u);
    await dir.addUser({ address, ...hashed });
    const ref = actorRef<import('../../actors/mailbox/mailbox-actor.js').MailboxProtocol>('mailbox', address);
    await system.call(ref, 'provision', { ownerName: address, legacyDn: `/o=Stoa/cn=Recipients/cn=user${u}`, serverShortname: 'bench' });
    for (let n = 0; n < MESSAGES; n++) {
      const raw = message(n);
      await system.call(ref, 'deliver', mapiToWire(mimeToMapi(raw).message, raw));
    }
  }
  const door = makePop3Door({ hostname: 'bench.example.test', log, auth, dir, system, tls: { cert, key }, allowPlaintextAuth: true });
  const tls = createTlsServer({ cert, key }, door);
  const tcp = createTcpServer(door);
  tls.listen(0, '127.0.0.1', () => tcp.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(tls.address() as { port: number }).port} ${(tcp.address() as { port: number }).port}\n`)));
}

if (ROLE !== undefined) {
  const cert = readFileSync(process.env.STOA_BENCH_CERT!, 'utf8');
  const key = readFileSync(process.env.STOA_BENCH_KEY!, 'utf8');
  if (ROLE === 'bare') serveBare(cert, key);
  else await serveDoor(cert, key);
}

// ---------------------------------------------------------------- the client

/** Reads POP3 answers off a socket: single lines and multi-line answers. */
class Reader {
  private buf = '';
  private want: { multi: boolean; resolve: (s: string) => void; reject: (e: Error) => void } | null = null;
  constructor(private readonly sock: Socket) {
    sock.setNoDelay(true);
    sock.on('data', (c: Buffer) => {
      this.buf += c.toString('latin1');
      this.check();
    });
    sock.on('error', (e) => this.fail(e));
    sock.on('close', () => this.fail(new Error('closed')));
  }
  private fail(e: Error): void {
    const w = this.want;
    this.want = null;
    w?.reject(e);
  }
  private check(): void {
    const w = this.want;
    if (w === null) return;
    const nl = this.buf.indexOf('\r\n');
    if (nl < 0) return;
    let end = nl + 2;
    if (w.multi && this.buf.startsWith('+OK')) {
      const dot = this.buf.indexOf('\r\n.\r\n', nl);
      if (dot < 0) return;
      end = dot + 5;
    }
    const got = this.buf.slice(0, end);
    this.buf = this.buf.slice(end);
    this.want = null;
    if (!got.startsWith('+OK')) w.reject(new Error(`server said: ${got.trim()}`));
    else w.resolve(got);
  }
  next(multi: boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      this.want = { multi, resolve, reject };
      this.check();
    });
  }
  cmd(line: string, multi = false): Promise<string> {
    this.sock.write(`${line}\r\n`);
    return this.next(multi);
  }
}

let lane = 0;
async function session(port: number, tls: boolean): Promise<void> {
  const sock = tls ? tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }) : tcpConnect({ port, host: '127.0.0.1' });
  const r = new Reader(sock);
  try {
    await r.next(false);
    await r.cmd(`USER ${userOf(lane++)}`);
    await r.cmd(`PASS ${PASSWORD}`);
    await r.cmd('STAT');
    await r.cmd('UIDL', true);
    for (let n = 1; n <= MESSAGES; n++) await r.cmd(`RETR ${n}`, true);
    await r.cmd('QUIT');
  } finally {
    sock.destroy();
  }
}

// ---------------------------------------------------------------- Dovecot

/** Dovecot's POP3 (perf/load/dovecot.ts) on Maildirs holding the same messages as the door's mailboxes. */
async function startDovecotPop3(dir: string): Promise<{ port: number; stop: () => void } | null> {
  const users = Array.from({ length: USERS }, (_, i) => userOf(i));
  const d = await startDovecot({ dir, name: 'dovecot-pop3', protocol: 'pop3', users, password: PASSWORD });
  if (d === null) return null;
  for (const u of users) {
    const md = join(d.mailRoot, u.split('@')[0]!);
    for (const sub of ['new', 'cur', 'tmp']) mkdirSync(join(md, sub), { recursive: true, mode: 0o777 });
    for (let n = 0; n < MESSAGES; n++) writeFileSync(join(md, 'cur', `${1_700_000_000 + n}.M${n}P1.bench:2,S`), message(n), { mode: 0o666 });
    spawnSync('chown', ['-R', '65534:65534', md]);
  }
  return d;
}

// ---------------------------------------------------------------- the run

interface Child {
  proc: ChildProcess;
  tlsPort: number;
  tcpPort: number;
}

function startChild(role: string, env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, STOA_BENCH_POP3_ROLE: role, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /READY (\d+) (\d+)/.exec(out);
      if (m !== null) resolve({ proc, tlsPort: Number(m[1]), tcpPort: Number(m[2]) });
    });
    proc.once('exit', (code) => reject(new Error(`bench pop3 ${role} server exited (${code})`)));
  });
}

const CLIENTS = 16;
const SLICES = 3;

/**
 * Saturation of two servers measured in alternating slices (A B, B A, A B...) and summed, so a
 * drift of this shared machine's speed falls on both alike.
 */
async function saturatePaired(window: number, seconds: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<{ a: number; b: number }> {
  let sa = 0;
  let sb = 0;
  const slice = seconds / SLICES;
  for (let i = 0; i < SLICES; i++) {
    if (i % 2 === 0) {
      sa += await saturate(window, slice, a);
      sb += await saturate(window, slice, b);
    } else {
      sb += await saturate(window, slice, b);
      sa += await saturate(window, slice, a);
    }
  }
  return { a: sa / SLICES, b: sb / SLICES };
}

export async function run(): Promise<Row[]> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { loadTlsIdentity } = await import('../../protocols/shared/tls.js');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-pop3-tls-'));
  chmodSync(data, 0o755); // Dovecot reads its mail as an unprivileged user
  const children: Child[] = [];
  try {
    const tls = await loadTlsIdentity(loadConfig({ data }, {}, data).config, 'localhost');
    const env = { STOA_BENCH_CERT: tls.certPath, STOA_BENCH_KEY: join(data, 'tls', 'key.pem') };
    const [bare, warm, cold] = await Promise.all([startChild('bare', env), startChild('door', env), startChild('door', { ...env, STOA_BENCH_CACHE_SECONDS: '0' })]);
    children.push(bare, warm, cold);
    // Warm-up: JIT, every mailbox actor active, the credential and size caches filled.
    await saturate(CLIENTS, 1, () => session(warm.tlsPort, true));
    await saturate(CLIENTS, 1, () => session(warm.tcpPort, false));
    await saturate(CLIENTS, 1, () => session(bare.tlsPort, true));
    await saturate(4, 1, () => session(cold.tlsPort, true));

    const rows: Row[] = [];
    for (const transport of ['TLS', 'TCP'] as const) {
      const tlsOn = transport === 'TLS';
      const { a: d, b } = await saturatePaired(
        CLIENTS,
        SECONDS,
        () => session(tlsOn ? warm.tlsPort : warm.tcpPort, tlsOn),
        () => session(tlsOn ? bare.tlsPort : bare.tcpPort, tlsOn),
      );
      rows.push({
        bench: `pop3 door over ${transport}: login + STAT + UIDL + 10 RETR of 4 KiB + QUIT`,
        metric: `sessions/s at saturation, ${CLIENTS} clients (warm credential cache)`,
        value: d,
        unit: 'sessions/s',
        baseline: { name: `bare node ${transport} canned dialogue`, value: b },
        ratio: d / b,
      });
    }
    // Dovecot's POP3 on the same messages, plain TCP on both sides, in alternating slices.
    const dovecot = await startDovecotPop3(data);
    if (dovecot !== null) {
      try {
        await session(dovecot.port, false); // throws (and the row is skipped) when Dovecot cannot serve
        await saturate(CLIENTS, 1, () => session(dovecot.port, false));
        const { a: d, b: dv } = await saturatePaired(CLIENTS, SECONDS, () => session(warm.tcpPort, false), () => session(dovecot.port, false));
        rows.push({
          bench: 'pop3 door over TCP: login + STAT + UIDL + 10 RETR of 4 KiB + QUIT',
          metric: `sessions/s at saturation, ${CLIENTS} clients (warm auth caches on both)`,
          value: d,
          unit: 'sessions/s',
          baseline: { name: 'Dovecot 2.3 POP3 (Maildir, SHA512-CRYPT, auth cache, processes reused)', value: dv },
          ratio: d / dv,
        });
      } catch (err) {
        process.stderr.write(`  pop3 bench: Dovecot comparison skipped: ${(err as Error).message}\n`);
      } finally {
        dovecot.stop();
      }
    }
    const cs = await saturate(4, SECONDS, () => session(cold.tlsPort, true));
    const bs = rows[0]!.baseline!.value;
    rows.push({
      bench: 'pop3 door over TLS: login + STAT + UIDL + 10 RETR of 4 KiB + QUIT',
      metric: 'sessions/s at saturation, 4 clients (cold cache: scrypt every login)',
      value: cs,
      unit: 'sessions/s',
      baseline: { name: 'bare node TLS canned dialogue', value: bs },
      ratio: cs / bs,
      note: 'bound by scrypt N=32768 in 1 pool thread',
    });
    // Open loop: a fixed offered rate (40 % of the door's saturation), both servers at once.
    const rate = Math.max(5, Math.round(rows[0]!.value * 0.4));
    const lat = await openLoopPaired(rate, SECONDS, () => session(warm.tlsPort, true), () => session(bare.tlsPort, true));
    const p = (h: Histogram, q: number) => h.percentile(q) / 1000;
    rows.push({
      bench: 'pop3 door over TLS: login + STAT + UIDL + 10 RETR of 4 KiB + QUIT',
      metric: `p99 session latency at ${rate} sessions/s (warm cache)`,
      value: p(lat.a, 0.99),
      unit: 'ms',
      baseline: { name: 'bare node TLS canned dialogue', value: p(lat.b, 0.99) },
      ratio: p(lat.b, 0.99) / Math.max(p(lat.a, 0.99), 0.001),
      note: `ratio = bare/door (higher is better); p50 ${p(lat.a, 0.5).toFixed(1)} ms vs ${p(lat.b, 0.5).toFixed(1)} ms`,
    });
    return rows;
  } finally {
    for (const ch of children) ch.proc.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
}
