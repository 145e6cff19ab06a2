import test from 'ava';
import { newQueueId, OutboundQueueStore, type QueueEntry } from '../../storage/outbound-queue.js';
import { tempDir } from '../helpers.js';

function entry(id: string, nextAttempt: number, over: Partial<QueueEntry> = {}): QueueEntry {
  return {
    id,
    from: 'alice@example.test',
    recipients: [{ address: 'bob@remote.example', notify: ['FAILURE'], orcpt: 'rfc822;bob@remote.example', state: 'pending', attempts: 0, lastAttempt: null, reply: null }],
    size: 10,
    created: 1000,
    attempts: 0,
    nextAttempt,
    expires: 1_000_000,
    ...over,
  };
}

test('entries and their messages are durable, listed in order, found by due time, updated, flushed and removed', async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  let s = await OutboundQueueStore.open(d.path);
  const big = Buffer.alloc(5 * 1024 * 1024, 0x61);
  // Many writes at once share commits (group commit); each resolves once on disk.
  await Promise.all([s.add(entry('a', 300), Buffer.from('message a')), s.add(entry('b', 100), big), s.add(entry('c', 200, { envid: 'x', ret: 'HDRS' }), Buffer.from('message c'))]);
  t.is(s.count, 3);
  t.deepEqual(s.list().map((e) => e.id), ['a', 'b', 'c']);
  t.deepEqual(s.due(150, 10), ['b']);
  t.deepEqual(s.due(1000, 10), ['b', 'c', 'a'], 'earliest first');
  t.deepEqual(s.due(1000, 2), ['b', 'c']);
  t.is(s.nextDue(), 100);
  t.is(s.nextDue(101), 200);
  t.true(s.raw('b')!.equals(big), 'a 5 MiB message is one value');
  await s.close();

  s = await OutboundQueueStore.open(d.path);
  t.like(s.get('c'), { envid: 'x', ret: 'HDRS', recipients: [{ address: 'bob@remote.example', notify: ['FAILURE'], state: 'pending' }] });
  const c = s.get('c')!;
  c.recipients[0]!.state = 'failed';
  c.recipients[0]!.reply = { code: 550, status: '5.1.1', text: 'no such user' };
  c.nextAttempt = 5000;
  await s.update(c);
  t.deepEqual(s.due(1000, 10), ['b', 'a'], 'the due index follows the update');
  t.like(s.get('c')!.recipients[0], { state: 'failed', reply: { code: 550 } });
  t.is(s.raw('c')!.toString(), 'message c', 'the message stays');

  t.is(await s.flushAll(2000), 3);
  t.deepEqual(s.due(2000, 10).sort(), ['a', 'b', 'c']);
  t.is(s.get('c')!.nextAttempt, 2000);

  t.true(await s.remove('b'));
  t.false(await s.remove('b'));
  t.is(s.raw('b'), undefined);
  // An update of an entry removed meanwhile (an attempt finishing after `queue remove`) does not bring it back.
  await s.update(entry('b', 10));
  t.is(s.get('b'), undefined);
  // An entry done and the notice it causes, in one write.
  await s.apply([{ remove: 'a' }, { put: entry('n', 50, { from: '' }), raw: Buffer.from('notice') }]);
  t.deepEqual(s.list().map((e) => e.id), ['c', 'n']);
  await s.close();
  await t.throwsAsync(s.add(entry('z', 1), Buffer.from('z')), { message: /closed/ });
});

test('queue ids sort by time and do not repeat', (t) => {
  const ids = Array.from({ length: 1000 }, (_, i) => newQueueId(1_700_000_000_000 + i));
  t.deepEqual([...ids].sort(), ids);
  t.is(new Set(ids).size, 1000);
  t.regex(ids[0]!, /^[0-9a-z]{19}$/);
});
