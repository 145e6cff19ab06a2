/**
 * When does the piscina hop pay? SHA-256 of buffers of growing size, inline on the calling
 * thread vs in the pool (input moved by transfer). Reports per-job latency and, more to the
 * point for a door, how long the calling thread is blocked per job.
 */
import { CpuPool } from '../../runtime/cpu-pool.js';
import type { Row } from './common.js';

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const pool = new CpuPool({ threads: 1, minBytes: 0 });
  for (let i = 0; i < 200; i++) await pool.run('sha256', { data: new Uint8Array(1024) }, { route: 'pool' });
  for (const size of [4 << 10, 64 << 10, 256 << 10, 1 << 20, 8 << 20]) {
    const jobs = Math.max(10, Math.min(2000, Math.floor((64 << 20) / size)));
    const inputs = Array.from({ length: jobs }, () => new Uint8Array(size).fill(1));
    let t = performance.now();
    for (const data of inputs.slice(0, jobs / 2)) await pool.run('sha256', { data }, { route: 'inline' });
    const inlineMs = (performance.now() - t) / (jobs / 2);
    // Pool: latency per job, and the event loop's busy share while jobs run (blocked time).
    const elu0 = performance.eventLoopUtilization();
    t = performance.now();
    for (const data of inputs.slice(jobs / 2)) await pool.run('sha256', { data }, { route: 'pool', transfer: [data.buffer] });
    const poolMs = (performance.now() - t) / (jobs / 2);
    const elu = performance.eventLoopUtilization(elu0);
    const blockedPoolMs = (elu.active / (jobs / 2));
    rows.push({
      bench: 'cpu pool (sha256)',
      metric: `${size >= 1 << 20 ? `${size >> 20} MiB` : `${size >> 10} KiB`}: calling thread blocked per job`,
      value: blockedPoolMs,
      unit: 'ms',
      baseline: { name: 'inline', value: inlineMs },
      ratio: inlineMs / blockedPoolMs,
      note: `pool latency ${poolMs.toFixed(3)} ms vs inline ${inlineMs.toFixed(3)} ms`,
    });
  }
  await pool.close();
  return rows;
}
