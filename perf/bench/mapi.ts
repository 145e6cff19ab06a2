/**
 * MAPI over HTTP (`/mapi/emsmdb/`, MS-OXCMAPIHTTP) of the real server process (build/runtime/main.js,
 * one actor worker, users added with the CLI) against a bare Node `https` server that replays the
 * server's own answers (same status, headers and body bytes, captured from a probe session), over
 * the same TLS certificate, in the same run (this box is shared and noisy: the ratio is the figure):
 *  - PING with one MAPI session per connection (Connect made before the load, the session's
 *    MapiContext / MapiSequence cookies sent on every PING, X-RequestId counting up): requests/s at
 *    saturation (target 0.3x) and p99 at a fixed offered rate;
 *  - the session cycle Connect → Execute(RopLogon) → Disconnect, one session at a time per
 *    connection (an autocannon request sequence; Set-Cookie captured in onResponse and sent back
 *    by setupRequest): cycles/s at saturation and the whole cycle's p99 at a fixed cycle rate.
 * Every answer is checked (HTTP 200, X-ResponseCode 0 in the head and after DONE, StatusCode and
 * ErrorCode 0 in the body, a session cookie from Connect, an Execute answer as long as a
 * successful RopLogon's); failures are counted and shown with a sample, and the server's log
 * (stdout, a file here) is read after the run for warnings, errors and non-200 access lines.
 *
 * Fairness, as perf/bench/https.ts: both servers have the same certificate and ALPN http/1.1,
 * keep-alive, no Nagle; autocannon drives both from this process with the same requests, the same
 * client code (setupRequest / onResponse run for both) and no pipelining; saturation runs
 * alternate in slices (SECONDS/3 each, three rounds) and report each server's CPU time per request
 * (from /proc; the Stoa process with all its threads). The server logs at info level, one access
 * line per request, as it would in production. Open-loop figures use autocannon's `overallRate`:
 * each connection sends its quota for the second back to back, then waits for the next second.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Row } from './common.js';
import { alternate, autocannon, startChild, us, type CannonClient, type CannonRequest, type CannonResult, type Child, type Saturation } from '../load/cannon.js';
import { addUsers, closeSessions, cookieOf, mapiClient, mapiHeaders, ms, openSessions, PATH, requestGuid, scanLog, serverState, startStoa, stderrAfterStart, Tally, type Identity } from '../load/mapi-load.js';
import { Histogram } from '../../runtime/histogram.js';
import { encodeDisconnectRequest } from '../../test/fixtures/mapi-client/emsmdb.js';
import type { MapiHttpResponse } from '../../test/fixtures/mapi-client/http.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROLE = process.env.STOA_BENCH_MAPI_ROLE;
const USERS = 16;
const CONNECTIONS = 16;
const OPEN_CONNECTIONS = 64;

type Kind = 'PING' | 'Connect' | 'Execute' | 'Disconnect';
const KINDS: readonly Kind[] = ['PING', 'Connect', 'Execute', 'Disconnect'];

/** One answer of the server as the bare server replays it. */
interface Reply {
  status: number;
  headers: Record<string, string | string[]>;
  /** Base64. */
  body: string;
}

// ---------------------------------------------------------------- the bare server (child role)

/** Headers Node's `https` server writes itself (the replay gets its own). */
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

function serveBare(cert: string, key: string, replies: Record<Kind, Reply>): void {
  const ready = new Map(
    KINDS.map((k) => {
      const r = replies[k];
      const body = Buffer.from(r.body, 'base64');
      return [k, { status: r.status, headers: { ...r.headers, 'content-length': String(body.byteLength) }, body }] as const;
    }),
  );
  // Node's https defaults, spelled out: ALPN http/1.1 and no Nagle, as the door's listener.
  const server = createHttpsServer({ cert, key, ALPNProtocols: ['http/1.1'], noDelay: true }, (req, res) => {
    req.resume();
    req.on('end', () => {
      const r = ready.get(req.headers['x-requesttype'] as Kind) ?? ready.get('PING')!;
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${(server.address() as { port: number }).port}\n`));
}

if (ROLE === 'bare') {
  serveBare(readFileSync(process.env.STOA_BENCH_CERT!, 'utf8'), readFileSync(process.env.STOA_BENCH_KEY!, 'utf8'), JSON.parse(readFileSync(process.env.STOA_BENCH_REPLIES!, 'utf8')) as Record<Kind, Reply>);
}

// ---------------------------------------------------------------- the probe (the test client)

const replyOf = (h: MapiHttpResponse): Reply => ({
  status: h.status,
  headers: Object.fromEntries(Object.entries(h.headers).filter(([k, v]) => v !== undefined && !OWN_HEADERS.has(k))) as Record<string, string | string[]>,
  body: Buffer.from(h.raw).toString('base64'),
});

/** One Connect → PING → Execute(RopLogon) → Disconnect with the spec-following client: its answers, checked and decoded. */
async function probe(port: number, u: Identity): Promise<Record<Kind, Reply>> {
  const c = mapiClient(port, u);
  try {
    const conn = await c.connect(u.dn);
    const ping = await c.ping();
    if (ping.status !== 200 || ping.responseCode !== 0) throw new Error(`probe PING: HTTP ${ping.status}, X-ResponseCode ${ping.responseCode}: ${Buffer.from(ping.raw).toString('latin1')}`);
    const logon = await c.logon(u.dn);
    if (logon.returnValue !== 0) throw new Error(`probe RopLogon: ReturnValue 0x${logon.returnValue.toString(16)}`);
    const disc = await c.disconnect();
    return { PING: replyOf(ping), Connect: replyOf(conn.http), Execute: replyOf(logon.execute.http), Disconnect: replyOf(disc.http) };
  } finally {
    c.close();
  }
}

// ---------------------------------------------------------------- the load (autocannon hooks)

/**
 * Connection k sends PING on its own session (`cookies[k]`), X-RequestId counting up. Latencies
 * (µs, into `lat`) run from setupRequest (the request is written right after) to onResponse,
 * leaving out each connection's first request (written before the TLS handshake, so it waits
 * for it: 64 handshakes at once are most of autocannon's own p99 at these counts).
 */
function pingClients(users: readonly Identity[], cookies: readonly string[], tally: Tally, lat: Histogram | null): (c: CannonClient) => void {
  let next = 0;
  return (client) => {
    const k = next++;
    const guid = requestGuid(k, 0);
    let n = 1;
    let t = 0;
    client.setRequests([
      {
        method: 'POST',
        path: PATH,
        headers: mapiHeaders(users[k % users.length]!, 'PING', k, { Cookie: cookies[k]!, 'Content-Length': '0', 'X-RequestId': `${guid}:${n}` }),
        setupRequest: (r) => {
          r.headers!['X-RequestId'] = `${guid}:${++n}`;
          t = performance.now();
          return r;
        },
        onResponse: (status, body, _ctx, h) => {
          tally.check('PING', status, body, h);
          if (lat !== null && n > 2) lat.record((performance.now() - t) * 1000);
        },
      },
    ]);
  };
}

interface CycleLatency {
  connect: Histogram;
  execute: Histogram;
  disconnect: Histogram;
  cycle: Histogram;
}
const cycleLatency = (): CycleLatency => ({ connect: new Histogram(), execute: new Histogram(), disconnect: new Histogram(), cycle: new Histogram() });

/**
 * Connection k runs Connect → Execute(RopLogon) → Disconnect again and again (autocannon starts the
 * sequence over with a fresh context): the cookies of each answer go with the next request.
 * Latencies (µs) run from setupRequest (the request is written right after) to onResponse; a
 * connection's first cycle is left out (its Connect was built before the TLS handshake).
 */
function cycleClients(users: readonly Identity[], tally: Tally, lat: CycleLatency | null): (c: CannonClient) => void {
  let next = 0;
  return (client) => {
    const k = next++;
    const u = users[k % users.length]!;
    let session = 0;
    let guid = '';
    const step = (type: Kind, n: number, body: Buffer, hist: ((l: CycleLatency) => Histogram) | null): CannonRequest => ({
      method: 'POST',
      path: PATH,
      headers: mapiHeaders(u, type, k),
      body,
      setupRequest: (r, ctx) => {
        if (n === 1) guid = requestGuid(k, ++session);
        r.headers!['X-RequestId'] = `${guid}:${n}`;
        if (ctx.cookie !== undefined) r.headers!.Cookie = ctx.cookie as string;
        ctx.t = performance.now();
        if (n === 1) ctx.t0 = ctx.t;
        return r;
      },
      onResponse: (status, rbody, ctx, h) => {
        const ok = tally.check(type, status, rbody, h);
        const c = cookieOf(h);
        if (c !== undefined) ctx.cookie = c;
        const now = performance.now();
        if (lat !== null && session > 1 && hist !== null) hist(lat).record((now - (ctx.t as number)) * 1000);
        if (type === 'Disconnect') {
          if (ok) tally.cycles++;
          if (lat !== null && session > 1) lat.cycle.record((now - (ctx.t0 as number)) * 1000);
        }
      },
    });
    client.setRequests([
      step('Connect', 1, u.connectBody, (l) => l.connect),
      step('Execute', 2, u.logonBody, (l) => l.execute),
      step('Disconnect', 3, Buffer.from(encodeDisconnectRequest({})), (l) => l.disconnect),
    ]);
  };
}

async function cannon(port: number, setupClient: (c: CannonClient) => void, extra: Record<string, unknown>): Promise<CannonResult> {
  const r = await autocannon({ url: `https://127.0.0.1:${port}${PATH}`, method: 'POST', connections: CONNECTIONS, duration: SECONDS, setupClient, ...extra });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) process.stderr.write(`  (warning: port ${port}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)\n`);
  return r;
}

// ---------------------------------------------------------------- the run

interface Target {
  name: string;
  port: number;
  pid: number;
  tally: Tally;
  /** Bytes read per response (heads and bodies), from autocannon's throughput. */
  bytes: { total: number; responses: number };
}

const perResponse = (t: Target) => (t.bytes.responses === 0 ? 0 : Math.round(t.bytes.total / t.bytes.responses));

function track(t: Target, r: CannonResult): CannonResult {
  t.bytes.total += r.throughput.total;
  t.bytes.responses += r.requests.total;
  return r;
}

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stoa-bench-mapi-'));
  const kill: ChildProcess[] = [];
  try {
    const stoa = await startStoa(dir);
    kill.push(stoa.proc);
    const users = await addUsers(stoa.data, USERS);
    const replies = await probe(stoa.port, users[0]!);
    // The shortest Execute answer (UTF-8 characters, as autocannon hands bodies) a successful RopLogon gives.
    const minLogonChars = Buffer.from(replies.Execute.body, 'base64').toString('utf8').length - 32;
    const executeCheck = (kind: string, body: string, h: Record<string, string | string[]>) =>
      kind === 'Connect' && cookieOf(h) === undefined ? 'no session cookie' : kind === 'Execute' && body.length < minLogonChars ? 'Execute answer shorter than a successful RopLogon' : null;
    writeFileSync(join(dir, 'replies.json'), JSON.stringify(replies));
    const bareChild: Child = await startChild(
      fileURLToPath(import.meta.url),
      { STOA_BENCH_MAPI_ROLE: 'bare', STOA_BENCH_CERT: join(stoa.data, 'tls', 'cert.pem'), STOA_BENCH_KEY: join(stoa.data, 'tls', 'key.pem'), STOA_BENCH_REPLIES: join(dir, 'replies.json') },
      'bare',
    );
    kill.push(bareChild.proc);
    const door: Target = { name: 'stoa', port: stoa.port, pid: stoa.proc.pid!, tally: new Tally(executeCheck), bytes: { total: 0, responses: 0 } };
    const bare: Target = { name: 'bare node https', port: bareChild.port, pid: bareChild.proc.pid!, tally: new Tally(executeCheck), bytes: { total: 0, responses: 0 } };
    const sizes = KINDS.map((k) => `${k} ${Buffer.from(replies[k].body, 'base64').byteLength} B`).join(', ');
    process.stderr.write(`  mapi: answer bodies ${sizes}\n`);

    // Sessions for PING: one per connection on each server (the bare one answers Connect with the captured reply).
    const sessions = new Map<Target, Awaited<ReturnType<typeof openSessions>>>();
    for (const t of [door, bare]) sessions.set(t, await openSessions(t.port, users, OPEN_CONNECTIONS));
    const pingRun = (t: Target, extra: Record<string, unknown>, lat: Histogram | null = null) => cannon(t.port, pingClients(users, sessions.get(t)!.cookies, t.tally, lat), extra).then((r) => track(t, r));
    const cycleRun = (t: Target, lat: CycleLatency | null, extra: Record<string, unknown>) => cannon(t.port, cycleClients(users, t.tally, lat), extra).then((r) => track(t, r));

    // Warm-up of both: TLS sessions, JIT, the credential cache, the mailbox actors.
    for (const t of [bare, door]) {
      await pingRun(t, { duration: 1 });
      await cycleRun(t, null, { duration: 1 });
    }
    for (const t of [door, bare]) t.bytes = { total: 0, responses: 0 };

    const rows: Row[] = [];
    const cpuRow = (what: string, unit: string, d: Saturation, b: Saturation) =>
      d.cpuUs !== null && b.cpuUs !== null
        ? [{ bench: `mapi: ${what}`, metric: `server CPU per ${unit} at saturation`, value: d.cpuUs, unit: 'µs', baseline: { name: bare.name, value: b.cpuUs }, ratio: b.cpuUs / d.cpuUs, note: `ratio = bare/stoa (higher is better); ${us(d.cpuUs)} vs ${us(b.cpuUs)}, user + system, all threads, TLS included` }]
        : [];

    // PING at saturation: 16 connections, alternating slices.
    const pingSide = (t: Target) => ({
      pid: t.pid,
      run: async (seconds: number) => {
        const r = await pingRun(t, { duration: seconds });
        return { total: r.requests.total, duration: r.duration, p50: r.latency.p50 };
      },
    });
    const [pb, pd] = (await alternate([pingSide(bare), pingSide(door)], SECONDS)) as [Saturation, Saturation];
    rows.push({
      bench: 'mapi: PING',
      metric: 'requests/s at saturation',
      value: pd.rps,
      unit: 'req/s',
      baseline: { name: bare.name, value: pb.rps },
      ratio: pd.rps / pb.rps,
      note: `target 0.3x; ${CONNECTIONS} connections, a session each; p50 ${pd.p50} ms vs ${pb.p50} ms; ${perResponse(door)} vs ${perResponse(bare)} B per answer; 3 alternating slices`,
    });
    rows.push(...cpuRow('PING', 'request', pd, pb));

    // PING open loop: a fixed offered rate (40% of Stoa's saturation) over 64 connections, a session each.
    const rate = Math.max(50, Math.round(pd.rps * 0.4));
    const hb = new Histogram();
    const hd = new Histogram();
    const ob = await pingRun(bare, { overallRate: rate, connections: OPEN_CONNECTIONS }, hb);
    const od = await pingRun(door, { overallRate: rate, connections: OPEN_CONNECTIONS }, hd);
    rows.push({
      bench: 'mapi: PING',
      metric: `p99 latency at ${rate} req/s`,
      value: ms(hd, 0.99),
      unit: 'ms',
      baseline: { name: bare.name, value: ms(hb, 0.99) },
      ratio: ms(hb, 0.99) / Math.max(ms(hd, 0.99), 0.001),
      note:
        `ratio = bare/stoa (higher is better); p50 ${ms(hd, 0.5)} vs ${ms(hb, 0.5)} ms; ${OPEN_CONNECTIONS} connections, a session each, first request of each left out ` +
        `(autocannon's p99 with it: ${od.latency.p99} vs ${ob.latency.p99} ms); done ${Math.round(od.requests.average)} vs ${Math.round(ob.requests.average)} req/s`,
    });
    for (const t of [door, bare]) await closeSessions(sessions.get(t)!);

    // The session cycle at saturation: 16 connections, each Connect → Execute(RopLogon) → Disconnect in turn.
    const cycleSide = (t: Target) => ({
      pid: t.pid,
      run: async (seconds: number) => {
        const before = t.tally.cycles;
        const r = await cycleRun(t, null, { duration: seconds });
        return { total: t.tally.cycles - before, duration: r.duration, p50: r.latency.p50 };
      },
    });
    const [cb, cd] = (await alternate([cycleSide(bare), cycleSide(door)], SECONDS)) as [Saturation, Saturation];
    rows.push({
      bench: 'mapi: Connect + Logon + Disconnect',
      metric: 'cycles/s at saturation',
      value: cd.rps,
      unit: 'cycles/s',
      baseline: { name: `${bare.name} (same 3 answers)`, value: cb.rps },
      ratio: cd.rps / cb.rps,
      note: `${CONNECTIONS} connections, one session at a time each; 3 requests a cycle (${Math.round(cd.rps * 3)} vs ${Math.round(cb.rps * 3)} req/s); per-request p50 ${cd.p50} ms vs ${cb.p50} ms; 3 alternating slices`,
    });
    rows.push(...cpuRow('Connect + Logon + Disconnect', 'cycle', cd, cb));

    // The cycle open loop: every connection starts the same whole number of cycles each second (40% of Stoa's saturation in all).
    const perConnection = Math.max(1, Math.round((cd.rps * 0.4) / CONNECTIONS));
    const cycleRate = perConnection * CONNECTIONS;
    const lb = cycleLatency();
    const ld = cycleLatency();
    await cycleRun(bare, lb, { overallRate: cycleRate * 3 });
    await cycleRun(door, ld, { overallRate: cycleRate * 3 });
    rows.push({
      bench: 'mapi: Connect + Logon + Disconnect',
      metric: `p99 cycle latency at ${cycleRate} cycles/s`,
      value: ms(ld.cycle, 0.99),
      unit: 'ms',
      baseline: { name: bare.name, value: ms(lb.cycle, 0.99) },
      ratio: ms(lb.cycle, 0.99) / Math.max(ms(ld.cycle, 0.99), 0.001),
      note:
        `ratio = bare/stoa (higher is better); cycle p50 ${ms(ld.cycle, 0.5)} vs ${ms(lb.cycle, 0.5)} ms; ` +
        `stoa p50/p99 Connect ${ms(ld.connect, 0.5)}/${ms(ld.connect, 0.99)}, Execute(Logon) ${ms(ld.execute, 0.5)}/${ms(ld.execute, 0.99)}, Disconnect ${ms(ld.disconnect, 0.5)}/${ms(ld.disconnect, 0.99)} ms; ${ld.cycle.count} cycles timed`,
    });

    // Problems: failed checks on either side, the server's warnings, errors and non-200 answers, its exit.
    const log = scanLog(stoa.logFile);
    const after = stderrAfterStart(stoa);
    rows.push({
      bench: 'mapi: checks',
      metric: 'failed answers (stoa)',
      value: door.tally.failed,
      unit: 'answers',
      baseline: { name: bare.name, value: bare.tally.failed },
      note: `of ${door.tally.checked} vs ${bare.tally.checked} checked; server ${serverState(stoa)}; log: ${log.join('; ')}`,
    });
    for (const t of [door, bare]) if (t.tally.failed > 0) process.stderr.write(`  mapi: ${t.name} failures:\n${t.tally.report()}\n`);
    if (after.trim() !== '') process.stderr.write(`  mapi: server stderr after start:\n${after}\n`);
    return rows;
  } finally {
    for (const p of kill) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
