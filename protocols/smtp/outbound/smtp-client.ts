/**
 * Sends one message to one destination's hosts and says what became of each recipient. The
 * protocol layer is nodemailer's SMTPConnection (EHLO, PIPELINING, STARTTLS, SIZE, 8BITMIME,
 * SMTPUTF8, DSN parameters when the peer offers DSN, AUTH for a smarthost); the routing, the
 * per-recipient outcome and the fallbacks are ours:
 *
 * - hosts in route order, up to two addresses each; the next host only when a session fails
 *   (no connection, bad greeting, TLS, dropped): a reply to MAIL, RCPT or DATA is final for
 *   the recipients it answers (RFC 5321 5.1 / 4.5.4.1);
 * - opportunistic STARTTLS: a failed handshake is retried once in plain text on the same address;
 * - nodemailer's envelope carries one NOTIFY / ORCPT for all recipients, so recipients with
 *   different DSN parameters go in separate transactions on the same connection;
 * - outcome per recipient: 2xx delivered, 5xx permanent, 4xx and anything else temporary.
 */
import { isIP } from 'node:net';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { NotifyValue, QueueReply } from '../../../storage/outbound-queue.js';
import type { RouteHost } from './route.js';

export interface SendRecipient {
  address: string;
  notify?: NotifyValue[];
  orcpt?: string;
}

export interface SendJob {
  /** "" for the null sender. */
  from: string;
  recipients: SendRecipient[];
  message: Buffer;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
}

export interface RecipientOutcome {
  reply: QueueReply;
  /** The host that answered ("dns; name"), when one did. */
  remoteMta: string | null;
  /** Delivered to a peer that did not offer DSN (RFC 3461 4.1: NOTIFY=SUCCESS then earns a "relayed" notice). */
  peerLacksDsn?: boolean;
}

export interface ClientOptions {
  /** Our name in EHLO. */
  heloName: string;
  connectTimeoutMs: number;
  greetingTimeoutMs: number;
  /** Inactivity while talking (RFC 5321 4.5.3.2 allows minutes per command). */
  socketTimeoutMs: number;
  /** Called for a session that failed (for the log). */
  onSessionError?: (host: string, address: string, err: unknown) => void;
}

type SmtpError = Error & { code?: string; response?: string; responseCode?: number; command?: string; recipient?: string; rejectedErrors?: SmtpError[] };

/** An SMTP reply from its text ("550 5.1.1 no such user" or "550-…\n550 …"). */
export function replyFromResponse(response: string, fallbackCode: number): QueueReply {
  const lines = response.split(/\r?\n/).filter((l) => l !== '');
  const m = /^(\d{3})[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\s+)?/.exec(lines[0] ?? '');
  const code = m !== null ? Number(m[1]) : fallbackCode;
  const status = m?.[2] ?? `${String(code)[0]}.0.0`;
  const text = lines.map((l) => l.replace(/^\d{3}[ -]?(?:[245]\.\d{1,3}\.\d{1,3}\s+)?/, '')).join(' ').trim();
  return { code, status, text: text || 'no text' };
}

/** The reply an error stands for: the server's when it gave one, else a temporary local one. */
function replyFromError(err: SmtpError): QueueReply {
  if (typeof err.response === 'string' && /^\d{3}/.test(err.response)) return replyFromResponse(err.response, 451);
  if (err.code === 'EMESSAGE' && /larger than allowed/.test(err.message)) return { code: 552, status: '5.3.4', text: `message too big for the receiving server (${err.message})` };
  return { code: 451, status: '4.4.1', text: sessionText(err) };
}

function sessionText(err: unknown): string {
  const e = err as SmtpError;
  const what = e.code === 'ETIMEDOUT' ? 'timed out' : e.code === 'ETLS' ? 'TLS failed' : e.code === 'ECONNECTION' || e.code === 'ESOCKET' ? 'connection failed' : 'session failed';
  return `${what}: ${(e.message ?? String(err)).replace(/[\r\n]+/g, ' ').slice(0, 300)}`;
}

/** A promise face on SMTPConnection, remembering the first error it emits. */
class Session {
  readonly conn: SMTPConnection;
  private failure: SmtpError | null = null;
  /** The session failed while negotiating TLS. */
  tlsFailed = false;
  private ended = false;
  private onDown: ((err: SmtpError) => void) | null = null;

  constructor(opts: ConstructorParameters<typeof SMTPConnection>[0]) {
    this.conn = new SMTPConnection(opts);
    this.conn.on('error', (err: SmtpError) => {
      // A failed handshake shows as ETLS or, when OpenSSL ends it, as a socket error mid-upgrade.
      if (this.failure === null && (err.code === 'ETLS' || this.conn.upgrading === true)) this.tlsFailed = true;
      this.failure ??= err;
      this.onDown?.(err);
    });
    this.conn.on('end', () => {
      this.ended = true;
      this.onDown?.(this.failure ?? Object.assign(new Error('connection closed'), { code: 'ECONNECTION' }));
    });
  }

  get usable(): boolean {
    return this.failure === null && !this.ended;
  }

  open(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.onDown = reject;
      this.conn.connect((err) => (err ? reject(err) : resolve()));
    }).finally(() => (this.onDown = null));
  }

  login(user: string, pass: string): Promise<void> {
    return new Promise((resolve, reject) => this.conn.login({ user, pass }, (err) => (err ? reject(err) : resolve())));
  }

  send(envelope: Parameters<SMTPConnection['send']>[0], message: Buffer): Promise<{ accepted: string[]; rejectedErrors?: SmtpError[]; response: string; ehlo?: string[] }> {
    return new Promise((resolve, reject) => this.conn.send(envelope, message, (err, info) => (err ? reject(err) : resolve(info as never))));
  }

  reset(): Promise<void> {
    return new Promise((resolve, reject) => this.conn.reset((err) => (err ? reject(err) : resolve())));
  }

  /** The recipients the server refused at RCPT in the transaction that just failed (nodemailer keeps them on its envelope). */
  rejectedInFailedSend(): SmtpError[] {
    const env = (this.conn as unknown as { _envelope?: { rejectedErrors?: SmtpError[] } })._envelope;
    return env?.rejectedErrors ?? [];
  }

  close(): void {
    if (this.usable) this.conn.quit();
    else this.conn.close();
  }
}

/** Recipients with the same NOTIFY and ORCPT, in order. */
function dsnGroups(rcpts: SendRecipient[]): SendRecipient[][] {
  const groups = new Map<string, SendRecipient[]>();
  for (const r of rcpts) {
    const k = `${(r.notify ?? []).join(',')}|${r.orcpt ?? ''}`;
    const g = groups.get(k);
    if (g === undefined) groups.set(k, [r]);
    else g.push(r);
  }
  return [...groups.values()];
}

/**
 * Delivers `job` through `hosts`; every recipient gets an outcome (temporary ones when no host
 * could be reached). `aborted` ends the attempt early (server stop): the rest stays temporary.
 */
export async function sendToHosts(hosts: readonly RouteHost[], job: SendJob, o: ClientOptions, aborted: () => boolean = () => false): Promise<Map<string, RecipientOutcome>> {
  const outcomes = new Map<string, RecipientOutcome>();
  let left = job.recipients;
  let last: QueueReply = { code: 451, status: '4.4.1', text: 'no mail exchanger could be reached' };
  let lastMta: string | null = null;
  for (const host of hosts) {
    for (const address of host.addresses) {
      if (left.length === 0 || aborted()) break;
      let r = await trySession(host, address, left, job, o, host.tls);
      // Opportunistic TLS: a handshake that fails is not a reason to keep the mail (RFC 7435),
      // unless certificates are to be verified: then a bad one must not be bypassed in plain text.
      if (r.error !== null && r.tlsFailed && host.tls === 'opportunistic' && !host.rejectUnauthorized && !aborted()) r = await trySession(host, address, left, job, o, 'none');
      for (const [a, out] of r.decided) outcomes.set(a, out);
      left = left.filter((x) => !outcomes.has(x.address));
      if (r.error !== null) {
        last = r.error;
        lastMta = `dns; ${host.name}`;
      }
    }
  }
  for (const x of left) outcomes.set(x.address, { reply: last.code >= 500 ? { ...last, code: 451, status: '4.4.1' } : last, remoteMta: lastMta });
  return outcomes;
}

async function trySession(
  host: RouteHost,
  address: string,
  rcpts: SendRecipient[],
  job: SendJob,
  o: ClientOptions,
  tls: RouteHost['tls'],
): Promise<{ decided: Map<string, RecipientOutcome>; error: QueueReply | null; tlsFailed: boolean }> {
  const decided = new Map<string, RecipientOutcome>();
  const mta = `dns; ${host.name}`;
  const s = new Session({
    host: address,
    port: host.port,
    ...(isIP(host.name) === 0 ? { servername: host.name } : {}),
    name: o.heloName,
    secure: tls === 'implicit',
    requireTLS: tls === 'starttls',
    opportunisticTLS: tls === 'opportunistic',
    ignoreTLS: tls === 'none',
    tls: { rejectUnauthorized: host.rejectUnauthorized, minVersion: 'TLSv1.2', ...(isIP(host.name) === 0 ? { servername: host.name } : {}) },
    connectionTimeout: o.connectTimeoutMs,
    greetingTimeout: o.greetingTimeoutMs,
    socketTimeout: o.socketTimeoutMs,
    logger: false,
  });
  try {
    await s.open();
    if (host.auth !== null) await s.login(host.auth.user, host.auth.pass);
  } catch (err) {
    s.close();
    o.onSessionError?.(host.name, address, err);
    const e = err as SmtpError;
    const reply = replyFromError(e);
    // A refused login at a smarthost is a configuration problem: the mail waits, whatever the code.
    const tlsFailed = s.tlsFailed || e.code === 'ETLS';
    const r = tlsFailed ? { code: 451, status: '4.4.1', text: `TLS failed: ${(e.message ?? '').replace(/[\r\n]+/g, ' ').slice(0, 300)}` } : reply;
    return { decided, error: r.code >= 500 ? { ...r, code: 451, status: e.code === 'EAUTH' ? '4.7.0' : '4.4.1' } : r, tlsFailed };
  }
  const eightBit = job.message.some((b) => b >= 0x80);
  let first = true;
  try {
    for (const group of dsnGroups(rcpts)) {
      if (!first) await s.reset();
      first = false;
      const r0 = group[0]!;
      const dsn = r0.notify !== undefined || r0.orcpt !== undefined || job.envid !== undefined || job.ret !== undefined
        ? { ...(r0.notify !== undefined ? { notify: r0.notify } : {}), ...(r0.orcpt !== undefined ? { orcpt: r0.orcpt } : {}), ...(job.envid !== undefined ? { envid: job.envid } : {}), ...(job.ret !== undefined ? { ret: job.ret } : {}) }
        : undefined;
      const envelope = { from: job.from, to: group.map((g) => g.address), size: job.message.length, use8BitMime: eightBit, ...(dsn !== undefined ? { dsn } : {}) };
      try {
        const info = await s.send(envelope, job.message);
        const peerLacksDsn = !(info.ehlo ?? []).some((l) => /^DSN\b/i.test(l));
        const ok = replyFromResponse(info.response, 250);
        for (const a of info.accepted) decided.set(a, { reply: ok, remoteMta: mta, peerLacksDsn });
        for (const e of info.rejectedErrors ?? []) if (e.recipient !== undefined) decided.set(e.recipient, { reply: replyFromError(e), remoteMta: mta });
      } catch (err) {
        const e = err as SmtpError;
        for (const r of e.rejectedErrors ?? s.rejectedInFailedSend()) if (r.recipient !== undefined) decided.set(r.recipient, { reply: replyFromError(r), remoteMta: mta });
        const rest = group.filter((g) => !decided.has(g.address));
        // A reply to MAIL, RCPT or DATA (or to the end of the data) answers the rest of the
        // group. A dropped session or a 421 (the server closing) answers nobody: the next
        // host gets them. A message over the peer's announced SIZE fails there for good.
        const answered = typeof e.responseCode === 'number' && e.command !== 'CONN' && e.responseCode !== 421;
        const tooBig = e.code === 'EMESSAGE' && e.responseCode === undefined;
        const badAddress = e.code === 'EENVELOPE' && e.command === 'API'; // nodemailer refused an address (CR, LF, <>)
        if (answered || tooBig) {
          const reply = replyFromError(e);
          for (const g of rest) decided.set(g.address, { reply, remoteMta: mta });
        } else if (badAddress) {
          for (const g of rest) decided.set(g.address, { reply: { code: 553, status: '5.1.3', text: `bad address: ${e.message}` }, remoteMta: null });
        }
        if (!s.usable || !(answered || tooBig || badAddress)) throw err;
      }
    }
  } catch (err) {
    s.close();
    o.onSessionError?.(host.name, address, err);
    return { decided, error: replyFromError(err as SmtpError), tlsFailed: false };
  }
  s.close();
  return { decided, error: null, tlsFailed: false };
}
