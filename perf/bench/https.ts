/**
 * The HTTPS door against a bare Node `https` server answering a fixed body over the same TLS
 * certificate, in the same run (this box is shared and noisy: the ratio is the figure):
 *  - AutoDiscover POST (Basic auth, XML parse, directory lookups, answer with mapiHttp URLs) vs the
 *    bare server answering the same bytes to a POST of the same body: requests/s at saturation
 *    (target 0.3x) and p99 open-loop at a fixed rate;
 *  - a tiny authenticated GET vs the bare server's tiny answer (target 0.6x), the same two ways;
 *  - both again with a cold credential cache (auth.cache_seconds = 0: scrypt at the production
 *    cost on every request, in the CPU pool).
 * Each server runs in a child process (this file, STOA_BENCH_HTTPS_ROLE set); autocannon drives
 * them from this process. The door child is the real door (makeHttpDoor) with a real directory,
 * authenticator and CPU pool; only the mailbox GUID lookup is a fixed stub (it is cached after the
 * first request anyway) and the access log goes to /dev/null (formatted, not stored).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { pino } from 'pino';
import type { Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROLE = process.env.STOA_BENCH_HTTPS_ROLE;
const USER = 'bench@example.test';
const PASSWORD = 'bench password 1';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const AD_BODY = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${USER}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
const TINY = 'ok\n';

// ---------------------------------------------------------------- autocannon (no bundled types)

interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}
type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

// ---------------------------------------------------------------- child roles

async function serveBare(cert: string, key: string): Promise<void> {
  const { outlookResponse } = await import('../../protocols/autodiscover/pox-response.js');
  // The door's answer, byte for byte the same size, as the fixed body.
  const big = outlookResponse({
    displayName: 'Bench',
    legacyDn: '/o=Stoa/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=0123456789abcdef0123456789abcdef',
    smtpAddress: USER,
    deploymentId: '00000000-0000-4000-8000-000000000000',
    mapiHttp: {
      mailStore: { internal: 'https://bench.example.test/mapi/emsmdb/?MailboxId=00000000-0000-4000-8000-000000000000@example.test', external: 'https://bench.example.test/mapi/emsmdb/?MailboxId=00000000-0000-4000-8000-000000000000@example.test' },
      addressBook: { internal: 'https://bench.example.test/mapi/nspi/?MailboxId=00000000-0000-4000-8000-000000000000@example.test', external: 'https://bench.example.test/mapi/nspi/?MailboxId=00000000-0000-4000-8000-000000000000@example.test' },
    },
  });
  const server = createHttpsServer({ cert, key }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const body = req.url === '/big' ? big : TINY;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`));
}

async function serveDoor(cert: string, key: string): Promise<void> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { CpuPool } = await import('../../runtime/cpu-pool.js');
  const { Authenticator } = await import('../../runtime/auth.js');
  const { DirectoryStore } = await import('../../storage/directory-store.js');
  const { makeHttpDoor } = await import('../../protocols/http/make-door.js');
  const { sendText } = await import('../../protocols/http/exchange.js');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-https-'));
  process.on('exit', () => rmSync(data, { recursive: true, force: true }));
  const config = loadConfig({ data }, { STOA_AUTH_CACHE_SECONDS: process.env.STOA_BENCH_CACHE_SECONDS ?? '300' }, data).config;
  const dir = DirectoryStore.open(join(data, 'directory'));
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  const c = config.auth;
  const auth = new Authenticator(dir, pool, await dir.secret(), { scrypt: { n: c.scrypt_n, r: c.scrypt_r, p: c.scrypt_p }, cacheMs: c.cache_seconds * 1000, storeNtHash: c.store_nt_hash });
  await dir.addDomain('example.test');
  await dir.addUser({ address: USER, displayName: 'Bench', ...(await auth.hash(PASSWORD)) });
  const door = makeHttpDoor({
    config,
    hostname: 'bench.example.test',
    log: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: false })),
    dir,
    auth,
    health: async () => ({ ok: true, detail: {} }),
    samples: async () => [],
    deploymentId: '00000000-0000-4000-8000-000000000000',
    fetchMailboxGuid: async () => '00000000-0000-4000-8000-000000000000',
    extraRoutes: [{ name: 'bench-tiny', paths: ['/bench/tiny'], methods: ['GET'], auth: 'user', handle: ({ res }) => sendText(res, 200, TINY) }],
  });
  const server = createTlsServer({ cert, key, ALPNProtocols: ['http/1.1'] }, (s) => door.handleConnection(s, 'https'));
  server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`));
}

if (ROLE !== undefined) {
  const cert = readFileSync(process.env.STOA_BENCH_CERT!, 'utf8');
  const key = readFileSync(process.env.STOA_BENCH_KEY!, 'utf8');
  await (ROLE === 'bare' ? serveBare(cert, key) : serveDoor(cert, key));
}

// ---------------------------------------------------------------- the run

interface Child {
  proc: ChildProcess;
  port: number;
}

function startChild(role: string, env: Record<string, string>): Promise<Child> {
  const proc = spawn(process.execPath, [fileURLToPath(import.meta.url)], { env: { ...process.env, STOA_BENCH_HTTPS_ROLE: role, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out);
      if (m !== null) resolve({ proc, port: Number(m[1]) });
    });
    proc.once('exit', (code) => reject(new Error(`bench ${role} server exited (${code})`)));
  });
}

async function cannon(port: number, path: string, method: 'GET' | 'POST', extra: Record<string, unknown> = {}): Promise<CannonResult> {
  const r = await autocannon({
    url: `https://127.0.0.1:${port}${path}`,
    method,
    headers: { authorization: AUTH, 'content-type': 'text/xml', 'x-mapihttpcapability': '1' },
    ...(method === 'POST' ? { body: AD_BODY } : {}),
    connections: 16,
    duration: SECONDS,
    ...extra,
  });
  if (r.non2xx > 0 || r.errors > 0) process.stderr.write(`  (warning: ${path} ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)\n`);
  return r;
}

export async function run(): Promise<Row[]> {
  const { loadConfig } = await import('../../runtime/config.js');
  const { loadTlsIdentity } = await import('../../protocols/shared/tls.js');
  const data = mkdtempSync(join(tmpdir(), 'stoa-bench-tls-'));
  const children: Child[] = [];
  try {
    const tls = await loadTlsIdentity(loadConfig({ data }, {}, data).config, 'localhost');
    const env = { STOA_BENCH_CERT: tls.certPath, STOA_BENCH_KEY: join(data, 'tls', 'key.pem') };
    const bare = await startChild('bare', env);
    const warm = await startChild('door', env);
    const cold = await startChild('door', { ...env, STOA_BENCH_CACHE_SECONDS: '0' });
    children.push(bare, warm, cold);
    // Warm-up: TLS sessions, JIT, the credential cache and the mailbox GUID cache.
    for (const [port, path, method] of [
      [bare.port, '/big', 'POST'],
      [warm.port, '/autodiscover/autodiscover.xml', 'POST'],
      [warm.port, '/bench/tiny', 'GET'],
    ] as const) {
      await cannon(port, path, method, { duration: 1 });
    }

    const rows: Row[] = [];
    const cases = [
      { what: 'AutoDiscover POST', door: '/autodiscover/autodiscover.xml', bare: '/big', method: 'POST' as const, target: 0.3 },
      { what: 'tiny authenticated GET', door: '/bench/tiny', bare: '/tiny', method: 'GET' as const, target: 0.6 },
    ];
    for (const c of cases) {
      // Saturation: 16 connections, each sending its next request when the answer arrives.
      const b = await cannon(bare.port, c.bare, c.method);
      const d = await cannon(warm.port, c.door, c.method);
      rows.push({
        bench: `https door: ${c.what}`,
        metric: 'requests/s at saturation (warm cache)',
        value: d.requests.average,
        unit: 'req/s',
        baseline: { name: 'bare node https', value: b.requests.average },
        ratio: d.requests.average / b.requests.average,
        note: `target ${c.target}x; p50 ${d.latency.p50} ms vs ${b.latency.p50} ms`,
      });
      // Open loop: a fixed offered rate (40% of the door's saturation) over 64 connections, the same for both.
      const rate = Math.max(50, Math.round(d.requests.average * 0.4));
      const ob = await cannon(bare.port, c.bare, c.method, { overallRate: rate, connections: 64 });
      const od = await cannon(warm.port, c.door, c.method, { overallRate: rate, connections: 64 });
      rows.push({
        bench: `https door: ${c.what}`,
        metric: `p99 latency at ${rate} req/s (warm cache)`,
        value: od.latency.p99,
        unit: 'ms',
        baseline: { name: 'bare node https', value: ob.latency.p99 },
        ratio: ob.latency.p99 / Math.max(od.latency.p99, 0.001),
        note: `ratio = bare/door (higher is better); p50 ${od.latency.p50} ms vs ${ob.latency.p50} ms`,
      });
      // Cold cache: every request runs scrypt at the configured cost in the CPU pool.
      const cs = await cannon(cold.port, c.door, c.method, { connections: 4 });
      rows.push({
        bench: `https door: ${c.what}`,
        metric: 'requests/s at saturation (cold cache: scrypt every request)',
        value: cs.requests.average,
        unit: 'req/s',
        baseline: { name: 'bare node https', value: b.requests.average },
        ratio: cs.requests.average / b.requests.average,
        note: `p99 ${cs.latency.p99} ms; bound by scrypt N=32768 in 1 pool thread`,
      });
    }
    return rows;
  } finally {
    for (const ch of children) ch.proc.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
}
