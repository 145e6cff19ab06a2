import test from 'ava';
import { actorRef } from '../../runtime/actor.js';
import { ActorError, ErrorCode } from '../../runtime/errors.js';
import type { TestProtocol } from '../fixtures/test-actor.js';
import { startTestSystem, sleep } from '../helpers.js';

const ref = (id: string) => actorRef<TestProtocol>('test', id);

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (err) {
    return err instanceof ActorError ? err.code : `not an ActorError: ${String(err)}`;
  }
}

test('calls return results of every plain-data shape', async (t) => {
  const sys = await startTestSystem(2);
  t.teardown(() => sys.shutdown());
  const values: unknown[] = [null, 0, -1.5, 2 ** 40, 'ascii', 'ünïcødé ✉', true, [1, 'two', [3]], { a: { b: [null, false] } }, new Date(0)];
  for (const v of values) t.deepEqual(await sys.call(ref('shapes'), 'echo', v), v);
  const small = await sys.call(ref('shapes'), 'echo', { data: Buffer.from('hello') });
  t.deepEqual(Buffer.from((small as { data: Uint8Array }).data).toString(), 'hello');
  const raw = await sys.call(ref('shapes'), 'echo', new Uint8Array([1, 2, 3]));
  t.true(Buffer.isBuffer(raw), 'a Uint8Array payload travels raw and arrives as a Buffer');
  t.deepEqual([...(raw as Buffer)], [1, 2, 3]);
  t.deepEqual([...((await sys.call(ref('shapes'), 'echo', new Uint8Array(0))) as Buffer)], []);
  t.is(await sys.call(ref('sum'), 'add', { n: 2 }), 2);
  t.is(await sys.call(ref('sum'), 'add', { n: 3 }), 5);
});

test('domain errors keep their code; bugs, unknown ops and kinds get runtime codes', async (t) => {
  const sys = await startTestSystem(1);
  t.teardown(() => sys.shutdown());
  const err = await t.throwsAsync(sys.call(ref('e'), 'fail', { code: 'ecNotFound', detail: 'no such folder' }), { instanceOf: ActorError });
  t.is(err?.code, 'ecNotFound');
  t.is(err?.detail, 'no such folder');
  t.false(err?.retryable);
  t.is(await codeOf(sys.call(ref('e'), 'throwBug', null)), ErrorCode.INTERNAL);
  t.is(await codeOf(sys.call(ref('e'), 'nope' as 'echo', null)), ErrorCode.NO_SUCH_OP);
  t.is(await codeOf(sys.call(actorRef<TestProtocol>('ghost', 'x'), 'echo', 1)), ErrorCode.NO_SUCH_ACTOR_KIND);
  // The actor still works after all that.
  t.is(await sys.call(ref('e'), 'echo', 'alive'), 'alive');
});

test('a call that outlives its deadline rejects with TIMEOUT; the actor keeps working', async (t) => {
  const sys = await startTestSystem(1);
  t.teardown(() => sys.shutdown());
  const err = await t.throwsAsync(sys.call(ref('slow'), 'slowWrite', { ms: 3000 }, { timeoutMs: 200 }), { instanceOf: ActorError });
  t.is(err?.code, ErrorCode.TIMEOUT);
  t.true(err?.retryable);
  t.deepEqual(await sys.call(ref('slow'), 'add', { n: 1 }), 1);
});

test('messages to one actor run in the order sent, even pipelined across many actors', async (t) => {
  const sys = await startTestSystem(2);
  t.teardown(() => sys.shutdown());
  const actors = 50;
  const per = 200;
  const calls: Promise<number>[][] = Array.from({ length: actors }, () => []);
  for (let i = 0; i < per; i++) for (let a = 0; a < actors; a++) calls[a]!.push(sys.call(ref(`order-${a}`), 'add', { n: 1 }));
  for (let a = 0; a < actors; a++) {
    const results = await Promise.all(calls[a]!);
    t.deepEqual(results, Array.from({ length: per }, (_, i) => i + 1), `actor ${a}`);
  }
});

test('read-only ops interleave with each other, never with a write', async (t) => {
  const sys = await startTestSystem(1);
  t.teardown(() => sys.shutdown());
  const a = ref('rw');
  const reads = await Promise.all([1, 2, 3, 4].map(() => sys.call(a, 'slowRead', { ms: 60 })));
  t.is(Math.max(...reads.map((r) => r.concurrent)), 4, 'four reads ran at once');
  const mixed = await Promise.all([
    sys.call(a, 'slowRead', { ms: 40 }),
    sys.call(a, 'slowRead', { ms: 40 }),
    sys.call(a, 'slowWrite', { ms: 40 }),
    sys.call(a, 'slowRead', { ms: 40 }),
    sys.call(a, 'slowWrite', { ms: 40 }),
  ]);
  t.is(mixed[0]!.concurrent, 2);
  t.is(mixed[1]!.concurrent, 2);
  t.is(mixed[2]!.concurrent, 1, 'a write runs alone');
  t.is(mixed[3]!.concurrent, 1, 'a read queued behind a write does not overtake it');
  t.is(mixed[4]!.concurrent, 1);
  t.deepEqual(
    mixed.map((m) => m.order),
    [4, 5, 6, 7, 8],
    'started in arrival order',
  );
});

test('a full actor queue answers BUSY (retryable) at the hard limit and recovers', async (t) => {
  const sys = await startTestSystem(1, { limits: { queueHard: 5, queueSoft: 2 } });
  t.teardown(() => sys.shutdown());
  const a = ref('busy');
  const results = await Promise.allSettled(Array.from({ length: 20 }, () => sys.call(a, 'slowWrite', { ms: 20 })));
  const ok = results.filter((r) => r.status === 'fulfilled').length;
  const busy = results.filter((r) => r.status === 'rejected' && r.reason instanceof ActorError && r.reason.code === ErrorCode.BUSY && r.reason.retryable).length;
  t.is(ok + busy, 20);
  t.true(busy >= 10, `busy: ${busy}`);
  t.true(ok >= 5 && ok <= 7, `accepted: ${ok}`);
  t.truthy(await sys.call(a, 'slowWrite', { ms: 1 }));
  const stats = await sys.stats();
  t.is(stats.workers[0]!.busyRejects, busy);
});

test('events from actors reach subscribers on the main thread', async (t) => {
  const sys = await startTestSystem(2);
  t.teardown(() => sys.shutdown());
  const got: [string, unknown][] = [];
  const all: string[] = [];
  sys.on('event', (key: string, topic: string) => all.push(`${key}:${topic}`));
  const off = sys.subscribe(ref('ev'), (topic, data) => got.push([topic, data]));
  await sys.call(ref('ev'), 'emit', { topic: 'newMail', data: { folder: 'Inbox', uid: 7 } });
  await sys.call(ref('other'), 'emit', { topic: 'newMail', data: 1 });
  await sleep(20);
  t.deepEqual(got, [['newMail', { folder: 'Inbox', uid: 7 }]]);
  t.deepEqual(all.sort(), ['test/ev:newMail', 'test/other:newMail']);
  off();
  await sys.call(ref('ev'), 'emit', { topic: 'x', data: null });
  await sleep(20);
  t.is(got.length, 1, 'no events after unsubscribe');
});

test('a 10 MiB payload moves to the worker and back by transfer, not copy', async (t) => {
  const sys = await startTestSystem(1);
  t.teardown(() => sys.shutdown());
  const big = new Uint8Array(10 << 20);
  for (let i = 0; i < big.length; i += 4096) big[i] = i % 251;
  let want = 0;
  for (let i = 0; i < big.length; i += 4096) want += big[i]!;
  const res = await sys.call(ref('big'), 'bytes', { data: big });
  t.is(big.byteLength, 0, "the sender's buffer was detached: it moved");
  t.is(res.length, 10 << 20);
  t.is(res.sum, want);
  t.is(res.data.byteLength, 10 << 20);
  t.is(res.data.buffer.byteLength, 10 << 20, 'the reply wraps the transferred ArrayBuffer itself');
  // Order holds across the ring and the transfer channel: small calls before and after a big one.
  const seq: Promise<number>[] = [];
  for (let i = 0; i < 30; i++) {
    if (i % 10 === 5) void sys.call(ref('mix'), 'bytes', { data: new Uint8Array(1 << 20) });
    seq.push(sys.call(ref('mix'), 'add', { n: 1 }));
  }
  t.deepEqual(await Promise.all(seq), Array.from({ length: 30 }, (_, i) => i + 1));
});

test('idle actors are passivated; actors holding session state are not', async (t) => {
  const sys = await startTestSystem(1, { limits: { idleMs: 150 } });
  t.teardown(() => sys.shutdown());
  await sys.call(ref('idle'), 'add', { n: 5 });
  await sys.call(ref('sess'), 'openSession', { session: 's1' });
  await sleep(600);
  const stats = await sys.stats();
  t.is(stats.workers[0]!.activeActors, 1, 'only the actor with a session stays');
  t.is(stats.workers[0]!.sessionActors, 1);
  t.true(stats.workers[0]!.passivations >= 1);
  t.is(await sys.call(ref('idle'), 'add', { n: 1 }), 1, 'in-memory state was dropped: it re-activated fresh');
  await sys.call(ref('sess'), 'closeSession', { session: 's1' });
  await sleep(600);
  t.is((await sys.stats()).workers[0]!.activeActors, 0);
});

test('above the active-actor cap, the least recently used idle actors are passivated', async (t) => {
  const sys = await startTestSystem(1, { limits: { maxActiveActors: 5 } });
  t.teardown(() => sys.shutdown());
  for (let i = 0; i < 20; i++) await sys.call(ref(`lru-${i}`), 'add', { n: 1 });
  await sleep(50);
  const s = await sys.stats();
  t.true(s.workers[0]!.activeActors <= 5, `active: ${s.workers[0]!.activeActors}`);
  t.true(s.workers[0]!.passivations >= 15);
  // The most recent ones survived with their in-memory state.
  t.is(await sys.call(ref('lru-19'), 'add', { n: 1 }), 2);
  t.is(await sys.call(ref('lru-0'), 'add', { n: 1 }), 1);
});

test('stats report per-worker actors, queues, rates and latency', async (t) => {
  const sys = await startTestSystem(2);
  t.teardown(() => sys.shutdown());
  await Promise.all(Array.from({ length: 200 }, (_, i) => sys.call(ref(`s-${i % 20}`), 'add', { n: 1 })));
  const s = await sys.stats();
  t.is(s.workers.length, 2);
  t.is(s.workers.reduce((n, w) => n + w.activeActors, 0), 20);
  t.is(s.workers.reduce((n, w) => n + w.callsAnswered, 0), 200);
  for (const w of s.workers) {
    t.is(w.state, 'up');
    t.true(w.p99us >= w.p50us && w.p50us > 0);
  }
  t.is(s.pendingCalls, 0);
  t.is(s.routes, 20);
});

test('a deferred reply frees the actor at once and is sent when its condition is met', async (t) => {
  const sys = await startTestSystem(1);
  t.teardown(() => sys.shutdown());
  const a = ref('deferred');
  const order: string[] = [];
  const slow = sys.call(a, 'deferred', { ms: 300 }).then((v) => order.push(`deferred:${v}`));
  const fast = sys.call(a, 'add', { n: 1 }).then(() => order.push('add'));
  await Promise.all([slow, fast]);
  t.deepEqual(order, ['add', 'deferred:flushed'], 'the next message ran while the first reply waited');
});
