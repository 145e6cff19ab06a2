/** The maildrop's rules with a stand-in store: lazy sizes, the size cache, gone messages, read-ahead, UPDATE. */
import test from 'ava';
import { actorError } from '../../../runtime/errors.js';
import { Maildrop } from '../../../protocols/pop3/maildrop.js';
import { SizeCache } from '../../../protocols/pop3/size-cache.js';
import type { MailboxAccess } from '../../../protocols/pop3/mailbox-access.js';
import { READ_AHEAD_MESSAGES, SIZE_FETCH_PARALLEL } from '../../../protocols/pop3/limits.js';

class FakeBox implements MailboxAccess {
  readonly address = 'alice@example.test';
  readonly replGuid = '0a0b0c0d-0000-4000-8000-000000000000';
  readonly fetched: number[] = [];
  readonly gone = new Set<number>();
  inFlight = 0;
  maxInFlight = 0;
  constructor(readonly store: Map<number, Buffer>) {}
  async snapshot() {
    return [...this.store.keys()].map((mid) => ({ mid, cn: mid * 10 }));
  }
  async fetch(mid: number): Promise<Buffer> {
    this.fetched.push(mid);
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    await new Promise((r) => setTimeout(r, 2));
    this.inFlight--;
    if (this.gone.has(mid)) throw actorError('ecNotFound', `no message ${mid}`);
    return this.store.get(mid)!;
  }
  async deleteMessages(mids: number[]) {
    return { deleted: mids.filter((m) => !this.gone.has(m)), missing: mids.filter((m) => this.gone.has(m)) };
  }
}

const msg = (n: number, size = 100) => Buffer.from(`Subject: ${n}\r\n\r\n${'x'.repeat(size)}`);

function box(count: number, size = 100): FakeBox {
  return new FakeBox(new Map(Array.from({ length: count }, (_, i) => [100 + i, msg(i, size)])));
}

test('sizes are learnt lazily, a few at a time, remembered by the door across sessions', async (t) => {
  const b = box(20);
  const cache = new SizeCache(1000);
  const d = await Maildrop.open(b, cache);
  t.is(b.fetched.length, 0, 'login fetches nothing');
  t.is(d.messages[0]!.uidl, '0000000000640a0b0c0d');
  await d.learnSizes(d.live());
  t.is(b.fetched.length, 20);
  t.true(b.maxInFlight <= SIZE_FETCH_PARALLEL);
  t.is(d.messages[0]!.size, msg(0).length + 2, 'the size counts the final CRLF POP3 adds');
  const again = await Maildrop.open(b, cache);
  await again.learnSizes(again.live());
  t.is(b.fetched.length, 20, 'the next session finds every size in the cache');
});

test('a message removed meanwhile is marked gone and left out; QUIT counts it with the store\'s missing ones', async (t) => {
  const b = box(4);
  const d = await Maildrop.open(b, new SizeCache(0));
  b.gone.add(101);
  await d.learnSizes(d.live());
  t.deepEqual(
    d.live().map((m) => m.n),
    [1, 3, 4],
  );
  t.deepEqual(d.pick(2), { ok: false, why: 'gone' });
  d.messages[0]!.deleted = true;
  d.messages[1]!.deleted = true;
  d.messages[2]!.deleted = true;
  b.gone.add(102);
  t.deepEqual(await d.commit(), { deleted: 1, alreadyGone: 2 });
});

test('read-ahead: the next messages are fetched meanwhile and used once, within the byte bound', async (t) => {
  const b = box(10);
  const d = await Maildrop.open(b, new SizeCache(100));
  await d.learnSizes(d.live());
  b.fetched.length = 0;
  const first = d.messages[0]!;
  t.true(Buffer.isBuffer(await d.fetch(first)));
  d.readAhead(first);
  t.deepEqual(
    b.fetched,
    [100, 101, 102, 103, 104].slice(0, 1 + READ_AHEAD_MESSAGES),
  );
  for (let n = 2; n <= 3; n++) {
    const m = d.messages[n - 1]!;
    t.true((await d.fetch(m)) instanceof Buffer);
    d.readAhead(m);
  }
  t.deepEqual(b.fetched, [100, 101, 102, 103, 104, 105, 106], 'each message fetched once');
  // A client jumping ahead drops what it skipped; a re-read fetches afresh.
  await d.fetch(d.messages[5]!);
  t.is(b.fetched.length, 7);
  await d.fetch(d.messages[1]!);
  t.is(b.fetched.length, 8);

  const big = box(5, 700 * 1024);
  const e = await Maildrop.open(big, new SizeCache(100));
  await e.learnSizes(e.live());
  big.fetched.length = 0;
  e.readAhead(e.messages[0]!);
  t.deepEqual(big.fetched, [101], 'at most READ_AHEAD_MAX_BYTES are read ahead');
});
