/**
 * The mailbox store through its actor, flushes awaited:
 *  - messages saved per second (4 KiB message, ~40 properties) to 1 mailbox and spread over 100,
 *    against one durably-awaited commit per save (the naive baseline, same machine, same run);
 *  - property reads per second through the actor vs the same reads in-process;
 *  - LMDB file size per 10,000 messages; memory per active mailbox.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ActorSystem } from '../../runtime/actor-system.js';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { encodePropBag } from '../../storage/prop-bag.js';
import { PropType, propTag, dateToFiletime, type PropValue } from '../../storage/prop-types.js';
import { Tag } from '../../storage/prop-tags.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';
import { MessageStore } from '../../storage/message-store.js';
import { newGuid } from '../../storage/guid.js';
import { decodePropBag } from '../../storage/prop-bag.js';
import { quiet, saturate, type Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

/** A typical small mail: subject, class, sender and recipients' display data, times, a 4 KiB body. */
export function sampleMessage(i: number): Map<number, PropValue> {
  const p = new Map<number, PropValue>([
    [Tag.PidTagMessageClass, 'IPM.Note'],
    [Tag.PidTagSubject, `Quarterly report ${i}`],
    [propTag(0x1000, PropType.PtypString), 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(72)],
    [propTag(0x0e06, PropType.PtypTime), dateToFiletime(new Date())],
    [propTag(0x0039, PropType.PtypTime), dateToFiletime(new Date())],
    [propTag(0x0017, PropType.PtypInteger32), 1],
    [propTag(0x0036, PropType.PtypInteger32), 0],
    [propTag(0x0c1a, PropType.PtypString), 'Alice Example'],
    [propTag(0x0c1f, PropType.PtypString), 'alice@example.test'],
    [propTag(0x0e04, PropType.PtypString), 'Bob Example'],
    [propTag(0x1035, PropType.PtypString), `<${i}.msg@example.test>`],
  ]);
  for (let k = 0; p.size < 40; k++) p.set(propTag(0x6700 + k, k % 2 === 0 ? PropType.PtypInteger32 : PropType.PtypString), k % 2 === 0 ? k : `value ${k}`);
  return p;
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'stoa-bench-'));
  try {
    const props = encodePropBag(sampleMessage(0));
    // Baseline: one durably-awaited commit per save, in-process, serial.
    const env = await MailboxEnv.open(join(dir, 'baseline'));
    const mbx = new MailboxStore(env);
    await env.write(() => mbx.provision({ mailboxGuid: newGuid(), replGuid: newGuid(), ownerName: 'B', legacyDn: '/o=x/cn=b', serverShortname: 'm' }));
    const msgs = new MessageStore(mbx);
    const inbox = mbx.specialFolders().inbox;
    const decoded = decodePropBag(Buffer.from(props));
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < SECONDS * 1000) {
      await env.write(() => msgs.create(inbox, { props: decoded }));
      n++;
    }
    const serial = n / ((performance.now() - t0) / 1000);
    // In-process property reads (no actor hop), for the read comparison below.
    const mids = msgs.contents(inbox).slice(0, 1000);
    let reads = 0;
    const r0 = performance.now();
    while (performance.now() - r0 < 1000) {
      encodePropBag([[Tag.PidTagSubject, msgs.props(mids[reads % mids.length]!).get(Tag.PidTagSubject)!]]);
      reads++;
    }
    const inProcessReads = reads / ((performance.now() - r0) / 1000);
    await env.close();

    const sys = await ActorSystem.start({ kinds: ACTOR_KINDS, log: quiet, logLevel: 'silent', settings: { partitions: [join(dir, 'part')] } });
    const who = { ownerName: 'Bench', legacyDn: '/o=x/cn=bench', serverShortname: 'm' };
    const one = actorRef<MailboxProtocol>('mailbox', 'one@example.test');
    await sys.call(one, 'provision', who);
    const oneInbox = (await sys.call(one, 'logonInfo', null)).special.inbox;
    const many = Array.from({ length: 100 }, (_, i) => actorRef<MailboxProtocol>('mailbox', `user${i}@example.test`));
    const rssBefore = process.memoryUsage().rss;
    const inboxes = new Map<string, number>();
    for (const m of many) {
      await sys.call(m, 'provision', who);
      inboxes.set(m.id, (await sys.call(m, 'logonInfo', null)).special.inbox);
    }
    const rssActive = process.memoryUsage().rss;

    const oneRate = await saturate(64, SECONDS, () => sys.call(one, 'createMessage', { folder: oneInbox, props }));
    rows.push({ bench: 'store: save 4 KiB / 40 props', metric: 'to 1 mailbox, 64 outstanding, flush awaited', value: oneRate, unit: 'msgs/s', baseline: { name: 'serial durable commits', value: serial }, ratio: oneRate / serial, note: 'group commit: the actor goes on while its acks wait for the flush' });
    let k = 0;
    const manyRate = await saturate(64, SECONDS, () => {
      const m = many[k++ % many.length]!;
      return sys.call(m, 'createMessage', { folder: inboxes.get(m.id)!, props });
    });
    rows.push({ bench: 'store: save 4 KiB / 40 props', metric: 'spread over 100 mailboxes, 64 outstanding', value: manyRate, unit: 'msgs/s', baseline: { name: 'serial durable commits', value: serial }, ratio: manyRate / serial, note: 'one environment (and fsync) per mailbox' });

    const oneMids = await sys.call(one, 'listContents', { folder: oneInbox });
    let j = 0;
    const readRate = await saturate(64, SECONDS, () => sys.call(one, 'getMessage', { mid: oneMids[j++ % oneMids.length]!, tags: [Tag.PidTagSubject] }));
    rows.push({ bench: 'store: property reads', metric: 'getMessage(subject) through the actor', value: readRate, unit: 'reads/s', baseline: { name: 'in-process', value: inProcessReads }, ratio: readRate / inProcessReads });

    await sys.shutdown();
    const file = join(dir, 'part', 'example.test', 'one', 'data.mdb');
    const bytes = statSync(file).blocks * 512;
    rows.push({ bench: 'store: size', metric: `data.mdb per 10,000 messages (${oneMids.length.toLocaleString('en-US')} saved)`, value: (bytes / oneMids.length) * 10_000 / 2 ** 20, unit: 'MiB', note: `${(bytes / oneMids.length / 1024).toFixed(1)} KiB per 4 KiB message` });
    rows.push({ bench: 'store: memory', metric: 'per active mailbox (RSS delta over 100 activations)', value: (rssActive - rssBefore) / 100 / 1024, unit: 'KiB', note: 'a passivated mailbox costs one route entry on the main thread (~100 B)' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
