/**
 * The outbound queue: mail for other domains (from Submission and authenticated SMTP) and the
 * notices the server sends, kept in storage/outbound-queue.ts until every recipient is delivered
 * or has failed for good.
 *
 * An attempt takes a due entry, groups its pending recipients by domain, and for each domain
 * delivers locally (a domain served here: LocalDelivery) or to the smarthost / the domain's MX
 * hosts (route.ts, smtp-client.ts), DKIM-signed with the sending domain's key (dkim.ts). Each
 * recipient's outcome is stored: 2xx delivered, 5xx failed, anything else pending with a next
 * attempt on RETRY_SCHEDULE_MS until the entry expires. Failures (permanent, or pending at
 * expiry) earn the sender a DSN (dsn.ts) unless NOTIFY says otherwise or the sender is <>; the
 * DSN is queued in the same transaction that settles the entry, so neither is lost.
 *
 * Limits: connections in flight overall and per destination domain; an entry is attempted by one
 * task at a time. A timer wakes the loop for the earliest next attempt; on start, due entries are
 * resumed (the queue lives on disk).
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { DirectoryError, type DirectoryStore, type DkimKey, type UserRecord } from '../../../storage/directory-store.js';
import { newQueueId, OutboundQueueStore, type NotifyValue, type QueueEntry, type QueueRecipient, type QueueReply } from '../../../storage/outbound-queue.js';
import { findHeader, headerText, parseHeaderBlock } from '../../mail/mime/headers.js';
import { parseAddresses } from '../../mail/mime/header-values.js';
import { rfc5322Date } from '../../mail/mapi-to-mime.js';
import { isOk, resolveRecipient, type LocalDelivery, type Reply } from '../local-delivery.js';
import type { OutboundQueue } from '../smtp-door.js';
import { dkimDnsRecord, dkimSign, makeDkimKey } from './dkim.js';
import { buildDsn, wantsNotice, type DsnRecipient } from './dsn.js';
import { resolveRoute, systemResolver, type MxResolver, type Smarthost } from './route.js';
import { sendToHosts, type RecipientOutcome } from './smtp-client.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * Delay before attempt n+1 after n failed attempts (the last repeats until expiry): quick retries
 * for greylisting (RFC 6647 servers usually accept after a few minutes), then backing off.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [1 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, 1 * HOUR, 2 * HOUR, 4 * HOUR];
/** How long a message may wait in the queue before it is returned (RFC 5321 4.5.4.1: "at least 4-5 days"). */
export const DEFAULT_EXPIRY_MS = 5 * 24 * HOUR;
/** When a "delayed" DSN goes out to recipients whose NOTIFY asks for DELAY. */
export const DEFAULT_DELAY_NOTICE_MS = 4 * HOUR;
/** Outbound SMTP connections at once, overall and per destination domain. */
export const DEFAULT_MAX_CONNECTIONS = 20;
export const DEFAULT_MAX_CONNECTIONS_PER_DOMAIN = 4;
/** Entries attempted at once (each may open one connection per domain). */
const MAX_ENTRIES_IN_FLIGHT_FACTOR = 2;
/** Due entries looked at per wake-up (the rest follow as attempts finish). */
const DUE_SCAN = 1000;
/** The timer never sleeps longer than this (clock changes, setTimeout's 24.8-day limit). */
const MAX_SLEEP_MS = 5 * MINUTE;
/** How long stop() waits for attempts in flight before abandoning their connections. */
const STOP_GRACE_MS = 10_000;

export interface OutboundTimeouts {
  connectMs: number;
  greetingMs: number;
  socketMs: number;
}

/** RFC 5321 4.5.3.2 gives minutes per step; these are a practical middle. */
const DEFAULT_TIMEOUTS: OutboundTimeouts = { connectMs: 30_000, greetingMs: 5 * MINUTE, socketMs: 5 * MINUTE };

export interface OutboundOptions {
  /** The data folder: the queue lives in <dataDir>/queue. */
  dataDir: string;
  dir: DirectoryStore;
  delivery: Pick<LocalDelivery, 'deliver'>;
  /** Our host name: EHLO, Received, Reporting-MTA, the notices' From. */
  hostname: string;
  log: Logger;
  /** DNS (default node:dns). */
  resolver?: MxResolver;
  /** Relay everything through this host instead of MX lookups. */
  smarthost?: Smarthost | null;
  retrySchedule?: readonly number[];
  expiryMs?: number;
  /** 0: never send "delayed" notices. */
  delayNoticeMs?: number;
  concurrency?: { global?: number; perDomain?: number };
  /** Certificate checks for MX hosts (off by default: opportunistic TLS). */
  tls?: { rejectUnauthorized: boolean };
  timeouts?: Partial<OutboundTimeouts>;
  /** Port of MX hosts (25); tests aim it at their own listener. */
  mxPort?: number;
  /** Signs a message with a domain's DKIM key (default: on this thread; the server passes the CPU pool's). */
  signer?: (raw: Buffer, domain: string, key: Pick<DkimKey, 'selector' | 'privateKey'>) => Promise<Buffer>;
}

/** An entry as `queue list` shows it. */
export interface QueueListing {
  id: string;
  from: string;
  size: number;
  created: string;
  attempts: number;
  nextAttempt: string;
  expires: string;
  recipients: { address: string; state: string; attempts: number; lastError: string | null }[];
}

/** What the admin commands need of the queue (AdminBackend.queue). */
export interface QueueAdmin {
  list(): QueueListing[] | Promise<QueueListing[]>;
  flush(): Promise<{ flushed: number }>;
  remove(id: string): Promise<{ removed: string }>;
}

export class QueueError extends Error {
  constructor(
    readonly code: 'NOT_FOUND' | 'UNAVAILABLE',
    message: string,
  ) {
    super(message);
    this.name = 'QueueError';
  }
}

export function listing(e: QueueEntry): QueueListing {
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    id: e.id,
    from: e.from === '' ? '<>' : e.from,
    size: e.size,
    created: iso(e.created),
    attempts: e.attempts,
    nextAttempt: iso(e.nextAttempt),
    expires: iso(e.expires),
    recipients: e.recipients.map((r) => ({
      address: r.address,
      state: r.state,
      attempts: r.attempts,
      lastError: r.reply !== null && !isOk(r.reply) ? `${r.reply.code} ${r.reply.status} ${r.reply.text}` : null,
    })),
  };
}

/** Admin over a queue store alone (the CLI when no server runs): list and remove; flush needs the server. */
export function offlineQueueAdmin(store: OutboundQueueStore): QueueAdmin {
  return {
    list: () => store.list().map(listing),
    flush: () => Promise.reject(new QueueError('UNAVAILABLE', 'queue flush needs the running server (due mail is sent as soon as it starts)')),
    remove: async (id) => {
      if (!(await store.remove(id))) throw new QueueError('NOT_FOUND', `no queue entry ${id}`);
      return { removed: id };
    },
  };
}

/** Counts connections overall and per domain; waiters are served in order. */
class Limiter {
  private total = 0;
  private readonly perDomain = new Map<string, number>();
  private readonly waiting: { domain: string; go: () => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly maxPerDomain: number,
  ) {}

  free(domain: string): boolean {
    return this.total < this.max && (this.perDomain.get(domain) ?? 0) < this.maxPerDomain;
  }

  acquire(domain: string): Promise<void> {
    if (this.free(domain)) {
      this.take(domain);
      return Promise.resolve();
    }
    return new Promise((go) => this.waiting.push({ domain, go }));
  }

  release(domain: string): void {
    this.total--;
    const n = (this.perDomain.get(domain) ?? 1) - 1;
    if (n <= 0) this.perDomain.delete(domain);
    else this.perDomain.set(domain, n);
    for (let i = 0; i < this.waiting.length && this.total < this.max; ) {
      const w = this.waiting[i]!;
      if (this.free(w.domain)) {
        this.waiting.splice(i, 1);
        this.take(w.domain);
        w.go();
      } else i++;
    }
  }

  private take(domain: string): void {
    this.total++;
    this.perDomain.set(domain, (this.perDomain.get(domain) ?? 0) + 1);
  }
}

const NOTIFY_VALUES = new Set<NotifyValue>(['NEVER', 'SUCCESS', 'FAILURE', 'DELAY']);

function normalizeNotify(n: readonly string[] | undefined): NotifyValue[] | undefined {
  if (n === undefined) return undefined;
  const v = n.map((x) => x.trim().toUpperCase()).filter((x): x is NotifyValue => NOTIFY_VALUES.has(x as NotifyValue));
  return v.length > 0 ? v : undefined;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

const pendingDomains = (e: QueueEntry) => [...new Set(e.recipients.filter((r) => r.state === 'pending').map((r) => domainOf(r.address)))];

export class OutboundService implements OutboundQueue, QueueAdmin {
  private store: OutboundQueueStore | null = null;
  private readonly resolver: MxResolver;
  private readonly schedule: readonly number[];
  private readonly expiryMs: number;
  private readonly delayNoticeMs: number;
  private readonly timeouts: OutboundTimeouts;
  private readonly limiter: Limiter;
  private readonly maxInFlight: number;
  /** Entries being attempted, until their outcome is on disk (never picked twice). */
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Of those, the ones still talking to other servers (the cap counts these, not the ones waiting for their flush). */
  private sending = 0;
  /**
   * The domains of each entry's pending recipients, as the loop last saw them: a backlog for
   * one busy domain is skipped on every wake-up without decoding its entries again (measured:
   * decoding them was a third of the main thread at 200 msg/s).
   */
  private readonly domainsOf = new Map<string, string[]>();
  private readonly dkimMaking = new Map<string, Promise<DkimKey | null>>();
  private timer: NodeJS.Timeout | null = null;
  private kickPending = false;
  private stopping = false;
  /** Attempts finished and messages delivered / failed since start (for metrics and tests). */
  readonly stats = { attempts: 0, delivered: 0, failed: 0, notices: 0 };

  constructor(private readonly o: OutboundOptions) {
    this.resolver = o.resolver ?? systemResolver;
    this.schedule = o.retrySchedule !== undefined && o.retrySchedule.length > 0 ? o.retrySchedule : RETRY_SCHEDULE_MS;
    this.expiryMs = o.expiryMs ?? DEFAULT_EXPIRY_MS;
    this.delayNoticeMs = o.delayNoticeMs ?? DEFAULT_DELAY_NOTICE_MS;
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...o.timeouts };
    const global = Math.max(1, o.concurrency?.global ?? DEFAULT_MAX_CONNECTIONS);
    this.limiter = new Limiter(global, Math.max(1, o.concurrency?.perDomain ?? DEFAULT_MAX_CONNECTIONS_PER_DOMAIN));
    this.maxInFlight = global * MAX_ENTRIES_IN_FLIGHT_FACTOR;
  }

  /** Opens the queue and resumes what is due. */
  async start(): Promise<void> {
    if (this.store !== null) return;
    this.stopping = false;
    this.store = await OutboundQueueStore.open(join(this.o.dataDir, 'queue'));
    const n = this.store.count;
    if (n > 0) this.o.log.info({ entries: n }, 'outbound queue: resuming');
    this.kick();
  }

  /** Stops the loop, lets attempts in flight finish (up to a grace period), closes the queue. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const pending = [...this.inFlight.values()];
    if (pending.length > 0) {
      let t: NodeJS.Timeout | undefined;
      await Promise.race([Promise.allSettled(pending), new Promise((r) => (t = setTimeout(r, STOP_GRACE_MS)))]);
      clearTimeout(t);
      // Attempts still running keep their entries pending: they are tried again after a restart.
    }
    const store = this.store;
    this.store = null;
    await store?.close();
  }

  /** The store for attempts (which stop() waits for before closing it). */
  private open(): OutboundQueueStore {
    if (this.store === null) throw new QueueError('UNAVAILABLE', 'the outbound queue is closed');
    return this.store;
  }

  /** The store for new work: refused once stopping. */
  private must(): OutboundQueueStore {
    if (this.store === null || this.stopping) throw new QueueError('UNAVAILABLE', 'the outbound queue is not running');
    return this.store;
  }

  // ---------------------------------------------------------------- OutboundQueue

  /** Queues a message; resolves with its id once it is on disk. */
  async enqueue(msg: Parameters<OutboundQueue['enqueue']>[0]): Promise<string> {
    const store = this.must();
    const now = Date.now();
    const id = newQueueId(now);
    const seen = new Set<string>();
    const recipients: QueueRecipient[] = [];
    for (const r of msg.recipients) {
      const key = r.address.toLowerCase();
      if (seen.has(key)) continue;
      seen.add(key);
      const notify = normalizeNotify(r.notify);
      recipients.push({ address: r.address, ...(notify !== undefined ? { notify } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}), state: 'pending', attempts: 0, lastAttempt: null, reply: null });
    }
    if (recipients.length === 0) throw new Error('a queue entry needs a recipient');
    const ret = msg.ret?.toUpperCase();
    // Our trace field (RFC 5321 4.4); the door hands over the message without one.
    const raw = Buffer.concat([Buffer.from(`Received: by ${this.o.hostname} (Stoa) id ${id};\r\n\t${rfc5322Date(new Date(now))}\r\n`, 'latin1'), msg.raw]);
    const entry: QueueEntry = {
      id,
      from: msg.from,
      ...(msg.envid !== undefined ? { envid: msg.envid } : {}),
      ...(ret === 'FULL' || ret === 'HDRS' ? { ret } : {}),
      ...(msg.fromDomain !== undefined && msg.fromDomain !== '' ? { fromDomain: msg.fromDomain.toLowerCase() } : {}),
      recipients,
      size: raw.length,
      created: now,
      attempts: 0,
      nextAttempt: now,
      expires: now + this.expiryMs,
    };
    await store.add(entry, raw);
    this.o.log.info({ queueId: id, from: msg.from, to: recipients.map((r) => r.address), size: raw.length }, 'outbound: queued');
    this.kick();
    return id;
  }

  /**
   * Failure notice for copies that failed for good after the message was accepted (the SMTP door
   * answered 250 for the others). Queued durably; none for the null sender or NOTIFY without FAILURE.
   */
  async bounce(msg: { from: string; failures: { address: string; reply: Reply; notify?: string[]; orcpt?: string }[]; raw: Buffer; envid?: string; ret?: string }): Promise<void> {
    if (msg.from === '') return;
    const failures = msg.failures.filter((f) => wantsNotice(normalizeNotify(f.notify), 'FAILURE'));
    if (failures.length === 0) return;
    const now = Date.now();
    const ret = msg.ret?.toUpperCase();
    const dsn = buildDsn({
      reportingMta: this.o.hostname,
      to: msg.from,
      ...(msg.envid !== undefined ? { envid: msg.envid } : {}),
      ...(ret === 'FULL' || ret === 'HDRS' ? { ret } : {}),
      arrival: now,
      recipients: failures.map((f) => ({ address: f.address, ...(f.orcpt !== undefined ? { orcpt: f.orcpt } : {}), action: 'failed' as const, reply: f.reply, lastAttempt: now })),
      original: msg.raw,
    });
    const entry = this.noticeEntry(msg.from, dsn, now);
    await this.must().add(entry, dsn);
    this.stats.notices++;
    this.kick();
  }

  /** For metrics: entries on disk and what happened since start. */
  counts(): { queued: number; attempts: number; delivered: number; failed: number; notices: number } {
    return { queued: this.store?.count ?? 0, ...this.stats };
  }

  // ---------------------------------------------------------------- admin

  list(): QueueListing[] {
    return this.must().list().map(listing);
  }

  /** Makes everything due now and wakes the loop. */
  async flush(): Promise<{ flushed: number }> {
    const flushed = await this.must().flushAll(Date.now());
    this.kick();
    return { flushed };
  }

  async remove(id: string): Promise<{ removed: string }> {
    if (!(await this.must().remove(id))) throw new QueueError('NOT_FOUND', `no queue entry ${id}`);
    this.domainsOf.delete(id);
    this.o.log.info({ queueId: id }, 'outbound: removed by the administrator');
    return { removed: id };
  }

  /** Resolves when no attempt runs and nothing is due (tests). */
  async idle(): Promise<void> {
    for (;;) {
      await Promise.allSettled([...this.inFlight.values()]);
      await new Promise((r) => setImmediate(r));
      const due = this.store !== null ? this.store.due(Date.now(), 1).length : 0;
      if (this.inFlight.size === 0 && (due === 0 || this.stopping)) return;
      if (this.inFlight.size === 0) this.kick();
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  // ---------------------------------------------------------------- the loop

  private kick(): void {
    if (this.kickPending || this.stopping) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.tick();
    });
  }

  private tick(): void {
    const store = this.store;
    if (store === null || this.stopping) return;
    const now = Date.now();
    let blocked = false;
    for (const id of store.dueIds(now, DUE_SCAN)) {
      if (this.sending >= this.maxInFlight) {
        blocked = true;
        break;
      }
      if (this.inFlight.has(id)) continue;
      // Skip entries whose every remote domain is at its connection limit (no head-of-line blocking).
      let domains = this.domainsOf.get(id);
      let e: QueueEntry | undefined;
      if (domains === undefined) {
        e = store.get(id);
        if (e === undefined) continue;
        domains = pendingDomains(e);
        this.domainsOf.set(id, domains);
      }
      if (domains.length > 0 && !domains.some((d) => this.o.dir.domain(d) !== undefined || this.limiter.free(d))) {
        blocked = true;
        continue;
      }
      e ??= store.get(id);
      if (e === undefined) {
        this.domainsOf.delete(id);
        continue;
      }
      this.sending++;
      const p = this.attempt(e, () => {
        this.sending--;
        this.kick();
      })
        .catch((err: unknown) => this.o.log.error({ err, queueId: id }, 'outbound: attempt failed'))
        .finally(() => {
          this.inFlight.delete(id);
          this.domainsOf.delete(id);
          this.kick();
        });
      this.inFlight.set(id, p);
    }
    // Entries left waiting go when a running attempt ends (its finally kicks the loop); the timer is for the next future one.
    if (this.timer !== null) clearTimeout(this.timer);
    const next = store.nextDue(now + 1);
    let sleep = next === null ? null : next - now;
    if (blocked && this.sending === 0) sleep = Math.min(sleep ?? 1000, 1000);
    this.timer = sleep === null ? null : setTimeout(() => ((this.timer = null), this.tick()), Math.min(Math.max(sleep, 0), MAX_SLEEP_MS));
    this.timer?.unref();
  }

  /** One attempt for every pending recipient of an entry, then its new state (and any notice) stored at once. */
  private async attempt(entry: QueueEntry, sent: () => void): Promise<void> {
    let once = false;
    const done = () => {
      if (!once) sent();
      once = true;
    };
    try {
      await this.attemptOnce(entry, done);
    } finally {
      done();
    }
  }

  private async attemptOnce(entry: QueueEntry, sent: () => void): Promise<void> {
    const store = this.open();
    const raw = store.raw(entry.id);
    if (raw === undefined) {
      this.o.log.error({ queueId: entry.id }, 'outbound: the message of a queue entry is missing; entry dropped');
      await store.remove(entry.id);
      return;
    }
    const started = Date.now();
    const pending = entry.recipients.filter((r) => r.state === 'pending');
    const byDomain = new Map<string, QueueRecipient[]>();
    for (const r of pending) {
      const d = domainOf(r.address);
      const list = byDomain.get(d);
      if (list === undefined) byDomain.set(d, [r]);
      else list.push(r);
    }
    let signed: Promise<Buffer> | null = null;
    const outcomes = new Map<QueueRecipient, RecipientOutcome>();
    await Promise.all(
      [...byDomain].map(async ([domain, rcpts]) => {
        if (this.o.dir.domain(domain) !== undefined) {
          const res = await this.deliverLocal(entry, rcpts, raw);
          rcpts.forEach((r, i) => outcomes.set(r, { reply: res[i]!, remoteMta: null }));
          return;
        }
        await this.limiter.acquire(domain);
        try {
          const route = await resolveRoute(domain, { resolver: this.resolver, smarthost: this.o.smarthost ?? null, mxPort: this.o.mxPort ?? 25, mxRejectUnauthorized: this.o.tls?.rejectUnauthorized ?? false });
          if (!route.ok) {
            for (const r of rcpts) outcomes.set(r, { reply: route.reply, remoteMta: null });
            return;
          }
          signed ??= this.sign(entry, raw);
          const message = await signed;
          const got = await sendToHosts(
            route.hosts,
            { from: entry.from, recipients: rcpts.map((r) => ({ address: r.address, ...(r.notify !== undefined ? { notify: r.notify } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}) })), message, ...(entry.envid !== undefined ? { envid: entry.envid } : {}), ...(entry.ret !== undefined ? { ret: entry.ret } : {}) },
            {
              heloName: this.o.hostname,
              connectTimeoutMs: this.timeouts.connectMs,
              greetingTimeoutMs: this.timeouts.greetingMs,
              socketTimeoutMs: this.timeouts.socketMs,
              onSessionError: (host, address, err) => this.o.log.warn({ queueId: entry.id, host, address, err: (err as Error).message }, 'outbound: session failed'),
            },
            () => this.stopping,
          );
          for (const r of rcpts) outcomes.set(r, got.get(r.address) ?? { reply: { code: 451, status: '4.4.1', text: 'no answer for this recipient' }, remoteMta: null });
        } finally {
          this.limiter.release(domain);
        }
      }),
    );
    sent();
    await this.settle(entry, raw, outcomes, started);
  }

  /** Stores the outcomes: the entry updated or removed, and the notice it causes, in one write. */
  private async settle(entry: QueueEntry, raw: Buffer, outcomes: Map<QueueRecipient, RecipientOutcome>, started: number): Promise<void> {
    const store = this.open();
    const now = Date.now();
    const notices: DsnRecipient[] = [];
    const justFailed: QueueRecipient[] = [];
    for (const [r, out] of outcomes) {
      r.attempts++;
      r.lastAttempt = started;
      r.reply = out.reply;
      if (out.remoteMta !== null) r.remoteMta = out.remoteMta;
      else delete r.remoteMta;
      if (isOk(out.reply)) {
        r.state = 'delivered';
        this.stats.delivered++;
        if (out.peerLacksDsn === true && wantsNotice(r.notify, 'SUCCESS')) notices.push(this.noticeFor(r, 'relayed', entry));
      } else if (out.reply.code >= 500) {
        r.state = 'failed';
        justFailed.push(r);
      }
    }
    entry.attempts++;
    const left = entry.recipients.filter((r) => r.state === 'pending');
    if (left.length > 0 && now >= entry.expires) {
      const days = Math.round((entry.expires - entry.created) / (24 * HOUR));
      for (const r of left) {
        const last = r.reply !== null ? `; last error: ${r.reply.code} ${r.reply.status} ${r.reply.text}` : '';
        r.reply = { code: 451, status: '4.4.7', text: `message expired after ${days} day(s) in the queue${last}` };
        r.state = 'failed';
        justFailed.push(r);
      }
    }
    for (const r of justFailed) {
      this.stats.failed++;
      if (wantsNotice(r.notify, 'FAILURE')) notices.push(this.noticeFor(r, 'failed', entry));
    }
    const stillPending = entry.recipients.filter((r) => r.state === 'pending');
    if (this.delayNoticeMs > 0 && now - entry.created >= this.delayNoticeMs) {
      for (const r of stillPending) {
        if (r.delayNotified !== true && wantsNotice(r.notify, 'DELAY')) {
          r.delayNotified = true;
          notices.push({ ...this.noticeFor(r, 'delayed', entry), willRetryUntil: entry.expires });
        }
      }
    }
    const ops: Parameters<OutboundQueueStore['apply']>[0][number][] = [];
    if (stillPending.length > 0) {
      const delay = this.schedule[Math.min(entry.attempts, this.schedule.length) - 1]!;
      entry.nextAttempt = Math.min(now + delay, entry.expires);
      ops.push({ put: entry });
    } else {
      ops.push({ remove: entry.id });
    }
    if (notices.length > 0 && entry.from !== '') {
      const dsn = buildDsn({
        reportingMta: this.o.hostname,
        to: entry.from,
        ...(entry.envid !== undefined ? { envid: entry.envid } : {}),
        ...(entry.ret !== undefined ? { ret: entry.ret } : {}),
        arrival: entry.created,
        queueId: entry.id,
        recipients: notices,
        original: raw,
      });
      const notice = this.noticeEntry(entry.from, dsn, now);
      ops.push({ put: notice, raw: dsn });
      this.stats.notices++;
      this.o.log.info({ queueId: entry.id, notice: notice.id, to: entry.from, recipients: notices.map((n) => `${n.address}: ${n.action}`) }, 'outbound: delivery status notice queued');
    }
    if (stillPending.length === 0) this.o.log.info({ queueId: entry.id, delivered: entry.recipients.filter((r) => r.state === 'delivered').length, failed: entry.recipients.filter((r) => r.state === 'failed').length }, 'outbound: done');
    else this.o.log.info({ queueId: entry.id, pending: stillPending.map((r) => r.address), next: new Date(entry.nextAttempt).toISOString(), reason: stillPending[0]!.reply?.text }, 'outbound: deferred');
    this.stats.attempts++;
    await store.apply(ops);
  }

  private noticeFor(r: QueueRecipient, action: DsnRecipient['action'], _entry: QueueEntry): DsnRecipient {
    return { address: r.address, ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}), action, reply: r.reply, remoteMta: r.remoteMta ?? null, lastAttempt: r.lastAttempt };
  }

  /** A queue entry for a notice: from the null sender (never answered by another notice, RFC 3461 6.2). */
  private noticeEntry(to: string, dsn: Buffer, now: number): QueueEntry {
    return {
      id: newQueueId(now),
      from: '',
      recipients: [{ address: to, state: 'pending', attempts: 0, lastAttempt: null, reply: null }],
      size: dsn.length,
      created: now,
      attempts: 0,
      nextAttempt: now,
      expires: now + this.expiryMs,
    };
  }

  /** Recipients in a domain served here (a notice to a local sender, or a domain added since). */
  private async deliverLocal(entry: QueueEntry, rcpts: QueueRecipient[], raw: Buffer): Promise<QueueReply[]> {
    const trace = Buffer.from(`Return-Path: <${entry.from}>\r\nReceived: by ${this.o.hostname} (Stoa) id ${entry.id};\r\n\t${rfc5322Date(new Date())}\r\n`, 'latin1');
    const users = new Map<string, UserRecord>();
    const per: (UserRecord[] | QueueReply)[] = rcpts.map((r) => {
      const x = resolveRecipient(this.o.dir, r.address);
      switch (x.kind) {
        case 'local':
          for (const u of x.users) users.set(u.id, u);
          return x.users;
        case 'unknown':
          return { code: 550, status: '5.1.1', text: `<${r.address}>: no such user here` };
        case 'invalid':
          return { code: 553, status: '5.1.3', text: 'bad recipient address syntax' };
        case 'remote':
          return { code: 451, status: '4.3.0', text: 'the domain is no longer served here; will retry' };
      }
    });
    const list = [...users.values()];
    const results = list.length > 0 ? await this.o.delivery.deliver(Buffer.concat([trace, raw]), list) : [];
    const byUser = new Map(list.map((u, i) => [u.id, results[i]!]));
    return per.map((p) => {
      if (!Array.isArray(p)) return p;
      const rs = p.map((u) => byUser.get(u.id)!);
      return rs.find((x) => x.code >= 500) ?? rs.find((x) => !isOk(x)) ?? { code: 250, status: '2.0.0', text: 'delivered' };
    });
  }

  // ---------------------------------------------------------------- DKIM

  /** The message signed with the sending domain's key, or as it is when no domain of ours sends it. */
  private async sign(entry: QueueEntry, raw: Buffer): Promise<Buffer> {
    const domain = this.signingDomain(entry, raw);
    if (domain === null) return raw;
    const key = this.o.dir.domain(domain)?.dkim ?? (await this.makeKeyOnFirstNeed(domain));
    if (key === null) return raw;
    try {
      return await (this.o.signer ?? dkimSign)(raw, domain, key);
    } catch (err) {
      this.o.log.error({ err, domain }, 'outbound: DKIM signing failed; sending unsigned');
      return raw;
    }
  }

  /**
   * The domain that signs: the From header's (DMARC aligns with it) or one of its parents when we
   * serve it, else the authenticated sender's, else the envelope sender's. Notices come From
   * MAILER-DAEMON@<host name>.
   */
  private signingDomain(entry: QueueEntry, raw: Buffer): string | null {
    const { headers } = parseHeaderBlock(raw, 0, raw.length);
    const fromHeader = findHeader(headers, 'from');
    const headerDomain = fromHeader !== undefined ? parseAddresses(headerText(fromHeader.value)).map((a) => domainOf(a.address))[0] : undefined;
    for (const cand of [headerDomain, entry.fromDomain, entry.from !== '' ? domainOf(entry.from) : undefined]) {
      if (cand === undefined || cand === '') continue;
      const labels = cand.split('.');
      for (let i = 0; i <= labels.length - 2; i++) {
        const d = labels.slice(i).join('.');
        if (this.o.dir.domain(d) !== undefined) return d;
      }
    }
    return null;
  }

  /** A key for a domain added before DKIM existed here; the DNS record to publish goes to the log. */
  private makeKeyOnFirstNeed(domain: string): Promise<DkimKey | null> {
    let p = this.dkimMaking.get(domain);
    if (p === undefined) {
      p = (async () => {
        try {
          const rec = await this.o.dir.setDkim(domain, await makeDkimKey(), { onlyIfNone: true });
          const key = rec.dkim!;
          this.o.log.warn({ domain, dns: dkimDnsRecord(domain, key).zone }, 'outbound: made a DKIM key for the domain; publish this DNS record (npm run cli -- domain dkim <domain> shows it again)');
          return key;
        } catch (err) {
          if (!(err instanceof DirectoryError)) this.o.log.error({ err, domain }, 'outbound: could not make a DKIM key');
          return null;
        } finally {
          this.dkimMaking.delete(domain);
        }
      })();
      this.dkimMaking.set(domain, p);
    }
    return p;
  }
}
