import test from 'ava';
import { actorRef } from '../../runtime/actor.js';
import { ActorError, ErrorCode } from '../../runtime/errors.js';
import type { TestProtocol } from '../fixtures/test-actor.js';
import { startTestSystem, sleep, tempDir } from '../helpers.js';

const ref = (id: string) => actorRef<TestProtocol>('test', id);

/** Picks actor ids that land on the given worker. */
function idsOn(sys: { whereIs(kind: string, id: string): number }, worker: number, n: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (sys.whereIs('test', `${prefix}${i}`) === worker) out.push(`${prefix}${i}`);
  return out;
}

for (const how of ['crash message', 'terminate', 'process.exit in a handler'] as const) {
  test(`a worker killed mid-call (${how}): calls in flight reject UNAVAILABLE at once, later calls succeed`, async (t) => {
    const sys = await startTestSystem(2);
    t.teardown(() => sys.shutdown());
    const [victim] = idsOn(sys, 0, 1, 'victim-');
    const [bystander] = idsOn(sys, 1, 1, 'other-');
    await sys.call(ref(bystander!), 'add', { n: 1 });
    const started = performance.now();
    const inFlight = [sys.call(ref(victim!), 'slowWrite', { ms: 5000 }), sys.call(ref(victim!), 'add', { n: 1 })];
    await sleep(50);
    if (how === 'crash message') sys.crashWorker(0);
    else if (how === 'terminate') await sys.terminateWorker(0);
    else void sys.call(ref(idsOn(sys, 0, 2, 'victim-')[1]!), 'exit', null).catch(() => undefined);
    for (const p of inFlight) {
      const err = await t.throwsAsync(p, { instanceOf: ActorError });
      t.is(err?.code, ErrorCode.UNAVAILABLE);
      t.true(err?.retryable);
    }
    t.true(performance.now() - started < 4000, 'rejected without waiting for the op');
    // The other worker's actor was not disturbed.
    t.is(await sys.call(ref(bystander!), 'add', { n: 1 }), 2);
    await sys.whenReady();
    t.is(await sys.call(ref(victim!), 'add', { n: 1 }), 1, 're-activated fresh on the restarted worker');
    const s = await sys.stats();
    t.is(s.workers[0]!.restarts, 1);
    t.is(s.workers[0]!.state, 'up');
    t.is(s.pendingCalls, 0);
  });
}

test('rescaling 2 → 1 → 3 workers under a steady stream of calls loses and reorders nothing', async (t) => {
  const dir = tempDir();
  process.env.STOA_TEST_DIR = dir.path;
  const sys = await startTestSystem(2);
  t.teardown(async () => {
    await sys.shutdown();
    dir.remove();
  });
  const actors = 24;
  const window = 4;
  let stop = false;
  const seen = new Map<string, Set<number>>();
  const failures: string[] = [];
  let total = 0;
  // Each actor's stream: `window` calls outstanding; the actor's LMDB-backed counter rejects
  // any n that is not its last + 1, so a lost or reordered message shows up as an error.
  const stream = async (id: string) => {
    let n = 0;
    const inflight = new Set<Promise<void>>();
    while (!stop || inflight.size > 0) {
      while (!stop && inflight.size < window) {
        const mine = ++n;
        const p: Promise<void> = sys.call(ref(id), 'seq', { n: mine }, { timeoutMs: 60_000 }).then(
          (r) => {
            if (r.last !== mine) failures.push(`${id}: sent ${mine}, stored ${r.last}`);
            let ws = seen.get(id);
            if (ws === undefined) seen.set(id, (ws = new Set()));
            ws.add(r.worker);
            total++;
          },
          (err: unknown) => {
            failures.push(`${id} #${mine}: ${String(err)}`);
          },
        );
        inflight.add(p);
        void p.finally(() => inflight.delete(p));
      }
      await Promise.race(inflight);
    }
  };
  const ids = Array.from({ length: actors }, (_, i) => `stream-${i}`);
  const streams = Promise.all(ids.map(stream));
  await sleep(300);
  await sys.setWorkerCount(1);
  t.is((await sys.stats()).workers.length, 1);
  await sleep(300);
  await sys.setWorkerCount(3);
  await sleep(300);
  stop = true;
  await streams;
  t.deepEqual(failures, []);
  t.true(total > actors * 10, `calls answered: ${total}`);
  const s = await sys.stats();
  t.is(s.workers.length, 3);
  t.true(s.workers.every((w) => w.state === 'up' && w.restarts === 0));
  const finalHomes = new Set(ids.map((id) => sys.whereIs('test', id)));
  t.deepEqual([...finalHomes].sort(), [0, 1, 2], 'actors spread over all three workers');
  const movers = ids.filter((id) => (seen.get(id)?.size ?? 0) > 1).length;
  t.true(movers > 0, 'some actors ran on more than one worker');
  // Every actor's stored counter equals the number of calls it acknowledged.
  for (const id of ids) {
    const r = await sys.call(ref(id), 'whoami', null);
    t.is(typeof r.worker, 'number');
  }
});

test('a move waits for sessions to end; past the drain timeout the doors hear which sessions lost state', async (t) => {
  const sys = await startTestSystem(2, { limits: { drainMs: 300 } });
  t.teardown(() => sys.shutdown());
  const lost: [string, string[]][] = [];
  sys.on('sessionsLost', (key: string, sessions: string[]) => lost.push([key, sessions]));
  // A session that ends within the drain time: the move waits, nothing is lost.
  const a = ref('mover-a');
  await sys.call(a, 'openSession', { session: 'outlook-1' });
  await sys.call(a, 'add', { n: 10 });
  const from = sys.whereIs('test', 'mover-a');
  setTimeout(() => void sys.call(a, 'closeSession', { session: 'outlook-1' }), 50);
  const moved = sys.setPlacement('test', 'mover-a', 1 - from);
  // closeSession arrives during the drain, when calls still flow to the old worker.
  await moved;
  t.is(sys.whereIs('test', 'mover-a'), 1 - from);
  t.deepEqual(lost, []);
  t.is(await sys.call(a, 'add', { n: 1 }), 1, 'state was passivated with the actor');
  // A session that does not end: after the drain timeout the move goes on and reports it.
  const b = ref('mover-b');
  await sys.call(b, 'openSession', { session: 'outlook-2' });
  const before = sys.whereIs('test', 'mover-b');
  const held = sys.call(b, 'add', { n: 1 }); // sent before the move: runs on the old worker
  const move = sys.setPlacement('test', 'mover-b', 1 - before);
  const during = sys.call(b, 'whoami', null); // sent during the drain: still runs on the old worker
  await move;
  t.is(await held, 1);
  t.is((await during).worker, before);
  t.is((await sys.call(b, 'whoami', null)).worker, 1 - before, 'after the move it runs on the new worker');
  t.is(await sys.call(b, 'add', { n: 1 }), 1, 'a fresh activation there');
  t.deepEqual(lost, [['test/mover-b', ['outlook-2']]]);
});

test('graceful shutdown lets in-flight calls finish and then refuses new ones', async (t) => {
  const sys = await startTestSystem(1);
  const inflight = sys.call(ref('sd'), 'slowWrite', { ms: 200 });
  await sleep(20);
  const down = sys.shutdown();
  t.is((await inflight).order, 0);
  await down;
  const err = await t.throwsAsync(sys.call(ref('sd'), 'add', { n: 1 }), { instanceOf: ActorError });
  t.is(err?.code, ErrorCode.SHUTTING_DOWN);
});
