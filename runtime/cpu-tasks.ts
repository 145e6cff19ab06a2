/**
 * Stateless CPU jobs that may run in the piscina pool or inline. Each is a named export taking
 * one plain-data argument; converters (MIME, iCalendar) add theirs here. Keep them pure: they
 * run on whichever thread is free.
 */
import { createHash } from 'node:crypto';

export interface Sha256Input {
  data: Uint8Array;
  /** Rounds of hashing (a knob for the benchmarks; 1 for real use). */
  rounds?: number;
}

export function sha256({ data, rounds = 1 }: Sha256Input): string {
  let digest = createHash('sha256').update(data).digest();
  for (let i = 1; i < rounds; i++) digest = createHash('sha256').update(digest).update(data).digest();
  return digest.toString('hex');
}

export const cpuTasks = { sha256 } as const;
export type CpuTaskName = keyof typeof cpuTasks;
export type CpuTaskInput<N extends CpuTaskName> = Parameters<(typeof cpuTasks)[N]>[0];
export type CpuTaskOutput<N extends CpuTaskName> = ReturnType<(typeof cpuTasks)[N]>;
