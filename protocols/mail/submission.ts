/**
 * Sending a stored MAPI message (MS-OXOMSG 3.2.5.1): what RopSubmitMessage leaves in the store
 * (actors/mailbox/rop/submit-rops.ts) is taken when due, its recipients resolved through the
 * directory (EX legacy DNs, SMTP addresses and aliases, groups expanded, one-off entry ids),
 * local recipients get a copy of the MAPI object itself (named properties, RTF and meeting data
 * survive; Bcc rows stay with the sender), remote ones one MIME message through the outbound
 * queue (EX addresses written as SMTP; Bcc only on the envelope), addresses that resolve nowhere a
 * non-delivery report in the sender's Inbox (and a delivery report for local copies when asked);
 * then the sender's copy goes to Sent Items (or where PidTagSentMailEntryId says), or is deleted
 * (PidTagDeleteAfterSubmit). Read receipts go out when a message is first read (`readReceipts`).
 *
 * Deferred messages wait in a timer (and in the store: `recover` reschedules a mailbox's waiting
 * submissions, at logon). A failure to reach a mailbox is retried; nothing is sent twice to a
 * mailbox that already took its copy within one attempt.
 */
import type { Logger } from 'pino';
import { actorRef } from '../../runtime/actor.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { MailboxProtocol, ReadReceipt, WireMessage } from '../../actors/mailbox/mailbox-actor.js';
import type { DirectoryStore, UserRecord } from '../../storage/directory-store.js';
import { addressBookEntryId, parseAddressId, searchKey } from '../../storage/address-ids.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../storage/prop-bag.js';
import { RecipientType, Tag } from '../../storage/prop-tags.js';
import { dateToFiletime } from '../../storage/prop-types.js';
import type { OutboundQueue } from '../smtp/smtp-door.js';
import type { CpuPool } from '../../runtime/cpu-pool.js';
import { wireToMime } from '../../runtime/cpu-tasks.js';

/** Longest a timer waits before looking again (setTimeout's limit is ~24.8 days). */
const MAX_TIMER_MS = 24 * 3_600_000;
/** Retry a submission that could not be sent (a mailbox was unavailable) after this long. */
const RETRY_MS = 60_000;

export interface SubmissionDeps {
  system: ActorSystem;
  dir: DirectoryStore;
  log: Logger;
  hostname: string;
  /** The outbound queue (remote recipients); without it remote recipients get a non-delivery report. */
  outbound?: OutboundQueue;
  /** The CPU pool for MIME conversion (inline without it). */
  pool?: CpuPool;
}

export interface ResolvedRecipients {
  local: Map<string, UserRecord>;
  remote: string[];
  unresolved: string[];
}

const str = (p: PropMap, tag: number): string | undefined => {
  const v = p.get(tag);
  return typeof v === 'string' && v !== '' ? v : undefined;
};

export class Submissions {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly inFlight = new Set<string>();
  private readonly recovered = new Set<string>();
  private closed = false;

  constructor(private readonly d: SubmissionDeps) {}

  /** Sends at `due` (now or later). */
  schedule(mailbox: string, mid: number, due: number): void {
    if (this.closed) return;
    const key = `${mailbox}\u0000${mid}`;
    const old = this.timers.get(key);
    if (old !== undefined) clearTimeout(old);
    const wait = Math.max(0, due - Date.now());
    const t = setTimeout(
      () => {
        this.timers.delete(key);
        if (wait > MAX_TIMER_MS) return this.schedule(mailbox, mid, due);
        void this.send(mailbox, mid);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
    t.unref();
    this.timers.set(key, t);
  }

  /** Schedules a mailbox's waiting submissions (once per mailbox per process, at its owner's logon). */
  async recover(mailbox: string): Promise<void> {
    if (this.recovered.has(mailbox)) return;
    this.recovered.add(mailbox);
    try {
      const pending = await this.d.system.call(actorRef<MailboxProtocol>('mailbox', mailbox), 'pendingSubmissions', null);
      for (const p of pending) this.schedule(mailbox, p.mid, p.due);
    } catch (err) {
      this.recovered.delete(mailbox);
      this.d.log.warn({ err, mailbox }, 'could not read waiting submissions');
    }
  }

  /** Sends one submission now (if it is still waiting and due). Resolves when done or given up for now. */
  async send(mailbox: string, mid: number): Promise<void> {
    const key = `${mailbox}\u0000${mid}`;
    if (this.inFlight.has(key) || this.closed) return;
    this.inFlight.add(key);
    const ref = actorRef<MailboxProtocol>('mailbox', mailbox);
    try {
      const taken = await this.d.system.call(ref, 'takeSubmission', { mid });
      if (taken === null) return;
      const props = decodePropBag(Buffer.from(taken.wire.props));
      const rows = (taken.wire.recipients ?? []).map((r) => decodePropBag(Buffer.from(r)));
      const to = this.resolve(rows);
      const sender = this.d.dir.userByAddress(mailbox);
      // Local copies: the MAPI object itself.
      for (const user of to.local.values()) {
        const copy = localCopy(taken.wire, props, rows, user);
        await this.d.system.call(actorRef<MailboxProtocol>('mailbox', user.address), 'deliver', copy);
      }
      if (to.remote.length > 0) {
        if (this.d.outbound === undefined) to.unresolved.push(...to.remote);
        else {
          const raw = await this.toMime(taken.wire, props, rows);
          await this.d.outbound.enqueue({ from: mailbox, recipients: to.remote.map((address) => ({ address })), raw });
        }
      }
      if (to.unresolved.length > 0 && sender !== undefined) await this.nonDelivery(mailbox, props, to.unresolved);
      // A delivery report for the local copies when the sender asked (PidTagOriginatorDeliveryReportRequested).
      if (props.get(DELIVERY_REPORT_REQUESTED) === true && to.local.size > 0) await this.deliveryReport(mailbox, props, [...to.local.values()].map((u) => u.displayName));
      await this.d.system.call(ref, 'completeSubmission', { mid });
    } catch (err) {
      this.d.log.warn({ err, mailbox, mid }, 'sending a submitted message failed; retrying');
      this.inFlight.delete(key);
      // Taken but not completed: taking it again waits for the take to age (takeSubmission).
      this.schedule(mailbox, mid, Date.now() + RETRY_MS);
      return;
    }
    this.inFlight.delete(key);
  }

  /**
   * The Internet message for remote recipients (no Bcc header), made in the CPU pool when there
   * is one (a large message must not hold the main thread); EX addresses resolved here first.
   */
  private async toMime(wire: WireMessage, props: PropMap, rows: readonly PropMap[]): Promise<Buffer> {
    const exAddresses: Record<string, { address: string; name?: string }> = {};
    const look = (v: unknown) => {
      if (typeof v !== 'string' || !v.toLowerCase().startsWith('/o=')) return;
      const u = this.d.dir.userByLegacyDn(v);
      if (u !== undefined) exAddresses[v.toLowerCase()] = { address: u.address, name: u.displayName };
    };
    for (const v of props.values()) look(v);
    for (const r of rows) for (const v of r.values()) look(v);
    const input = { wire: structuredClone(wire), hostname: this.d.hostname, includeBcc: false, exAddresses };
    const bytes = wire.props.byteLength + (wire.attachments ?? []).reduce((n, a) => n + (a.data?.byteLength ?? 0), 0);
    const out = this.d.pool !== undefined ? await this.d.pool.run('wireToMime', input, { bytes }) : wireToMime(input);
    return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  /** Recipient rows → local users (by mailbox), remote SMTP addresses, and what resolves nowhere. */
  resolve(rows: readonly PropMap[]): ResolvedRecipients {
    const out: ResolvedRecipients = { local: new Map(), remote: [], unresolved: [] };
    const seenRemote = new Set<string>();
    const addLocal = (u: UserRecord) => {
      if (u.enabled) out.local.set(u.address, u);
    };
    for (const r of rows) {
      let type = str(r, Tag.PidTagAddressType)?.toUpperCase();
      let address = str(r, Tag.PidTagEmailAddress);
      const eid = r.get(Tag.PidTagEntryId);
      if ((type === undefined || address === undefined) && eid instanceof Uint8Array) {
        const p = parseAddressId(eid);
        if (p?.kind === 'one-off') ({ addressType: type, address } = { addressType: p.addressType.toUpperCase(), address: p.address });
        else if (p?.kind === 'address-book') ({ type, address } = { type: 'EX', address: p.x500dn });
      }
      const smtp = str(r, Tag.PidTagSmtpAddress);
      if (type === 'EX' && address !== undefined) {
        const u = this.d.dir.userByLegacyDn(address);
        if (u !== undefined) {
          addLocal(u);
          continue;
        }
        if (smtp === undefined) {
          out.unresolved.push(str(r, Tag.PidTagDisplayName) ?? address);
          continue;
        }
        address = smtp;
      } else if (type !== 'SMTP' && smtp !== undefined) address = smtp;
      else if (type !== undefined && type !== 'SMTP') {
        out.unresolved.push(address ?? str(r, Tag.PidTagDisplayName) ?? '(no address)');
        continue;
      }
      if (address === undefined || !address.includes('@')) {
        out.unresolved.push(address ?? str(r, Tag.PidTagDisplayName) ?? '(no address)');
        continue;
      }
      const users = this.d.dir.expand(address);
      if (users.length > 0) {
        for (const u of users) addLocal(u);
        continue;
      }
      const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
      if (this.d.dir.domain(domain) !== undefined) {
        out.unresolved.push(address);
        continue;
      }
      if (!seenRemote.has(address.toLowerCase())) {
        seenRemote.add(address.toLowerCase());
        out.remote.push(address);
      }
    }
    return out;
  }

  /** A non-delivery report (REPORT.IPM.Note.NDR) in the sender's Inbox naming what could not be reached. */
  private async nonDelivery(mailbox: string, original: PropMap, who: readonly string[]): Promise<void> {
    const subject = str(original, Tag.PidTagSubject) ?? '';
    const now = dateToFiletime(new Date());
    const props = encodePropBag([
      [Tag.PidTagMessageClass, 'REPORT.IPM.Note.NDR'],
      [Tag.PidTagSubject, `Undeliverable: ${subject}`],
      [Tag.PidTagBody, `Your message could not be delivered to:\r\n\r\n${who.join('\r\n')}\r\n\r\nThe address was not found.\r\n`],
      [Tag.PidTagMessageDeliveryTime, now],
      [Tag.PidTagClientSubmitTime, now],
      [Tag.PidTagSenderName, 'Mail Delivery System'],
      [Tag.PidTagSentRepresentingName, 'Mail Delivery System'],
    ]);
    await this.d.system.call(actorRef<MailboxProtocol>('mailbox', mailbox), 'deliver', { props });
  }

  /** A delivery report (REPORT.IPM.Note.DR, MS-OXOMSG 2.2.2.x) in the sender's Inbox naming who got it. */
  private async deliveryReport(mailbox: string, original: PropMap, who: readonly string[]): Promise<void> {
    const subject = str(original, Tag.PidTagSubject) ?? '';
    const now = dateToFiletime(new Date());
    const props = encodePropBag([
      [Tag.PidTagMessageClass, 'REPORT.IPM.Note.DR'],
      [Tag.PidTagSubject, `Delivered: ${subject}`],
      [Tag.PidTagBody, `Your message was delivered to:\r\n\r\n${who.join('\r\n')}\r\n`],
      [Tag.PidTagMessageDeliveryTime, now],
      [Tag.PidTagClientSubmitTime, now],
      [Tag.PidTagSenderName, 'Mail Delivery System'],
      [Tag.PidTagSentRepresentingName, 'Mail Delivery System'],
    ]);
    await this.d.system.call(actorRef<MailboxProtocol>('mailbox', mailbox), 'deliver', { props });
  }

  /**
   * Read receipts (MS-OXOMSG 3.2.5.x; RFC 8098 for remote senders) for messages just read in
   * `mailbox`: a REPORT.IPM.Note.IPNRN in a local sender's Inbox, an MDN through the outbound
   * queue for a remote one.
   */
  async readReceipts(mailbox: string, receipts: readonly ReadReceipt[]): Promise<void> {
    const reader = this.d.dir.userByAddress(mailbox);
    for (const r of receipts) {
      try {
        const local = (r.toLegacyDn !== null ? this.d.dir.userByLegacyDn(r.toLegacyDn) : undefined) ?? (r.toSmtp !== null ? this.d.dir.userByAddress(r.toSmtp) : undefined);
        const when = new Date();
        if (local !== undefined) {
          const now = dateToFiletime(when);
          const props = encodePropBag([
            [Tag.PidTagMessageClass, 'REPORT.IPM.Note.IPNRN'],
            [Tag.PidTagSubject, `Read: ${r.subject}`],
            [Tag.PidTagBody, `Your message\r\n\r\n  To: ${r.readerName}\r\n  Subject: ${r.subject}\r\n\r\nwas read on ${when.toUTCString()}.\r\n`],
            [Tag.PidTagMessageDeliveryTime, now],
            [Tag.PidTagClientSubmitTime, now],
            [Tag.PidTagSenderName, reader?.displayName ?? r.readerName],
            [Tag.PidTagSentRepresentingName, reader?.displayName ?? r.readerName],
            ...(reader !== undefined ? ([[Tag.PidTagSenderEmailAddress, reader.legacyDn], [Tag.PidTagSenderAddressType, 'EX'], [Tag.PidTagSenderSmtpAddress, reader.address]] as [number, string][]) : []),
            ...(r.internetMessageId !== null ? ([[Tag.PidTagInReplyToId, r.internetMessageId]] as [number, string][]) : []),
          ]);
          await this.d.system.call(actorRef<MailboxProtocol>('mailbox', local.address), 'deliver', { props });
        } else if (r.toSmtp !== null && this.d.outbound !== undefined) {
          await this.d.outbound.enqueue({ from: mailbox, recipients: [{ address: r.toSmtp }], raw: mdn(mailbox, reader?.displayName ?? r.readerName, r, when, this.d.hostname) });
        }
      } catch (err) {
        this.d.log.warn({ err, mailbox }, 'a read receipt could not be sent');
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }
}

/**
 * A recipient's copy (MS-OXOMSG 3.2.5.1): the same object, delivered now, unread, with the
 * received-by properties; Bcc rows are not shown to recipients. The original MIME is not copied
 * (it does not exist for a message written in MAPI).
 */
export function localCopy(wire: WireMessage, props: PropMap, rows: readonly PropMap[], user: UserRecord): WireMessage {
  const p = new Map(props);
  p.set(Tag.PidTagMessageDeliveryTime, dateToFiletime(new Date()));
  p.set(Tag.PidTagMessageFlags, 0);
  p.set(RECEIVED.PidTagReceivedByName, user.displayName);
  p.set(RECEIVED.PidTagReceivedByEntryId, addressBookEntryId(user.legacyDn));
  p.set(RECEIVED.PidTagReceivedByAddressType, 'EX');
  p.set(RECEIVED.PidTagReceivedByEmailAddress, user.legacyDn);
  p.set(RECEIVED.PidTagReceivedBySearchKey, searchKey('EX', user.legacyDn));
  p.set(RECEIVED.PidTagReceivedBySmtpAddress, user.address);
  const recipients: Uint8Array[] = [];
  (wire.recipients ?? []).forEach((r, i) => {
    if (rows[i]?.get(Tag.PidTagRecipientType) !== RecipientType.Bcc) recipients.push(r);
  });
  const copy = structuredClone({ ...wire, props: encodePropBag(p), recipients });
  delete copy.mime;
  return copy;
}

/** PidTagOriginatorDeliveryReportRequested (MS-OXOMSG 2.2.1.20). */
const DELIVERY_REPORT_REQUESTED = 0x0023000b;

const RECEIVED = {
  PidTagReceivedByName: 0x0040001f,
  PidTagReceivedByEntryId: 0x003f0102,
  PidTagReceivedByAddressType: 0x0075001f,
  PidTagReceivedByEmailAddress: 0x0076001f,
  PidTagReceivedBySearchKey: 0x00510102,
  PidTagReceivedBySmtpAddress: 0x5d07001f,
} as const;

/** An RFC 8098 message disposition notification ("displayed", sent on the reader's action). */
export function mdn(from: string, fromName: string, r: ReadReceipt, when: Date, hostname: string): Buffer {
  const boundary = `=_mdn_${when.getTime().toString(36)}`;
  const q = (s: string) => (/^[\x20-\x7e]*$/.test(s) ? s.replace(/[\r\n]/g, ' ') : `=?utf-8?B?${Buffer.from(s).toString('base64')}?=`);
  const lines = [
    `From: ${q(fromName)} <${from}>`,
    `To: <${r.toSmtp}>`,
    `Subject: ${q(`Read: ${r.subject}`)}`,
    `Date: ${when.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <mdn.${when.getTime().toString(36)}.${Math.random().toString(36).slice(2)}@${hostname}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=disposition-notification; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.from(`Your message "${r.subject}" was displayed on ${when.toUTCString()}.\r\n`).toString('base64'),
    `--${boundary}`,
    'Content-Type: message/disposition-notification',
    '',
    `Reporting-UA: ${hostname}; Stoa`,
    `Final-Recipient: rfc822;${from}`,
    ...(r.internetMessageId !== null ? [`Original-Message-ID: ${r.internetMessageId.startsWith('<') ? r.internetMessageId : `<${r.internetMessageId}>`}`] : []),
    'Disposition: manual-action/MDN-sent-manually; displayed',
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'));
}
