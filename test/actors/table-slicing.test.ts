import test from 'ava';
import { join } from 'node:path';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';
import { MessageStore } from '../../storage/message-store.js';
import { mailboxPath, parseMailboxAddress } from '../../storage/partitions.js';
import { provisionEnv } from '../../storage/provision.js';
import { decodePropBag } from '../../storage/prop-bag.js';
import { Tag } from '../../storage/prop-tags.js';
import type { PropValue } from '../../storage/prop-types.js';
import { Histogram } from '../../runtime/histogram.js';
import { startTestSystem, tempDir } from '../helpers.js';

const MESSAGES = 100_000;

test(`a ${MESSAGES.toLocaleString('en-US')}-message folder sorted on an unindexed column does not stall another mailbox on the same worker`, async (t) => {
  const d = tempDir();
  t.teardown(d.remove);
  // Build the big mailbox directly (fast), then serve it through the runtime.
  const env = await MailboxEnv.open(mailboxPath(d.path, parseMailboxAddress('big@example.test')));
  await provisionEnv(env, { ownerName: 'Big', legacyDn: '/o=x/cn=big', serverShortname: 'm' });
  const mbx = new MailboxStore(env);
  const msgs = new MessageStore(mbx);
  const inbox = mbx.specialFolders().inbox;
  for (let done = 0; done < MESSAGES; done += 5000) {
    await env.write(() => {
      for (let i = done; i < done + 5000; i++) msgs.create(inbox, { props: new Map<number, PropValue>([[Tag.PidTagSubject, `subject ${(i * 7919) % MESSAGES}`]]) });
    });
  }
  await env.close();
  const sys = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [d.path] } });
  t.teardown(() => sys.shutdown());
  const big = actorRef<MailboxProtocol>('mailbox', 'big@example.test');
  const small = actorRef<MailboxProtocol>('mailbox', 'small@example.test');
  await sys.call(small, 'provision', { ownerName: 'Small', legacyDn: '/o=x/cn=small', serverShortname: 'm' });
  const { table } = await sys.call(big, 'openTable', { session: 's', folder: inbox, kind: 'contents' }, { timeoutMs: 120_000 });
  await sys.call(big, 'tableSetColumns', { table, tags: [Tag.PidTagSubject] });
  await sys.call(big, 'tableSort', { table, keys: [{ tag: Tag.PidTagSubject, desc: false }] });
  // While the big view builds, the small mailbox keeps answering.
  const lat = new Histogram();
  let building = true;
  const pinger = (async () => {
    while (building) {
      const t0 = performance.now();
      await sys.call(small, 'exists', null);
      lat.record(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  const t0 = performance.now();
  const first = await sys.call(big, 'tableQueryRows', { table, count: 3 }, { timeoutMs: 120_000 });
  const buildMs = performance.now() - t0;
  building = false;
  await pinger;
  t.deepEqual(
    first.rows.map((r) => decodePropBag(Buffer.from(r)).get(Tag.PidTagSubject)),
    ['subject 0', 'subject 1', 'subject 10'],
    'sorted (as text)',
  );
  t.log(`build ${buildMs.toFixed(0)} ms; the other mailbox answered ${lat.count} times, max ${lat.max.toFixed(1)} ms, p99 ${lat.percentile(0.99).toFixed(1)} ms`);
  t.true(buildMs > 200, 'the build is long enough for slicing to matter');
  t.true(lat.count > 20, 'the other mailbox was served during the build');
  // ~10 ms is the target; CI machines are shared and noisy, so the bound leaves room. An unsliced
  // build would stall the other mailbox for the whole build (more than 200 ms): half of it or
  // 100 ms, whichever is less, still tells the two apart.
  t.true(lat.max < Math.min(100, buildMs / 2), `max delay ${lat.max.toFixed(1)} ms (build ${buildMs.toFixed(0)} ms)`);
});
