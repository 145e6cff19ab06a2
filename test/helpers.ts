/** Shared test helpers: temp folders, a quiet logger, a test actor system. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ActorSystem, type ActorSystemOptions } from '../runtime/actor-system.js';
import { ActorError } from '../runtime/errors.js';
import type { WorkerLimits } from '../runtime/worker-protocol.js';

export const quietLog = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function tempDir(prefix = 'stoa-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

export const TEST_ACTOR_URL = new URL('./fixtures/test-actor.js', import.meta.url).href;

export async function startTestSystem(workers: number, opts: Partial<ActorSystemOptions> & { limits?: Partial<WorkerLimits> } = {}): Promise<ActorSystem> {
  return ActorSystem.start({
    workers,
    kinds: { test: TEST_ACTOR_URL },
    log: quietLog,
    logLevel: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...opts,
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The ActorError code a call throws ('no error' when it returns). */
export function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'no error';
  } catch (err) {
    return err instanceof ActorError ? err.code : String(err);
  }
}

/** A deterministic PRNG (xorshift32) in [0, 1), so every fuzz case can be replayed from its seed. */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x100000000;
  };
}
