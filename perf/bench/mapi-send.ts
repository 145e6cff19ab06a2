/**
 * Sending over MAPI (issue 11): create + save + submit of a message with one attachment to a
 * local recipient, one Execute per message on warm sessions, against the real server process
 * (build/runtime/main.js, one actor worker; USERS users added with the CLI). The batch, in the
 * sender's Drafts (its folder id from the Inbox's PidTagIpmDraftsEntryId):
 *   RopCreateMessage → RopSetProperties (subject, PidTagBody of BODY_CHARS characters) →
 *   RopModifyRecipients (one To row, X500DN: the next user's legacy DN; session k writes to user
 *   k + 1 mod USERS, so every mailbox sends and receives) → RopCreateAttachment →
 *   RopSetProperties (PidTagAttachMethod 1, PidTagAttachLongFilename, PidTagAttachDataBinary of
 *   ATTACH_BYTES bytes) → RopSaveChangesAttachment → RopSaveChangesMessage (KeepOpenReadWrite) →
 *   RopSubmitMessage → RopRelease(attachment) → RopRelease(message).
 * Delivery happens after the Execute answers (protocols/mail/submission.ts takes the submission,
 * delivers the MAPI object to the recipient's Inbox, then moves the sender's copy from Drafts to
 * Sent Items), so the figures are:
 *  - messages/s at saturation (Execute answered, every ROP 0) against PING on the same sessions, in
 *    alternating slices (autocannon, CONNECTIONS connections, a warm session each, no pipelining);
 *    server CPU µs per message (user + system, all threads, from /proc, TLS and the deliveries
 *    that ran during the slice included);
 *  - delivered/s end to end: a send-only run of BENCH_SECONDS, then the recipients' Inbox counts
 *    polled (RopGetContentsTable RowCount on each user's session) until every sender's Drafts is
 *    empty (each submission taken, delivered and moved): messages delivered / time from the start
 *    of the run to the poll that saw the last one;
 *  - p50 / p99 open loop at OPEN_SESSIONS sessions × PER_SESSION messages/s (a fixed rate, its
 *    share of the saturation rate printed), PING at the same rate as the baseline; latency runs
 *    from the scheduled send (no coordinated omission), the Execute answered, not the delivery.
 * Checks: every session sends the batch once at setup, decoded whole (every ROP ReturnValue 0) and
 * matched against the exact answer shape (SEND_SHAPE); under saturation every answer must be HTTP
 * 200 with X-ResponseCode 0 (head and after DONE), StatusCode / ErrorCode 0 and that shape (every
 * ReturnValue, handle index, AttachmentId 0, no property problems); in the open loop every answer
 * is decoded whole as well; once more through the test client after the load. At the end, after
 * the last submission has gone: each sender's Drafts is empty, its Sent Items count equals its
 * recipient's Inbox count, and that count lies between the messages answered to that sender and
 * the requests it wrote (autocannon stops with requests in flight, which the server may still have
 * taken): fewer is a lost message. The server's log is scanned for warnings, errors and non-200
 * access lines.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Row } from './common.js';
import { alternate, cannonRun, cannonSide, us, type CannonClient, type CannonRequest, type Saturation } from '../load/cannon.js';
import {
  addUsers, executeAnswerProblem, executeBatch, mapiClient, mapiHeaders, ms, NO_HANDLE, onSchedule, PATH, postOn, requestGuid, scanLog, sendBatchOnce, serverState, sessionCookie, startStoa, stderrAfterStart, Tally,
  type ExecuteBatch, type Identity, type LoadSession, type Stoa,
} from '../load/mapi-load.js';
import type { MapiClient } from '../../test/fixtures/mapi-client/client.js';
import type { AnyRopRequest } from '../../test/fixtures/mapi-client/emsmdb.js';
import { RopId } from '../../protocols/mapi/rops/ids.js';
import { RecipientFlag, RecipientType, type RecipientRow } from '../../protocols/mapi/wire/recipient-row.js';
import { parseEntryId } from '../../storage/entry-ids.js';
import { makeEid, REPLID_LOCAL } from '../../storage/ids.js';
import { Tag } from '../../storage/prop-tags.js';
import { PropType, propTag } from '../../storage/prop-types.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const USERS = 25;
const CONNECTIONS = 16;
const OPEN_SESSIONS = 25;
const PER_SESSION = 2;
/** PidTagBody: 20 KiB of text (ASCII: 20,480 bytes as UTF-8, twice that as UTF-16 on the wire). */
const BODY_CHARS = 20 * 1024;
const ATTACH_BYTES = 4 * 1024;
/** Longest wait for the submissions to go (a failed send retries after 60 s: it shows as pending). */
const DRAIN_MS = 90_000;
const POLL_MS = 50;
const BENCH = 'mapi-send: create + save + submit (20 KiB body, 1 attachment)';

const W = (tag: number) => ((tag & 0xffff) === 0x001e ? ((tag & 0xffff0000) | 0x001f) >>> 0 : tag);
const ATTACH_LONG_FILENAME = propTag(0x3707, PropType.PtypString);
const ATTACH_DATA = propTag(0x3701, PropType.PtypBinary);

// ---------------------------------------------------------------- the batch

function bodyText(): string {
  const words = 'quarterly budget review meeting agenda schedule project status update lunch travel report numbers draft proposal'.split(' ');
  let s = '';
  for (let i = 0; s.length < BODY_CHARS; i++) s += (i % 12 === 11 ? '\r\n' : '') + words[(i * 7) % words.length] + ' ';
  return s.slice(0, BODY_CHARS);
}
const BODY = bodyText();
const ATTACHMENT = Buffer.from(Array.from({ length: ATTACH_BYTES }, (_, i) => (i * 31 + 7) & 0xff));

const sendBatch = (drafts: bigint, k: number, to: Identity, toName: string): AnyRopRequest[] =>
  [
    { ropId: RopId.CreateMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: drafts, associatedFlag: false },
    { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: [{ tag: W(Tag.PidTagSubject), value: `Bench message from session ${k}` }, { tag: W(Tag.PidTagBody), value: BODY }] },
    {
      ropId: RopId.ModifyRecipients,
      logonId: 0,
      inputHandleIndex: 1,
      recipientColumns: [],
      recipientRows: [{ rowId: 0, recipientType: 1, recipientRow: { flags: RecipientType.X500DN | RecipientFlag.D | RecipientFlag.U, columnCount: 0, properties: { flagged: false, cells: [] }, addressPrefixUsed: 0, displayType: 0, x500dn: to.dn, displayName: toName } as RecipientRow }],
    },
    { ropId: RopId.CreateAttachment, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2 },
    { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 2, propertyValues: [{ tag: Tag.PidTagAttachMethod, value: 1 }, { tag: ATTACH_LONG_FILENAME, value: `report-${k}.bin` }, { tag: ATTACH_DATA, value: ATTACHMENT }] },
    { ropId: RopId.SaveChangesAttachment, logonId: 0, responseHandleIndex: 2, inputHandleIndex: 2, saveFlags: 0 },
    { ropId: RopId.SaveChangesMessage, logonId: 0, responseHandleIndex: 1, inputHandleIndex: 1, saveFlags: 0x02 },
    { ropId: RopId.SubmitMessage, logonId: 0, inputHandleIndex: 1, submitFlags: 0 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
  ] as unknown as AnyRopRequest[];

/** Property problems are answers with ReturnValue 0 too: none allowed. */
const noProblems = (q: AnyRopRequest, f: Record<string, unknown>): string | null => {
  if (q.ropId !== RopId.SetProperties) return null;
  const problems = (f.propertyProblems ?? []) as unknown[];
  return problems.length === 0 ? null : `SetProperties: ${problems.length} property problems ${JSON.stringify(problems)}`;
};

/**
 * The answer's ROP responses as autocannon hands them (UTF-8 text; every byte but the MessageId's
 * is below 0x80 and survives), from RopSize on (meta-tag head, then StatusCode, ErrorCode, Flags,
 * RopBufferSize, the 8-byte RPC_HEADER_EXT and the 2-byte RopSize: 26 bytes): each RopId, handle
 * index and ReturnValue 0, no property problems, AttachmentID 0, HasMessageId 0; the MessageId
 * (1 to 8 characters once decoded) is any.
 */
const Z = '\\x00{4}';
const SEND_SHAPE = new RegExp(
  [`\\x06\\x01${Z}\\x00`, `\\x0a\\x01${Z}\\x00\\x00`, `\\x0e\\x01${Z}`, `\\x23\\x02${Z}${Z}`, `\\x0a\\x02${Z}\\x00\\x00`, `\\x25\\x02${Z}`, `\\x0c\\x01${Z}\\x01[\\s\\S]{1,8}?`, `\\x32\\x01${Z}`].join(''),
  'y',
);
const ROPS_AT = 26;

function shapeProblem(body: string): string | null {
  const end = body.indexOf('\r\n\r\n');
  SEND_SHAPE.lastIndex = end + 4 + ROPS_AT;
  return end >= 0 && SEND_SHAPE.test(body) ? null : 'ROP responses not all 0 (answer shape)';
}

// ---------------------------------------------------------------- sessions

interface Sender extends LoadSession {
  client: MapiClient;
  agent: Agent;
  logon: number;
  folders: { inbox: bigint; sentItems: bigint; drafts: bigint };
  /** The recipient's user index. */
  to: number;
  send: ExecuteBatch;
  /** Send requests written (setup included) and answered with every ROP 0. */
  sent: number;
  answered: number;
}

async function warmSender(port: number, k: number, users: readonly Identity[]): Promise<Sender> {
  const user = users[k % users.length]!;
  const to = (k + 1) % users.length;
  const client = mapiClient(port, user);
  await client.connect(user.dn);
  const logon = await client.logon(user.dn);
  if (logon.returnValue !== 0) throw new Error(`session ${k}: RopLogon ReturnValue 0x${(logon.returnValue >>> 0).toString(16)}`);
  const inbox = logon.folders.inbox!;
  const prep = await client.execute(
    [
      { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId: inbox, openModeFlags: 0 },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagIpmDraftsEntryId] },
      { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
    ] as never,
    [logon.handle, NO_HANDLE],
  );
  const eid = prep.responses[1]?.returnValue === 0 ? ((prep.responses[1].ok as { rowData: { cells: unknown[] } }).rowData.cells[0] as Uint8Array) : undefined;
  const parsed = eid instanceof Uint8Array ? parseEntryId(eid) : null;
  if (parsed?.kind !== 'folder') throw new Error(`session ${k}: no Drafts entry id on the Inbox (${JSON.stringify(prep.responses.map((r) => r.returnValue))})`);
  const drafts = makeEid(REPLID_LOCAL, parsed.globcnt);
  const send = executeBatch(sendBatch(drafts, k, users[to]!, `Bench User ${to}`), logon.handle, 2);
  const s: Sender = {
    k, user, client, cookie: sessionCookie(client), guid: requestGuid(k, 0), n: 0, agent: new Agent({ keepAlive: true, maxSockets: 1, rejectUnauthorized: false }),
    logon: logon.handle, folders: { inbox, sentItems: logon.folders.sentItems!, drafts }, to, send, sent: 0, answered: 0,
  };
  // One message at setup on the session's own connection: decoded whole, and the answer shape the load checks.
  s.sent++;
  const r = await postOn(port, s.agent, s, 'Execute', send.body);
  const why = r.status !== 200 ? `HTTP ${r.status}` : (executeAnswerProblem(send.requests, r.raw, noProblems) ?? shapeProblem(r.raw.toString('utf8')));
  if (why !== null) throw new Error(`session ${k} (${user.address}): send at setup: ${why}; answer ${r.raw.toString('hex').slice(0, 600)}`);
  s.answered++;
  return s;
}

interface Counts {
  inbox: number;
  sentItems: number;
  drafts: number;
}

/** A session's own Inbox, Sent Items and Drafts: RopGetContentsTable's RowCount each. */
async function countsOf(s: Sender): Promise<Counts> {
  const folders = [s.folders.inbox, s.folders.sentItems, s.folders.drafts];
  const requests = folders.flatMap((folderId) => [
    { ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, folderId, openModeFlags: 0 },
    { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 2 },
    { ropId: RopId.Release, logonId: 0, inputHandleIndex: 1 },
  ]) as unknown as AnyRopRequest[];
  const r = await s.client.execute(requests, [s.logon, NO_HANDLE, NO_HANDLE]);
  const rowCounts = r.responses.filter((x) => x.ropId === RopId.GetContentsTable).map((x) => (x.returnValue === 0 ? (x.ok as { rowCount: number }).rowCount : NaN));
  const bad = r.responses.find((x) => x.returnValue !== 0);
  if (bad !== undefined || rowCounts.length !== 3) throw new Error(`session ${s.k}: counting folders: RopId 0x${bad?.ropId.toString(16)} ReturnValue 0x${((bad?.returnValue ?? 0) >>> 0).toString(16)}`);
  return { inbox: rowCounts[0]!, sentItems: rowCounts[1]!, drafts: rowCounts[2]! };
}

const allCounts = (senders: readonly Sender[]) => Promise.all(senders.map(countsOf));

/** Polls every POLL_MS until no sender's Drafts holds a message (every submission taken, delivered and moved), or DRAIN_MS: the counts and when they were seen. */
async function drain(senders: readonly Sender[]): Promise<{ counts: Counts[]; at: number; pending: number }> {
  const until = performance.now() + DRAIN_MS;
  for (;;) {
    const counts = await allCounts(senders);
    const at = performance.now();
    const pending = counts.reduce((n, c) => n + c.drafts, 0);
    if (pending === 0 || at > until) return { counts, at, pending };
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

// ---------------------------------------------------------------- saturation (autocannon)

type Mode = 'PING' | 'SEND';

/** Connection i works on sender i: PING, or the send batch (counted per sender: written, answered with the right shape). */
function loadClients(senders: readonly Sender[], mode: Mode, tally: Tally): (c: CannonClient) => void {
  let next = 0;
  return (client) => {
    const s = senders[next++]!;
    const send = mode === 'SEND';
    const request: CannonRequest = {
      method: 'POST',
      path: PATH,
      headers: mapiHeaders(s.user, send ? 'Execute' : 'PING', s.k, { Cookie: s.cookie, ...(send ? {} : { 'Content-Length': '0' }) }),
      ...(send ? { body: s.send.body } : {}),
      setupRequest: (r) => {
        r.headers!['X-RequestId'] = `${s.guid}:${++s.n}`;
        if (send) s.sent++;
        return r;
      },
      onResponse: (status, body, _ctx, h) => {
        if (tally.check(send ? 'Execute send' : 'PING', status, body, h) && send) s.answered++;
      },
    };
    client.setRequests([request]);
  };
}

// ---------------------------------------------------------------- the run

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stoa-bench-mapi-send-'));
  const kill: ChildProcess[] = [];
  const senders: Sender[] = [];
  try {
    const stoa: Stoa = await startStoa(dir);
    kill.push(stoa.proc);
    const users = await addUsers(stoa.data, USERS);
    try {
      for (let k = 0; k < Math.max(CONNECTIONS, OPEN_SESSIONS); k++) senders.push(await warmSender(stoa.port, k, users));
    } catch (e) {
      // A ROP that fails at setup is the finding: no figures, the failure and the server's log instead.
      return [{ bench: 'mapi-send: checks', metric: 'setup failed', value: 1, unit: 'errors', note: `${(e as Error).message}; server ${serverState(stoa)}; log: ${scanLog(stoa.logFile).join('; ')}` }];
    }
    const first = await drain(senders);
    process.stderr.write(`  mapi-send: ${senders.length} warm sessions, one message each sent at setup (${first.pending} still pending after the wait); request body ${senders[0]!.send.body.byteLength} B\n`);

    const tally = new Tally((kind, body) => (kind === 'Execute send' ? shapeProblem(body) : null));
    const sat = senders.slice(0, CONNECTIONS);
    const load = (mode: Mode, seconds: number) => cannonRun({ url: `https://127.0.0.1:${stoa.port}${PATH}`, method: 'POST', connections: CONNECTIONS, duration: seconds, setupClient: loadClients(sat, mode, tally) });
    // Warm-up: TLS sessions, JIT, the mailbox actors' caches.
    for (const mode of ['PING', 'SEND'] as const) await load(mode, 1);

    const [ping, send] = (await alternate([cannonSide(stoa.proc.pid!, (t) => load('PING', t)), cannonSide(stoa.proc.pid!, (t) => load('SEND', t))], SECONDS)) as [Saturation, Saturation];
    const satEnd = performance.now();
    const afterSat = await drain(senders);

    const rows: Row[] = [];
    rows.push({
      bench: BENCH,
      metric: 'messages/s at saturation (Execute answered)',
      value: send.rps,
      unit: 'msg/s',
      baseline: { name: 'PING (req/s), same sessions', value: ping.rps },
      ratio: send.rps / ping.rps,
      note: `p50 ${send.p50} ms vs ${ping.p50} ms; ${CONNECTIONS} connections, a warm session each; 3 alternating slices; request ${senders[0]!.send.body.byteLength} B; the submissions then went out in ${((afterSat.at - satEnd) / 1000).toFixed(2)} s (${afterSat.pending} pending after ${DRAIN_MS / 1000} s)`,
    });
    if (send.cpuUs !== null && ping.cpuUs !== null)
      rows.push({
        bench: BENCH,
        metric: 'server CPU per message at saturation',
        value: send.cpuUs,
        unit: 'µs',
        baseline: { name: 'PING request', value: ping.cpuUs },
        ratio: send.cpuUs / ping.cpuUs,
        note: `${us(send.cpuUs)} vs ${us(ping.cpuUs)}, user + system, all threads, TLS included; the deliveries that ran within the slices count, those after them not`,
      });

    // End to end: send-only for SECONDS, then until every submission has gone.
    const before = afterSat.counts;
    const answered0 = sat.map((s) => s.answered);
    const t0 = performance.now();
    const e2e = await load('SEND', SECONDS);
    const loadEnd = performance.now();
    const backlog = (await allCounts(senders)).reduce((n, c) => n + c.drafts, 0);
    const done = await drain(senders);
    const delivered = done.counts.reduce((n, c, i) => n + c.inbox - before[i]!.inbox, 0);
    const answeredE2e = sat.reduce((n, s, i) => n + s.answered - answered0[i]!, 0);
    rows.push({
      bench: BENCH,
      metric: 'delivered/s end to end',
      value: delivered / ((done.at - t0) / 1000),
      unit: 'msg/s',
      baseline: { name: 'Execute answered/s in the same run', value: answeredE2e / e2e.duration },
      ratio: delivered / ((done.at - t0) / 1000) / (answeredE2e / e2e.duration),
      note: `${delivered} delivered (${answeredE2e} answered) in ${((done.at - t0) / 1000).toFixed(2)} s from the start of a ${SECONDS} s send-only run to the poll (every ${POLL_MS} ms) that saw the last in an Inbox and every Drafts empty; ${backlog} still in Drafts when the load stopped, gone ${((done.at - loadEnd) / 1000).toFixed(2)} s later${done.pending > 0 ? `; ${done.pending} STILL PENDING after ${DRAIN_MS / 1000} s` : ''}`,
    });

    // Open loop: OPEN_SESSIONS sessions × PER_SESSION messages/s, then PING at the same rate.
    const open = senders.slice(0, OPEN_SESSIONS);
    const openTally = new Tally();
    const openLoop = (execute: boolean) =>
      onSchedule(open.length, PER_SESSION, SECONDS, async (k) => {
        const s = open[k]!;
        const label = execute ? 'Execute send' : 'PING';
        if (execute) s.sent++;
        try {
          const r = await postOn(stoa.port, s.agent, s, execute ? 'Execute' : 'PING', execute ? s.send.body : null);
          if (!openTally.check(label, r.status, r.raw.toString('latin1'), r.headers) || !execute) return;
          openTally.cycles++;
          const why = executeAnswerProblem(s.send.requests, r.raw, noProblems) ?? shapeProblem(r.raw.toString('utf8'));
          if (why !== null) openTally.fail(label, why, `session ${s.k}`);
          else s.answered++;
        } catch (e) {
          openTally.fail(label, `request failed: ${(e as Error).message}`, `session ${s.k}`);
        }
      });
    const rate = OPEN_SESSIONS * PER_SESSION;
    const ex = await openLoop(true);
    const pg = await openLoop(false);
    rows.push({
      bench: BENCH,
      metric: `p99 latency at ${rate} msg/s (${OPEN_SESSIONS} sessions × ${PER_SESSION}/s)`,
      value: ms(ex.all, 0.99),
      unit: 'ms',
      baseline: { name: 'PING at the same rate', value: ms(pg.all, 0.99) },
      ratio: ms(ex.all, 0.99) / Math.max(ms(pg.all, 0.99), 0.001),
      note:
        `${((rate / send.rps) * 100).toFixed(0)}% of the saturation rate; p50 ${ms(ex.all, 0.5)} vs ${ms(pg.all, 0.5)} ms, max ${ms(ex.all, 1)} ms; ${ex.over100} over 100 ms; ${ex.all.count} timed vs ${pg.all.count}; ` +
        `from the scheduled send to the Execute answer; a send started up to ${ex.lateMs.toFixed(1)} / ${pg.lateMs.toFixed(1)} ms after its slot`,
    });

    // After the load: one more message per session through the test client, then every submission gone and counted.
    const after: string[] = [];
    for (const s of senders) {
      s.sent++;
      const why = await sendBatchOnce(s.client, s.send, noProblems);
      if (why !== null) after.push(`session ${s.k}: ${why}`);
      else s.answered++;
    }
    const last = await drain(senders);
    const problems: string[] = [];
    let lost = 0;
    let taken = 0;
    for (const s of senders) {
      const mine = last.counts[s.k]!;
      const theirs = last.counts[s.to]!;
      if (mine.drafts !== 0) problems.push(`session ${s.k}: ${mine.drafts} left in Drafts`);
      if (mine.sentItems !== theirs.inbox) problems.push(`session ${s.k}: Sent Items ${mine.sentItems}, recipient's Inbox ${theirs.inbox}`);
      if (theirs.inbox < s.answered) {
        lost += s.answered - theirs.inbox;
        problems.push(`session ${s.k}: ${s.answered} answered, ${theirs.inbox} in user${s.to}'s Inbox`);
      }
      if (theirs.inbox > s.sent) problems.push(`session ${s.k}: ${theirs.inbox} in user${s.to}'s Inbox, only ${s.sent} written`);
      taken += theirs.inbox - s.answered;
    }
    const submitted = senders.reduce((n, s) => n + s.answered, 0);
    const inboxes = last.counts.reduce((n, c) => n + c.inbox, 0);
    const log = scanLog(stoa.logFile);
    const stderr = stderrAfterStart(stoa);
    rows.push({
      bench: 'mapi-send: checks',
      metric: 'failed answers',
      value: tally.failed + openTally.failed + after.length,
      unit: 'answers',
      note: `of ${tally.checked + openTally.checked} checked under load (${openTally.cycles} decoded whole in the open loop) and ${senders.length} decoded after it; server ${serverState(stoa)}; log: ${log.join('; ')}`,
    });
    rows.push({
      bench: 'mapi-send: checks',
      metric: 'lost messages',
      value: lost,
      unit: 'messages',
      note: `${submitted} answered, ${inboxes} in the Inboxes (${taken} more: written when autocannon stopped, taken without an answer read); ${problems.length === 0 ? 'every Drafts empty, every Sent Items = its recipient\'s Inbox' : problems.slice(0, 10).join('; ')}${last.pending > 0 ? `; ${last.pending} still pending after ${DRAIN_MS / 1000} s` : ''}`,
    });
    if (tally.failed + openTally.failed > 0) process.stderr.write(`  mapi-send failures:\n${tally.report()}\n${openTally.report()}\n`);
    if (after.length > 0) process.stderr.write(`  mapi-send: after the load:\n${after.slice(0, 20).join('\n')}\n`);
    if (problems.length > 0) process.stderr.write(`  mapi-send: counts:\n${problems.join('\n')}\n`);
    if (stderr.trim() !== '') process.stderr.write(`  mapi-send: server stderr after start:\n${stderr.slice(0, 4000)}\n`);
    return rows;
  } finally {
    for (const s of senders) {
      await s.client.disconnect().catch(() => undefined);
      s.client.close();
      s.agent.destroy();
    }
    for (const p of kill) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
