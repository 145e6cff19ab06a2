/**
 * The mailbox server endpoint's work (MS-OXCMAPIHTTP 3.2.5, MS-OXCRPC 3.1.4): Connect checks
 * the user DN against the authenticated user and makes the session; Execute turns the request's
 * extended buffers into ROP request buffers, splits each into runs of consecutive ROPs on one
 * logon, and sends every run to the mailbox actor that holds the logon (one message per run; the
 * actor holds the session's server objects); RopLogon picks the actor from its ESSDN (the user's
 * own mailbox, or another one with a full-access grant; else ecLoginPerm / ecUnknownUser).
 * Responses are packed within the client's MaxRopOut (RopBufferTooSmall for what does not fit),
 * queued notifications follow as RopNotify (RopPending when they do not all fit), and the
 * output goes back in extended buffers, compressed and obfuscated as the client allows.
 */
import type { Logger } from 'pino';
import { actorRef } from '../../../runtime/actor.js';
import type { ActorSystem } from '../../../runtime/actor-system.js';
import { ActorError } from '../../../runtime/errors.js';
import type { MailboxProtocol, ReadReceipt } from '../../../actors/mailbox/mailbox-actor.js';
import type { Caller, LogonAccess } from '../../../actors/mailbox/rop/rop-session.js';
import type { RopRunResult } from '../../../actors/mailbox/rop/rop-run.js';
import type { Submissions } from '../../mail/submission.js';
import type { DirectoryStore, UserRecord } from '../../../storage/directory-store.js';
import { WireWriter } from '../wire/writer.js';
import { ExtFlags, pullExtendedBuffers, pushExtendedBuffer } from '../wire/rpc-ext.js';
import { pullRopRequestBuffer, type PulledRop } from '../rops/buffer.js';
import { Ec, RopId } from '../rops/ids.js';
import { InvalidRequestBody } from '../http/response-codes.js';
import {
  ExecuteFlags,
  pullConnectRequest,
  pullDisconnectRequest,
  pullExecuteRequest,
  pullNotificationWaitRequest,
  pushConnectResponse,
  pushExecuteResponse,
  pushNotificationWaitResponse,
  pushStatusResponse,
} from './bodies.js';

/** Largest response payload in one extended buffer (RPC_HEADER_EXT Size is 16 bits). */
const MAX_PAYLOAD = 0xffff;
/** Smallest MaxRopOut honoured (MS-OXCRPC: pcbOut is at least 0x8008 for Execute). */
const MIN_ROP_OUT = 0x8008;
/** RopBackoff with no per-ROP entries and no additional data (MS-OXCROPS 2.2.15.2). */
const BACKOFF_SIZE = 1 + 1 + 4 + 1 + 2;
/** How long a busy mailbox asks the client to wait (ms). */
const BACKOFF_MS = 1000;
/** Most RopNotify responses queued for one session. */
export const MAX_PENDING_NOTIFY = 4096;
/** Payloads below this are not worth compressing. */
const COMPRESS_FROM = 1024;
/** How long NotificationWait waits for an event before answering "none" (MS-OXCMAPIHTTP 3.2.5.4: about 5 minutes). */
export const NOTIFICATION_WAIT_MS = 300_000;

export class SessionLost extends Error {}

export interface EmsmdbSession {
  readonly id: string;
  readonly user: UserRecord;
  readonly caller: Caller;
  /** Logon id → the mailbox (actor key) holding it. */
  readonly logons: Map<number, string>;
  /** Mailboxes whose actor holds objects of this session (endSession on disconnect). */
  readonly mailboxes: Set<string>;
  /** Encoded RopNotify responses waiting for the next Execute. */
  readonly pendingNotify: Uint8Array[];
  /** NotificationWait callers to wake when an event is queued or the session ends. */
  readonly waiters: Set<() => void>;
  lost: boolean;
  codePage: number;
  /** Notifications dropped because the queue was full. */
  droppedNotify: number;
}

export interface EmsmdbDeps {
  system: ActorSystem;
  dir: DirectoryStore;
  log: Logger;
  /** Sends what RopSubmitMessage submits (protocols/mail/submission.ts); without it submissions wait in the store. */
  submissions?: Submissions;
}

export class EmsmdbService {
  static readonly requestTypes: ReadonlySet<string> = new Set(['Connect', 'Execute', 'Disconnect', 'NotificationWait']);

  /**
   * Notifications (issue 8): one subscription per mailbox actor where sessions have logons; the
   * actor's 'ropNotify' events ({ session, notes }) are queued for the session they name.
   */
  private readonly watched = new Map<string, { off: () => void; sessions: Map<string, EmsmdbSession> }>();

  constructor(private readonly deps: EmsmdbDeps) {}

  private watch(s: EmsmdbSession, mailbox: string): void {
    let w = this.watched.get(mailbox);
    if (w === undefined) {
      const sessions = new Map<string, EmsmdbSession>();
      const off = this.deps.system.subscribe(actorRef<MailboxProtocol>('mailbox', mailbox), (topic, data) => {
        // A message read with a read receipt owed: the door sends it (one subscription per mailbox).
        if (topic === 'readReceipt') return void this.deps.submissions?.readReceipts(mailbox, (data as { receipts: ReadReceipt[] }).receipts);
        if (topic !== 'ropNotify') return;
        const d = data as { session: string; notes: Uint8Array[] };
        const target = sessions.get(d.session);
        if (target === undefined || target.lost) return;
        for (const n of d.notes) this.notify(target, n);
      });
      w = { off, sessions };
      this.watched.set(mailbox, w);
    }
    w.sessions.set(s.id, s);
  }

  private unwatch(s: EmsmdbSession, mailbox: string): void {
    const w = this.watched.get(mailbox);
    if (w === undefined || w.sessions.get(s.id) !== s) return;
    w.sessions.delete(s.id);
    if (w.sessions.size === 0) {
      w.off();
      this.watched.delete(mailbox);
    }
  }

  /** Mailbox actors subscribed to (tests, stats). */
  get subscriptions(): number {
    return this.watched.size;
  }

  /** Drops every subscription (the door closes). */
  close(): void {
    for (const w of this.watched.values()) w.off();
    this.watched.clear();
  }

  /** Connect: the response body and, on success, the new session. */
  connect(body: Uint8Array, user: UserRecord, sessionId: string): { body: Uint8Array; session: EmsmdbSession | null } {
    const q = pullConnectRequest(body);
    if (q.userDn.toLowerCase() !== user.legacyDn.toLowerCase()) {
      // MS-OXCRPC 3.1.4.1: the DN must be the authenticated user's.
      return { body: pushStatusResponseFailure(Ec.ecAccessDenied), session: null };
    }
    const session: EmsmdbSession = {
      id: sessionId,
      user,
      caller: { userId: user.id, address: user.address, legacyDn: user.legacyDn, displayName: user.displayName },
      logons: new Map(),
      mailboxes: new Set(),
      pendingNotify: [],
      waiters: new Set(),
      lost: false,
      codePage: q.defaultCodePage,
      droppedNotify: 0,
    };
    const prefix = user.legacyDn.replace(/\/cn=Recipients\/.*$/i, '');
    return {
      body: pushConnectResponse({ statusCode: 0, errorCode: 0, maxPollingInterval: 60_000, retryCount: 6, retryDelay: 10_000, dnPrefix: prefix, displayName: user.displayName }),
      session,
    };
  }

  async disconnect(body: Uint8Array, s: EmsmdbSession): Promise<Uint8Array> {
    pullDisconnectRequest(body);
    await this.end(s);
    return pushStatusResponse(0);
  }

  /** Ends a session (Disconnect, expiry): its objects in every mailbox actor go. */
  async end(s: EmsmdbSession): Promise<void> {
    s.lost = true;
    for (const w of s.waiters) w();
    s.waiters.clear();
    const boxes = [...s.mailboxes];
    for (const m of boxes) this.unwatch(s, m);
    s.mailboxes.clear();
    s.logons.clear();
    await Promise.allSettled(boxes.map((m) => this.deps.system.call(actorRef<MailboxProtocol>('mailbox', m), 'endSession', { session: s.id })));
  }

  /** NotificationWait: answers once an event is queued, the session ends, or the wait is over. */
  async notificationWait(body: Uint8Array, s: EmsmdbSession, waitMs = NOTIFICATION_WAIT_MS, aborted?: (fn: () => void) => void): Promise<Uint8Array> {
    pullNotificationWaitRequest(body);
    if (s.pendingNotify.length === 0 && !s.lost) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer);
          s.waiters.delete(wake);
          resolve();
        };
        const timer = setTimeout(wake, waitMs);
        s.waiters.add(wake);
        aborted?.(wake);
      });
    }
    if (s.lost) throw new SessionLost('the session ended');
    return pushNotificationWaitResponse({ statusCode: 0, errorCode: 0, eventPending: s.pendingNotify.length > 0 ? 1 : 0 });
  }

  /** Queues an encoded RopNotify response and wakes NotificationWait. */
  notify(s: EmsmdbSession, ropNotify: Uint8Array): void {
    // Bounded: a client that stopped fetching (but keeps its context alive) cannot grow memory.
    // Past the cap, newer notifications are dropped; its views show the change on next reload.
    if (s.pendingNotify.length >= MAX_PENDING_NOTIFY) {
      if (s.droppedNotify++ === 0) this.deps.log.warn({ session: s.id }, 'MAPI session notification queue full; dropping');
      return;
    }
    s.pendingNotify.push(ropNotify);
    for (const w of s.waiters) w();
  }

  async execute(body: Uint8Array, s: EmsmdbSession): Promise<Uint8Array> {
    const q = pullExecuteRequest(body);
    const chain = pullExtendedBuffers(q.ropBuffer);
    if (!chain.ok) throw new InvalidRequestBody(`RopBuffer: ${chain.error.detail}`);
    let usedXor = false;
    // The request's first header says whether the client obfuscates; answer the same way.
    if (q.ropBuffer.byteLength >= 4) usedXor = (new DataView(q.ropBuffer.buffer, q.ropBuffer.byteOffset).getUint16(2, true) & ExtFlags.XorMagic) !== 0;
    const maxOut = Math.max(MIN_ROP_OUT, q.maxRopOut);
    const out = new WireWriter();
    let room = maxOut;
    for (let i = 0; i < chain.payloads.length; i++) {
      const budget = Math.min(MAX_PAYLOAD, room - 8);
      const r = await this.processRopBuffer(chain.payloads[i]!, s, budget);
      if (r.errorCode !== 0) return pushExecuteResponse({ statusCode: 0, errorCode: r.errorCode, flags: 0, ropBuffer: new Uint8Array(0) });
      const compress = (q.flags & ExecuteFlags.NoCompression) === 0 && r.buffer.byteLength >= COMPRESS_FROM;
      const xor = usedXor && (q.flags & ExecuteFlags.NoXorMagic) === 0;
      pushExtendedBuffer(out, r.buffer, i === chain.payloads.length - 1, { compress, xor });
      room = maxOut - out.pos;
      if (room < 8 + 2) break;
    }
    return pushExecuteResponse({ statusCode: 0, errorCode: 0, flags: 0, ropBuffer: out.toBytes() });
  }

  /** One ROP request buffer → its response buffer (RopSize, responses, handle table). */
  private async processRopBuffer(payload: Uint8Array, s: EmsmdbSession, maxSize: number): Promise<{ errorCode: number; buffer: Uint8Array }> {
    const pulled = pullRopRequestBuffer(payload, () => ({ privateLogon: true }));
    if (pulled.reserved || (pulled.rops.length === 0 && pulled.error !== null)) return { errorCode: Ec.ecRpcFormat, buffer: new Uint8Array(0) };
    let handles = pulled.handles.slice();
    const w = new WireWriter();
    w.u16(0);
    const limit = maxSize - handles.length * 4;
    const rops = pulled.rops;
    let i = 0;
    let tooSmall: { at: number; needed: number } | null = null;
    /** Logons whose mailbox was too busy: each gets a RopBackoff (MS-OXCROPS 2.2.15.2). */
    const backoff = new Set<number>();
    while (i < rops.length) {
      const first = rops[i]!;
      const logonId = first.request.logonId;
      let j = i + 1;
      while (j < rops.length && rops[j]!.request.logonId === logonId && rops[j]!.request.ropId !== RopId.Logon) j++;
      let target: string | undefined;
      let access: LogonAccess = 'owner';
      if (first.request.ropId === RopId.Logon) {
        const t = this.logonTarget(first, s);
        if (typeof t === 'number') {
          // Answered here: the RopLogon failure response (RopId, OutputHandleIndex, ReturnValue).
          if (w.pos + 6 > limit) {
            tooSmall = { at: i, needed: 8 };
            break;
          }
          w.u8(RopId.Logon);
          w.u8(first.request.outputHandleIndex ?? 0);
          w.u32(t);
          i++;
          continue;
        }
        target = t.mailbox;
        access = t.access;
      } else {
        target = s.logons.get(logonId);
      }
      if (target === undefined) {
        // No such logon: every ROP of the run fails on its handle (RopRelease has no response).
        for (let k = i; k < j; k++) {
          const q = rops[k]!.request;
          if (q.ropId === RopId.Release) continue;
          if (w.pos + 6 > limit) {
            tooSmall = { at: k, needed: 8 };
            break;
          }
          w.u8(q.ropId);
          w.u8(q.ropId === RopId.Logon ? (q.outputHandleIndex ?? 0) : q.inputHandleIndex);
          w.u32(Ec.ecNullObject);
        }
        if (tooSmall !== null) break;
        i = j;
        continue;
      }
      const result = (await this.run(s, target, payload.subarray(first.start, rops[j - 1]!.end), handles, limit - w.pos - 3 - BACKOFF_SIZE, access)) ?? this.busy(rops.slice(i, j), handles);
      if (result.backoff === true) backoff.add(logonId);
      w.bytes(result.responses);
      handles = result.handles;
      for (const id of result.logonsOpened) s.logons.set(id, target);
      for (const sub of result.submissions ?? []) this.deps.submissions?.schedule(target, sub.mid, sub.due);
      // The owner's first logon since start picks up submissions left waiting (deferred, or a restart).
      if (result.logonsOpened.length > 0 && access === 'owner') void this.deps.submissions?.recover(target);
      for (const id of result.logonsReleased) if (s.logons.get(id) === target) s.logons.delete(id);
      if (![...s.logons.values()].includes(target) && s.mailboxes.delete(target)) this.unwatch(s, target);
      if (result.done < j - i) {
        tooSmall = { at: i + result.done, needed: result.tooBig + 2 };
        break;
      }
      i = j;
    }
    if (tooSmall !== null) {
      // RopBufferTooSmall (MS-OXCROPS 2.2.15.1): SizeNeeded, then the request bytes not processed.
      const rest = payload.subarray(rops[tooSmall.at]!.start, pulled.ropsList.byteLength + 2);
      w.u8(RopId.BufferTooSmall);
      w.u16(Math.min(0xffff, tooSmall.needed));
      w.bytes(rest);
    } else if (s.pendingNotify.length > 0) {
      this.appendNotifications(w, s, limit);
    }
    for (const logonId of backoff) {
      if (w.pos + BACKOFF_SIZE > limit) break;
      w.u8(RopId.Backoff);
      w.u8(logonId);
      w.u32(BACKOFF_MS);
      w.u8(0); // BackoffRopCount
      w.u16(0); // AdditionalDataSize
    }
    w.patchU16(0, w.pos);
    for (const h of handles) w.u32(h);
    return { errorCode: 0, buffer: w.toBytes() };
  }

  /** Queued RopNotify responses that fit; RopPending (MS-OXCROPS 2.2.14.3) when some stay queued. */
  private appendNotifications(w: WireWriter, s: EmsmdbSession, limit: number): void {
    const pendingSize = 3;
    while (s.pendingNotify.length > 0 && w.pos + s.pendingNotify[0]!.byteLength + pendingSize <= limit) w.bytes(s.pendingNotify.shift()!);
    if (s.pendingNotify.length > 0) {
      w.u8(RopId.Pending);
      w.u16(0); // SessionIndex: this session
    }
  }

  /** Where a RopLogon goes: the mailbox its ESSDN names, if the caller may open it. */
  private logonTarget(rop: PulledRop, s: EmsmdbSession): { mailbox: string; access: LogonAccess } | number {
    const q = rop.request as unknown as { logonFlags: number; essdn: string };
    if ((q.logonFlags & 0x01) === 0) return Ec.ecLoginFailure; // public folders: none here
    // Outlook logs on with the user's legacy DN, sometimes with the store's "/cn=Microsoft Private MDB" part.
    const dn = q.essdn.replace(/\/cn=Microsoft Private MDB$/i, '');
    const user = dn === '' ? s.user : this.deps.dir.userByLegacyDn(dn);
    if (user === undefined || !user.enabled) return Ec.ecUnknownUser;
    if (user.id === s.user.id) return { mailbox: user.address, access: 'owner' };
    if (this.deps.dir.hasFullAccess(s.user.id, user.id)) return { mailbox: user.address, access: 'delegate' };
    // Anyone else: the mailbox's folder permissions decide (ecLoginPerm when none grants anything).
    return { mailbox: user.address, access: 'acl' };
  }

  /** A run the mailbox could not take (its queue is full): every ROP answers ecServerBusy. */
  private busy(rops: readonly PulledRop[], handles: number[]): RopRunResult & { backoff: true } {
    const w = new WireWriter();
    for (const { request: q } of rops) {
      if (q.ropId === RopId.Release) continue;
      w.u8(q.ropId);
      w.u8(q.ropId === RopId.Logon ? (q.outputHandleIndex ?? 0) : q.inputHandleIndex);
      w.u32(Ec.ecServerBusy);
    }
    return { responses: w.toBytes(), done: rops.length, handles, logonsOpened: [], logonsReleased: [], tooBig: 0, backoff: true };
  }

  /** Runs ROPs in the mailbox actor; undefined when the mailbox is too busy (the caller backs off). */
  private async run(s: EmsmdbSession, mailbox: string, rops: Uint8Array, handles: number[], budget: number, access: LogonAccess): Promise<(RopRunResult & { backoff?: boolean }) | undefined> {
    const expectSession = s.mailboxes.has(mailbox);
    try {
      const r = await this.deps.system.call(actorRef<MailboxProtocol>('mailbox', mailbox), 'ropRun', {
        session: s.id,
        caller: s.caller,
        expectSession,
        rops,
        handles,
        budget: Math.max(0, budget),
        access,
      });
      if (r.logonsOpened.length > 0) {
        s.mailboxes.add(mailbox);
        this.watch(s, mailbox);
      }
      return r;
    } catch (err) {
      if (err instanceof ActorError && (err.code === 'SESSION_LOST' || (err.code === 'UNAVAILABLE' && expectSession))) {
        // The actor's objects of this session are gone (moved, passivated, worker restarted).
        s.lost = true;
        throw new SessionLost(err.detail);
      }
      if (err instanceof ActorError && err.retryable) return undefined;
      throw err;
    }
  }
}

function pushStatusResponseFailure(errorCode: number): Uint8Array {
  // Connect with StatusCode 0 and a non-zero ErrorCode (the EcDoConnectEx return value), no session.
  return pushConnectResponse({ statusCode: 0, errorCode, maxPollingInterval: 0, retryCount: 0, retryDelay: 0, dnPrefix: '', displayName: '' });
}
