/**
 * The outbound queue's storage: mail waiting to leave for other domains (and the failure notices
 * the queue makes itself), in its own LMDB environment at <data>/queue, on the main thread like
 * the directory. A write resolves only once its commit is flushed to disk: an entry that
 * `add` acknowledged survives a crash.
 *
 * Group commit as in mailbox-env.ts: writes that arrive while a commit is in flight share the next
 * transaction and its flush, each in a child transaction of its own (an op that throws rolls back
 * alone). Measured here: ~80 sequential durable commits/s (one flush each), ~12k queued
 * 20 KiB entries/s when they share commits.
 *
 * Layout (lmdb-js ordered-binary keys, msgpack values):
 *   main db   ['m', 'schema']          → schema version
 *             ['e', id]                → QueueEntry (the envelope and per-recipient state)
 *             ['t', nextAttempt, id]   → 1: the due index, in time order
 *   blobs db  id                       → the raw message (binary; LMDB keeps large values on
 *                                        overflow pages, so a message of many MiB is one value)
 */
import { open, type Database, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { storageError } from './mailbox-env.js';

/** Bump with a migration whenever a layout above changes. */
export const QUEUE_SCHEMA_VERSION = 1;

/** An SMTP reply as the queue keeps it: code, enhanced status (RFC 3463), text. */
export interface QueueReply {
  code: number;
  status: string;
  text: string;
}

export type RecipientState = 'pending' | 'delivered' | 'failed';

/** DSN NOTIFY values (RFC 3461 4.1). */
export type NotifyValue = 'NEVER' | 'SUCCESS' | 'FAILURE' | 'DELAY';

export interface QueueRecipient {
  address: string;
  /** NOTIFY as given with RCPT (absent: the default, failures only). */
  notify?: NotifyValue[];
  /** ORCPT as given with RCPT ("rfc822;address"). */
  orcpt?: string;
  state: RecipientState;
  attempts: number;
  /** When it was last tried (ms), or null. */
  lastAttempt: number | null;
  /** The last reply: an error while pending or failed, the acceptance once delivered. */
  reply: QueueReply | null;
  /** The host that gave the reply ("dns; mx.example.org"), when remote. */
  remoteMta?: string;
  /** A "delayed" DSN went out for this recipient. */
  delayNotified?: boolean;
}

export interface QueueEntry {
  id: string;
  /** Envelope sender; "" for the null sender (notices the queue made: never bounced). */
  from: string;
  /** ENVID and RET (RFC 3461 4.3, 4.4). */
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  /** The authenticated sender's domain, when the message came through submission. */
  fromDomain?: string;
  recipients: QueueRecipient[];
  /** Bytes of the raw message. */
  size: number;
  created: number;
  /** Attempts made for the entry (each tries every pending recipient). */
  attempts: number;
  nextAttempt: number;
  /** After this, pending recipients fail as expired (4.4.7). */
  expires: number;
}

type Key = (string | number)[];

type Op = { put: QueueEntry; raw?: Buffer } | { remove: string };

export class QueueSchemaError extends Error {}

/** A new queue id: time-ordered (base36 milliseconds) plus 40 random bits. */
export function newQueueId(now = Date.now()): string {
  return now.toString(36).padStart(9, '0') + randomBytes(5).toString('hex');
}

export class OutboundQueueStore {
  private readonly blobs: Database<Buffer, string>;
  private readonly waiting: { fn: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | null = null;
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly db: RootDatabase<unknown, Key>,
  ) {
    this.blobs = db.openDB<Buffer, string>({ name: 'blobs', encoding: 'binary', compression: false });
  }

  /** Opens (creating if needed) the queue at `path` (<data>/queue). */
  static async open(path: string): Promise<OutboundQueueStore> {
    mkdirSync(path, { recursive: true, mode: 0o750 });
    // noSubdir false and no cache / useWritemap, as mailbox-env.ts (child transactions).
    const store = new OutboundQueueStore(path, open<unknown, Key>({ path, noSubdir: false, maxDbs: 4, compression: false }));
    const v = store.db.get(['m', 'schema']) as number | undefined;
    if (v === undefined) await store.write(() => void store.db.putSync(['m', 'schema'], QUEUE_SCHEMA_VERSION));
    else if (v > QUEUE_SCHEMA_VERSION) {
      await store.close();
      throw new QueueSchemaError(`${path}: queue schema version ${v} is newer than this server's ${QUEUE_SCHEMA_VERSION}; upgrade the server`);
    }
    return store;
  }

  // ---------------------------------------------------------------- reads

  get(id: string): QueueEntry | undefined {
    return this.db.get(['e', id]) as QueueEntry | undefined;
  }

  /** The raw message of an entry (a copy: safe to keep across reads). */
  raw(id: string): Buffer | undefined {
    const b = this.blobs.getBinary(id);
    return b === undefined ? undefined : Buffer.from(b);
  }

  /** Every entry, oldest first. */
  list(): QueueEntry[] {
    return [...this.db.getRange({ start: ['e', ''], end: ['e', '\uffff'] })].map((e) => e.value as QueueEntry);
  }

  get count(): number {
    return this.db.getKeysCount({ start: ['e', ''], end: ['e', '\uffff'] });
  }

  /** Ids of entries due at `now`, earliest first (at most `limit`). */
  due(now: number, limit: number): string[] {
    return [...this.dueIds(now, limit)];
  }

  /** The same, lazily: a caller that stops early reads no further keys. */
  *dueIds(now: number, limit: number): Generator<string> {
    for (const k of this.db.getKeys({ start: ['t', 0], end: ['t', now, '\uffff'], limit })) yield String((k as Key)[2]);
  }

  /** The earliest next attempt at or after `from`, or null when there is none. */
  nextDue(from = 0): number | null {
    for (const k of this.db.getKeys({ start: ['t', from], end: ['t', Number.MAX_SAFE_INTEGER], limit: 1 })) return (k as Key)[1] as number;
    return null;
  }

  // ---------------------------------------------------------------- writes (durable)

  /** Adds an entry with its message. */
  add(entry: QueueEntry, raw: Buffer): Promise<void> {
    return this.apply([{ put: entry, raw }]);
  }

  /** Replaces an entry's state (its message stays). */
  update(entry: QueueEntry): Promise<void> {
    return this.apply([{ put: entry }]);
  }

  /** Removes an entry and its message; false when there was none. */
  async remove(id: string): Promise<boolean> {
    return this.write(() => {
      const had = this.get(id);
      if (had === undefined) return false;
      this.removeSync(had);
      return true;
    });
  }

  /** Several puts and removals in one transaction (an entry done and the notice it causes). */
  apply(ops: readonly Op[]): Promise<void> {
    return this.write(() => {
      for (const op of ops) {
        if ('remove' in op) {
          const had = this.get(op.remove);
          if (had !== undefined) this.removeSync(had);
          continue;
        }
        const e = op.put;
        const had = this.get(e.id);
        if (had === undefined && op.raw === undefined) continue; // removed meanwhile (queue remove): stays removed
        if (had !== undefined) this.db.removeSync(['t', had.nextAttempt, had.id]);
        this.db.putSync(['e', e.id], e);
        this.db.putSync(['t', e.nextAttempt, e.id], 1);
        if (op.raw !== undefined) this.blobs.putSync(e.id, op.raw);
      }
    });
  }

  /** Makes every entry due at `now`; returns how many. */
  flushAll(now: number): Promise<number> {
    return this.write(() => {
      let n = 0;
      for (const e of this.list()) {
        this.db.removeSync(['t', e.nextAttempt, e.id]);
        e.nextAttempt = Math.min(e.nextAttempt, now);
        this.db.putSync(['e', e.id], e);
        this.db.putSync(['t', e.nextAttempt, e.id], 1);
        n++;
      }
      return n;
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await (this.draining ?? Promise.resolve());
    this.closed = true;
    await this.db.flushed;
    await this.db.close();
  }

  private removeSync(e: QueueEntry): void {
    this.db.removeSync(['t', e.nextAttempt, e.id]);
    this.db.removeSync(['e', e.id]);
    this.blobs.removeSync(e.id);
  }

  /** Queues `fn` for the next group commit; resolves with its value once flushed. */
  private write<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`outbound queue ${this.path} is closed`));
    const p = new Promise<T>((resolve, reject) => this.waiting.push({ fn, resolve: resolve as (v: unknown) => void, reject }));
    this.draining ??= Promise.resolve().then(() => this.drain());
    return p;
  }

  private async drain(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting.splice(0);
        let results: ({ ok: true; value: unknown } | { ok: false; error: unknown })[];
        try {
          results = await this.db.transaction(() =>
            batch.map((b) => {
              try {
                return { ok: true as const, value: this.db.childTransaction(b.fn) };
              } catch (error) {
                return { ok: false as const, error };
              }
            }),
          );
          await this.db.flushed;
        } catch (err) {
          for (const b of batch) b.reject(storageError(err));
          continue;
        }
        batch.forEach((b, i) => {
          const r = results[i]!;
          if (r.ok) b.resolve(r.value);
          else b.reject(r.error);
        });
      }
    } finally {
      this.draining = null;
    }
  }
}
