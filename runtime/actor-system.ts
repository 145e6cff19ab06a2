/**
 * The main thread's side of the actor runtime: worker threads, the router, supervision,
 * live rescaling and the control plane. Doors call actors only through `call` / `tell`.
 *
 * Routing invariant: an actor is active on at most one worker. The router remembers, per key,
 * the worker it last sent to (`routes`) and keeps sending there (sticky), so a key changes worker
 * only through a move: a drain (calls still flow while the actor's sessions end), then the
 * cut-over: new calls are held, a passivate barrier goes down the old worker's ring behind
 * everything already sent, and when the old worker confirms the actor is passivated the held
 * calls go, in order, to the new worker. No accepted message is lost or reordered.
 */
import { Worker } from 'node:worker_threads';
import { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import type { Logger } from 'pino';
import { Channel, isTransferMessage } from './channel.js';
import { FrameKind, decodeFramePayload, type DecodedFrame } from './frame.js';
import { Ring } from './ring.js';
import { ActorError, ErrorCode, actorError, isErrorData, type ErrorData } from './errors.js';
import { actorKey, type ActorRef, type Protocol } from './actor.js';
import { Placement } from './placement.js';
import { Histogram } from './histogram.js';
import type { ActorSettings, MainToWorker, PassivateReply, WorkerInit, WorkerLimits, WorkerStats, WorkerToMain } from './worker-protocol.js';

export interface ActorSystemOptions {
  /** Worker threads; default max(1, cores − 1): the main thread runs every socket and all TLS. */
  workers?: number;
  /** Actor kind name → module URL (default export: ActorKind). */
  kinds: Record<string, string>;
  log: Logger;
  logLevel?: string;
  /** Default per-call timeout (ms). */
  callTimeoutMs?: number;
  /** Bytes in each ring's data area (power of two). */
  ringBytes?: number;
  limits?: Partial<WorkerLimits>;
  /** Settings actor kinds read in the workers. */
  settings?: ActorSettings;
  /** Spin of the main thread's receive loops on an empty ring before parking (µs). */
  mainSpinMicros?: number;
}

export interface CallOptions {
  timeoutMs?: number;
}

export interface WorkerReport extends WorkerStats {
  state: 'up' | 'down';
  restarts: number;
  /** Calls answered (replies and errors) since the worker slot started. */
  callsAnswered: number;
  /** Calls answered per second since the previous stats() call. */
  callsPerSec: number;
  /** Round trip as seen by the router, µs. */
  p50us: number;
  p99us: number;
  inFlight: number;
  backlog: number;
}

export interface SystemStats {
  workers: WorkerReport[];
  routes: number;
  moving: number;
  overrides: { key: string; worker: number }[];
  pendingCalls: number;
}

interface PendingCall {
  resolve: (v: unknown) => void;
  reject: (e: ActorError) => void;
  /** Absolute deadline (performance.now() ms); Infinity for none. */
  deadline: number;
  /** What timed out, for the error message (built only if it does). */
  key: string;
  op: string;
  timeoutMs: number;
  /** Worker the call was written to; -1 while held by a move. */
  worker: number;
  /** Send time for the latency histogram; 0 when this call is not sampled. */
  start: number;
}

/** Deadlines are checked by one timer on this granularity instead of a timer per call (ms). */
const DEADLINE_TICK_MS = 25;
/** One call in this many has its round trip recorded (the histogram needs a sample, not all). */
const LATENCY_SAMPLE_EVERY = 8;

interface Held {
  kind: FrameKind;
  id: number;
  op: string;
  args: unknown;
}

interface Route {
  worker: number;
  seq: number;
  /** True from the start of a move (drain) to its end. */
  moving: boolean;
  /** Non-null during a move's cut-over: messages held until the old worker has passivated it. */
  held: Held[] | null;
}

interface Slot {
  index: number;
  worker: Worker;
  channel: Channel;
  state: 'up' | 'down';
  expectedExit: boolean;
  ready: Promise<void>;
  exited: Promise<number>;
  inFlight: number;
  restarts: number;
  recentRestarts: number[];
  latency: Histogram;
  answered: number;
  answeredAtLastStats: number;
  lastStatsAt: number;
  statsWaiters: Map<number, (s: WorkerStats) => void>;
}

export const DEFAULT_LIMITS: WorkerLimits = {
  idleMs: 5 * 60_000,
  maxActiveActors: 2000,
  queueSoft: 1000,
  queueHard: 10_000,
  drainMs: 60_000,
  // Measured (perf/bench/runtime-calls.ts, 2 cores): a spinning worker competes with the main
  // thread for a core and raised open-loop latency; the main thread's spin (after it has served
  // pending I/O) cuts the closed-loop round trip several-fold.
  spinMicros: 0,
};

export const DEFAULT_MAIN_SPIN_US = 50;

export function defaultWorkerCount(): number {
  return Math.max(1, availableParallelism() - 1);
}

const RESTART_WINDOW_MS = 10_000;
const RESTARTS_BEFORE_BACKOFF = 3;

export class ActorSystem extends EventEmitter {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, PendingCall>();
  private readonly routes = new Map<string, Route>();
  private readonly subscribers = new Map<string, Set<(topic: string, data: unknown) => void>>();
  private readonly placement: Placement;
  private readonly limits: WorkerLimits;
  private readonly log: Logger;
  private readonly callTimeoutMs: number;
  private readonly ringBytes: number;
  private nextId = 1;
  /** Deadline buckets: tick number → ids due then (lazily skipped when already answered). */
  private readonly deadlines = new Map<number, number[]>();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private lastTick = 0;
  private clockNow = 0;
  private closing = false;
  private rescaling: Promise<void> = Promise.resolve();
  private statsReq = 1;

  private constructor(private readonly opts: ActorSystemOptions) {
    super();
    const n = opts.workers ?? defaultWorkerCount();
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`workers must be a positive integer, got ${n}`);
    this.placement = new Placement(n);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.log = opts.log.child({ component: 'actors' });
    this.callTimeoutMs = opts.callTimeoutMs ?? 30_000;
    this.ringBytes = opts.ringBytes ?? 1 << 20;
  }

  static async start(opts: ActorSystemOptions): Promise<ActorSystem> {
    const sys = new ActorSystem(opts);
    for (let i = 0; i < sys.placement.workers; i++) sys.slots.push(sys.spawn(i, 0));
    await Promise.all(sys.slots.map((s) => s.ready));
    sys.log.info({ workers: sys.slots.length }, 'actor workers started');
    return sys;
  }

  get workerCount(): number {
    return this.placement.workers;
  }

  // ---------------------------------------------------------------- calls

  /** Calls an op on an actor; resolves with its result or rejects with an ActorError. */
  call<P extends Protocol, O extends keyof P & string>(
    ref: ActorRef<P>,
    op: O,
    args: P[O]['args'],
    options?: CallOptions,
  ): Promise<P[O]['result']> {
    if (this.closing) return Promise.reject(actorError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down'));
    const id = this.newId();
    const timeoutMs = options?.timeoutMs ?? this.callTimeoutMs;
    return new Promise<P[O]['result']>((resolve, reject) => {
      const pc: PendingCall = {
        resolve: resolve as (v: unknown) => void,
        reject,
        deadline: Infinity,
        key: ref.key,
        op,
        timeoutMs,
        worker: -1,
        start: (id & (LATENCY_SAMPLE_EVERY - 1)) === 0 ? performance.now() : 0,
      };
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        pc.deadline = this.coarseNow() + timeoutMs;
        this.addDeadline(id, pc.deadline);
      }
      this.pending.set(id, pc);
      this.dispatch(ref.key, FrameKind.CALL, id, op, args);
    });
  }

  /**
   * The clock deadlines are set by: read once per tick while the deadline timer runs, so calls do
   * not each read the clock. Deadlines are therefore up to one tick late, never early.
   */
  private coarseNow(): number {
    if (this.deadlineTimer === null) this.clockNow = performance.now();
    return this.clockNow + DEADLINE_TICK_MS;
  }

  private addDeadline(id: number, deadline: number): void {
    const tick = Math.ceil(deadline / DEADLINE_TICK_MS);
    let ids = this.deadlines.get(tick);
    if (ids === undefined) this.deadlines.set(tick, (ids = []));
    ids.push(id);
    if (this.deadlineTimer === null) {
      this.lastTick = Math.floor(performance.now() / DEADLINE_TICK_MS);
      this.deadlineTimer = setInterval(() => this.expire(), DEADLINE_TICK_MS);
      this.deadlineTimer.unref();
    }
  }

  /** Rejects calls past their deadline with TIMEOUT (a late reply is then ignored). */
  private expire(): void {
    const now = performance.now();
    this.clockNow = now;
    const tickNow = Math.floor(now / DEADLINE_TICK_MS);
    for (let tick = this.lastTick; tick <= tickNow; tick++) {
      const ids = this.deadlines.get(tick);
      if (ids === undefined) continue;
      this.deadlines.delete(tick);
      for (const id of ids) {
        const pc = this.pending.get(id);
        if (pc !== undefined && pc.deadline <= now) {
          this.fail(id, { code: ErrorCode.TIMEOUT, detail: `${pc.key} ${pc.op}: no reply in ${pc.timeoutMs} ms`, retryable: true });
        }
        else if (pc !== undefined && Number.isFinite(pc.deadline)) this.addDeadline(id, pc.deadline);
      }
    }
    this.lastTick = tickNow + 1;
    if (this.deadlines.size === 0 && this.deadlineTimer !== null) {
      clearInterval(this.deadlineTimer);
      this.deadlineTimer = null;
    }
  }

  /** Sends a one-way message. Errors are logged by the worker. */
  tell<P extends Protocol, O extends keyof P & string>(ref: ActorRef<P>, op: O, args: P[O]['args']): void {
    if (this.closing) throw actorError(ErrorCode.SHUTTING_DOWN, 'the server is shutting down');
    this.dispatch(ref.key, FrameKind.TELL, 0, op, args);
  }

  /** Listens to an actor's events; returns the unsubscribe function. */
  subscribe<P extends Protocol>(ref: ActorRef<P>, listener: (topic: string, data: unknown) => void): () => void {
    const key = ref.key;
    let set = this.subscribers.get(key);
    if (set === undefined) this.subscribers.set(key, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0 && this.subscribers.get(key) === set) this.subscribers.delete(key);
    };
  }

  private newId(): number {
    const id = this.nextId;
    this.nextId = this.nextId >= 0xfffffffe ? 1 : this.nextId + 1;
    return id;
  }

  private release(pc: PendingCall): void {
    if (pc.worker >= 0) {
      const slot = this.slots[pc.worker];
      if (slot !== undefined) slot.inFlight--;
    }
  }

  private dispatch(key: string, kind: FrameKind, id: number, op: string, args: unknown): void {
    let route = this.routes.get(key);
    if (route === undefined) {
      route = { worker: this.placement.place(key), seq: 0, moving: false, held: null };
      this.routes.set(key, route);
    }
    if (route.held !== null) {
      route.held.push({ kind, id, op, args });
      return;
    }
    this.send(route, key, kind, id, op, args);
  }

  private send(route: Route, key: string, kind: FrameKind, id: number, op: string, args: unknown): void {
    const slot = this.slots[route.worker]!;
    const pc = id !== 0 ? this.pending.get(id) : undefined;
    if (slot.state !== 'up') {
      if (pc !== undefined) this.fail(id, { code: ErrorCode.UNAVAILABLE, detail: `worker ${slot.index} is restarting`, retryable: true });
      return;
    }
    route.seq = (route.seq + 1) >>> 0;
    if (pc !== undefined) {
      pc.worker = slot.index;
      slot.inFlight++;
    }
    try {
      slot.channel.send(kind, id, route.seq, key, op, args);
    } catch (err) {
      if (pc !== undefined) this.fail(id, { code: ErrorCode.BAD_MESSAGE, detail: `arguments could not be sent: ${String(err)}`, retryable: false });
      else this.log.warn({ key, op, err }, 'tell could not be sent');
    }
  }

  private fail(id: number, err: ErrorData): void {
    const pc = this.pending.get(id);
    if (pc === undefined) return;
    this.pending.delete(id);
    this.release(pc);
    pc.reject(new ActorError(err));
  }

  // ---------------------------------------------------------------- frames from workers

  private onFrame(slot: Slot, f: DecodedFrame, bufs: ArrayBuffer[] | undefined): void {
    switch (f.kind) {
      case FrameKind.REPLY:
      case FrameKind.ERROR: {
        const pc = this.pending.get(f.id);
        if (pc === undefined) return; // timed out already
        this.pending.delete(f.id);
        this.release(pc);
        slot.answered++;
        if (pc.start !== 0) slot.latency.record((performance.now() - pc.start) * 1000);
        let value: unknown;
        try {
          value = decodeFramePayload(f, bufs);
        } catch (err) {
          pc.reject(actorError(ErrorCode.BAD_MESSAGE, `reply could not be decoded: ${String(err)}`));
          return;
        }
        if (f.kind === FrameKind.REPLY) pc.resolve(value);
        else pc.reject(new ActorError(isErrorData(value) ? value : { code: ErrorCode.INTERNAL, detail: 'malformed error', retryable: false }));
        return;
      }
      case FrameKind.EVENT: {
        let data: unknown;
        try {
          data = decodeFramePayload(f, bufs);
        } catch {
          return;
        }
        const subs = this.subscribers.get(f.key);
        if (subs !== undefined) {
          for (const fn of subs) {
            try {
              fn(f.op, data);
            } catch (err) {
              this.log.error({ err, key: f.key }, 'event subscriber threw');
            }
          }
        }
        this.emit('event', f.key, f.op, data);
        return;
      }
      case FrameKind.SYS:
        if (f.op === 'passivated') {
          // Forget the route only if nothing was sent to that key after the worker passivated it.
          const r = this.routes.get(f.key);
          if (r !== undefined && !r.moving && r.worker === slot.index && r.seq === f.seq) this.routes.delete(f.key);
        }
        return;
      default:
        this.log.warn({ kind: f.kind }, 'unexpected frame from worker');
    }
  }

  // ---------------------------------------------------------------- workers and supervision

  private spawn(index: number, restarts: number): Slot {
    const toWorker = Ring.allocate(this.ringBytes);
    const fromWorker = Ring.allocate(this.ringBytes);
    const init: WorkerInit = {
      index,
      toWorker,
      fromWorker,
      kinds: this.opts.kinds,
      limits: this.limits,
      logLevel: this.opts.logLevel ?? this.log.level,
      settings: this.opts.settings ?? { partitions: [] },
    };
    const worker = new Worker(new URL('./worker-host.js', import.meta.url), { workerData: init });
    const channel = new Channel({ out: toWorker, in: fromWorker, port: worker, spinMicros: this.opts.mainSpinMicros ?? DEFAULT_MAIN_SPIN_US, spinForReply: true });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const ready = new Promise<void>((res, rej) => {
      readyResolve = res;
      readyReject = rej;
    });
    let exitResolve!: (code: number) => void;
    const exited = new Promise<number>((res) => (exitResolve = res));
    const slot: Slot = {
      index,
      worker,
      channel,
      state: 'up',
      expectedExit: false,
      ready,
      exited,
      inFlight: 0,
      restarts,
      recentRestarts: [],
      latency: new Histogram(),
      answered: 0,
      answeredAtLastStats: 0,
      lastStatsAt: performance.now(),
      statsWaiters: new Map(),
    };
    worker.on('message', (m: WorkerToMain) => {
      if (isTransferMessage(m)) channel.acceptTransfer(m);
      else if (m.t === 'ready') readyResolve();
      else if (m.t === 'stats') {
        const w = slot.statsWaiters.get(m.reqId);
        if (w !== undefined) {
          slot.statsWaiters.delete(m.reqId);
          w(m.stats);
        }
      }
    });
    worker.on('error', (err) => {
      this.log.error({ worker: index, err }, 'worker error');
      readyReject(err);
    });
    worker.on('exit', (code) => {
      exitResolve(code);
      this.onExit(slot, code);
    });
    void channel.run((f, bufs) => this.onFrame(slot, f, bufs));
    return slot;
  }

  private onExit(slot: Slot, code: number): void {
    slot.channel.stop();
    slot.state = 'down';
    for (const w of slot.statsWaiters.values()) w(emptyStats(slot.index));
    slot.statsWaiters.clear();
    // Calls in flight on that worker fail now, retryably; their actors re-activate on next use.
    for (const [id, pc] of this.pending) {
      if (pc.worker === slot.index) this.fail(id, { code: ErrorCode.UNAVAILABLE, detail: `worker ${slot.index} stopped`, retryable: true });
    }
    if (slot.expectedExit) return;
    this.log.error({ worker: slot.index, code }, 'worker died; restarting it');
    for (const [key, r] of this.routes) if (r.worker === slot.index && !r.moving) this.routes.delete(key);
    this.emit('workerExit', slot.index, code);
    if (this.closing || this.slots[slot.index] !== slot) return;
    const now = performance.now();
    const recent = slot.recentRestarts.filter((t) => now - t < RESTART_WINDOW_MS);
    recent.push(now);
    const delay = recent.length > RESTARTS_BEFORE_BACKOFF ? Math.min(30_000, 250 * 2 ** (recent.length - RESTARTS_BEFORE_BACKOFF)) : 0;
    const restart = () => {
      if (this.closing || this.slots[slot.index] !== slot) return;
      const next = this.spawn(slot.index, slot.restarts + 1);
      next.recentRestarts = recent;
      this.slots[slot.index] = next;
      next.ready.then(
        () => this.log.info({ worker: slot.index, restarts: next.restarts }, 'worker restarted'),
        () => undefined,
      );
    };
    if (delay === 0) restart();
    else setTimeout(restart, delay).unref();
  }

  /** Test and operator hook: kill a worker as a crash would (it is restarted). */
  crashWorker(index: number): void {
    const slot = this.slots[index];
    if (slot === undefined) throw new RangeError(`no worker ${index}`);
    const m: MainToWorker = { t: 'crash' };
    slot.worker.postMessage(m);
  }

  /** Terminates a worker from outside (as `kill` would); it is restarted. */
  async terminateWorker(index: number): Promise<void> {
    const slot = this.slots[index];
    if (slot === undefined) throw new RangeError(`no worker ${index}`);
    await slot.worker.terminate();
  }

  /** Resolves when every worker slot is up and ready (after restarts). */
  async whenReady(): Promise<void> {
    for (;;) {
      const slots = [...this.slots];
      await Promise.allSettled(slots.map((s) => s.ready));
      if (slots.every((s, i) => this.slots[i] === s && s.state === 'up')) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  // ---------------------------------------------------------------- moves and rescaling

  /**
   * Moves one key to where placement now puts it. First a drain: calls keep flowing to the old
   * worker while the actor's sessions end (up to the drain timeout). Then the cut-over: new calls
   * are held, a passivate barrier follows everything already sent, and once the old worker has
   * passivated the actor the held calls go, in order, to the new worker.
   */
  private async move(key: string, route: Route): Promise<void> {
    route.moving = true;
    const from = route.worker;
    try {
      await this.sysCall(route, key, 'drain', this.limits.drainMs + 10_000);
    } catch (err) {
      this.log.warn({ key, err }, 'move: drain failed');
    }
    route.held = [];
    let lost: string[] = [];
    try {
      const reply = (await this.sysCall(route, key, 'passivate', 60_000)) as PassivateReply;
      lost = reply.lostSessions;
    } catch (err) {
      // The old worker died: its actor is gone anyway.
      this.log.warn({ key, err }, 'move: old worker did not confirm passivation');
    }
    const held = route.held;
    route.held = null;
    route.moving = false;
    if (this.routes.get(key) === route) this.routes.delete(key);
    for (const h of held) {
      if (h.id !== 0 && !this.pending.has(h.id)) continue; // timed out while held
      this.dispatch(key, h.kind, h.id, h.op, h.args);
    }
    const to = this.routes.get(key)?.worker ?? this.placement.place(key);
    this.log.debug({ key, from, to }, 'actor moved');
    if (lost.length > 0) {
      this.log.warn({ key, sessions: lost }, 'sessions lost their state in a move');
      this.emit('sessionsLost', key, lost);
    }
  }

  private sysCall(route: Route, key: string, op: string, timeoutMs: number): Promise<unknown> {
    const id = this.newId();
    const slot = this.slots[route.worker]!;
    return new Promise((resolve, reject) => {
      if (slot.state !== 'up') {
        reject(actorError(ErrorCode.UNAVAILABLE, 'worker down'));
        return;
      }
      const pc: PendingCall = { resolve, reject, deadline: this.coarseNow() + timeoutMs, key, op, timeoutMs, worker: slot.index, start: 0 };
      this.addDeadline(id, pc.deadline);
      this.pending.set(id, pc);
      slot.inFlight++;
      route.seq = (route.seq + 1) >>> 0;
      slot.channel.send(FrameKind.SYS, id, route.seq, key, op, null);
    });
  }

  /**
   * Changes the number of workers at run time. Actors whose placement changes are drained,
   * passivated and re-activated on their new worker; nothing accepted is lost or reordered.
   */
  setWorkerCount(n: number): Promise<void> {
    if (!Number.isInteger(n) || n < 1 || n > 256) return Promise.reject(new RangeError(`workers must be an integer from 1 to 256, got ${n}`));
    const run = async () => {
      const old = this.slots.length;
      if (n === old) return;
      this.log.info({ from: old, to: n }, 'rescaling workers');
      for (let i = old; i < n; i++) this.slots.push(this.spawn(i, 0));
      await Promise.all(this.slots.slice(old).map((s) => s.ready));
      this.placement.workers = n;
      await this.rebalance();
      if (n < old) {
        const retiring = this.slots.slice(n);
        await Promise.all(retiring.map((s) => this.retire(s)));
        this.slots.length = n;
      }
      this.log.info({ workers: n }, 'rescaled');
    };
    this.rescaling = this.rescaling.then(run, run);
    return this.rescaling;
  }

  /**
   * Runs `fn` while an actor is passivated and held: calls to it wait until `fn` is done (for a
   * mailbox restore, which replaces the actor's files). Everything sent before runs first.
   */
  async withPassivated<T>(kind: string, id: string, fn: () => Promise<T>): Promise<T> {
    const key = actorKey(kind, id);
    let route = this.routes.get(key);
    if (route === undefined) {
      route = { worker: this.placement.place(key), seq: 0, moving: false, held: null };
      this.routes.set(key, route);
    }
    if (route.moving) throw actorError(ErrorCode.BUSY, `${key} is being moved; try again`);
    route.moving = true;
    route.held = [];
    try {
      const reply = (await this.sysCall(route, key, 'passivate', 60_000)) as PassivateReply;
      if (reply.lostSessions.length > 0) this.emit('sessionsLost', key, reply.lostSessions);
      return await fn();
    } finally {
      const held = route.held ?? [];
      route.held = null;
      route.moving = false;
      if (this.routes.get(key) === route) this.routes.delete(key);
      for (const h of held) {
        if (h.id !== 0 && !this.pending.has(h.id)) continue;
        this.dispatch(key, h.kind, h.id, h.op, h.args);
      }
    }
  }

  /** Pins an actor to a worker (or unpins it with null), moving it if it is active elsewhere. */
  async setPlacement(kind: string, id: string, worker: number | null): Promise<void> {
    if (worker !== null && (!Number.isInteger(worker) || worker < 0 || worker >= this.placement.workers)) {
      throw new RangeError(`worker must be from 0 to ${this.placement.workers - 1}`);
    }
    this.placement.setOverride(actorKey(kind, id), worker);
    await this.rebalance();
  }

  private async rebalance(): Promise<void> {
    const moves: Promise<void>[] = [];
    for (const [key, route] of this.routes) {
      if (!route.moving && this.placement.place(key) !== route.worker) moves.push(this.move(key, route));
    }
    await Promise.all(moves);
  }

  private async retire(slot: Slot): Promise<void> {
    const deadline = performance.now() + this.limits.drainMs;
    while (slot.inFlight > 0 && slot.state === 'up' && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await this.stopSlot(slot);
  }

  private async stopSlot(slot: Slot): Promise<void> {
    slot.expectedExit = true;
    if (slot.state === 'up') {
      const m: MainToWorker = { t: 'shutdown' };
      slot.worker.postMessage(m);
      const timer = setTimeout(() => void slot.worker.terminate(), this.limits.drainMs + 5_000);
      await slot.exited;
      clearTimeout(timer);
    }
  }

  // ---------------------------------------------------------------- control plane

  async stats(): Promise<SystemStats> {
    const reports = await Promise.all(
      this.slots.map(async (slot): Promise<WorkerReport> => {
        const ws = await this.workerStats(slot);
        const now = performance.now();
        const secs = (now - slot.lastStatsAt) / 1000;
        const rate = secs > 0 ? (slot.answered - slot.answeredAtLastStats) / secs : 0;
        slot.answeredAtLastStats = slot.answered;
        slot.lastStatsAt = now;
        return {
          ...ws,
          state: slot.state,
          restarts: slot.restarts,
          callsAnswered: slot.answered,
          callsPerSec: Math.round(rate),
          p50us: Math.round(slot.latency.percentile(0.5)),
          p99us: Math.round(slot.latency.percentile(0.99)),
          inFlight: slot.inFlight,
          backlog: slot.channel.backlog(),
        };
      }),
    );
    let moving = 0;
    for (const r of this.routes.values()) if (r.moving) moving++;
    return { workers: reports, routes: this.routes.size, moving, overrides: this.placement.overridesList(), pendingCalls: this.pending.size };
  }

  /** Which worker an actor is (or would be) on. */
  whereIs(kind: string, id: string): number {
    const key = actorKey(kind, id);
    return this.routes.get(key)?.worker ?? this.placement.place(key);
  }

  private workerStats(slot: Slot): Promise<WorkerStats> {
    if (slot.state !== 'up') return Promise.resolve(emptyStats(slot.index));
    const reqId = this.statsReq++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        slot.statsWaiters.delete(reqId);
        resolve(emptyStats(slot.index));
      }, 2000);
      slot.statsWaiters.set(reqId, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      const m: MainToWorker = { t: 'stats', reqId };
      slot.worker.postMessage(m);
    });
  }

  /** Stops accepting calls, lets in-flight ones finish (up to the drain timeout), passivates every actor and stops the workers. */
  async shutdown(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.rescaling.catch(() => undefined);
    const deadline = performance.now() + this.limits.drainMs;
    while (this.pending.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    for (const id of [...this.pending.keys()]) this.fail(id, { code: ErrorCode.SHUTTING_DOWN, detail: 'the server shut down', retryable: true });
    await Promise.all(this.slots.map((s) => this.stopSlot(s)));
    if (this.deadlineTimer !== null) clearInterval(this.deadlineTimer);
    this.deadlineTimer = null;
    this.deadlines.clear();
    this.log.info('actor workers stopped');
  }
}

function emptyStats(index: number): WorkerStats {
  return {
    index,
    activeActors: 0,
    sessionActors: 0,
    queued: 0,
    maxQueue: 0,
    processed: 0,
    busyRejects: 0,
    passivations: 0,
    framesIn: 0,
    framesOut: 0,
    eventLoopUtilization: 0,
  };
}
