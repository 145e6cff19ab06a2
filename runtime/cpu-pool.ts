/**
 * A pool for stateless CPU work (piscina), separate from the actor workers. Jobs smaller than
 * `minBytes` run inline: below that the hop (≈ tens of µs, see perf/bench/cpu-pool.ts) costs
 * more than it saves. Input buffers move to the pool thread by transfer (the caller loses them).
 */
import { Piscina } from 'piscina';
import { cpuTasks, type CpuTaskInput, type CpuTaskName, type CpuTaskOutput } from './cpu-tasks.js';

export interface CpuPoolOptions {
  threads: number;
  /** Jobs with fewer input bytes run inline on the calling thread. */
  minBytes: number;
}

export interface CpuRunOptions {
  /** Input size used to choose inline vs pool; default: the size of the transfer list. */
  bytes?: number;
  /** Buffers to move to the pool thread. */
  transfer?: ArrayBuffer[];
  /** Force a route (benchmarks and tests). */
  route?: 'inline' | 'pool';
}

export class CpuPool {
  private readonly pool: Piscina;
  readonly threads: number;
  readonly minBytes: number;
  inlineRuns = 0;
  pooledRuns = 0;
  private closed = false;

  constructor(opts: CpuPoolOptions) {
    this.threads = opts.threads;
    this.minBytes = opts.minBytes;
    this.pool = new Piscina({
      filename: new URL('./cpu-tasks.js', import.meta.url).href,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: 60_000,
    });
  }

  async run<N extends CpuTaskName>(task: N, input: CpuTaskInput<N>, options: CpuRunOptions = {}): Promise<CpuTaskOutput<N>> {
    const transfer = options.transfer ?? [];
    const bytes = options.bytes ?? transfer.reduce((n, b) => n + b.byteLength, 0);
    if (this.closed) throw new Error('the CPU pool is closed');
    const route = options.route ?? (bytes < this.minBytes ? 'inline' : 'pool');
    if (route === 'inline') {
      this.inlineRuns++;
      const fn = cpuTasks[task] as (i: CpuTaskInput<N>) => CpuTaskOutput<N>;
      return fn(input);
    }
    this.pooledRuns++;
    return (await this.pool.run(input, { name: task, transferList: transfer })) as CpuTaskOutput<N>;
  }

  stats(): { threads: number; queued: number; completed: number; inlineRuns: number; pooledRuns: number; utilization: number } {
    return {
      threads: this.threads,
      queued: this.pool.queueSize,
      completed: this.pool.completed,
      inlineRuns: this.inlineRuns,
      pooledRuns: this.pooledRuns,
      utilization: this.pool.utilization,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.destroy();
  }
}
