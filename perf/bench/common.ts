/** Shared pieces of the benchmarks: result rows, an open-loop driver, a raw postMessage peer. */
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { Histogram } from '../../runtime/histogram.js';
import { ActorSystem } from '../../runtime/actor-system.js';

export interface Row {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  /** What `value` is compared with, measured in the same run. */
  baseline?: { name: string; value: number };
  /** value / baseline (or baseline / value for "lower is better", see `better`). */
  ratio?: number;
  note?: string;
}

export const BENCH_ACTOR_URL = new URL('./bench-actor.js', import.meta.url).href;
export const quiet = pino({ level: 'silent' });

export function startBenchSystem(workers: number, spinMicros?: number, mainSpinMicros?: number): Promise<ActorSystem> {
  return ActorSystem.start({
    workers,
    kinds: { bench: BENCH_ACTOR_URL },
    log: quiet,
    logLevel: 'silent',
    limits: spinMicros === undefined ? {} : { spinMicros },
    mainSpinMicros,
  });
}

/** A worker that echoes postMessage requests; `call` correlates replies by id. */
export class RawPeer {
  private readonly worker = new Worker(new URL('./echo-worker.js', import.meta.url));
  private readonly waiting = new Map<number, (v: unknown) => void>();
  private next = 1;
  constructor() {
    this.worker.on('message', (m: { id: number; payload: unknown }) => {
      const w = this.waiting.get(m.id);
      if (w !== undefined) {
        this.waiting.delete(m.id);
        w(m.payload);
      }
    });
  }
  call(payload: unknown, transfer?: ArrayBuffer): Promise<unknown> {
    const id = this.next++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      if (transfer !== undefined) this.worker.postMessage({ id, payload, transfer: true }, [transfer]);
      else this.worker.postMessage({ id, payload });
    });
  }
  close(): Promise<number> {
    return this.worker.terminate();
  }
}

/**
 * Open loop: sends at `rate` per second for `seconds` on a 1 ms schedule (each tick sends what
 * is due), whatever the replies do: a slow reply never delays later sends, so the percentiles
 * are not flattered (no coordinated omission). Each call's latency runs from its own send.
 * `lateMs` is the worst lateness of a send against its schedule (the driver's own jitter).
 */
export async function openLoop(rate: number, seconds: number, send: () => Promise<unknown>): Promise<{ hist: Histogram; sent: number; lateMs: number }> {
  const hist = new Histogram();
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  let maxLate = 0;
  const inflight: Promise<unknown>[] = [];
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - start) / 1000) * rate) + 1);
      while (sent < due) {
        maxLate = Math.max(maxLate, now - (start + (sent / rate) * 1000));
        const t0 = performance.now();
        inflight.push(send().then(() => hist.record((performance.now() - t0) * 1000)));
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  return { hist, sent, lateMs: maxLate };
}

/**
 * The same open loop for two systems at once: every scheduled slot sends one call to each,
 * alternating which goes first, so the machine's noise (this box is shared) falls on both alike.
 */
export async function openLoopPaired(
  rate: number,
  seconds: number,
  sendA: () => Promise<unknown>,
  sendB: () => Promise<unknown>,
): Promise<{ a: Histogram; b: Histogram }> {
  const a = new Histogram();
  const b = new Histogram();
  const total = Math.round(rate * seconds);
  const start = performance.now();
  let sent = 0;
  const inflight: Promise<unknown>[] = [];
  const fire = (send: () => Promise<unknown>, h: Histogram) => {
    const t0 = performance.now();
    inflight.push(send().then(() => h.record((performance.now() - t0) * 1000)));
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
      while (sent < due) {
        if ((sent & 1) === 0) {
          fire(sendA, a);
          fire(sendB, b);
        } else {
          fire(sendB, b);
          fire(sendA, a);
        }
        sent++;
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  await Promise.all(inflight);
  return { a, b };
}

/** Keeps `window` calls outstanding for `seconds`; returns completions per second. */
export async function saturate(window: number, seconds: number, send: () => Promise<unknown>): Promise<number> {
  let done = 0;
  let stop = false;
  const start = performance.now();
  const lane = async () => {
    while (!stop) {
      await send();
      done++;
    }
  };
  const lanes = Array.from({ length: window }, lane);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  await Promise.all(lanes);
  return done / ((performance.now() - start) / 1000);
}

export const fmt = (n: number, digits = 1): string => (Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits));
