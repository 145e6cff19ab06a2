/**
 * Pieces the MAPI over HTTP benchmarks share (perf/bench/mapi.ts, perf/bench/mapi-rops.ts,
 * perf/bench/mapi-send.ts): the real server process (build/runtime/main.js, one actor worker, its
 * JSON log in a file), users added with the CLI, MAPI sessions opened with the test client, the
 * request headers and session cookies of the load, the checks every answer goes through, the scan
 * of the server's log; Execute batches built once and their answers decoded, one request on a
 * session's own connection, and the open-loop schedule.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { request as httpsRequest, type Agent } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Histogram } from '../../runtime/histogram.js';
import { ROOT, runCli, testEnv, waitStarted } from '../../test/integration/server-process.js';
import { freePortBase } from '../../test/ports.js';
import { expectOk, MapiClient, OpenFlags } from '../../test/fixtures/mapi-client/client.js';
import { buildExecuteRopBuffer, connectRequest, decodeExecuteResponse, decodeExecuteRops, encodeConnectRequest, encodeExecuteRequest, type AnyRopRequest, type AnyRopResponse } from '../../test/fixtures/mapi-client/emsmdb.js';
import { parseResponseBody } from '../../test/fixtures/mapi-client/http.js';
import { pushExecuteRequest } from '../../protocols/mapi/emsmdb/bodies.js';
import { pushExtendedBuffers } from '../../protocols/mapi/wire/rpc-ext.js';
import { pushRopRequestBuffer } from '../../protocols/mapi/rops/buffer.js';
import { RopId } from '../../protocols/mapi/rops/ids.js';

export const PASSWORD = 'bench password 1';
export const DOMAIN = 'example.test';
export const PATH = '/mapi/emsmdb/';
const MAIN = fileURLToPath(new URL('../../runtime/main.js', import.meta.url));

// ---------------------------------------------------------------- the real server

export interface Stoa {
  proc: ChildProcess;
  port: number;
  /** The port base (SMTP at base + 25, HTTPS at base + 443). */
  base: number;
  data: string;
  /** The server's stdout (its JSON log). */
  logFile: string;
  stderr(): string;
}

/** The server with its data and log in `dir`, on a free port base, logging at info level (an access line per request, as in production). */
export async function startStoa(dir: string): Promise<Stoa> {
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const base = await freePortBase();
  const fd = openSync(logFile, 'w');
  const proc = spawn(process.execPath, [MAIN, '--data', data, '--port-base', String(base), '--workers', '1'], { cwd: ROOT, env: serverEnv(), stdio: ['ignore', fd, 'pipe'] });
  closeSync(fd);
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (c: string) => (err += c));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', resolve));
  await waitStarted({ proc, stderr: () => err, stdout: () => '', exited });
  return { proc, port: base + 443, base, data, logFile, stderr: () => err };
}

export const serverEnv = () => testEnv({ STOA_LOG_LEVEL: 'info', STOA_SERVER_HOSTNAME: `mail.${DOMAIN}` });

/** The server's stderr after its start banner (crashes and stray output during the run). */
export const stderrAfterStart = (s: Stoa): string => s.stderr().split(/control socket .*Ctrl-C stops[^\n]*\n/)[1] ?? '';

/** Whether the server still runs, or how it ended. */
export const serverState = (s: Stoa): string => (s.proc.exitCode === null && s.proc.signalCode === null ? 'alive' : `exited (${s.proc.exitCode ?? s.proc.signalCode})`);

export interface Identity {
  address: string;
  dn: string;
  auth: string;
  connectBody: Buffer;
  logonBody: Buffer;
}

/** RopLogon to the user's own mailbox, as the test client (and Outlook) sends it. */
export function logonRop(dn: string): AnyRopRequest {
  return {
    ropId: RopId.Logon,
    logonId: 0,
    inputHandleIndex: 0,
    outputHandleIndex: 0,
    logonFlags: 0x01,
    openFlags: OpenFlags.HomeLogon | OpenFlags.TakeOwnership | OpenFlags.UsePerMdbReplidMapping,
    storeState: 0,
    essdn: dn,
  } as unknown as AnyRopRequest;
}

/** The domain and `n` users user0..user{n-1}, added with the CLI. */
export async function addUsers(data: string, n: number): Promise<Identity[]> {
  const d = await runCli(['--data', data, 'domain', 'add', DOMAIN], serverEnv());
  if (d.code !== 0) throw new Error(`domain add ${DOMAIN}: ${d.stderr}`);
  const out: Identity[] = [];
  for (let i = 0; i < n; i++) {
    const address = `user${i}@${DOMAIN}`;
    const r = await runCli(['--data', data, 'user', 'add', address, '--name', `Bench User ${i}`, '--password', PASSWORD], serverEnv());
    if (r.code !== 0) throw new Error(`user add ${address}: ${r.stderr}`);
    const dn = (JSON.parse(r.stdout) as { user: { legacyDn: string } }).user.legacyDn;
    const ropBuffer = buildExecuteRopBuffer([logonRop(dn)], [0xffffffff]);
    out.push({
      address,
      dn,
      auth: `Basic ${Buffer.from(`${address}:${PASSWORD}`).toString('base64')}`,
      connectBody: Buffer.from(encodeConnectRequest(connectRequest(dn))),
      logonBody: Buffer.from(encodeExecuteRequest({ flags: 0, ropBuffer, maxRopOut: 0x40000 })),
    });
  }
  return out;
}

// ---------------------------------------------------------------- sessions (the test client)

export const mapiClient = (port: number, u: Identity) => new MapiClient({ baseUrl: `https://127.0.0.1:${port}`, user: u.address, password: PASSWORD });

/** The Cookie header of a client's emsmdb session. */
export const sessionCookie = (c: MapiClient): string => [...c.http.cookies('emsmdb')].map(([k, v]) => `${k}=${v}`).join('; ');

/** `n` MAPI sessions (Connect), user i % users.length for the i-th: their clients and Cookie headers. */
export async function openSessions(port: number, users: readonly Identity[], n: number): Promise<{ clients: MapiClient[]; cookies: string[] }> {
  const clients: MapiClient[] = [];
  const cookies: string[] = [];
  for (let i = 0; i < n; i++) {
    const u = users[i % users.length]!;
    const c = mapiClient(port, u);
    await c.connect(u.dn);
    clients.push(c);
    cookies.push(sessionCookie(c));
  }
  return { clients, cookies };
}

export async function closeSessions(s: { clients: MapiClient[] }): Promise<void> {
  for (const c of s.clients) {
    await c.disconnect().catch(() => undefined);
    c.close();
  }
}

// ---------------------------------------------------------------- requests and answers of the load

const CLIENT_GUID = '{5E1A0B6C-0000-4000-8000-000000000000}';
/** A session's X-RequestId GUID: connection k, its n-th session (no random bytes on the load path). */
export const requestGuid = (k: number, n: number) => `{${(k + 1).toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}}`;

export function mapiHeaders(u: Identity, type: string, k: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'Content-Type': 'application/mapi-http',
    'X-RequestType': type,
    'X-ClientInfo': `${CLIENT_GUID}:${k + 1}`,
    'X-ClientApplication': 'Outlook/16.0.17928.20114',
    'User-Agent': 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)',
    Accept: '*/*',
    Authorization: u.auth,
    ...extra,
  };
}

/** `name=value; ...` from Set-Cookie lines. */
export function cookieOf(h: Record<string, string | string[]>): string | undefined {
  const v = h['set-cookie'] ?? h['Set-Cookie'];
  if (v === undefined) return undefined;
  return (Array.isArray(v) ? v : [v]).map((l) => l.split(';')[0]!.trim()).join('; ');
}

/** A further check of one kind of answer (after the common ones); the reason it fails, or null. */
export type AnswerCheck = (kind: string, body: string, h: Record<string, string | string[]>) => string | null;

/**
 * What the load saw of one server: answers that failed the checks (by reason, with a sample),
 * and `cycles`, whatever unit of work the benchmark counts. Every answer must be HTTP 200 with
 * X-ResponseCode 0 in the head and after DONE; a PING answer has no body, the others start with
 * StatusCode and ErrorCode 0 (MS-OXCMAPIHTTP 2.2.4); `more` adds the benchmark's own checks.
 * Bodies are strings as autocannon hands them (UTF-8 decoded).
 */
export class Tally {
  readonly failures = new Map<string, { count: number; sample: string }>();
  checked = 0;
  cycles = 0;
  constructor(private readonly more: AnswerCheck = () => null) {}

  /** Checks one answer; true when it is a success. */
  check(kind: string, status: number, body: string, h: Record<string, string | string[]>): boolean {
    this.checked++;
    const why = this.problem(kind, status, body, h);
    if (why === null) return true;
    this.fail(kind, why, `HTTP ${status} ${JSON.stringify(h)} ${JSON.stringify(body.slice(0, 300))}`);
    return false;
  }

  /** Counts a failure found by other means (`sample` shows the first of its kind). */
  fail(kind: string, why: string, sample: string): void {
    const key = `${kind}: ${why}`;
    const f = this.failures.get(key);
    if (f !== undefined) f.count++;
    else this.failures.set(key, { count: 1, sample });
  }

  private problem(kind: string, status: number, body: string, h: Record<string, string | string[]>): string | null {
    if (status !== 200) return `HTTP ${status}`;
    const head = h['x-responsecode'] ?? h['X-ResponseCode'];
    if (head !== '0') return `X-ResponseCode header ${String(head)}`;
    const end = body.indexOf('\r\n\r\n');
    const done = /DONE\r\nX-ResponseCode: (\d+)\r\n/.exec(body);
    if (done === null || end < 0) return 'no DONE block';
    if (done[1] !== '0') return `X-ResponseCode ${done[1]} after DONE`;
    if (kind === 'PING') return end + 4 === body.length ? null : 'PING answer with a body';
    if (body.slice(end + 4, end + 12) !== '\0'.repeat(8)) return 'StatusCode or ErrorCode not 0';
    return this.more(kind, body, h);
  }

  report(): string {
    return [...this.failures].map(([k, f]) => `${f.count} × ${k}; e.g. ${f.sample}`).join('\n');
  }

  get failed(): number {
    let n = 0;
    for (const f of this.failures.values()) n += f.count;
    return n;
  }
}

/** A percentile of a histogram of µs, in ms (two decimals). */
export const ms = (h: Histogram, q: number) => Math.round(h.percentile(q) / 10) / 100;

/** The server's log after the run: warnings and errors by message, access lines by non-200 status. */
export function scanLog(file: string): string[] {
  const seen = new Map<string, number>();
  let lines = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line === '') continue;
    lines++;
    let o: { level?: number; msg?: string; status?: number; path?: string; err?: { message?: string }; requestType?: string };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      seen.set(`not JSON: ${line.slice(0, 200)}`, (seen.get(`not JSON: ${line.slice(0, 200)}`) ?? 0) + 1);
      continue;
    }
    let key: string | null = null;
    if ((o.level ?? 0) >= 40) key = `level ${o.level}: ${o.msg}${o.requestType === undefined ? '' : ` (${o.requestType})`}${o.err?.message === undefined ? '' : `: ${o.err.message}`}`;
    else if (o.msg === 'http request' && o.status === 0) key = `access: ${o.path} no answer (the client closed first: autocannon stops with requests in flight)`;
    else if (o.msg === 'http request' && o.status !== 200) key = `access: ${o.path} status ${o.status}`;
    if (key !== null) seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [`${lines} log lines`, ...[...seen].map(([k, n]) => `${n} × ${k}`)];
}

// ---------------------------------------------------------------- Execute batches and their answers

export const NO_HANDLE = 0xffffffff;
export const MAX_ROP_OUT = 0x40000;

/** ROP requests as the load sends them: the requests (to decode the answer), the Execute request's RopBuffer and body. */
export interface ExecuteBatch {
  requests: AnyRopRequest[];
  ropBuffer: Uint8Array;
  body: Buffer;
}

/**
 * One Execute request built once with the server's own encoders (pushRopRequestBuffer,
 * pushExtendedBuffers, pushExecuteRequest; Flags 0: the server may compress and obfuscate, as for
 * Outlook), the handle table the logon handle then `slots` empty entries.
 */
export function executeBatch(requests: AnyRopRequest[], logon: number, slots = 3): ExecuteBatch {
  const ropBuffer = pushExtendedBuffers([pushRopRequestBuffer(requests as never, [logon, ...Array<number>(slots).fill(NO_HANDLE)])]);
  return { requests, ropBuffer, body: Buffer.from(pushExecuteRequest({ flags: 0, ropBuffer, maxRopOut: MAX_ROP_OUT, aux: new Uint8Array(0) })) };
}

/** A further check of one ROP's answer (its fields, `always` and `ok` merged): the problem, or null. */
export type RopCheck = (request: AnyRopRequest, fields: Record<string, unknown>) => string | null;

/** What is wrong with the decoded answers to `requests` (every ROP but Release answered in order with ReturnValue 0, then `check`), or null. */
export function ropProblem(requests: readonly AnyRopRequest[], responses: readonly AnyRopResponse[], check: RopCheck = () => null): string | null {
  const answered = requests.filter((q) => q.ropId !== RopId.Release);
  const got = responses.filter((r) => r.ropId !== RopId.Notify && r.ropId !== RopId.Pending);
  for (const [i, q] of answered.entries()) {
    const r = got[i];
    if (r === undefined) return `no answer to RopId 0x${q.ropId.toString(16)} (${got.length} of ${answered.length} answered)`;
    if (r.ropId !== q.ropId) return `answer ${i} is RopId 0x${r.ropId.toString(16)}, not 0x${q.ropId.toString(16)}`;
    if (r.returnValue !== 0) return `RopId 0x${q.ropId.toString(16)} ReturnValue 0x${(r.returnValue >>> 0).toString(16)}`;
    const why = check(q, { ...(r.always as Record<string, unknown> | undefined), ...(r.ok as Record<string, unknown> | undefined) });
    if (why !== null) return why;
  }
  return null;
}

/** Decodes a whole Execute answer body (meta-tags, X-ResponseCode after DONE, StatusCode / ErrorCode, every ROP): the problem, or null. */
export function executeAnswerProblem(requests: readonly AnyRopRequest[], raw: Uint8Array, check?: RopCheck): string | null {
  const parsed = parseResponseBody(raw);
  if (!parsed.done) return `not in the meta-tag format (${parsed.formatError})`;
  if (parsed.additionalHeaders['x-responsecode'] !== '0') return `X-ResponseCode ${parsed.additionalHeaders['x-responsecode']} after DONE`;
  const response = decodeExecuteResponse(parsed.body);
  if (!response.ok) return `Execute failed: ${JSON.stringify(response)}`;
  if (response.errorCode !== 0) return `Execute ErrorCode 0x${response.errorCode.toString(16)}`;
  return ropProblem(requests, decodeExecuteRops(response, requests).responses, check);
}

/** One batch through the test client (its RopBuffer bytes), decoded: the problem, or null. */
export async function sendBatchOnce(client: MapiClient, b: ExecuteBatch, check?: RopCheck): Promise<string | null> {
  try {
    const res = await client.executeRaw(b.ropBuffer, 0, MAX_ROP_OUT);
    return ropProblem(b.requests, decodeExecuteRops(expectOk(res, 'Execute'), b.requests).responses, check);
  } catch (e) {
    return (e as Error).message;
  }
}

// ---------------------------------------------------------------- requests on a session's own connection

/** A warm session as the load drives it: its user, Cookie header, X-RequestId GUID and last counter. */
export interface LoadSession {
  k: number;
  user: Identity;
  cookie: string;
  guid: string;
  n: number;
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  raw: Buffer;
}

/** One request on a session's own connection (`agent`: keep-alive, one socket): resolves with the status, head and whole body once it has ended. */
export function postOn(port: number, agent: Agent, s: LoadSession, type: string, body: Buffer | null): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const headers = mapiHeaders(s.user, type, s.k, { Cookie: s.cookie, 'X-RequestId': `${s.guid}:${++s.n}`, 'Content-Length': String(body?.byteLength ?? 0) });
    const req = httpsRequest({ host: '127.0.0.1', port, path: PATH, method: 'POST', agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers as Record<string, string | string[]>, raw: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

// ---------------------------------------------------------------- the open-loop schedule

export interface Schedule {
  /** Latency (µs) from each scheduled send to the end of its answer. */
  all: Histogram;
  /** Worst lateness of a send against its slot (ms): timer jitter, or the session's previous answer still pending. */
  lateMs: number;
  /** Answers over 100 ms. */
  over100: number;
}

/**
 * `sessions` senders, each `perSecond` requests a second for `seconds` on a fixed schedule (sender
 * k offset by k / sessions of a period), one request at a time as a MAPI client does: `send(k, i, due)`
 * is the i-th request of sender k, scheduled at `due` (performance.now() time); a late answer delays the sender's next request, and that wait
 * counts (latency runs from the scheduled time: no coordinated omission).
 */
export async function onSchedule(sessions: number, perSecond: number, seconds: number, send: (k: number, i: number, due: number) => Promise<void>): Promise<Schedule> {
  const out: Schedule = { all: new Histogram(), lateMs: 0, over100: 0 };
  const period = 1000 / perSecond;
  const count = Math.round(seconds * perSecond);
  const start = performance.now() + 50;
  await Promise.all(
    Array.from({ length: sessions }, async (_, k) => {
      for (let i = 0; i < count; i++) {
        const due = start + (k / sessions) * period + i * period;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        out.lateMs = Math.max(out.lateMs, performance.now() - due);
        await send(k, i, due);
        const took = (performance.now() - due) * 1000;
        out.all.record(took);
        if (took > 100_000) out.over100++;
      }
    }),
  );
  return out;
}
