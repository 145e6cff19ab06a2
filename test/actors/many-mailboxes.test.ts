import test from 'ava';
import { readdirSync } from 'node:fs';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { startTestSystem, tempDir } from '../helpers.js';

const MAILBOXES = 10_000;
const CAP = 100;

test(`${MAILBOXES.toLocaleString('en-US')} mailboxes on one partition, with only the active ones open`, async (t) => {
  const d = tempDir();
  const sys = await startTestSystem(1, { kinds: ACTOR_KINDS, settings: { partitions: [d.path] }, limits: { maxActiveActors: CAP } });
  t.teardown(async () => {
    await sys.shutdown();
    d.remove();
  });
  const fdsBefore = readdirSync('/proc/self/fd').length;
  const who = { ownerName: 'User', legacyDn: '/o=Stoa/cn=user', serverShortname: 'mail' };
  let next = 0;
  let maxFds = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < MAILBOXES) {
        const k = next++;
        await sys.call(actorRef<MailboxProtocol>('mailbox', `user${k}@example.test`), 'provision', who);
        if (k % 500 === 0) maxFds = Math.max(maxFds, readdirSync('/proc/self/fd').length);
      }
    }),
  );
  const st = (await sys.stats()).workers[0]!;
  t.true(st.activeActors <= CAP, `active: ${st.activeActors}`);
  t.true(st.passivations >= MAILBOXES - CAP);
  // About three descriptors per open environment (seen: data, lock and one more of lmdb-js's),
  // bounded by the cap, not by the 10,000 mailboxes.
  t.true(maxFds - fdsBefore <= CAP * 3 + 64, `descriptors grew by ${maxFds - fdsBefore}`);
  t.is(readdirSync(`${d.path}/example.test`).length, MAILBOXES);
  // Any of them opens again on demand, with its folders.
  for (const k of [0, 4321, MAILBOXES - 1]) {
    const info = await sys.call(actorRef<MailboxProtocol>('mailbox', `user${k}@example.test`), 'logonInfo', null);
    t.is(info.folders.length, 13);
  }
});
