/**
 * Delivery status notifications (RFC 3464) the server sends to an envelope sender: a
 * multipart/report (RFC 6522) with a human-readable part, a message/delivery-status part
 * (per-message fields, then one block per recipient), and the original message
 * (message/rfc822) or its header block (text/rfc822-headers) as RET asks (RFC 3461 4.3).
 *
 * Pure: bytes out of data; the caller decides whether a notice is wanted (NOTIFY, null sender).
 */
import { randomBytes } from 'node:crypto';
import { rfc5322Date } from '../../mail/mapi-to-mime.js';
import type { NotifyValue, QueueReply } from '../../../storage/outbound-queue.js';

/** With no RET, the whole original comes back up to this size, its header block above it. */
export const DSN_RETURN_FULL_DEFAULT_MAX = 256 * 1024;
/** Even with RET=FULL, a larger original comes back as its header block only. */
export const DSN_RETURN_FULL_MAX = 10 * 1024 * 1024;
/** Diagnostic text kept per recipient (a header field stays far below 998 octets a line). */
const DIAGNOSTIC_MAX = 500;

export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

export interface DsnRecipient {
  /** Final-Recipient. */
  address: string;
  /** ORCPT as given ("rfc822;addr"): Original-Recipient. */
  orcpt?: string;
  action: DsnAction;
  /** The reply that decided it (Status, Diagnostic-Code). */
  reply: QueueReply | null;
  /** "dns; host" when a remote server answered. */
  remoteMta?: string | null;
  lastAttempt?: number | null;
  /** For "delayed": until when the queue keeps trying. */
  willRetryUntil?: number;
}

export interface DsnInput {
  /** Our host name: Reporting-MTA and the notice's From. */
  reportingMta: string;
  /** The envelope sender the notice goes to. */
  to: string;
  envid?: string;
  ret?: 'FULL' | 'HDRS';
  /** When the original arrived. */
  arrival: number;
  queueId?: string;
  recipients: DsnRecipient[];
  original: Buffer;
  now?: Date;
}

/** Whether a recipient's NOTIFY asks for a notice of this kind (RFC 3461 4.1; no NOTIFY = failures only). */
export function wantsNotice(notify: readonly NotifyValue[] | undefined, kind: 'FAILURE' | 'DELAY' | 'SUCCESS'): boolean {
  if (notify === undefined || notify.length === 0) return kind === 'FAILURE';
  return !notify.includes('NEVER') && notify.includes(kind);
}

/** The header block of a message (up to and including the blank line, or all of it). */
export function headerBlock(msg: Buffer): Buffer {
  const crlf = msg.indexOf('\r\n\r\n');
  const lf = msg.indexOf('\n\n');
  if (crlf >= 0 && (lf < 0 || crlf < lf)) return msg.subarray(0, crlf + 2);
  if (lf >= 0) return msg.subarray(0, lf + 1);
  return msg;
}

const oneLine = (s: string, max = DIAGNOSTIC_MAX) => s.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e\u0080-\uffff]/g, '').slice(0, max);

function statusOf(r: DsnRecipient): string {
  if (r.reply !== null && /^[245]\.\d{1,3}\.\d{1,3}$/.test(r.reply.status)) return r.reply.status;
  switch (r.action) {
    case 'failed':
      return r.reply !== null && r.reply.code < 500 ? '4.0.0' : '5.0.0';
    case 'delayed':
      return '4.0.0';
    default:
      return '2.0.0';
  }
}

/** The notice, ready to queue or deliver (CRLF line ends). */
export function buildDsn(i: DsnInput): Buffer {
  const now = i.now ?? new Date();
  const host = i.reportingMta;
  const boundary = `=_stoa_dsn_${randomBytes(12).toString('hex')}`;
  const failed = i.recipients.filter((r) => r.action === 'failed');
  const delayed = i.recipients.filter((r) => r.action === 'delayed');
  const subject = failed.length > 0 ? 'Undelivered Mail Returned to Sender' : delayed.length > 0 ? 'Delayed Mail (still being retried)' : 'Successful Mail Delivery Report';

  // The original's Message-ID, so mail clients thread the notice with what was sent.
  const hb = headerBlock(i.original).toString('latin1');
  const mid = /^message-id:[ \t]*(<[^>\r\n]+>)/im.exec(hb)?.[1];
  const origSubject = /^subject:[ \t]*([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)/im.exec(hb)?.[1]?.replace(/\r?\n[ \t]/g, ' ');

  let text = `This is the mail system at ${host}.\r\n\r\n`;
  if (failed.length > 0) {
    text += `Your message${origSubject !== undefined ? ` "${oneLine(origSubject, 200)}"` : ''} could not be delivered to ${failed.length === 1 ? 'a recipient' : 'some recipients'}. This is a permanent error; the mail system has given up on ${failed.length === 1 ? 'it' : 'them'}.\r\n\r\n`;
    for (const r of failed) text += `  <${r.address}>: ${r.reply !== null ? oneLine(`${r.reply.code} ${r.reply.status} ${r.reply.text}`) : 'failed'}${r.remoteMta ? ` (from ${r.remoteMta.replace(/^dns;\s*/, '')})` : ''}\r\n`;
    text += '\r\n';
  }
  if (delayed.length > 0) {
    text += `Your message has not been delivered yet to the recipients below. The mail system keeps trying${delayed[0]!.willRetryUntil !== undefined ? ` until ${rfc5322Date(new Date(delayed[0]!.willRetryUntil))}` : ''}; you need not send it again.\r\n\r\n`;
    for (const r of delayed) text += `  <${r.address}>: ${r.reply !== null ? oneLine(`${r.reply.code} ${r.reply.status} ${r.reply.text}`) : 'not yet delivered'}\r\n`;
    text += '\r\n';
  }
  const ok = i.recipients.filter((r) => r.action === 'delivered' || r.action === 'relayed');
  if (ok.length > 0) {
    text += 'Your message was delivered (or handed to a server that sends no delivery notices) for:\r\n\r\n';
    for (const r of ok) text += `  <${r.address}>: ${r.action}\r\n`;
    text += '\r\n';
  }
  text += `The technical report and ${returnsFull(i) ? 'your message' : "your message's header"} are attached.\r\n`;

  // RFC 3464 2.2 per-message fields, 2.3 per-recipient fields.
  let status = `Reporting-MTA: dns; ${host}\r\n`;
  if (i.queueId !== undefined) status += `X-Stoa-Queue-ID: ${i.queueId}\r\n`;
  if (i.envid !== undefined) status += `Original-Envelope-Id: ${oneLine(i.envid, 100)}\r\n`;
  status += `Arrival-Date: ${rfc5322Date(new Date(i.arrival))}\r\n`;
  for (const r of i.recipients) {
    status += '\r\n';
    status += `Final-Recipient: rfc822; ${r.address}\r\n`;
    if (r.orcpt !== undefined) {
      const semi = r.orcpt.indexOf(';');
      status += `Original-Recipient: ${semi > 0 ? `${r.orcpt.slice(0, semi)}; ${r.orcpt.slice(semi + 1)}` : `rfc822; ${r.orcpt}`}\r\n`;
    }
    status += `Action: ${r.action}\r\n`;
    status += `Status: ${statusOf(r)}\r\n`;
    if (r.remoteMta) status += `Remote-MTA: ${r.remoteMta}\r\n`;
    if (r.reply !== null) status += `Diagnostic-Code: ${r.remoteMta ? 'smtp' : 'X-Stoa'}; ${oneLine(`${r.reply.code} ${r.reply.status} ${r.reply.text}`)}\r\n`;
    if (r.lastAttempt !== undefined && r.lastAttempt !== null) status += `Last-Attempt-Date: ${rfc5322Date(new Date(r.lastAttempt))}\r\n`;
    if (r.action === 'delayed' && r.willRetryUntil !== undefined) status += `Will-Retry-Until: ${rfc5322Date(new Date(r.willRetryUntil))}\r\n`;
  }

  const eightBit = /[^\x00-\x7f]/.test(text);
  const head =
    `From: Mail Delivery System <MAILER-DAEMON@${host}>\r\n` +
    `To: <${i.to}>\r\n` +
    `Subject: ${subject}\r\n` +
    `Date: ${rfc5322Date(now)}\r\n` +
    `Message-ID: <${randomBytes(12).toString('hex')}.dsn@${host}>\r\n` +
    (mid !== undefined ? `In-Reply-To: ${mid}\r\nReferences: ${mid}\r\n` : '') +
    // RFC 3834 5: automatic responses say so (and are not answered automatically).
    'Auto-Submitted: auto-replied\r\n' +
    'MIME-Version: 1.0\r\n' +
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"\r\n` +
    '\r\n' +
    'This is a MIME-encapsulated message.\r\n\r\n';
  const parts: Buffer[] = [
    Buffer.from(
      head +
        `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: ${eightBit ? '8bit' : '7bit'}\r\nContent-Description: Notification\r\n\r\n${text}\r\n` +
        `--${boundary}\r\nContent-Type: message/delivery-status\r\nContent-Description: Delivery report\r\n\r\n${status}\r\n`,
      'utf8',
    ),
  ];
  if (returnsFull(i)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: message/rfc822\r\nContent-Description: Undelivered message\r\n\r\n`, 'latin1'), i.original);
  } else {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Type: text/rfc822-headers\r\nContent-Description: Undelivered message headers\r\n\r\n`, 'latin1'), headerBlock(i.original));
  }
  const tail = i.original.length > 0 && i.original[i.original.length - 1] !== 0x0a ? '\r\n' : '';
  parts.push(Buffer.from(`${tail}\r\n--${boundary}--\r\n`, 'latin1'));
  return Buffer.concat(parts);
}

/** Whole original or headers only: RET, size, and what the notice reports (delays and successes get headers). */
function returnsFull(i: DsnInput): boolean {
  if (!i.recipients.some((r) => r.action === 'failed')) return false;
  if (i.ret === 'HDRS') return false;
  return i.original.length <= (i.ret === 'FULL' ? DSN_RETURN_FULL_MAX : DSN_RETURN_FULL_DEFAULT_MAX);
}
