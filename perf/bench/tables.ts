/**
 * Contents table of a 10,000-message folder through the mailbox actor: the first 50 rows sorted
 * by delivery time (indexed) and by subject (unindexed), with and without a restriction, and
 * categorized by conversation. Each query opens a fresh view (so the view is really built),
 * sets columns and sort (and restriction), and reads 50 rows. Latency p50/p99 open-loop at a
 * fixed rate, and CPU time per query (process-wide: main thread and worker).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { ActorSystem } from '../../runtime/actor-system.js';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { MailboxEnv } from '../../storage/mailbox-env.js';
import { MailboxStore } from '../../storage/mailbox-store.js';
import { MessageStore } from '../../storage/message-store.js';
import { mailboxPath, parseMailboxAddress } from '../../storage/partitions.js';
import { provisionEnv } from '../../storage/provision.js';
import { Tag } from '../../storage/prop-tags.js';
import { PropType, propTag, dateToFiletime, type PropValue } from '../../storage/prop-types.js';
import { toWireRestriction, RelOp } from '../../storage/restriction.js';
import { openLoop, quiet, type Row } from './common.js';

const MESSAGES = 10_000;
const DELIVERY = propTag(0x0e06, PropType.PtypTime);
const TOPIC = propTag(0x0070, PropType.PtypString);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);

export async function run(): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'stoa-tables-'));
  const rows: Row[] = [];
  try {
    const env = await MailboxEnv.open(mailboxPath(dir, parseMailboxAddress('t@example.test')));
    await provisionEnv(env, { ownerName: 'T', legacyDn: '/o=x/cn=t', serverShortname: 'm' });
    const mbx = new MailboxStore(env);
    const msgs = new MessageStore(mbx);
    const inbox = mbx.specialFolders().inbox;
    const t0 = Date.now();
    for (let done = 0; done < MESSAGES; done += 2000) {
      await env.write(() => {
        for (let i = done; i < done + 2000; i++) {
          msgs.create(inbox, {
            props: new Map<number, PropValue>([
              [Tag.PidTagMessageClass, 'IPM.Note'],
              [Tag.PidTagSubject, `Subject ${(i * 7919) % MESSAGES}`],
              [DELIVERY, dateToFiletime(new Date(t0 - ((i * 104729) % MESSAGES) * 60_000))],
              [TOPIC, `Conversation ${i % 1000}`],
              [Tag.PidTagMessageFlags, i % 3 === 0 ? 1 : 0],
            ]),
          });
        }
      });
    }
    await env.close();

    const sys = await ActorSystem.start({ workers: 1, kinds: ACTOR_KINDS, log: quiet, logLevel: 'silent', settings: { partitions: [dir] } });
    const a = actorRef<MailboxProtocol>('mailbox', 't@example.test');
    const unread = toWireRestriction({ type: 'bitmask', op: 0, tag: Tag.PidTagMessageFlags, mask: 1 });
    const first50 = async (sort: { tag: number; desc: boolean }[], restricted: boolean, categories = 0) => {
      const { table } = await sys.call(a, 'openTable', { session: 'bench', folder: inbox, kind: 'contents' });
      await sys.call(a, 'tableSetColumns', { table, tags: [Tag.PidTagSubject, DELIVERY, Tag.PidTagMessageFlags] });
      await sys.call(a, 'tableSort', { table, keys: sort, categories, expanded: categories });
      if (restricted) await sys.call(a, 'tableRestrict', { table, restriction: unread });
      const r = await sys.call(a, 'tableQueryRows', { table, count: 50 });
      await sys.call(a, 'releaseTable', { table });
      if (r.rows.length !== 50) throw new Error(`expected 50 rows, got ${r.rows.length}`);
    };
    const scenarios: [string, () => Promise<void>, number][] = [
      ['sorted by delivery time (indexed)', () => first50([{ tag: DELIVERY, desc: true }], false), 20],
      ['sorted by subject (unindexed)', () => first50([{ tag: Tag.PidTagSubject, desc: false }], false), 2],
      ['by delivery time, unread only (restricted)', () => first50([{ tag: DELIVERY, desc: true }], true), 2],
      ['by subject, unread only (restricted)', () => first50([{ tag: Tag.PidTagSubject, desc: false }], true), 2],
      ['categorized by conversation', () => first50([{ tag: TOPIC, desc: false }, { tag: DELIVERY, desc: true }], false, 1), 2],
    ];
    let indexedP50 = 0;
    for (const [name, q, rate] of scenarios) {
      await q(); // warm
      const cpu0 = process.cpuUsage();
      const r = await openLoop(rate, SECONDS, q);
      const cpu = process.cpuUsage(cpu0);
      const cpuMs = (cpu.user + cpu.system) / 1000 / r.sent;
      const p50 = r.hist.percentile(0.5) / 1000;
      if (indexedP50 === 0) indexedP50 = p50;
      rows.push({
        bench: `table, ${MESSAGES.toLocaleString('en-US')} messages`,
        metric: `first 50 rows, ${name}, ${rate}/s open-loop: p50 (p99 ${(r.hist.percentile(0.99) / 1000).toFixed(1)} ms)`,
        value: p50,
        unit: 'ms',
        baseline: { name: 'indexed', value: indexedP50 },
        ratio: indexedP50 / p50,
        note: `CPU ${cpuMs.toFixed(1)} ms per query`,
      });
    }
    await sys.shutdown();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
