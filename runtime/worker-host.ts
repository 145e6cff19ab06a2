/**
 * The entry of each actor worker thread: hosts many actors, one message at a time each
 * (read-only ops may interleave), activates them on first message and passivates them when
 * idle, by LRU above a cap, or when the main thread moves them to another worker.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Channel, isTransferMessage } from './channel.js';
import { FrameKind, decodeFramePayload, type DecodedFrame } from './frame.js';
import { ErrorCode, toErrorData, type ErrorData } from './errors.js';
import { ReplyWhen, splitActorKey, type Actor, type ActorContext, type ActorKind, type Protocol } from './actor.js';
import { makeLogger } from './logger.js';
import type { WorkerInit, WorkerStats, MainToWorker, WorkerToMain, PassivateReply } from './worker-protocol.js';
import type { Logger } from 'pino';

interface Envelope {
  /** 0 for a tell (no reply). */
  id: number;
  op: string;
  args: unknown;
  readOnly: boolean;
  /** A move's passivate barrier (from SYS frames). */
  sys: boolean;
}

type CellState = 'activating' | 'active' | 'passivating';

class Cell {
  readonly queue: Envelope[] = [];
  qHead = 0;
  running = 0;
  writing = false;
  pumping = false;
  state: CellState = 'activating';
  actor: Actor<Protocol> | null = null;
  lastUsed = 0;
  /** The per-key sequence of the last message received; tells main whether it sent more since. */
  lastSeq = 0;
  softWarned = false;
  constructor(
    readonly key: string,
    readonly kindName: string,
    readonly kind: ActorKind<Protocol> | undefined,
    readonly readOnly: ReadonlySet<string>,
    readonly ctx: ActorContext,
  ) {}
  queued(): number {
    return this.queue.length - this.qHead;
  }
  peek(): Envelope | undefined {
    return this.queue[this.qHead];
  }
  shift(): Envelope {
    const e = this.queue[this.qHead]!;
    this.queue[this.qHead++] = undefined as unknown as Envelope;
    if (this.qHead === this.queue.length) {
      this.queue.length = 0;
      this.qHead = 0;
    } else if (this.qHead > 256 && this.qHead * 2 > this.queue.length) {
      this.queue.splice(0, this.qHead);
      this.qHead = 0;
    }
    return e;
  }
}

function isPromise<T>(v: unknown): v is Promise<T> {
  return typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function';
}

class WorkerHost {
  private readonly cells = new Map<string, Cell>();
  private readonly kinds = new Map<string, { kind: ActorKind<Protocol>; readOnly: ReadonlySet<string> }>();
  private readonly channel: Channel;
  private readonly log: Logger;
  private processed = 0;
  private busyRejects = 0;
  private passivations = 0;
  private shuttingDown = false;
  private sweepTimer: NodeJS.Timeout | null = null;
  /** A coarse clock (ms) for idle tracking, advanced by the sweep timer: no clock read per message. */
  private clock = performance.now();
  /** The key most recently moved to the end of the LRU order (skip the re-insert for runs to one actor). */
  private lruTail = '';

  constructor(
    private readonly init: WorkerInit,
    private readonly port: NonNullable<typeof parentPort>,
  ) {
    this.log = makeLogger(init.logLevel).child({ worker: init.index });
    this.channel = new Channel({ out: init.fromWorker, in: init.toWorker, port, spinMicros: init.limits.spinMicros });
  }

  async start(): Promise<void> {
    for (const [name, url] of Object.entries(this.init.kinds)) {
      const mod: unknown = await import(url);
      const kind = (mod as { default?: ActorKind<Protocol> }).default;
      if (kind === undefined || typeof kind.create !== 'function') throw new Error(`actor module ${url} has no default ActorKind export`);
      this.kinds.set(name, { kind, readOnly: new Set(kind.readOnly ?? []) });
    }
    this.port.on('message', (m: unknown) => this.onPortMessage(m as MainToWorker));
    const sweepMs = Math.max(50, Math.min(1000, Math.floor(this.init.limits.idleMs / 4)));
    this.sweepTimer = setInterval(() => {
      this.clock = performance.now();
      this.sweepIdle();
    }, sweepMs);
    this.sweepTimer.unref();
    void this.channel.run((f, bufs) => this.onFrame(f, bufs));
    this.post({ t: 'ready' });
  }

  private post(m: WorkerToMain): void {
    this.port.postMessage(m);
  }

  private onPortMessage(m: MainToWorker): void {
    if (isTransferMessage(m)) {
      this.channel.acceptTransfer(m);
      return;
    }
    switch (m.t) {
      case 'stats':
        this.post({ t: 'stats', reqId: m.reqId, stats: this.stats() });
        return;
      case 'shutdown':
        void this.shutdown();
        return;
      case 'crash':
        // Test hook: die as a crash would, mid-whatever.
        process.exit(70);
    }
  }

  private stats(): WorkerStats {
    let queued = 0;
    let maxQueue = 0;
    let sessionActors = 0;
    for (const c of this.cells.values()) {
      const q = c.queued();
      queued += q;
      if (q > maxQueue) maxQueue = q;
      if (c.actor?.sessionsHeld !== undefined && c.actor.sessionsHeld().length > 0) sessionActors++;
    }
    return {
      index: this.init.index,
      activeActors: this.cells.size,
      sessionActors,
      queued,
      maxQueue,
      processed: this.processed,
      busyRejects: this.busyRejects,
      passivations: this.passivations,
      framesIn: this.channel.received,
      framesOut: this.channel.sent,
      eventLoopUtilization: performance.eventLoopUtilization().utilization,
    };
  }

  private onFrame(f: DecodedFrame, bufs: ArrayBuffer[] | undefined): void {
    let args: unknown;
    try {
      args = decodeFramePayload(f, bufs);
    } catch (err) {
      if (f.kind === FrameKind.CALL || f.kind === FrameKind.SYS) this.replyError(f.id, { code: ErrorCode.BAD_MESSAGE, detail: String(err), retryable: false });
      return;
    }
    if (f.kind === FrameKind.CALL || f.kind === FrameKind.TELL) {
      this.deliver(f.key, f.seq, { id: f.kind === FrameKind.CALL ? f.id : 0, op: f.op, args, readOnly: false, sys: false });
    } else if (f.kind === FrameKind.SYS && f.op === 'drain') {
      // First half of a move: messages keep flowing while sessions end, up to the drain timeout.
      void this.drain(f.key).then((remaining) => this.channel.send(FrameKind.REPLY, f.id, 0, '', '', { remaining }));
    } else if (f.kind === FrameKind.SYS && f.op === 'passivate') {
      // Second half: a barrier behind everything already accepted for this actor.
      const cell = this.cells.get(f.key);
      if (cell === undefined) {
        const reply: PassivateReply = { lostSessions: [] };
        this.channel.send(FrameKind.REPLY, f.id, 0, '', '', reply);
        return;
      }
      cell.queue.push({ id: f.id, op: 'passivate', args, readOnly: false, sys: true });
      this.pump(cell);
    }
  }

  /** Resolves with the sessions still held once none are, or when the drain timeout passes. */
  private async drain(key: string): Promise<number> {
    const deadline = performance.now() + this.init.limits.drainMs;
    for (;;) {
      const cell = this.cells.get(key);
      const held = cell === undefined ? 0 : this.sessions(cell).length;
      if (held === 0 || performance.now() >= deadline || this.shuttingDown) return held;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private deliver(key: string, seq: number, env: Envelope): void {
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = this.newCell(key);
      this.cells.set(key, cell);
      this.activate(cell);
      this.enforceCap();
    } else if (this.lruTail !== key) {
      // Keep the map in least-recently-used order: delete and re-insert moves the key to the end.
      this.cells.delete(key);
      this.cells.set(key, cell);
    }
    this.lruTail = key;
    cell.lastSeq = seq;
    cell.lastUsed = this.clock;
    const q = cell.queued();
    if (q >= this.init.limits.queueHard) {
      this.busyRejects++;
      if (env.id !== 0) this.replyError(env.id, { code: ErrorCode.BUSY, detail: `actor ${key} has ${q} queued messages`, retryable: true });
      else this.log.warn({ key, op: env.op }, 'tell dropped: actor queue at hard limit');
      return;
    }
    if (q >= this.init.limits.queueSoft && !cell.softWarned) {
      cell.softWarned = true;
      this.log.warn({ key, queued: q }, 'actor queue passed its soft limit');
    } else if (q === 0) {
      cell.softWarned = false;
    }
    env.readOnly = cell.readOnly.has(env.op);
    cell.queue.push(env);
    this.pump(cell);
  }

  private newCell(key: string): Cell {
    const { kind: kindName, id } = splitActorKey(key);
    const reg = this.kinds.get(kindName);
    const log = this.log;
    const channel = this.channel;
    const ctx: ActorContext = {
      kind: kindName,
      id,
      key,
      workerIndex: this.init.index,
      settings: this.init.settings,
      get log() {
        return log.child({ actor: key });
      },
      emit(topic: string, data: unknown) {
        channel.send(FrameKind.EVENT, 0, 0, key, topic, data);
      },
    };
    return new Cell(key, kindName, reg?.kind, reg?.readOnly ?? new Set(), ctx);
  }

  private activate(cell: Cell): void {
    cell.state = 'activating';
    if (cell.kind === undefined) {
      this.failAll(cell, { code: ErrorCode.NO_SUCH_ACTOR_KIND, detail: `no actor kind '${cell.kindName}'`, retryable: false });
      return;
    }
    let actor: Actor<Protocol>;
    try {
      actor = cell.kind.create(cell.ctx);
    } catch (err) {
      this.failAll(cell, toErrorData(err));
      return;
    }
    cell.actor = actor;
    const done = () => {
      cell.state = 'active';
      this.pump(cell);
    };
    const fail = (err: unknown) => {
      this.log.error({ key: cell.key, err }, 'actor activation failed');
      this.failAll(cell, toErrorData(err));
    };
    try {
      const r = actor.onActivate?.();
      if (isPromise(r)) r.then(done, fail);
      else queueMicrotask(done);
    } catch (err) {
      fail(err);
    }
  }

  /** Answers every queued message with `err` and forgets the cell (the next message retries). */
  private failAll(cell: Cell, err: ErrorData): void {
    // Deferred so the message that triggered activation is queued first.
    queueMicrotask(() => {
      while (cell.queued() > 0) {
        const e = cell.shift();
        if (e.id !== 0) this.replyError(e.id, err);
      }
      if (this.cells.get(cell.key) === cell) this.cells.delete(cell.key);
    });
  }

  private pump(cell: Cell): void {
    if (cell.pumping || cell.state !== 'active') return;
    cell.pumping = true;
    try {
      while (cell.queued() > 0) {
        const env = cell.peek()!;
        if (env.sys) {
          if (cell.running > 0) return;
          cell.shift();
          void this.passivateForMove(cell, env.id);
          return;
        }
        if (env.readOnly) {
          if (cell.writing) return;
        } else if (cell.running > 0) {
          return;
        }
        cell.shift();
        cell.running++;
        if (!env.readOnly) cell.writing = true;
        this.run(cell, env);
      }
    } finally {
      cell.pumping = false;
    }
  }

  /** Runs one message; completes synchronously when the handler does. */
  private run(cell: Cell, env: Envelope): void {
    const finish = () => {
      cell.running--;
      if (!env.readOnly) cell.writing = false;
      cell.lastUsed = this.clock;
      this.processed++;
    };
    const handler = (cell.actor!.handlers as Record<string, ((a: unknown) => unknown) | undefined>)[env.op];
    if (typeof handler !== 'function') {
      finish();
      if (env.id !== 0) this.replyError(env.id, { code: ErrorCode.NO_SUCH_OP, detail: `actor kind '${cell.kindName}' has no op '${env.op}'`, retryable: false });
      return;
    }
    let result: unknown;
    try {
      result = handler.call(cell.actor!.handlers, env.args);
    } catch (err) {
      finish();
      this.failed(cell, env, err);
      return;
    }
    if (isPromise(result)) {
      result.then(
        (v) => {
          finish();
          this.reply(env.id, v);
          this.pump(cell);
        },
        (err: unknown) => {
          finish();
          this.failed(cell, env, err);
          this.pump(cell);
        },
      );
      return;
    }
    finish();
    this.reply(env.id, result);
  }

  private reply(id: number, value: unknown): void {
    if (value instanceof ReplyWhen) {
      // The actor is free already; the reply leaves when its condition (a flush) is met.
      const r = value as ReplyWhen<unknown>;
      Promise.all([r.value, r.when]).then(
        ([v]) => this.reply(id, v),
        (err: unknown) => {
          const data = toErrorData(err);
          if (data.code === ErrorCode.INTERNAL) this.log.error({ err }, 'deferred reply failed');
          if (id !== 0) this.replyError(id, data);
        },
      );
      return;
    }
    if (id === 0) return;
    try {
      this.channel.send(FrameKind.REPLY, id, 0, '', '', value);
    } catch (err) {
      this.replyError(id, { code: ErrorCode.BAD_MESSAGE, detail: `result could not be sent: ${String(err)}`, retryable: false });
    }
  }

  private failed(cell: Cell, env: Envelope, err: unknown): void {
    const data = toErrorData(err);
    if (data.code === ErrorCode.INTERNAL) this.log.error({ key: cell.key, op: env.op, err }, 'actor op failed');
    if (env.id !== 0) this.replyError(env.id, data);
  }

  private replyError(id: number, err: ErrorData): void {
    this.channel.send(FrameKind.ERROR, id, 0, '', '', err);
  }

  private sessions(cell: Cell): readonly string[] {
    try {
      return cell.actor?.sessionsHeld?.() ?? [];
    } catch {
      return [];
    }
  }

  private eligibleForPassivation(cell: Cell): boolean {
    return cell.state === 'active' && cell.queued() === 0 && cell.running === 0 && this.sessions(cell).length === 0;
  }

  private sweepIdle(): void {
    const cutoff = this.clock - this.init.limits.idleMs;
    for (const cell of this.cells.values()) {
      if (cell.lastUsed > cutoff) break; // LRU order: the rest were used more recently
      if (this.eligibleForPassivation(cell)) void this.passivate(cell, 'idle');
    }
  }

  private enforceCap(): void {
    let excess = this.cells.size - this.init.limits.maxActiveActors;
    if (excess <= 0) return;
    for (const cell of this.cells.values()) {
      if (excess <= 0) break;
      if (this.eligibleForPassivation(cell)) {
        excess--;
        void this.passivate(cell, 'lru');
      }
    }
  }

  private async callPassivate(cell: Cell): Promise<void> {
    try {
      await cell.actor?.onPassivate?.();
    } catch (err) {
      this.log.error({ key: cell.key, err }, 'actor passivation failed');
    }
    cell.actor = null;
    this.passivations++;
  }

  /** Idle or LRU passivation. Messages that arrive meanwhile re-activate the actor after. */
  private async passivate(cell: Cell, why: 'idle' | 'lru'): Promise<void> {
    cell.state = 'passivating';
    await this.callPassivate(cell);
    if (cell.queued() > 0) {
      this.activate(cell);
      return;
    }
    this.cells.delete(cell.key);
    this.log.debug({ key: cell.key, why }, 'actor passivated');
    this.channel.send(FrameKind.SYS, 0, cell.lastSeq, cell.key, 'passivated', null);
  }

  /** A move's barrier: everything accepted before it has run; passivate now, reporting sessions that lose state. */
  private async passivateForMove(cell: Cell, id: number): Promise<void> {
    cell.state = 'passivating';
    const lost = [...this.sessions(cell)];
    await this.callPassivate(cell);
    if (cell.queued() > 0) this.activate(cell);
    else this.cells.delete(cell.key);
    const reply: PassivateReply = { lostSessions: lost };
    this.channel.send(FrameKind.REPLY, id, 0, '', '', reply);
  }

  private async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    // Let in-flight work finish (the main thread stopped sending), then passivate everything.
    const deadline = performance.now() + this.init.limits.drainMs;
    for (;;) {
      let busy = false;
      for (const c of this.cells.values()) if (c.running > 0 || c.queued() > 0 || c.state !== 'active') busy = true;
      if (!busy || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all([...this.cells.values()].map((c) => this.callPassivate(c)));
    this.cells.clear();
    this.post({ t: 'bye' });
    this.channel.stop();
    this.port.close();
  }
}

if (parentPort === null) throw new Error('worker-host must run in a worker thread');
const host = new WorkerHost(workerData as WorkerInit, parentPort);
await host.start();
