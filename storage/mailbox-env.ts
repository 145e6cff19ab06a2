/**
 * One mailbox's LMDB environment: open/close, the named databases of schema.ts, snapshot reads,
 * and durable writes. A write is acknowledged only after its commit is flushed to disk: lmdb-js
 * resolves a write at commit, before the flush (overlappingSync, its default on Linux), so every
 * durable write also awaits `flushed`. Operations that must succeed or fail on their own (one per
 * ROP) run as child transactions of one parent transaction (group commit: one commit and one flush for
 * the writes that queue together).
 */
import { open, type Database, type Key, type RootDatabase } from 'lmdb';
import { mkdirSync } from 'node:fs';
import { KEYSPACES, MIGRATIONS, SCHEMA_KEY, SCHEMA_VERSION, type Keyspace, type Migration } from './schema.js';
import { actorError } from '../runtime/errors.js';

export type { Key };

export interface MailboxEnvOptions {
  /** Migrations to apply (tests pass their own); default: schema.ts's. */
  migrations?: readonly Migration[];
  /** Target schema version; default: SCHEMA_VERSION. */
  schemaVersion?: number;
  /** Map size hint in bytes (grows as needed). */
  mapSize?: number;
}

export type OpResult<T> = { ok: true; value: T } | { ok: false; error: unknown };

export class SchemaError extends Error {}

/**
 * Storage failures in their MAPI words: a full disk or map (ENOSPC, EDQUOT, MDB_MAP_FULL) and
 * I/O errors become ecDiskError with a plain message (doors map it: SMTP 452, IMAP NO, ...);
 * anything else passes through unchanged.
 */
export function storageError(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : '';
  if (code === 'ENOSPC' || code === 'EDQUOT' || /MDB_MAP_FULL|No space left|ENOSPC|Disk quota exceeded/i.test(msg)) {
    return actorError('ecDiskError', 'the mailbox partition is full; nothing was written', true);
  }
  if (code === 'EIO' || /Input\/output error|EIO\b/.test(msg)) return actorError('ecDiskError', `storage I/O error: ${msg || code}`, true);
  return err;
}

export class MailboxEnv {
  readonly root: RootDatabase<unknown, Key>;
  readonly db: Record<Keyspace, Database<unknown, Key>>;
  private flushHook: (root: RootDatabase) => Promise<unknown>;
  private closed = false;
  /** Writes waiting for the next group commit, and the drain loop running them. */
  private readonly queue: { fn: () => unknown; resolve: (v: { value: unknown; durable: Promise<unknown> }) => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | null = null;
  /** Group-commit transactions run, and the writes they carried (for stats and tests). */
  groupCommits = 0;
  groupedWrites = 0;

  private constructor(
    readonly path: string,
    opts: MailboxEnvOptions,
  ) {
    mkdirSync(path, { recursive: true, mode: 0o750 });
    // Deliberately no `cache` and no `useWritemap`: both disable child transactions.
    // noSubdir false: lmdb-js would otherwise take a path with a dot in its last part (alice.smith) for a file.
    this.root = open<unknown, Key>({ path, noSubdir: false, maxDbs: 16, mapSize: opts.mapSize, compression: false });
    const db = {} as Record<Keyspace, Database<unknown, Key>>;
    for (const [name, dbName] of Object.entries(KEYSPACES) as [Keyspace, string][]) {
      db[name] = this.root.openDB<unknown, Key>({ name: dbName, encoding: name === 'blobs' ? 'binary' : 'msgpack', compression: false });
    }
    this.db = db;
    this.flushHook = (root) => root.flushed;
  }

  /** Opens (creating if needed) and brings the schema up to date. */
  static async open(path: string, opts: MailboxEnvOptions = {}): Promise<MailboxEnv> {
    const env = new MailboxEnv(path, opts);
    try {
      await env.migrate(opts.migrations ?? MIGRATIONS, opts.schemaVersion ?? SCHEMA_VERSION);
    } catch (err) {
      await env.close();
      throw err;
    }
    return env;
  }

  private async migrate(migrations: readonly Migration[], target: number): Promise<void> {
    const meta = this.db.meta;
    const current = meta.get(SCHEMA_KEY) as number | undefined;
    if (current === undefined) {
      await this.write(() => void meta.putSync(SCHEMA_KEY, target));
      return;
    }
    if (current > target) throw new SchemaError(`${this.path}: schema version ${current} is newer than this server's ${target}; upgrade the server`);
    for (let v = current; v < target; v++) {
      const m = migrations.find((x) => x.from === v);
      if (m === undefined) throw new SchemaError(`${this.path}: no migration from schema version ${v}`);
      await this.write(() => {
        m.run(this.db);
        meta.putSync(SCHEMA_KEY, v + 1);
      });
    }
  }

  get schemaVersion(): number {
    return this.db.meta.get(SCHEMA_KEY) as number;
  }

  /** Replaces "wait for the flush" from now on (tests delay flushes with it). */
  setFlushHook(hook: (root: RootDatabase) => Promise<unknown>): void {
    this.flushHook = hook;
  }

  /** Waits until everything committed so far is on disk. */
  flushed(): Promise<unknown> {
    // lmdb-js's `flushed` is a thenable without catch/finally: make it a real promise.
    try {
      return Promise.resolve(this.flushHook(this.root));
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Runs `fn` in one write transaction and resolves with its result once the commit is flushed.
   * If `fn` throws, nothing of it is written and the promise rejects.
   */
  async write<T>(fn: () => T): Promise<T> {
    this.assertOpen();
    this.writeSeq++;
    // lmdb-js commits an async transaction's writes even when its callback throws (seen with
    // lmdb 3.5), so the work runs in a child transaction, which does roll back on a throw.
    let value: T;
    try {
      value = await this.root.transaction(() => {
        this.writing++;
        try {
          return this.root.childTransaction(fn) as unknown as T;
        } finally {
          this.writing--;
          this.writeSeq++;
        }
      });
      // Committed: what a read decoded while the commit was in flight is old now.
      this.writeSeq++;
      await this.flushed();
    } catch (err) {
      throw storageError(err);
    }
    return value;
  }

  /**
   * Group commit: queues `fn` for the next write transaction, which runs every queued write as
   * a child transaction of its own (a failing one rolls back alone), in order. Resolves once its
   * transaction committed, with `durable` for the flush. A single-writer actor can take its next
   * message at once; writes that queue up meanwhile share one commit and one flush (lmdb-js
   * takes about half a millisecond per transaction here, flushed or not).
   */
  enqueue<T>(fn: () => T): Promise<{ value: T; durable: Promise<unknown> }> {
    this.assertOpen();
    const p = new Promise<{ value: T; durable: Promise<unknown> }>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: { value: unknown; durable: Promise<unknown> }) => void, reject });
    });
    // Start on a microtask: writes enqueued in the same run (a ring batch of messages) share the first transaction too.
    this.draining ??= Promise.resolve().then(() => this.drain());
    return p;
  }

  /**
   * Bumped before and after every write op: a value derived from the store (a memo) is current
   * while this number is unchanged.
   */
  writeSeq = 0;

  /** Write ops running now (inside a write transaction): caches of decoded records stand aside. */
  writing = 0;

  /** True when no write is queued or committing (a read now sees every write made so far). */
  isIdle(): boolean {
    return this.draining === null && this.queue.length === 0;
  }

  /** Resolves once every queued write has committed (read-your-writes for reads after writes). */
  idle(): Promise<void> {
    return this.draining ?? Promise.resolve();
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        this.groupCommits++;
        this.groupedWrites += batch.length;
        let results: OpResult<unknown>[];
        try {
          results = await this.root.transaction(() =>
            batch.map((b): OpResult<unknown> => {
              this.writeSeq++;
              this.writing++;
              try {
                return { ok: true, value: this.root.childTransaction(b.fn) };
              } catch (error) {
                return { ok: false, error };
              } finally {
                this.writing--;
                this.writeSeq++;
              }
            }),
          );
        } catch (error) {
          this.writeSeq++;
          for (const b of batch) b.reject(storageError(error));
          continue;
        }
        // Committed: what a read decoded while the commit was in flight is old now.
        this.writeSeq++;
        const durable = this.flushed().catch((err: unknown) => {
          throw storageError(err);
        });
        durable.catch(() => undefined); // the waiters see the failure; never an unhandled rejection here
        batch.forEach((b, i) => {
          const r = results[i]!;
          if (r.ok) b.resolve({ value: r.value, durable });
          else b.reject(r.error);
        });
      }
    } finally {
      this.draining = null;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.idle();
    this.closed = true;
    await this.root.flushed;
    await this.root.close();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`mailbox environment ${this.path} is closed`);
  }
}
