/**
 * Pieces the HTTPS comparisons share (perf/bench/https.ts, perf/bench/mapi.ts, perf/bench/mapi-send.ts): autocannon with
 * types, a server child that prints `READY <port>`, a process's CPU time from /proc, and
 * saturation of two servers in alternating slices (this box is shared and noisy: a burst of other
 * load falls on both sides alike).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

// ---------------------------------------------------------------- autocannon (no bundled types)

export interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  /** Bytes read from the server (heads and bodies). */
  throughput: { total: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Seconds. */
  duration: number;
}

/** The per-connection client autocannon hands to `setupClient`. */
export interface CannonClient {
  setRequests(requests: CannonRequest[]): void;
}

export interface CannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Called just before the request is written (its headers are a fresh copy); `context` is per connection and reset when the sequence starts over. */
  setupRequest?: (req: CannonRequest, context: Record<string, unknown>) => CannonRequest;
  /** `body` is the response body decoded as UTF-8; header names as the server sent them. */
  onResponse?: (status: number, body: string, context: Record<string, unknown>, headers: Record<string, string | string[]>) => void;
}

export type Cannon = (opts: Record<string, unknown>) => Promise<CannonResult>;
export const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

/** A closed-loop autocannon run; non-2xx answers, errors and timeouts are also written to stderr. */
export async function cannonRun(opts: Record<string, unknown>): Promise<CannonResult> {
  const r = await autocannon(opts);
  if (r.non2xx > 0 || r.errors > 0 || r.timeouts > 0) process.stderr.write(`  (warning: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts)\n`);
  return r;
}

// ---------------------------------------------------------------- server children

export interface Child {
  proc: ChildProcess;
  port: number;
}

/** Runs `script` under this Node with `env` added; resolves once it prints `READY <port>`. */
export function startChild(script: string, env: Record<string, string>, what: string): Promise<Child> {
  const proc = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /READY (\d+)/.exec(out);
      if (m !== null) resolve({ proc, port: Number(m[1]) });
    });
    proc.once('exit', (code) => reject(new Error(`bench ${what} server exited (${code})`)));
  });
}

// ---------------------------------------------------------------- CPU and saturation

/** USER_HZ: 100 on every Linux build Node supports. */
const CLOCK_TICKS = 100;

/** CPU time (user + system, every thread) a process has used so far, in microseconds; null where /proc is missing. */
export function cpuMicros(pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

export interface Saturation {
  /** Completed units (requests, or whatever `run` counts) per second. */
  rps: number;
  /** Server CPU per unit (µs), null without /proc. */
  cpuUs: number | null;
  /** The median of the slices' p50 latencies (ms). */
  p50: number;
}

/** One side of a comparison: the server's pid (for its CPU time) and a closed-loop run of the given length. */
export interface Side {
  pid: number;
  run(seconds: number): Promise<{ total: number; duration: number; p50: number }>;
}

/** A side whose closed-loop run is `load` (an autocannon run of the given seconds) against the process `pid`. */
export const cannonSide = (pid: number, load: (seconds: number) => Promise<CannonResult>): Side => ({
  pid,
  run: async (seconds) => {
    const r = await load(seconds);
    return { total: r.requests.total, duration: r.duration, p50: r.latency.p50 };
  },
});

/** Saturation of each side in alternating slices (`slices` rounds of seconds / slices each). */
export async function alternate(sides: readonly Side[], seconds: number, slices = 3): Promise<Saturation[]> {
  const acc = sides.map(() => ({ total: 0, seconds: 0, cpu: 0 as number | null, p50: [] as number[] }));
  for (let i = 0; i < slices; i++) {
    for (const [k, side] of sides.entries()) {
      const c0 = cpuMicros(side.pid);
      const r = await side.run(seconds / slices);
      const c1 = cpuMicros(side.pid);
      const x = acc[k]!;
      x.total += r.total;
      x.seconds += r.duration;
      x.cpu = c0 === null || c1 === null || x.cpu === null ? null : x.cpu + (c1 - c0);
      x.p50.push(r.p50);
    }
  }
  return acc.map((x) => ({
    rps: x.total / x.seconds,
    cpuUs: x.cpu === null || x.total === 0 ? null : x.cpu / x.total,
    p50: x.p50.sort((p, q) => p - q)[Math.floor(x.p50.length / 2)]!,
  }));
}

export const us = (v: number | null): string => (v === null ? 'n/a' : `${v.toFixed(0)} µs`);
