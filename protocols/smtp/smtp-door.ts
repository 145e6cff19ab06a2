/**
 * The SMTP doors: inbound SMTP (port 25, RFC 5321), Submission (587 with STARTTLS and 465 with
 * implicit TLS, RFC 6409 / 8314) and LMTP (RFC 2033). The protocol layer is smtp-server (the
 * Node ecosystem's standard receiver: EHLO, PIPELINING, SIZE, 8BITMIME, SMTPUTF8,
 * ENHANCEDSTATUSCODES, DSN parameters, STARTTLS, AUTH PLAIN / LOGIN, LMTP's per-recipient
 * replies); the policy and delivery are ours.
 *
 * Decision (recorded in docs/ARCHITECTURE.md): no CHUNKING / BDAT, because smtp-server 3.21 has
 * none and a BDAT receiver only pays when written in-house; clients fall back to DATA.
 *
 * Policy: recipients are checked at RCPT time against the directory (550 5.1.1 unknown, 452 4.2.2
 * over quota, 550 5.7.1 relaying denied for unauthenticated mail to foreign domains); Submission
 * requires AUTH (after TLS unless configured otherwise) and lets users send only as their own
 * addresses or aliases; a message is answered 250 only after every local copy is on disk.
 */
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Logger } from 'pino';
import type { Authenticator } from '../../runtime/auth.js';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import { isOk, LocalDelivery, newMessageId, reply, resolveRecipient, traceHeaders, type Reply } from './local-delivery.js';
import { addMissingHeaders } from './submission-headers.js';
import type { FailureThrottle } from '../shared/failure-throttle.js';

/** What the outbound queue takes (mail for other domains). */
export interface OutboundQueue {
  enqueue(msg: { from: string; recipients: { address: string; notify?: string[]; orcpt?: string }[]; raw: Buffer; envid?: string; ret?: string; fromDomain?: string }): Promise<string>;
  /**
   * A failure notice (DSN) to `from` for recipients whose copies failed for good after the message
   * was accepted for the others; resolves once it is queued (none for <> or NOTIFY without FAILURE).
   */
  bounce?(msg: { from: string; failures: { address: string; reply: Reply; notify?: string[]; orcpt?: string }[]; raw: Buffer; envid?: string; ret?: string }): Promise<void>;
}

export interface SmtpLimits {
  /** Largest message accepted (SIZE, RFC 1870). */
  maxMessageBytes: number;
  /** Most recipients of one message (RFC 5321 4.5.3.1.8 asks for at least 100). */
  maxRecipients: number;
  /** Most simultaneous connections from one client address. */
  maxConnectionsPerIp: number;
  /** Failed AUTH attempts before the connection is closed. */
  maxAuthFailures: number;
  /** Idle time before a connection is closed (RFC 5321 4.5.3.2 suggests minutes). */
  socketTimeoutMs: number;
}

export interface SmtpDoorContext {
  hostname: string;
  log: Logger;
  dir: DirectoryStore;
  auth: Authenticator;
  delivery: LocalDelivery;
  outbound: OutboundQueue | null;
  tls: { key: string | Buffer; cert: string | Buffer };
  limits: SmtpLimits;
  /** AUTH without TLS (off by default: RFC 8314). */
  allowPlaintextAuth: boolean;
  /** Failed AUTH per client address across connections (shared with POP3). */
  throttle?: FailureThrottle;
}

export type SmtpMode = 'inbound' | 'submission' | 'submissions' | 'lmtp';

interface Txn {
  /** Resolved recipients in RCPT order: one entry per RCPT command. */
  rcpts: { address: string; users: UserRecord[]; remote: boolean; notify?: string[]; orcpt?: string }[];
}

/** The authenticated user of a session (set by onAuth). */
function sessionUser(session: SMTPServerSession): UserRecord | null {
  const u = session.user as unknown;
  return typeof u === 'object' && u !== null && 'address' in u ? (u as UserRecord) : null;
}

function smtpError(r: Reply): Error & { responseCode: number } {
  // The enhanced status code travels at the start of the text (see the patch below).
  return Object.assign(new Error(`${r.status} ${r.text}`), { responseCode: r.code });
}

/**
 * smtp-server picks the enhanced status code (RFC 3463) from the reply code alone, which gives
 * "550 5.1.1" for a relaying refusal that must say 5.7.1. Replies whose text starts with an
 * enhanced code use that one instead (once, for that reply).
 */
let patched = false;
function patchEnhancedCodes(): void {
  if (patched) return;
  patched = true;
  type Conn = { __enhanced?: string; _useEnhancedStatusCodes(): boolean };
  const proto = SMTPConnection.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const send = proto.send!;
  const getCode = proto._getEnhancedStatusCode!;
  proto.send = function (this: Conn, code: unknown, data: unknown, context: unknown) {
    if (typeof data === 'string') {
      const m = /^([245]\.\d{1,3}\.\d{1,3}) ([\s\S]*)$/.exec(data);
      if (m !== null) {
        this.__enhanced = m[1];
        data = m[2];
      }
    }
    return send.call(this, code, data, context);
  };
  proto._getEnhancedStatusCode = function (this: Conn, code: unknown, context: unknown) {
    const e = this.__enhanced;
    if (e !== undefined) {
      this.__enhanced = undefined;
      return this._useEnhancedStatusCodes() ? e : '';
    }
    return getCode.call(this, code, context);
  };
}

export class SmtpDoors {
  private readonly servers = new Map<SmtpMode, SMTPServer>();
  private readonly perIp = new Map<string, number>();
  private readonly txns = new Map<string, Txn>();
  private readonly authFailures = new Map<string, number>();
  /** Messages answered 250 (or per-recipient 250 in LMTP). */
  delivered = 0;

  constructor(private readonly ctx: SmtpDoorContext) {
    patchEnhancedCodes();
    for (const mode of ['inbound', 'submission', 'submissions', 'lmtp'] as const) this.servers.set(mode, this.makeServer(mode));
  }

  /** The door for a listener: accepted (and for 465, TLS-terminated) sockets go to smtp-server. */
  handler(mode: SmtpMode): (socket: Socket | TLSSocket) => void {
    const server = this.servers.get(mode)!;
    return (socket) => {
      const ip = socket.remoteAddress ?? '';
      const n = (this.perIp.get(ip) ?? 0) + 1;
      if (n > this.ctx.limits.maxConnectionsPerIp) {
        socket.on('error', () => undefined);
        socket.end(`421 4.7.0 ${this.ctx.hostname} too many connections from your address\r\n`);
        setTimeout(() => socket.destroy(), 2000).unref();
        return;
      }
      this.perIp.set(ip, n);
      socket.once('close', () => {
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      });
      server.connect(socket);
    };
  }

  close(): void {
    for (const s of this.servers.values()) {
      try {
        s.close();
      } catch {
        // not listening (sockets come from our listeners)
      }
    }
  }

  private makeServer(mode: SmtpMode): SMTPServer {
    const { ctx } = this;
    const lmtp = mode === 'lmtp';
    const submission = mode === 'submission' || mode === 'submissions';
    const options: SMTPServerOptions = {
      name: ctx.hostname,
      banner: 'Stoa',
      lmtp,
      secure: mode === 'submissions',
      secured: mode === 'submissions',
      key: ctx.tls.key,
      cert: ctx.tls.cert,
      size: ctx.limits.maxMessageBytes,
      rejectOversized: true,
      hideDSN: false,
      hideENHANCEDSTATUSCODES: false,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: !submission,
      allowInsecureAuth: ctx.allowPlaintextAuth,
      disabledCommands: submission ? [] : ['AUTH'],
      socketTimeout: ctx.limits.socketTimeoutMs,
      logger: false,
      // AUTH is neither offered nor taken on a plain connection (RFC 8314 / 6409), unless configured.
      onConnect: (session, cb) => {
        if (submission && !ctx.allowPlaintextAuth && mode === 'submission') session.disabledCommands = ['AUTH'];
        cb();
      },
      onSecure: (_socket, session, cb) => {
        if (submission) session.disabledCommands = [];
        cb();
      },
      onAuth: (auth, session, cb) => {
        const key = session.id;
        const ip = session.remoteAddress;
        if (ctx.throttle !== undefined && ctx.throttle.blockedFor(ip) > 0) return cb(smtpError(reply(421, '4.7.0', 'too many failed logins from your address, try again later')));
        const fail = () => {
          ctx.throttle?.fail(ip);
          const n = (this.authFailures.get(key) ?? 0) + 1;
          this.authFailures.set(key, n);
          cb(smtpError(n >= ctx.limits.maxAuthFailures ? reply(421, '4.7.0', 'too many failed logins') : reply(535, '5.7.8', 'authentication credentials invalid')));
        };
        if (auth.method !== 'PLAIN' && auth.method !== 'LOGIN') return fail();
        ctx.auth.verify(auth.username ?? '', auth.password ?? '').then(
          (r) => {
            if (r.result === 'ok') {
              this.authFailures.delete(key);
              cb(null, { user: r.user });
            } else if (r.result === 'temporarily-unavailable') cb(smtpError(reply(454, '4.7.0', 'temporary authentication failure')));
            else fail();
          },
          () => cb(smtpError(reply(454, '4.7.0', 'temporary authentication failure'))),
        );
      },
      onMailFrom: (address, session, cb) => this.onMailFrom(mode, address, session, cb),
      onRcptTo: (address, session, cb) => {
        this.onRcptTo(mode, address, session).then(
          (r) => cb(r === null ? null : smtpError(r)),
          () => cb(smtpError(reply(451, '4.3.0', 'temporary failure')))
        );
      },
      onData: (stream, session, cb) => {
        this.onData(mode, stream, session).then(
          (replies) => {
            if (lmtp) cb(null, replies.map((r) => (isOk(r) ? `${r.status} ${r.text}` : smtpError(r))) as never);
            else if (isOk(replies[0]!)) cb(null, `${replies[0]!.status} ${replies[0]!.text}`);
            else cb(smtpError(replies[0]!));
          },
          (err: unknown) => {
            ctx.log.error({ err }, 'smtp: delivery failed');
            cb(smtpError(reply(451, '4.3.0', 'temporary failure, try again later')));
          },
        );
      },
      onClose: (session) => {
        this.txns.delete(session.id);
        this.authFailures.delete(session.id);
      },
    };
    const server = new SMTPServer(options);
    server.on('error', (err) => ctx.log.debug({ err, mode }, 'smtp connection error'));
    return server;
  }

  private onMailFrom(mode: SmtpMode, address: SMTPServerAddress, session: SMTPServerSession, cb: (err?: Error | null) => void): void {
    this.txns.set(session.id, { rcpts: [] });
    const user = sessionUser(session);
    if (mode === 'submission' || mode === 'submissions') {
      if (user === null) return cb(smtpError(reply(530, '5.7.0', 'authentication required')));
      // RFC 6409 6.1: the submitting user may use their own addresses (send-as grants come later).
      const from = address.address.toLowerCase();
      const own = from === user.address || user.aliases.includes(from);
      if (!own) return cb(smtpError(reply(553, '5.7.1', `${user.address} may not send as <${address.address}>`)));
    }
    cb();
  }

  private async onRcptTo(mode: SmtpMode, address: SMTPServerAddress, session: SMTPServerSession): Promise<Reply | null> {
    const { ctx } = this;
    let txn = this.txns.get(session.id);
    if (txn === undefined) {
      txn = { rcpts: [] };
      this.txns.set(session.id, txn);
    }
    if (txn.rcpts.length >= ctx.limits.maxRecipients) return reply(452, '4.5.3', 'too many recipients');
    const r = resolveRecipient(ctx.dir, address.address);
    const dsn = (address.args ?? {}) as Record<string, unknown>;
    const notify = typeof dsn.NOTIFY === 'string' ? dsn.NOTIFY.split(',') : undefined;
    const orcpt = typeof dsn.ORCPT === 'string' ? dsn.ORCPT : undefined;
    switch (r.kind) {
      case 'invalid':
        return reply(501, '5.1.3', 'bad recipient address syntax');
      case 'unknown':
        return reply(550, '5.1.1', `<${address.address}>: no such user here`);
      case 'remote': {
        if (mode === 'lmtp') return reply(550, '5.1.1', `<${address.address}>: not a local address`);
        const user = sessionUser(session);
        if (user === null) return reply(550, '5.7.1', 'relaying denied: authenticate to send to other domains');
        if (ctx.outbound === null) return reply(451, '4.4.0', 'outbound delivery is not available');
        txn.rcpts.push({ address: address.address, users: [], remote: true, notify, orcpt });
        return null;
      }
      case 'local': {
        for (const u of r.users) {
          const q = await ctx.delivery.quotaReply(u);
          if (q !== null && r.users.length === 1) return q;
        }
        txn.rcpts.push({ address: address.address, users: r.users, remote: false, notify, orcpt });
        return null;
      }
    }
  }

  private async onData(mode: SmtpMode, stream: SMTPServerDataStream, session: SMTPServerSession): Promise<Reply[]> {
    const { ctx } = this;
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const txn = this.txns.get(session.id) ?? { rcpts: [] };
    this.txns.delete(session.id);
    const count = mode === 'lmtp' ? txn.rcpts.length : 1;
    if (stream.sizeExceeded) return Array.from({ length: count }, () => reply(552, '5.3.4', 'message exceeds the size limit'));
    let body: Buffer = Buffer.concat(chunks);
    const submission = mode === 'submission' || mode === 'submissions';
    const user = sessionUser(session);
    if (submission && user !== null) body = addMissingHeaders(body, ctx.hostname, user);
    const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
    const secure = session.secure === true;
    const protocol = mode === 'lmtp' ? (secure ? 'LMTPS' : 'LMTP') : `ESMTP${secure ? 'S' : ''}${user !== null ? 'A' : ''}`;
    const id = newMessageId();
    const single = txn.rcpts.length === 1 ? txn.rcpts[0]!.address : undefined;
    const raw = Buffer.concat([traceHeaders(ctx.hostname, { helo: session.hostNameAppearsAs ?? '', remoteAddress: session.remoteAddress, protocol, from, id, ...(single !== undefined ? { for: single } : {}) }), body]);

    // Local copies: each mailbox once, however many RCPTs reached it.
    const users = new Map<string, UserRecord>();
    for (const r of txn.rcpts) for (const u of r.users) users.set(u.id, u);
    const list = [...users.values()];
    const results = await ctx.delivery.deliver(raw, list);
    const byUser = new Map(list.map((u, i) => [u.id, results[i]!]));

    // Remote recipients: one queue entry.
    const remote = txn.rcpts.filter((r) => r.remote);
    let queued: Reply = reply(250, '2.0.0', 'queued');
    if (remote.length > 0 && ctx.outbound !== null) {
      try {
        const qid = await ctx.outbound.enqueue({
          from,
          recipients: remote.map((r) => ({ address: r.address, ...(r.notify !== undefined ? { notify: r.notify } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}) })),
          raw: body,
          ...(session.envelope.dsn?.envid ? { envid: session.envelope.dsn.envid } : {}),
          ...(session.envelope.dsn?.ret ? { ret: session.envelope.dsn.ret } : {}),
          ...(user !== null ? { fromDomain: from.split('@')[1] ?? '' } : {}),
        });
        queued = reply(250, '2.0.0', `queued as ${qid}`);
      } catch (err) {
        ctx.log.error({ err }, 'smtp: could not queue outbound mail');
        queued = reply(451, '4.3.0', 'could not queue the message, try again later');
      }
    }
    const perRcpt = txn.rcpts.map((r): Reply => {
      if (r.remote) return queued;
      const rs = r.users.map((u) => byUser.get(u.id)!);
      // A group delivers as a whole: its reply is the worst of its members'.
      return rs.find((x) => !isOk(x) && x.code >= 500) ?? rs.find((x) => !isOk(x)) ?? reply(250, '2.0.0', `delivered as ${id}`);
    });
    if (mode === 'lmtp') {
      this.delivered += perRcpt.filter(isOk).length;
      return perRcpt;
    }
    // SMTP has one reply for all: success only when every copy is safe; a temporary failure of
    // any asks the client to retry the whole message (a retry may duplicate the copies that
    // succeeded, but never loses one).
    const worstTemp = perRcpt.find((r) => r.code >= 400 && r.code < 500);
    if (worstTemp !== undefined) return [worstTemp];
    const ok = perRcpt.filter(isOk);
    if (ok.length === 0) return [perRcpt[0] ?? reply(554, '5.5.1', 'no valid recipients')];
    // 250 for all while some copies failed for good: those are reported to the sender (RFC 3464).
    const failed = txn.rcpts.map((r, i) => ({ r, reply: perRcpt[i]! })).filter((x) => x.reply.code >= 500);
    if (failed.length > 0 && ctx.outbound?.bounce !== undefined) {
      try {
        await ctx.outbound.bounce({
          from,
          failures: failed.map(({ r, reply: rp }) => ({ address: r.address, reply: rp, ...(r.notify !== undefined ? { notify: r.notify } : {}), ...(r.orcpt !== undefined ? { orcpt: r.orcpt } : {}) })),
          raw,
          ...(session.envelope.dsn?.envid ? { envid: session.envelope.dsn.envid } : {}),
          ...(session.envelope.dsn?.ret ? { ret: session.envelope.dsn.ret } : {}),
        });
      } catch (err) {
        ctx.log.error({ err }, 'smtp: could not queue a failure notice');
      }
    }
    this.delivered++;
    return [reply(250, '2.0.0', `accepted as ${id}`)];
  }
}
