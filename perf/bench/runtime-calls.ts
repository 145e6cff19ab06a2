/**
 * Actor calls through the ring vs a raw postMessage round trip, in one run:
 *  - latency p50/p99 of tiny calls, open-loop at fixed offered rates;
 *  - pipelined throughput at saturation;
 *  - a 10 MiB payload to a worker and back (transfer vs structured-clone copy);
 *  - a CPU-bound op on 1 vs 2 workers.
 */
import { actorRef } from '../../runtime/actor.js';
import type { BenchProtocol } from './bench-actor.js';
import { RawPeer, openLoopPaired, saturate, startBenchSystem, type Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const sys = await startBenchSystem(1);
  const raw = new RawPeer();
  const ref = actorRef<BenchProtocol>('bench', 'a');
  const tiny = { x: 1 };
  const refs = [actorRef<BenchProtocol>('bench', 'p1'), actorRef<BenchProtocol>('bench', 'p2')];
  // Warm both paths up (JIT, worker start).
  for (let i = 0; i < 20_000; i++) await sys.call(ref, 'echo', tiny);
  for (let i = 0; i < 20_000; i++) await raw.call(tiny);

  for (const rate of [1000, 10_000]) {
    const { a, b } = await openLoopPaired(rate, SECONDS, () => sys.call(ref, 'echo', tiny), () => raw.call(tiny));
    for (const [q, name] of [
      [0.5, 'p50'],
      [0.99, 'p99'],
    ] as const) {
      const av = a.percentile(q);
      const rv = b.percentile(q);
      rows.push({
        bench: 'call latency',
        metric: `${name} at ${rate.toLocaleString('en-US')}/s open-loop`,
        value: av,
        unit: 'µs',
        baseline: { name: 'postMessage', value: rv },
        ratio: rv / av,
        note: 'paired sends; ratio = postMessage / ring (>1: ring faster)',
      });
    }
  }

  // Sequential round trip (closed loop, one at a time): the pure RTT.
  {
    const n = 30_000;
    let t = performance.now();
    for (let i = 0; i < n; i++) await sys.call(ref, 'echo', tiny);
    const ring = ((performance.now() - t) / n) * 1000;
    t = performance.now();
    for (let i = 0; i < n; i++) await raw.call(tiny);
    const pm = ((performance.now() - t) / n) * 1000;
    rows.push({ bench: 'call latency', metric: 'round trip, one at a time', value: ring, unit: 'µs', baseline: { name: 'postMessage', value: pm }, ratio: pm / ring });
  }

  const bytes16 = new Uint8Array(16);
  for (const [what, payload] of [
    ['object {x:1}', tiny],
    ['16 raw bytes', bytes16],
  ] as const) {
    for (const window of [64, 512]) {
      const pm = await saturate(window, SECONDS, () => raw.call(payload));
      const ring = await saturate(window, SECONDS, () => sys.call(refs[(Math.random() * refs.length) | 0]!, 'echo', payload));
      rows.push({
        bench: 'pipelined calls',
        metric: `${what}, ${window} outstanding`,
        value: ring,
        unit: 'calls/s',
        baseline: { name: 'postMessage', value: pm },
        ratio: ring / pm,
        note: 'target ≥ 2x',
      });
    }
  }

  {
    const size = 10 << 20;
    const reps = 20;
    let moved = true;
    let t = performance.now();
    for (let i = 0; i < reps; i++) {
      const data = new Uint8Array(size);
      const res = await sys.call(ref, 'bytes', { data });
      moved &&= data.byteLength === 0 && res.data.byteLength === size;
    }
    const ringMs = (performance.now() - t) / reps;
    t = performance.now();
    for (let i = 0; i < reps; i++) await raw.call(new Uint8Array(size));
    const copyMs = (performance.now() - t) / reps;
    rows.push({
      bench: '10 MiB payload',
      metric: 'to a worker and back',
      value: ringMs,
      unit: 'ms',
      baseline: { name: 'postMessage copy', value: copyMs },
      ratio: copyMs / ringMs,
      note: moved ? 'moved by transfer both ways (sender detached)' : 'NOT moved: copied',
    });
  }
  await raw.close();
  await sys.shutdown();

  // CPU-bound: 5 ms of work per call, many actors, 1 vs 2 workers.
  const cpu = async (workers: number) => {
    const s = await startBenchSystem(workers);
    const n = 16;
    const rate = await saturate(n, SECONDS, () => s.call(actorRef<BenchProtocol>('bench', `cpu-${Math.floor(Math.random() * 64)}`), 'spin', { ms: 5 }));
    await s.shutdown();
    return rate;
  };
  const one = await cpu(1);
  const two = await cpu(2);
  rows.push({ bench: 'CPU-bound op (5 ms)', metric: 'throughput on 2 workers', value: two, unit: 'ops/s', baseline: { name: '1 worker', value: one }, ratio: two / one, note: '2 cores; the main thread also needs one' });
  return rows;
}
