/**
 * A POP3 session's maildrop (RFC 1939 §5): the Inbox as it was at login, numbered from 1.
 *
 * Consistency with IMAP and MAPI users of the same mailbox, without locking it (RFC 1939 asks
 * for an exclusive lock only "as necessary": here a snapshot makes it unnecessary):
 *  - messages that arrive after the snapshot are not shown until the next session;
 *  - a message another client removed meanwhile is found gone when the session next needs its
 *    bytes: RETR / TOP / LIST n answer -ERR saying so, and from then on it is left out of STAT,
 *    LIST and UIDL like a deleted one (numbers of the others do not change);
 *  - deletes are only marks until QUIT (UPDATE state); then they are applied together and what
 *    was already gone is reported, not failed.
 *
 * Sizes are learnt lazily (a session that only asks UIDL and RETRs new mail fetches nothing
 * else): from the door's size cache, else by fetching the message (SIZE_FETCH_PARALLEL at a time).
 *
 * Read-ahead: after RETR n the handler asks for the next messages to be fetched meanwhile, so
 * a client that downloads in order does not wait for the store on each message, and the calls
 * leave together (the runtime publishes a burst with one wake-up of the worker). Bounded in
 * count and bytes, and only used while fresh (READ_AHEAD_* in limits.ts).
 */
import type { MailboxAccess } from './mailbox-access.js';
import type { SizeCache } from './size-cache.js';
import { READ_AHEAD_MAX_AGE_MS, READ_AHEAD_MAX_BYTES, READ_AHEAD_MESSAGES, SIZE_FETCH_PARALLEL } from './limits.js';
import { isNotFound } from './errors.js';
import { uidlOf } from './uidl.js';
import { wireSize } from './message-bytes.js';

export interface DropMessage {
  /** 1-based message number. */
  readonly n: number;
  readonly mid: number;
  readonly cn: number;
  readonly uidl: string;
  /** Octets as sent (message-bytes.ts wireSize); -1 until known. */
  size: number;
  /** Marked by DELE in this session. */
  deleted: boolean;
  /** Found removed by another client. */
  gone: boolean;
}

export type Picked = { ok: true; msg: DropMessage } | { ok: false; why: 'no-such' | 'deleted' | 'gone' };

interface ReadAhead {
  msg: DropMessage;
  at: number;
  /** null when the fetch failed (the RETR then fetches again and reports the error itself). */
  bytes: Promise<Buffer | null>;
}

export class Maildrop {
  /** Messages read ahead, in message order. */
  private ahead: ReadAhead[] = [];

  private constructor(
    readonly box: MailboxAccess,
    private readonly sizes: SizeCache,
    readonly messages: readonly DropMessage[],
  ) {}

  static async open(box: MailboxAccess, sizes: SizeCache): Promise<Maildrop> {
    const snap = await box.snapshot();
    const messages = snap.map(
      (e, i): DropMessage => ({ n: i + 1, mid: e.mid, cn: e.cn, uidl: uidlOf(e.mid, box.replGuid), size: sizes.get(box.address, e.mid, e.cn) ?? -1, deleted: false, gone: false }),
    );
    return new Maildrop(box, sizes, messages);
  }

  /** Messages neither deleted in this session nor found gone. */
  live(): DropMessage[] {
    return this.messages.filter((m) => !m.deleted && !m.gone);
  }

  pick(n: number): Picked {
    const msg = this.messages[n - 1];
    if (msg === undefined) return { ok: false, why: 'no-such' };
    if (msg.deleted) return { ok: false, why: 'deleted' };
    if (msg.gone) return { ok: false, why: 'gone' };
    return { ok: true, msg };
  }

  /** The message's bytes; 'gone' when another client removed it (it is marked so). Other errors throw. */
  async fetch(msg: DropMessage): Promise<Buffer | 'gone'> {
    const i = this.ahead.findIndex((a) => a.msg === msg);
    if (i >= 0) {
      const a = this.ahead[i]!;
      // What the client skipped is dropped with it.
      this.ahead.splice(0, i + 1);
      if (Date.now() - a.at <= READ_AHEAD_MAX_AGE_MS) {
        const early = await a.bytes;
        if (early !== null) return this.learnt(msg, early);
      }
    }
    let bytes: Buffer;
    try {
      bytes = await this.box.fetch(msg.mid);
    } catch (e) {
      if (!isNotFound(e)) throw e;
      msg.gone = true;
      return 'gone';
    }
    return this.learnt(msg, bytes);
  }

  private learnt(msg: DropMessage, bytes: Buffer): Buffer {
    if (msg.size < 0) {
      msg.size = wireSize(bytes);
      this.sizes.set(this.box.address, msg.mid, msg.cn, msg.size);
    }
    return bytes;
  }

  /** Starts fetching the messages after `msg` (see Read-ahead above). */
  readAhead(msg: DropMessage): void {
    const now = Date.now();
    this.ahead = this.ahead.filter((a) => a.msg.n > msg.n && now - a.at <= READ_AHEAD_MAX_AGE_MS);
    let bytes = 0;
    for (const a of this.ahead) bytes += a.msg.size;
    let last = this.ahead.length > 0 ? this.ahead[this.ahead.length - 1]!.msg.n : msg.n;
    while (this.ahead.length < READ_AHEAD_MESSAGES) {
      const next = this.messages[last];
      // Only messages whose size is known (STAT / LIST / the cache), so the bound holds.
      if (next === undefined || next.size < 0 || bytes + next.size > READ_AHEAD_MAX_BYTES) return;
      last++;
      if (next.deleted || next.gone) continue;
      bytes += next.size;
      this.ahead.push({ msg: next, at: now, bytes: this.box.fetch(next.mid).catch(() => null) });
    }
  }

  /** Learns the sizes of the given messages (those found gone meanwhile are marked so). Other errors throw. */
  async learnSizes(msgs: readonly DropMessage[]): Promise<void> {
    const todo = msgs.filter((m) => m.size < 0 && !m.gone);
    let next = 0;
    const lane = async () => {
      while (next < todo.length) await this.fetch(todo[next++]!);
    };
    await Promise.all(Array.from({ length: Math.min(SIZE_FETCH_PARALLEL, todo.length) }, lane));
  }

  undelete(): void {
    for (const m of this.messages) m.deleted = false;
  }

  /** UPDATE state (RFC 1939 §6): removes the marked messages; counts those another client removed first. */
  async commit(): Promise<{ deleted: number; alreadyGone: number }> {
    const marked = this.messages.filter((m) => m.deleted);
    const mids = marked.filter((m) => !m.gone).map((m) => m.mid);
    const goneBefore = marked.length - mids.length;
    if (mids.length === 0) return { deleted: 0, alreadyGone: goneBefore };
    const r = await this.box.deleteMessages(mids);
    return { deleted: r.deleted.length, alreadyGone: goneBefore + r.missing.length };
  }
}
