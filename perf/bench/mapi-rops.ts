/**
 * MAPI over HTTP Execute with typical ROP batches on warm sessions (issue 8), against the real
 * server process (build/runtime/main.js, one actor worker; users added with the CLI, each Inbox
 * filled with MESSAGES messages by `mailbox import` of a generated mbox):
 *  - batch A, a folder click: RopOpenFolder(Inbox) → RopGetContentsTable → RopSetColumns (Mid,
 *    subject, sender name, delivery time, flags, size, instance key) → RopQueryRows(50) →
 *    RopRelease(table) → RopRelease(folder);
 *  - batch B, a message read: RopOpenMessage(Inbox, mid) → RopGetPropertiesSpecific (subject,
 *    flags, sender, delivery time, size, importance, class, To) → RopOpenStream(PidTagBody,
 *    read-only) → RopReadStream(4096) → RopRelease(stream) → RopRelease(message); the mids (8 a
 *    session) come from the QueryRows done at setup.
 * A warm session is one Connect and one RopLogon (its logon handle), made with the test client
 * before the load; the load sends Execute requests on it (its cookies, X-RequestId counting up),
 * the handle table [logon, -1, -1, -1], bodies built once with the server's own encoders
 * (pushRopRequestBuffer, pushExtendedBuffers, pushExecuteRequest; Execute Flags 0: the server may
 * compress and obfuscate, as for Outlook). The in-run baseline is PING on the same sessions (no
 * ROPs, same TLS, HTTP and session lookup): the ratio is what the ROP work costs over the transport.
 *
 * Figures:
 *  - batches/s at saturation, A and B alternating on each connection, A alone and B alone, and
 *    PING, in alternating slices (autocannon, CONNECTIONS connections, a session each, no
 *    pipelining); server CPU µs per batch (user + system, all threads, from /proc, TLS included);
 *    rows/s = 50 × batch-A rate;
 *  - p50 / p99 open loop at OPEN_SESSIONS sessions × PER_SESSION Execute/s (A and B in turn), and
 *    PING at the same rate: each session has its own keep-alive TLS connection (warmed by a PING
 *    first) and sends on a fixed schedule (session k offset by k / OPEN_SESSIONS of a period), one
 *    request at a time as a MAPI client does; latency runs from the scheduled send (a late answer
 *    delays the session's next request, and that wait counts: no coordinated omission).
 * Checks: the test client decodes batch A and every batch-B body on every session at setup and
 * again after the load (every ROP ReturnValue 0, QueryRows 50 rows, the body read); under
 * saturation every answer must be HTTP 200 with X-ResponseCode 0 (head and after DONE) and
 * StatusCode / ErrorCode 0, its length within LENGTH_SLACK characters of the session's first
 * answer to the same body (autocannon hands bodies as UTF-8 text; new handle values and
 * compression move a few characters, a failed ROP drops the rows or the body); in the open loop
 * every answer is decoded whole and each ROP's ReturnValue checked. The server's log is scanned
 * afterwards for warnings, errors and non-200 access lines.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from './common.js';
import { alternate, autocannon, us, type CannonClient, type CannonRequest, type CannonResult, type Saturation } from '../load/cannon.js';
import { addUsers, DOMAIN, executeAnswerProblem, executeBatch, mapiClient, mapiHeaders, ms, onSchedule, PATH, postOn, requestGuid, scanLog, sendBatchOnce, serverEnv, serverState, sessionCookie, startStoa, stderrAfterStart, Tally, type ExecuteBatch, type Identity, type RopCheck, type Schedule, type Stoa } from '../load/mapi-load.js';
import { Histogram } from '../../runtime/histogram.js';
import { runCli } from '../../test/integration/server-process.js';
import type { MapiClient } from '../../test/fixtures/mapi-client/client.js';
import type { AnyRopRequest } from '../../test/fixtures/mapi-client/emsmdb.js';
import { RopId } from '../../protocols/mapi/rops/ids.js';
import { Tag } from '../../storage/prop-tags.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const USERS = 16;
/** Messages in each Inbox (BENCH_MAPI_ROPS_MESSAGES; at least ROWS). */
const MESSAGES = Number(process.env.BENCH_MAPI_ROPS_MESSAGES ?? 200);
const ROWS = 50;
const CONNECTIONS = 16;
const OPEN_SESSIONS = 50;
const PER_SESSION = 2;
const MIDS_PER_SESSION = 8;
const LENGTH_SLACK = 64;

/** The Unicode form of a string tag (the ROP codecs want PT_UNICODE). */
const W = (tag: number) => ((tag & 0xffff) === 0x001e ? ((tag & 0xffff0000) | 0x001f) >>> 0 : tag);
const PidTagBody = W(Tag.PidTagBody);
const COLUMNS = [Tag.PidTagMid, W(Tag.PidTagSubject), W(Tag.PidTagSenderName), Tag.PidTagMessageDeliveryTime, Tag.PidTagMessageFlags, Tag.PidTagMessageSize, Tag.PidTagInstanceKey];
const MESSAGE_TAGS = [W(Tag.PidTagSubject), Tag.PidTagMessageFlags, W(Tag.PidTagSenderName), Tag.PidTagMessageDeliveryTime, Tag.PidTagMessageSize, Tag.PidTagImportance, W(Tag.PidTagMessageClass), W(Tag.PidTagDisplayTo)];

// ---------------------------------------------------------------- the batches

const batchA = (inbox: bigint, columns = COLUMNS, rowCount = ROWS): AnyRopRequest[] =>
  [
    { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: inbox, openModeFlags: 0 },
    { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: columns },
    { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
  ] as unknown as AnyRopRequest[];

const batchB = (inbox: bigint, mid: bigint): AnyRopRequest[] =>
  [
    { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: inbox, openModeFlags: 0, messageId: mid },
    { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: MESSAGE_TAGS },
    { ropId: RopId.OpenStream, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, propertyTag: PidTagBody, openModeFlags: 0 },
    { ropId: RopId.ReadStream, logonId: 0, inputHandleIndex: 2, byteCount: 4096 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
  ] as unknown as AnyRopRequest[];

/** One batch as the load sends it: the ROPs (to decode the answer) and the Execute request's RopBuffer and body. */
interface Batch extends ExecuteBatch {
  kind: 'A' | 'B';
}

const batch = (kind: 'A' | 'B', requests: AnyRopRequest[], logon: number): Batch => ({ kind, ...executeBatch(requests, logon) });

/** Beyond ReturnValue 0: QueryRows gives the rows asked for (collected into `rows`), ReadStream reads something. */
function batchCheck(rows?: unknown[][]): RopCheck {
  return (q, fields) => {
    if (q.ropId === RopId.QueryRows) {
      const list = (fields.rows ?? fields.rowData) as { cells: unknown[] }[] | undefined;
      const want = (q as unknown as { rowCount: number }).rowCount;
      if (list === undefined || list.length !== want) return `QueryRows gave ${list?.length ?? 'no'} rows, not ${want}`;
      rows?.push(...list.map((x) => x.cells));
    }
    if (q.ropId === RopId.ReadStream) {
      const data = fields.data as Uint8Array | undefined;
      if (data === undefined || data.byteLength === 0) return 'ReadStream read nothing';
    }
    return null;
  };
}

// ---------------------------------------------------------------- mailboxes and warm sessions

/** An mbox of `n` plain-text messages, each body about 2,500 characters (over the 4,096 bytes ReadStream asks for in UTF-16). */
function mbox(n: number): string {
  const words = 'quarterly budget review meeting agenda schedule project status update lunch travel report numbers draft proposal'.split(' ');
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const date = new Date(Date.UTC(2024, 0, 1) + i * 3_600_000);
    const subject = `${words[i % words.length]} ${words[(i * 7) % words.length]} #${i}`;
    const para = Array.from({ length: 40 }, (_, j) => words[(i + j * 3) % words.length]).join(' ');
    const body = Array.from({ length: 8 }, (_, j) => `${j + 1}. ${para}.`).join('\n\n');
    out.push(
      `From sender${i % 20}@example.org ${date.toUTCString().replace(',', '')}`,
      `From: "Sender ${i % 20}" <sender${i % 20}@example.org>`,
      `To: someone@${DOMAIN}`,
      `Subject: ${subject}`,
      `Date: ${date.toUTCString()}`,
      `Message-ID: <bench-${i}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body,
      '',
    );
  }
  return out.join('\n');
}

async function fillInboxes(stoa: Stoa, users: readonly Identity[], dir: string): Promise<void> {
  const file = join(dir, 'inbox.mbox');
  writeFileSync(file, mbox(MESSAGES));
  for (const u of users) {
    const r = await runCli(['--data', stoa.data, 'mailbox', 'import', u.address, file], serverEnv());
    const summary = JSON.parse(r.stdout || '{}') as { imported?: number; failed?: number };
    if (r.code !== 0 || summary.imported !== MESSAGES) throw new Error(`mailbox import ${u.address}: exit ${r.code}, ${r.stdout} ${r.stderr}`);
  }
}

interface Session {
  k: number;
  user: Identity;
  client: MapiClient;
  cookie: string;
  guid: string;
  /** The last X-RequestId counter used. */
  n: number;
  a: Batch;
  b: Batch[];
}

/** Connect + RopLogon with the test client, then batch A and every batch B sent once and decoded (the mids come from A's rows). */
async function warmSession(port: number, k: number, user: Identity): Promise<Session> {
  const client = mapiClient(port, user);
  await client.connect(user.dn);
  const logon = await client.logon(user.dn);
  if (logon.returnValue !== 0) throw new Error(`session ${k}: RopLogon ReturnValue 0x${(logon.returnValue >>> 0).toString(16)}`);
  const inbox = logon.folders.inbox!;
  const a = batch('A', batchA(inbox), logon.handle);
  const rows: unknown[][] = [];
  const why = await sendBatchOnce(client, a, batchCheck(rows));
  if (why !== null) throw new Error(`session ${k} (${user.address}): batch A at setup: ${why}`);
  const mids = rows.map((r) => r[0] as bigint);
  const b = Array.from({ length: MIDS_PER_SESSION }, (_, j) => batch('B', batchB(inbox, mids[(k * 3 + j * 5) % mids.length]!), logon.handle));
  for (const x of b) {
    const w = await sendBatchOnce(client, x, batchCheck());
    if (w !== null) throw new Error(`session ${k} (${user.address}): batch B at setup: ${w}`);
  }
  return { k, user, client, cookie: sessionCookie(client), guid: requestGuid(k, 0), n: 0, a, b };
}

// ---------------------------------------------------------------- saturation (autocannon)

type Mode = 'PING' | 'A' | 'B' | 'AB';

/**
 * Connection k works on session k: PING, batch A, batch B (its mids in turn), or A and B in turn.
 * Each answer goes through the Tally; an Execute answer's length is compared with the session's
 * first answer to the same body.
 */
function loadClients(sessions: readonly Session[], mode: Mode, tally: Tally): (c: CannonClient) => void {
  let next = 0;
  return (client) => {
    const s = sessions[next++]!;
    const first = new Map<Batch, number>();
    const request = (kind: 'PING' | 'A' | 'B'): CannonRequest => {
      let j = 0;
      let current: Batch | null = kind === 'A' ? s.a : kind === 'B' ? s.b[0]! : null;
      const type = kind === 'PING' ? 'PING' : 'Execute';
      return {
        method: 'POST',
        path: PATH,
        headers: mapiHeaders(s.user, type, s.k, { Cookie: s.cookie, ...(current === null ? { 'Content-Length': '0' } : {}) }),
        ...(current === null ? {} : { body: current.body }),
        setupRequest: (r) => {
          r.headers!['X-RequestId'] = `${s.guid}:${++s.n}`;
          if (kind === 'B') {
            current = s.b[j++ % s.b.length]!;
            r.body = current.body;
          }
          return r;
        },
        onResponse: (status, body, _ctx, h) => {
          const label = kind === 'PING' ? 'PING' : `Execute ${kind}`;
          if (!tally.check(label, status, body, h) || current === null) return;
          const want = first.get(current);
          if (want === undefined) first.set(current, body.length);
          else if (Math.abs(body.length - want) > LENGTH_SLACK) tally.fail(label, `answer ${body.length} characters, the session's first to the same batch ${want}`, JSON.stringify(body.slice(0, 300)));
        },
      };
    };
    client.setRequests(mode === 'AB' ? [request('A'), request('B')] : [request(mode)]);
  };
}

async function cannon(port: number, setupClient: (c: CannonClient) => void, seconds: number): Promise<CannonResult> {
  const r = await autocannon({ url: `https://127.0.0.1:${port}${PATH}`, method: 'POST', connections: CONNECTIONS, duration: seconds, setupClient });
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) process.stderr.write(`  (warning: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)\n`);
  return r;
}

// ---------------------------------------------------------------- open loop (own schedule)

interface OpenLoop extends Schedule {
  a: Histogram;
  b: Histogram;
}

/**
 * Every session sends PER_SESSION requests a second on its own schedule for `seconds`: PING, or
 * batches A and B in turn (session k starts with A when k is even). Every answer is checked;
 * Execute answers are decoded whole.
 */
async function openLoop(port: number, sessions: readonly Session[], agents: readonly Agent[], execute: boolean, seconds: number, tally: Tally): Promise<OpenLoop> {
  const a = new Histogram();
  const b = new Histogram();
  const sched = await onSchedule(sessions.length, PER_SESSION, seconds, async (k, i, due) => {
    const s = sessions[k]!;
    const x = !execute ? null : (i + k) % 2 === 0 ? s.a : s.b[(i >> 1) % s.b.length]!;
    const label = x === null ? 'PING' : `Execute ${x.kind}`;
    try {
      const r = await postOn(port, agents[k]!, s, x === null ? 'PING' : 'Execute', x?.body ?? null);
      if (x !== null) (x.kind === 'A' ? a : b).record((performance.now() - due) * 1000);
      if (!tally.check(label, r.status, r.raw.toString('latin1'), r.headers) || x === null) return;
      tally.cycles++;
      const why = executeAnswerProblem(x.requests, r.raw, batchCheck());
      if (why !== null) tally.fail(label, why, `session ${s.k}`);
    } catch (e) {
      tally.fail(label, `request failed: ${(e as Error).message}`, `session ${s.k}`);
    }
  });
  return { ...sched, a, b };
}

// ---------------------------------------------------------------- the run

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stoa-bench-mapi-rops-'));
  const kill: ChildProcess[] = [];
  const agents: Agent[] = [];
  const sessions: Session[] = [];
  try {
    const stoa = await startStoa(dir);
    kill.push(stoa.proc);
    const users = await addUsers(stoa.data, USERS);
    const t0 = performance.now();
    await fillInboxes(stoa, users, dir);
    process.stderr.write(`  mapi-rops: ${USERS} inboxes of ${MESSAGES} messages imported in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
    const sessionCount = Math.max(CONNECTIONS, OPEN_SESSIONS);
    try {
      for (let k = 0; k < sessionCount; k++) sessions.push(await warmSession(stoa.port, k, users[k % users.length]!));
    } catch (e) {
      // A ROP that fails at setup is the finding: no figures, the failure and the server's log instead.
      return [{ bench: 'mapi-rops: checks', metric: 'setup failed', value: 1, unit: 'errors', note: `${(e as Error).message}; server ${serverState(stoa)}; log: ${scanLog(stoa.logFile).join('; ')}` }];
    }
    const aBytes = sessions[0]!.a.body.byteLength;
    process.stderr.write(`  mapi-rops: ${sessions.length} warm sessions, batch A and ${MIDS_PER_SESSION} batch B decoded on each; request bodies A ${aBytes} B ${sessions[0]!.b[0]!.body.byteLength} B\n`);

    const tally = new Tally();
    const load = (mode: Mode, seconds: number) => cannon(stoa.port, loadClients(sessions.slice(0, CONNECTIONS), mode, tally), seconds);
    // Warm-up: TLS sessions, JIT, the mailbox actors' caches.
    for (const mode of ['PING', 'AB'] as const) await load(mode, 1);

    const side = (mode: Mode) => ({
      pid: stoa.proc.pid!,
      run: async (seconds: number) => {
        const r = await load(mode, seconds);
        return { total: r.requests.total, duration: r.duration, p50: r.latency.p50 };
      },
    });
    const [ping, ab, a, b] = (await alternate([side('PING'), side('AB'), side('A'), side('B')], SECONDS)) as [Saturation, Saturation, Saturation, Saturation];

    const rows: Row[] = [];
    const sat = (what: string, d: Saturation, note: string) =>
      rows.push({ bench: `mapi-rops: ${what}`, metric: 'batches/s at saturation', value: d.rps, unit: 'batches/s', baseline: { name: 'PING (req/s), same sessions', value: ping.rps }, ratio: d.rps / ping.rps, note: `${note}; p50 ${d.p50} ms vs ${ping.p50} ms; ${CONNECTIONS} connections, a warm session each; 3 alternating slices` });
    const cpu = (what: string, d: Saturation) => {
      if (d.cpuUs !== null && ping.cpuUs !== null)
        rows.push({ bench: `mapi-rops: ${what}`, metric: 'server CPU per batch at saturation', value: d.cpuUs, unit: 'µs', baseline: { name: 'PING request', value: ping.cpuUs }, ratio: d.cpuUs / ping.cpuUs, note: `ratio = batch/PING (the ROP work over the transport); ${us(d.cpuUs)} vs ${us(ping.cpuUs)}, user + system, all threads, TLS included` });
    };
    sat('Execute A + B in turn', ab, `A ${Math.round(ab.rps / 2)}/s + B ${Math.round(ab.rps / 2)}/s; ${Math.round((ab.rps / 2) * ROWS)} rows/s`);
    cpu('Execute A + B in turn', ab);
    sat('Execute A (folder, contents table, 50 rows)', a, `${Math.round(a.rps * ROWS)} rows/s`);
    cpu('Execute A (folder, contents table, 50 rows)', a);
    sat('Execute B (message, properties, body stream)', b, 'OpenMessage + GetPropertiesSpecific + OpenStream + ReadStream(4096)');
    cpu('Execute B (message, properties, body stream)', b);
    rows.push({ bench: 'mapi-rops: Execute A (folder, contents table, 50 rows)', metric: 'rows/s at saturation', value: a.rps * ROWS, unit: 'rows/s', note: `${ROWS} × batch A rate; ${Math.round((ab.rps / 2) * ROWS)} rows/s with A and B in turn` });

    // Open loop: OPEN_SESSIONS sessions × PER_SESSION Execute/s, then PING at the same rate.
    const open = sessions.slice(0, OPEN_SESSIONS);
    for (const _ of open) agents.push(new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }));
    const warmTally = new Tally();
    await Promise.all(open.map((s, k) => postOn(stoa.port, agents[k]!, s, 'PING', null).then((r) => warmTally.check('PING', r.status, r.raw.toString('latin1'), r.headers))));
    const rate = OPEN_SESSIONS * PER_SESSION;
    const ex = await openLoop(stoa.port, open, agents, true, SECONDS, tally);
    const pg = await openLoop(stoa.port, open, agents, false, SECONDS, tally);
    rows.push({
      bench: 'mapi-rops: Execute A / B in turn',
      metric: `p99 latency at ${rate} Execute/s (${OPEN_SESSIONS} sessions × ${PER_SESSION}/s)`,
      value: ms(ex.all, 0.99),
      unit: 'ms',
      baseline: { name: 'PING at the same rate', value: ms(pg.all, 0.99) },
      ratio: ms(ex.all, 0.99) / Math.max(ms(pg.all, 0.99), 0.001),
      note:
        `target ≤ 10 ms; ratio = Execute/PING; p50 ${ms(ex.all, 0.5)} vs ${ms(pg.all, 0.5)} ms; A p50/p99 ${ms(ex.a, 0.5)}/${ms(ex.a, 0.99)}, B ${ms(ex.b, 0.5)}/${ms(ex.b, 0.99)} ms, max ${ms(ex.all, 1)} ms; ` +
        `${ex.over100} over 100 ms; ${ex.all.count} timed vs ${pg.all.count}; from the scheduled send; a send started up to ${ex.lateMs.toFixed(1)} / ${pg.lateMs.toFixed(1)} ms after its slot (timer jitter, or the session's previous answer still pending)`,
    });

    // After the load: every session's batches decoded again, then Disconnect.
    const after: string[] = [];
    for (const s of sessions) {
      for (const x of [s.a, ...s.b]) {
        const why = await sendBatchOnce(s.client, x, batchCheck());
        if (why !== null) after.push(`session ${s.k} batch ${x.kind}: ${why}`);
      }
    }
    const log = scanLog(stoa.logFile);
    const stderr = stderrAfterStart(stoa);
    rows.push({
      bench: 'mapi-rops: checks',
      metric: 'failed answers',
      value: tally.failed + warmTally.failed + after.length,
      unit: 'answers',
      note: `of ${tally.checked} checked under load (${tally.cycles} decoded whole in the open loop) and ${sessions.length * (1 + MIDS_PER_SESSION)} batches decoded after it; server ${serverState(stoa)}; log: ${log.join('; ')}`,
    });
    if (tally.failed + warmTally.failed > 0) process.stderr.write(`  mapi-rops failures:\n${tally.report()}\n${warmTally.report()}\n`);
    if (after.length > 0) process.stderr.write(`  mapi-rops: after the load:\n${after.slice(0, 20).join('\n')}\n`);
    if (stderr.trim() !== '') process.stderr.write(`  mapi-rops: server stderr after start:\n${stderr.slice(0, 4000)}\n`);
    return rows;
  } finally {
    for (const s of sessions) {
      await s.client.disconnect().catch(() => undefined);
      s.client.close();
    }
    for (const a of agents) a.destroy();
    for (const p of kill) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
