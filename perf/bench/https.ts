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
 * first request anyway) and the access log goes to /dev/null (formatted, not stored), written
 * synchronously as the server's own logger writes stdout.
 *
 * Fairness on a shared 2-core box: both servers have the same TLS (certificate, ALPN http/1.1,
 * session tickets, no Nagle) and keep-alive, autocannon the same connections and no pipelining;
 * saturation runs alternate between the two in slices (SECONDS/3 each, three rounds) so a burst of
 * other load falls on both, and each server's CPU time per request is reported too (from /proc),
 * which moves far less with the box's load than requests/s.
 */
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTlsServer } from 'node:tls';
import { pino } from 'pino';
import type { Row } from './common.js';
import { alternate, autocannon, startChild as startServerChild, us, type CannonResult, type Child, type Saturation } from '../load/cannon.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROLE = process.env.STOA_BENCH_HTTPS_ROLE;
const USER = 'bench@example.test';
const PASSWORD = 'bench password 1';
const AUTH = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
const AD_BODY = `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>${USER}</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>`;
const TINY = 'ok\n';

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
  // Node's https defaults, spelled out: ALPN http/1.1 and no Nagle, as the door's listener.
  const server = createHttpsServer({ cert, key, ALPNProtocols: ['http/1.1'], noDelay: true }, (req, res) => {
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
    // Synchronous, as runtime/logger.ts's pino on stdout (an async destination adds a thread-pool hop per batch).
    log: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true })),
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

function startChild(role: string, env: Record<string, string>): Promise<Child> {
  return startServerChild(fileURLToPath(import.meta.url), { STOA_BENCH_HTTPS_ROLE: role, ...env }, role);
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

/**
 * Saturation of two servers in alternating slices (three rounds of SECONDS / 3 each): 16
 * connections, each sending its next request when the answer arrives.
 */
async function saturateBoth(a: { child: Child; path: string }, b: { child: Child; path: string }, method: 'GET' | 'POST'): Promise<[Saturation, Saturation]> {
  const side = (s: { child: Child; path: string }) => ({
    pid: s.child.proc.pid!,
    run: async (seconds: number) => {
      const r = await cannon(s.child.port, s.path, method, { duration: seconds });
      return { total: r.requests.total, duration: r.duration, p50: r.latency.p50 };
    },
  });
  const [x, y] = await alternate([side(a), side(b)], SECONDS);
  return [x!, y!];
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
    // Warm-up of both: TLS sessions, JIT, the credential cache and the mailbox GUID cache.
    for (const [port, path, method] of [
      [bare.port, '/big', 'POST'],
      [bare.port, '/tiny', 'GET'],
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
      const [b, d] = await saturateBoth({ child: bare, path: c.bare }, { child: warm, path: c.door }, c.method);
      rows.push({
        bench: `https door: ${c.what}`,
        metric: 'requests/s at saturation (warm cache)',
        value: d.rps,
        unit: 'req/s',
        baseline: { name: 'bare node https', value: b.rps },
        ratio: d.rps / b.rps,
        note: `target ${c.target}x; p50 ${d.p50} ms vs ${b.p50} ms; 3 alternating slices`,
      });
      if (d.cpuUs !== null && b.cpuUs !== null) {
        rows.push({
          bench: `https door: ${c.what}`,
          metric: 'server CPU per request at saturation (warm cache)',
          value: d.cpuUs,
          unit: 'µs',
          baseline: { name: 'bare node https', value: b.cpuUs },
          ratio: b.cpuUs / d.cpuUs,
          note: `ratio = bare/door (higher is better); ${us(d.cpuUs)} vs ${us(b.cpuUs)}, user + system, TLS included`,
        });
      }
      // Open loop: a fixed offered rate (40% of the door's saturation) over 64 connections, the same for both.
      const rate = Math.max(50, Math.round(d.rps * 0.4));
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
        baseline: { name: 'bare node https', value: b.rps },
        ratio: cs.requests.average / b.rps,
        note: `p99 ${cs.latency.p99} ms; bound by scrypt N=32768 in 1 pool thread`,
      });
    }
    return rows;
  } finally {
    for (const ch of children) ch.proc.kill('SIGKILL');
    rmSync(data, { recursive: true, force: true });
  }
}
