/**
 * Mail conversion (MS-OXCMAIL) throughput, at saturation on one thread:
 * - MIME → MAPI for a 4 KiB text mail and a 1 MiB mail with attachments, against mailparser's
 *   simpleParser on the same bytes (the ecosystem's standard parser; it builds no MAPI message,
 *   so the ratio is what our parse-and-map costs next to a plain parse);
 * - MAPI → MIME for the same messages, against nodemailer's MailComposer building the same
 *   content;
 * - import of a 10,000-message mbox through the mailbox actor (conversion in the CPU pool, group
 *   commit), against saving the same already-converted messages through the actor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { mimeToMapi } from '../../protocols/mail/mime-to-mapi.js';
import { mapiToMime } from '../../protocols/mail/mapi-to-mime.js';
import { ActorSystem } from '../../runtime/actor-system.js';
import { actorRef } from '../../runtime/actor.js';
import { ACTOR_KINDS } from '../../actors/registry.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import { mapiToWire } from '../../actors/mailbox/wire-message.js';
import { CpuPool } from '../../runtime/cpu-pool.js';
import { DirectoryStore } from '../../storage/directory-store.js';
import { MailboxTransfers } from '../../runtime/mailbox-transfer.js';
import { quiet, type Row } from './common.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const MBOX_MESSAGES = Number(process.env.BENCH_MBOX_MESSAGES ?? 10_000);

function textMail(i: number): Buffer {
  const para = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ';
  let body = '';
  while (body.length < 3600) body += `${para}\r\n`;
  return Buffer.from(
    `From: Sender ${i} <sender${i}@example.com>\r\nTo: Alice <alice@example.test>, bob@example.test\r\nSubject: Status report ${i}\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nMessage-ID: <m${i}@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n${body}`,
    'latin1',
  );
}

function bigMail(): Buffer {
  const att = (n: number, size: number) => {
    const b64 = randomBytes(size).toString('base64').replace(/.{76}/g, '$&\r\n');
    return `--mix\r\nContent-Type: application/octet-stream; name="file${n}.bin"\r\nContent-Disposition: attachment; filename="file${n}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`;
  };
  return Buffer.from(
    `From: Big <big@example.com>\r\nTo: alice@example.test\r\nSubject: Files\r\nDate: Tue, 3 Mar 2020 12:00:00 +0000\r\nMessage-ID: <big@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="mix"\r\n\r\n--mix\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSee the files.\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>See the <b>files</b>.</p>\r\n--alt--\r\n${att(1, 400_000)}${att(2, 300_000)}${att(3, 50_000)}--mix--\r\n`,
    'latin1',
  );
}

/** Runs fn back to back for `seconds`; operations per second. */
async function saturate(seconds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let n = 0;
  const t0 = performance.now();
  while (performance.now() < end) {
    await fn();
    n++;
  }
  return n / ((performance.now() - t0) / 1000);
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const [label, raw] of [
    ['4 KiB text mail', textMail(1)],
    ['1 MiB mail with attachments', bigMail()],
  ] as const) {
    const secs = SECONDS / 2;
    const ours = await saturate(secs, () => mimeToMapi(raw));
    const peer = await saturate(secs, () => simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true }));
    rows.push({ bench: 'mail', metric: `MIME → MAPI, ${label} (${(raw.length / 1024).toFixed(0)} KiB)`, value: ours, unit: 'msg/s', baseline: { name: 'mailparser simpleParser', value: peer }, ratio: ours / peer });
    const msg = mimeToMapi(raw).message;
    const parsed = await simpleParser(raw);
    const oursOut = await saturate(secs, () => mapiToMime(msg));
    const composer = await saturate(secs, () =>
      new MailComposer({
        from: parsed.from?.text,
        to: 'alice@example.test',
        subject: parsed.subject,
        date: parsed.date,
        messageId: parsed.messageId,
        text: parsed.text,
        ...(parsed.html !== false ? { html: parsed.html } : {}),
        attachments: parsed.attachments.map((a) => ({ filename: a.filename, content: a.content, contentType: a.contentType })),
      })
        .compile()
        .build(),
    );
    rows.push({ bench: 'mail', metric: `MAPI → MIME, ${label}`, value: oursOut, unit: 'msg/s', baseline: { name: 'nodemailer MailComposer', value: composer }, ratio: oursOut / composer });
  }

  // Import of an mbox through the actor, and the same messages saved without conversion.
  const dir = mkdtempSync(join(tmpdir(), 'stoa-mail-bench-'));
  try {
    const mbox = join(dir, 'in.mbox');
    const parts: Buffer[] = [];
    for (let i = 0; i < MBOX_MESSAGES; i++) parts.push(Buffer.from(`From sender${i}@example.com Tue Mar  3 12:00:00 2020\n`), Buffer.from(textMail(i).toString('latin1').replace(/\r\n/g, '\n')), Buffer.from('\n'));
    writeFileSync(mbox, Buffer.concat(parts));
    const sys = await ActorSystem.start({ workers: 1, kinds: ACTOR_KINDS, log: quiet, logLevel: 'silent', settings: { partitions: [join(dir, 'mailboxes')] } });
    const pool = new CpuPool({ threads: 1, minBytes: 64 * 1024 });
    const dirStore = DirectoryStore.open(join(dir, 'directory'));
    try {
      await dirStore.addDomain('example.test');
      const provision = async (u: string) => {
        const user = await dirStore.addUser({ address: `${u}@example.test`, displayName: u });
        await sys.call(actorRef<MailboxProtocol>('mailbox', user.address), 'provision', { ownerName: u, legacyDn: user.legacyDn, serverShortname: 'mail' });
      };
      await provision('importer');
      await provision('saver');
      const transfers = new MailboxTransfers({ system: sys, dir: dirStore, pool, hostname: 'mail.example.test', log: quiet });
      const t0 = performance.now();
      const job = await transfers.startImport('importer@example.test', mbox, 'Inbox');
      while (transfers.status(job.job).state === 'running') await new Promise((r) => setTimeout(r, 20));
      const importSecs = (performance.now() - t0) / 1000;
      const st = transfers.status(job.job);
      if (st.imported !== MBOX_MESSAGES) throw new Error(`imported ${st.imported} of ${MBOX_MESSAGES}: ${JSON.stringify(st.failures.slice(0, 3))}`);

      const saver = actorRef<MailboxProtocol>('mailbox', 'saver@example.test');
      const inbox = (await sys.call(saver, 'logonInfo', null)).special.inbox;
      const wires = Array.from({ length: MBOX_MESSAGES }, (_, i) => {
        const raw = textMail(i);
        return mapiToWire(mimeToMapi(raw).message, raw);
      });
      const t1 = performance.now();
      const inFlight = new Set<Promise<unknown>>();
      for (const w of wires) {
        const p = sys.call(saver, 'createMessage', { folder: inbox, ...w }).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= 16) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const saveSecs = (performance.now() - t1) / 1000;
      rows.push({
        bench: 'mail',
        metric: `mbox import, ${MBOX_MESSAGES} × 4 KiB messages`,
        value: MBOX_MESSAGES / importSecs,
        unit: 'msg/s',
        baseline: { name: 'saving the converted messages only', value: MBOX_MESSAGES / saveSecs },
        ratio: saveSecs / importSecs,
        note: `${importSecs.toFixed(1)} s in all`,
      });
    } finally {
      await sys.shutdown();
      await pool.close();
      await dirStore.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
