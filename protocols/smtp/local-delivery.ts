/**
 * Local delivery, shared by SMTP, Submission, LMTP and the outbound queue's bounces: recipient
 * lookup in the directory (users, aliases, groups expanded), then one conversion (MS-OXCMAIL, in
 * the CPU pool) and one delivery per mailbox through its actor, with the original MIME kept.
 *
 * A delivery is acknowledged only once the mailbox actor answered, and the actor answers a write
 * only after its commit is flushed to disk: "250" means on disk. Failures are data: each
 * recipient gets an SMTP reply (code, enhanced status, text), never an exception.
 */
import { randomBytes } from 'node:crypto';
import type { ActorSystem } from '../../runtime/actor-system.js';
import { actorRef } from '../../runtime/actor.js';
import type { CpuPool } from '../../runtime/cpu-pool.js';
import { ActorError } from '../../runtime/errors.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { mapiToWire } from '../../actors/mailbox/wire-message.js';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import { localizeAddresses } from '../mail/localize.js';
import { rfc5322Date } from '../mail/mapi-to-mime.js';

/** An SMTP reply: code, enhanced status code (RFC 3463), text. */
export interface Reply {
  code: number;
  status: string;
  text: string;
}

export const reply = (code: number, status: string, text: string): Reply => ({ code, status, text });
export const isOk = (r: Reply) => r.code >= 200 && r.code < 300;

export type Recipient = { kind: 'local'; users: UserRecord[] } | { kind: 'remote'; domain: string } | { kind: 'unknown' } | { kind: 'invalid' };

/** Longest address accepted (RFC 5321 4.5.3.1: 64 local-part + 255 domain). */
const MAX_ADDRESS = 320;

/** What an envelope address is: one or more local mailboxes, a remote domain, or nobody here. */
export function resolveRecipient(dir: DirectoryStore, address: string): Recipient {
  const at = address.lastIndexOf('@');
  if (address.length > MAX_ADDRESS || at <= 0 || at === address.length - 1) return { kind: 'invalid' };
  const domain = address.slice(at + 1).toLowerCase();
  if (dir.domain(domain) === undefined) return { kind: 'remote', domain };
  const user = dir.userByAddress(address);
  if (user !== undefined) return user.enabled ? { kind: 'local', users: [user] } : { kind: 'unknown' };
  if (dir.groupByAddress(address) !== undefined) {
    const users = dir.expand(address).filter((u) => u.enabled);
    return users.length > 0 ? { kind: 'local', users } : { kind: 'unknown' };
  }
  return { kind: 'unknown' };
}

export interface TraceInfo {
  /** The client's HELO/EHLO name. */
  helo: string;
  remoteAddress: string;
  /** "ESMTP", "ESMTPS", "ESMTPSA", "LMTP", ... (RFC 3848). */
  protocol: string;
  /** The envelope sender ("" for the null sender). */
  from: string;
  /** Set only when the message has one recipient (RFC 5321 4.4: "for" is optional). */
  for?: string;
  id: string;
}

/** A queue id for trace headers and logs. */
export function newMessageId(): string {
  return randomBytes(9).toString('base64url');
}

/** Return-Path and Received header fields prepended at delivery (RFC 5321 4.4). */
export function traceHeaders(hostname: string, t: TraceInfo, now = new Date()): Buffer {
  const helo = t.helo.replace(/[^\x21-\x7e]/g, '') || 'unknown';
  const addr = t.remoteAddress.replace(/^::ffff:/, '');
  const forPart = t.for !== undefined ? `\r\n\tfor <${t.for}>` : '';
  return Buffer.from(`Return-Path: <${t.from}>\r\nReceived: from ${helo} ([${addr}])\r\n\tby ${hostname} (Stoa) with ${t.protocol} id ${t.id}${forPart};\r\n\t${rfc5322Date(now)}\r\n`, 'latin1');
}

export interface LocalDeliveryDeps {
  system: ActorSystem;
  pool: CpuPool;
  dir: DirectoryStore;
  /** How long one mailbox write may take before the sender is told to retry. */
  timeoutMs?: number;
}

const DELIVERY_TIMEOUT_MS = 60_000;

/** The reply for a delivery that failed in the store. */
export function replyForError(err: unknown): Reply {
  const code = err instanceof ActorError ? err.code : '';
  switch (code) {
    case 'ecQuotaExceeded':
      return reply(552, '5.2.2', 'mailbox full');
    case 'ecDiskError':
      return reply(452, '4.3.1', 'insufficient system storage, try again later');
    case 'ecNotFound':
      // A directory user without a mailbox on disk: the operator's to fix; the sender retries.
      return reply(451, '4.2.1', 'mailbox not available, try again later');
    default:
      return reply(451, '4.3.0', 'temporary failure, try again later');
  }
}

export class LocalDelivery {
  constructor(private readonly deps: LocalDeliveryDeps) {}

  /** Whether a user's mailbox takes more mail now (RCPT-time check): null when it does. */
  async quotaReply(user: UserRecord): Promise<Reply | null> {
    try {
      const state = await this.deps.system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'quotaState', null, { timeoutMs: 10_000 });
      return state === 'receive-prohibited' ? reply(452, '4.2.2', `mailbox of ${user.address} is full`) : null;
    } catch (err) {
      return replyForError(err);
    }
  }

  /**
   * Delivers one message (with its trace headers already prepended) to each user; one reply per
   * user, in order. The message is converted once.
   */
  async deliver(raw: Buffer, users: readonly UserRecord[]): Promise<Reply[]> {
    const { system, pool, dir } = this.deps;
    if (users.length === 0) return [];
    let wire;
    try {
      const conv = await pool.run('mimeToMapi', { raw, deliveryTime: Date.now() }, { bytes: raw.length });
      localizeAddresses(conv.message, (smtp) => {
        const u = dir.userByAddress(smtp);
        return u === undefined ? null : { legacyDn: u.legacyDn, displayName: u.displayName };
      });
      wire = mapiToWire(conv.message, raw);
    } catch {
      return users.map(() => reply(451, '4.3.0', 'temporary conversion failure, try again later'));
    }
    const w = wire;
    return Promise.all(
      users.map(async (u, i) => {
        try {
          // Large binaries (at any depth: attachments too) move to the worker by transfer
          // (runtime/frame.ts): each call but the last gets its own copy.
          const args = i === users.length - 1 ? w : structuredClone(w);
          await system.call(actorRef<MailboxProtocol>('mailbox', u.address), 'deliver', args, { timeoutMs: this.deps.timeoutMs ?? DELIVERY_TIMEOUT_MS });
          return reply(250, '2.0.0', 'delivered');
        } catch (err) {
          return replyForError(err);
        }
      }),
    );
  }
}
