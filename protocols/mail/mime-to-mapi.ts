/**
 * Internet mail → MAPI message (MS-OXCMAIL 2.4, MS-OXBBODY): headers to properties, senders
 * and recipients to address properties with one-off entry ids, the native body kept (HTML,
 * plain text, or RTF from TNEF) with PidTagNativeBody, attachments of every kind, message/rfc822
 * as embedded messages, S/MIME kept opaque, TNEF decoded.
 *
 * Pure and total: any input gives a message; what could not be converted is listed in
 * `problems`. The original bytes are the caller's to keep (the store keeps them with the message).
 * Local senders and recipients become address-book (EX) addresses in `localizeAddresses`, which
 * needs the directory and so runs where the directory is.
 */
import { createHash } from 'node:crypto';
import libmime from 'libmime';
import { parseMimeTree, type MimePart, type MimeTree } from './mime/mime-tree.js';
import { findHeader, headerText, type RawHeader } from './mime/headers.js';
import { parseAddresses, parseMailDate, parseMessageIds, type Address } from './mime/header-values.js';
import { decodeTransfer } from './mime/transfer-encoding.js';
import { codePageOf, decodeText } from './mime/charset.js';
import { decodeTnef } from './tnef/tnef.js';
import { emptyMessage, type MapiAttachment, type MapiMessage, type NamedProp } from './mapi-message.js';
import { AttachMethod, ATT_MHTML_REF, NativeBody, RecipientType, Tag } from '../../storage/prop-tags.js';
import { flatEntryList, oneOffEntryId, searchKey } from '../../storage/address-ids.js';
import { dateToFiletime, PropType, type PropValue } from '../../storage/prop-types.js';
import { PS_INTERNET_HEADERS, PS_PUBLIC_STRINGS } from '../../storage/named-props.js';

/** Deepest chain of embedded messages converted; deeper ones stay attachments of raw MIME. */
export const MAX_EMBED_DEPTH = 10;
/** Longest subject, display name or header value kept in a property (characters). */
export const MAX_STRING_CHARS = 64 * 1024;
/** Longest PidTagTransportMessageHeaders kept (characters). */
export const MAX_TRANSPORT_HEADERS_CHARS = 256 * 1024;

export const PidNameKeywords = { guid: PS_PUBLIC_STRINGS, name: 'Keywords' };
export const PidNameContentClass = { guid: PS_INTERNET_HEADERS, name: 'content-class' };

export interface MimeToMapiOptions {
  /** PidTagMessageDeliveryTime (default: the Date header, else the Unix epoch). */
  deliveryTime?: Date;
}

export interface MimeConversion {
  message: MapiMessage;
  problems: string[];
}

/** Converts a whole RFC 5322 message. Never throws. */
export function mimeToMapi(raw: Uint8Array, opts: MimeToMapiOptions = {}): MimeConversion {
  const problems: string[] = [];
  try {
    const tree = parseMimeTree(raw);
    problems.push(...tree.problems);
    const message = convertMessage(tree, tree.root, 0, problems, opts.deliveryTime);
    return { message, problems };
  } catch (err) {
    // A bug, not bad input: still give the door a message (the original bytes are kept).
    problems.push(`conversion failed: ${(err as Error).message}`);
    const message = emptyMessage();
    message.props.set(Tag.PidTagMessageClass, 'IPM.Note');
    message.props.set(Tag.PidTagSubject, '');
    return { message, problems };
  }
}

function clip(s: string, max = MAX_STRING_CHARS): string {
  return s.length > max ? s.slice(0, max) : s;
}

interface Ctx {
  tree: MimeTree;
  msg: MapiMessage;
  problems: string[];
  depth: number;
  /** Bodies found so far (the first of each kind wins). */
  text: string | null;
  html: string | null;
  htmlCharset: string | null;
  bodyCharset: string | null;
  rtf: Uint8Array | null;
  /** Content ids and locations referenced from the HTML body. */
  attachments: { part: MimePart; inline: boolean; related: boolean }[];
}

function convertMessage(tree: MimeTree, root: MimePart, depth: number, problems: string[], deliveryTime?: Date): MapiMessage {
  const msg = emptyMessage();
  const ctx: Ctx = { tree, msg, problems, depth, text: null, html: null, htmlCharset: null, bodyCharset: null, rtf: null, attachments: [] };
  const fallback = headerFallbackCharset(tree, root);
  const h = (name: string) => {
    const f = findHeader(root.headers, name);
    return f === undefined ? null : clip(headerText(f.value, fallback));
  };
  mapHeaders(ctx, root, h, fallback, deliveryTime);
  walkBody(ctx, root, false);
  finishBodies(ctx);
  for (const a of ctx.attachments) msg.attachments.push(convertAttachment(ctx, a.part, a.inline, a.related));
  return msg;
}

/** The charset 8-bit header text is most likely in: the first declared body charset, else Windows-1252. */
function headerFallbackCharset(tree: MimeTree, root: MimePart): string {
  const stack = [root];
  while (stack.length > 0) {
    const p = stack.shift()!;
    const cs = p.contentType.params.charset;
    if (cs !== undefined && cs !== '' && !/^(us-)?ascii$/i.test(cs)) return cs;
    stack.push(...p.children);
    if (stack.length > 50) break;
  }
  void tree;
  return 'windows-1252';
}

// ---- headers (MS-OXCMAIL 2.4.3) ----

const SUBJECT_PREFIX = /^([^\s:\d][^\s:]{0,2}): /;

function mapHeaders(ctx: Ctx, root: MimePart, h: (n: string) => string | null, fallback: string, deliveryTime?: Date): void {
  const p = ctx.msg.props;
  p.set(Tag.PidTagMessageClass, 'IPM.Note');
  const subject = h('subject') ?? '';
  p.set(Tag.PidTagSubject, subject);
  // MS-OXCMSG 2.2.1.9: a prefix is one to three characters, not digits, then ": ".
  const pm = SUBJECT_PREFIX.exec(subject);
  p.set(Tag.PidTagSubjectPrefix, pm === null ? '' : pm[0]);
  const normalized = pm === null ? subject : subject.slice(pm[0].length);
  p.set(Tag.PidTagNormalizedSubject, normalized);
  const topic = h('thread-topic');
  p.set(Tag.PidTagConversationTopic, topic ?? normalized);

  const date = (() => {
    const d = h('date');
    return d === null ? null : parseMailDate(d);
  })();
  if (date !== null) p.set(Tag.PidTagClientSubmitTime, dateToFiletime(date));
  else if (h('date') !== null) ctx.problems.push('unreadable Date header');
  const delivered = deliveryTime ?? date ?? new Date(0);
  p.set(Tag.PidTagMessageDeliveryTime, dateToFiletime(delivered));

  const from = h('from');
  const sender = h('sender');
  const fromAddr = from === null ? [] : parseAddresses(from);
  const senderAddr = sender === null ? [] : parseAddresses(sender);
  if (fromAddr.length > 0) setAddress(p, 'SentRepresenting', fromAddr[0]!);
  const s = senderAddr[0] ?? fromAddr[0];
  if (s !== undefined) setAddress(p, 'Sender', s);

  const replyTo = h('reply-to');
  if (replyTo !== null) {
    const list = parseAddresses(replyTo);
    if (list.length > 0) {
      p.set(Tag.PidTagReplyRecipientNames, list.map((a) => a.name || a.address).join('; '));
      p.set(Tag.PidTagReplyRecipientEntries, flatEntryList(list.map((a) => oneOffEntryId(a.name || a.address, 'SMTP', a.address))));
    }
  }
  for (const [name, type] of [
    ['to', RecipientType.To],
    ['cc', RecipientType.Cc],
    ['bcc', RecipientType.Bcc],
  ] as const) {
    for (const f of root.headers) {
      if (f.name !== name) continue;
      for (const a of parseAddresses(clip(headerText(f.value, fallback)))) ctx.msg.recipients.push(recipientRow(a, type));
    }
  }
  const display = (t: number) =>
    ctx.msg.recipients
      .filter((r) => r.get(Tag.PidTagRecipientType) === t)
      .map((r) => r.get(Tag.PidTagDisplayName))
      .join('; ');
  p.set(Tag.PidTagDisplayTo, display(RecipientType.To));
  p.set(Tag.PidTagDisplayCc, display(RecipientType.Cc));
  p.set(Tag.PidTagDisplayBcc, display(RecipientType.Bcc));

  const mid = h('message-id');
  if (mid !== null) p.set(Tag.PidTagInternetMessageId, parseMessageIds(mid)[0] ?? mid);
  const irt = h('in-reply-to');
  if (irt !== null) p.set(Tag.PidTagInReplyToId, parseMessageIds(irt)[0] ?? irt);
  const refs = h('references');
  if (refs !== null) p.set(Tag.PidTagInternetReferences, parseMessageIds(refs).join(' ') || refs);

  const { importance, priority } = importanceOf(h('importance'), h('x-priority'), h('priority'), h('x-msmail-priority'));
  p.set(Tag.PidTagImportance, importance);
  p.set(Tag.PidTagPriority, priority);
  p.set(Tag.PidTagSensitivity, sensitivityOf(h('sensitivity')));
  const dnt = h('disposition-notification-to');
  if (dnt !== null) {
    p.set(Tag.PidTagReadReceiptRequested, true);
    // Where the read receipt goes (RFC 8098 2.1), kept as PidTagReadReceiptSmtpAddress.
    const to = parseAddresses(dnt)[0]?.address;
    if (to) p.set(READ_RECEIPT_SMTP_ADDRESS, to);
  }
  if (h('return-receipt-to') !== null) p.set(Tag.PidTagOriginatorDeliveryReportRequested, true);

  const headerBlock = ctx.tree.buf.subarray(root.start, root.bodyStart);
  p.set(Tag.PidTagTransportMessageHeaders, clip(decodeText(headerBlock, null, fallback), MAX_TRANSPORT_HEADERS_CHARS));

  const threadIndex = h('thread-index');
  const idx = threadIndex === null ? null : Buffer.from(threadIndex.replace(/\s+/g, ''), 'base64');
  if (idx !== null && idx.length >= 22 && (idx.length - 22) % 5 === 0) p.set(Tag.PidTagConversationIndex, idx);
  else p.set(Tag.PidTagConversationIndex, conversationIndex(date ?? delivered, (topic ?? normalized).trim().toLowerCase()));

  const keywords = h('keywords');
  if (keywords !== null) {
    const list = keywords
      .split(',')
      .map((k) => k.trim())
      .filter((k) => k !== '');
    if (list.length > 0) ctx.msg.named.push({ name: PidNameKeywords, type: PropType.PtypMultipleString, value: list });
  }
  const contentClass = h('content-class');
  if (contentClass !== null) ctx.msg.named.push({ name: PidNameContentClass, type: PropType.PtypString, value: contentClass });
}

type AddressRole = 'Sender' | 'SentRepresenting';

/** PidTagReadReceiptSmtpAddress (MS-OXOMSG 2.2.2.29). */
const READ_RECEIPT_SMTP_ADDRESS = 0x5d05001f;

function setAddress(p: Map<number, PropValue>, role: AddressRole, a: Address): void {
  const name = a.name || a.address;
  p.set(Tag[`PidTag${role}Name`], clip(name));
  p.set(Tag[`PidTag${role}AddressType`], 'SMTP');
  p.set(Tag[`PidTag${role}EmailAddress`], a.address);
  p.set(Tag[`PidTag${role}SmtpAddress`], a.address);
  p.set(Tag[`PidTag${role}EntryId`], oneOffEntryId(name, 'SMTP', a.address));
  p.set(Tag[`PidTag${role}SearchKey`], searchKey('SMTP', a.address));
}

/** MAPI_MAILUSER (MS-OXCDATA 2.2.1: PidTagObjectType). */
const MAPI_MAILUSER = 6;
/** recipSendable (MS-OXCMSG 2.2.1.x PidTagRecipientFlags). */
const RECIP_SENDABLE = 0x1;

function recipientRow(a: Address, type: number): Map<number, PropValue> {
  const name = clip(a.name || a.address);
  const entryId = oneOffEntryId(name, 'SMTP', a.address);
  return new Map<number, PropValue>([
    [Tag.PidTagRecipientType, type],
    [Tag.PidTagDisplayName, name],
    [Tag.PidTagRecipientDisplayName, name],
    [Tag.PidTagAddressType, 'SMTP'],
    [Tag.PidTagEmailAddress, a.address],
    [Tag.PidTagSmtpAddress, a.address],
    [Tag.PidTagEntryId, entryId],
    [Tag.PidTagRecipientEntryId, entryId],
    [Tag.PidTagSearchKey, searchKey('SMTP', a.address)],
    [Tag.PidTagObjectType, MAPI_MAILUSER],
    [Tag.PidTagDisplayType, 0],
    [Tag.PidTagRecipientFlags, RECIP_SENDABLE],
    [Tag.PidTagSendRichInfo, false],
  ]);
}

/** PidTagImportance 0 low / 1 normal / 2 high; PidTagPriority -1 / 0 / 1 (MS-OXCMAIL 2.2.3.2.x). */
function importanceOf(importance: string | null, xPriority: string | null, priority: string | null, msPriority: string | null): { importance: number; priority: number } {
  const v = (importance ?? msPriority ?? '').toLowerCase();
  let imp = 1;
  if (v.startsWith('high')) imp = 2;
  else if (v.startsWith('low')) imp = 0;
  else if (xPriority !== null) {
    const n = parseInt(xPriority, 10);
    if (n === 1 || n === 2) imp = 2;
    else if (n === 4 || n === 5) imp = 0;
  }
  let pri = imp - 1;
  const pv = (priority ?? '').toLowerCase();
  if (pv === 'urgent') pri = 1;
  else if (pv === 'non-urgent') pri = -1;
  else if (pv === 'normal') pri = 0;
  return { importance: imp, priority: pri };
}

/** PidTagSensitivity 0 normal / 1 personal / 2 private / 3 confidential. */
function sensitivityOf(v: string | null): number {
  switch ((v ?? '').toLowerCase()) {
    case 'personal':
      return 1;
    case 'private':
      return 2;
    case 'company-confidential':
      return 3;
    default:
      return 0;
  }
}

/**
 * A conversation index header block (MS-OXOMSG 2.2.1.3): reserved byte 1, the 5 high bytes of
 * a FILETIME, and a 16-byte conversation GUID, here made from the topic so that messages of one
 * topic without Thread-Index still group together, and the same input gives the same bytes.
 */
function conversationIndex(when: Date, topic: string): Buffer {
  const out = Buffer.alloc(22);
  out[0] = 1;
  const ft = dateToFiletime(when);
  const high = Number((ft >> 24n) & 0xffffffffffn);
  out.writeUIntBE(high, 1, 5);
  createHash('md5').update(topic).digest().copy(out, 6);
  return out;
}

// ---- bodies and attachments (MS-OXCMAIL 2.4.4, MS-OXBBODY) ----

function isAttachmentDisposition(part: MimePart): boolean {
  return part.disposition?.value === 'attachment';
}

function partText(ctx: Ctx, part: MimePart): { text: string; charset: string | null } {
  const body = decodeTransfer(ctx.tree.buf.subarray(part.bodyStart, part.end), part.encoding);
  let charset: string | null = part.contentType.params.charset ?? null;
  if (charset === null && part.contentType.subtype === 'html') charset = htmlMetaCharset(body);
  let text = decodeText(body, charset);
  if (part.contentType.subtype === 'plain' && (part.contentType.params.format ?? '').toLowerCase() === 'flowed') {
    text = libmime.decodeFlowed(text, (part.contentType.params.delsp ?? '').toLowerCase() === 'yes');
  }
  // MAPI bodies use CRLF line ends.
  text = text.replace(/\r?\n/g, '\r\n');
  return { text, charset };
}

function htmlMetaCharset(body: Buffer): string | null {
  const head = body.toString('latin1', 0, Math.min(body.length, 4096));
  const m = /<meta[^>]+charset\s*=\s*["']?([a-z0-9_.:-]+)/i.exec(head);
  return m === null ? null : m[1]!;
}

function walkBody(ctx: Ctx, part: MimePart, inRelated: boolean): void {
  const ct = part.contentType;
  if (ct.type === 'multipart') {
    if (part.children.length === 0) return;
    switch (ct.subtype) {
      case 'alternative': {
        // The richest form we understand is the body; the others were the same content.
        const html = part.children.find((c) => c.contentType.value === 'text/html' || (c.contentType.type === 'multipart' && containsHtml(c)));
        const text = part.children.find((c) => c.contentType.value === 'text/plain');
        if (html !== undefined) walkBody(ctx, html, inRelated);
        if (text !== undefined && ctx.text === null) {
          const t = partText(ctx, text);
          ctx.text = t.text;
          ctx.bodyCharset ??= t.charset;
        }
        if (html === undefined && text === undefined) walkBody(ctx, part.children[part.children.length - 1]!, inRelated);
        // Calendar alternatives are kept (as attachments) for the iCalendar converter.
        for (const c of part.children) if (c.contentType.value === 'text/calendar') ctx.attachments.push({ part: c, inline: false, related: false });
        return;
      }
      case 'related': {
        const start = ct.params.start;
        const rootIndex = start === undefined ? 0 : Math.max(0, part.children.findIndex((c) => contentId(c) === stripAngles(start)));
        part.children.forEach((c, i) => {
          if (i === rootIndex) walkBody(ctx, c, true);
          else ctx.attachments.push({ part: c, inline: true, related: true });
        });
        return;
      }
      case 'signed': {
        // MS-OXCMAIL 2.4.9 / MS-OXOSMIME: the message stays opaque (one attachment holding the
        // whole signed MIME entity); the signed content also gives the body shown.
        ctx.msg.props.set(Tag.PidTagMessageClass, 'IPM.Note.SMIME.MultipartSigned');
        walkBody(ctx, part.children[0]!, inRelated);
        ctx.attachments.length = 0;
        ctx.attachments.push({ part, inline: false, related: false });
        return;
      }
      case 'report': {
        const type = (ct.params['report-type'] ?? '').toLowerCase();
        if (type === 'delivery-status') ctx.msg.props.set(Tag.PidTagMessageClass, reportClass(ctx, part));
        else if (type === 'disposition-notification') ctx.msg.props.set(Tag.PidTagMessageClass, 'REPORT.IPM.Note.IPNRN');
        walkMixed(ctx, part, inRelated);
        return;
      }
      default:
        walkMixed(ctx, part, inRelated);
        return;
    }
  }
  if (ct.value === 'application/pkcs7-mime' || ct.value === 'application/x-pkcs7-mime') {
    ctx.msg.props.set(Tag.PidTagMessageClass, 'IPM.Note.SMIME');
    ctx.attachments.push({ part, inline: false, related: false });
    return;
  }
  if (ct.type === 'text' && (ct.subtype === 'plain' || ct.subtype === 'html') && !isAttachmentDisposition(part)) {
    if (ct.subtype === 'html' && ctx.html === null) {
      const t = partText(ctx, part);
      ctx.html = t.text;
      ctx.htmlCharset = t.charset;
      ctx.bodyCharset ??= t.charset;
      return;
    }
    if (ct.subtype === 'plain' && ctx.text === null && ctx.html === null) {
      const t = partText(ctx, part);
      ctx.text = t.text;
      ctx.bodyCharset ??= t.charset;
      return;
    }
  }
  if (isTnef(part)) {
    if (mergeTnef(ctx, part)) return;
  }
  ctx.attachments.push({ part, inline: part.disposition?.value === 'inline', related: inRelated });
}

function walkMixed(ctx: Ctx, part: MimePart, inRelated: boolean): void {
  for (const c of part.children) {
    const isBodyCandidate = c.contentType.type === 'multipart' || ((c.contentType.value === 'text/plain' || c.contentType.value === 'text/html') && !isAttachmentDisposition(c));
    if (isBodyCandidate && ctx.text === null && ctx.html === null && ctx.rtf === null) walkBody(ctx, c, inRelated);
    else if (c.contentType.type === 'multipart') walkBody(ctx, c, inRelated);
    else if (isTnef(c) && mergeTnef(ctx, c)) continue;
    else ctx.attachments.push({ part: c, inline: c.disposition?.value === 'inline', related: false });
  }
}

function containsHtml(part: MimePart): boolean {
  if (part.contentType.value === 'text/html') return true;
  return part.children.some(containsHtml);
}

function reportClass(ctx: Ctx, part: MimePart): string {
  const status = part.children.find((c) => c.contentType.value === 'message/delivery-status');
  if (status !== undefined) {
    const text = ctx.tree.buf.toString('latin1', status.bodyStart, Math.min(status.end, status.bodyStart + 64 * 1024));
    if (/^action:\s*failed/im.test(text)) return 'REPORT.IPM.Note.NDR';
    if (/^action:\s*(delivered|relayed|expanded)/im.test(text)) return 'REPORT.IPM.Note.DR';
    if (/^action:\s*delayed/im.test(text)) return 'REPORT.IPM.Note.Delayed.DR';
  }
  return 'REPORT.IPM.Note.NDR';
}

function isTnef(part: MimePart): boolean {
  const ct = part.contentType.value;
  if (ct === 'application/ms-tnef' || ct === 'application/vnd.ms-tnef') return true;
  const name = (part.disposition?.params.filename ?? part.contentType.params.name ?? '').toLowerCase();
  return ct === 'application/octet-stream' && name === 'winmail.dat';
}

/** Folds a TNEF attachment into the message (MS-OXTNEF); false when it held nothing usable. */
function mergeTnef(ctx: Ctx, part: MimePart): boolean {
  const bytes = decodeTransfer(ctx.tree.buf.subarray(part.bodyStart, part.end), part.encoding);
  const { message, problems } = decodeTnef(bytes);
  if (message.props.size === 0 && message.attachments.length === 0 && message.named.length === 0) {
    ctx.problems.push(`TNEF part ${part.path} could not be decoded (${problems.join('; ')}); kept as an attachment`);
    return false;
  }
  for (const p of problems) ctx.problems.push(`TNEF part ${part.path}: ${p}`);
  for (const [tag, value] of message.props) {
    // TNEF carries the sender's own view of these; the MIME headers already gave the transport's.
    if (TNEF_SKIP.has(tag)) continue;
    if (tag === Tag.PidTagRtfCompressed && value instanceof Uint8Array) {
      ctx.rtf = value;
      continue;
    }
    if (tag === Tag.PidTagBody && typeof value === 'string') {
      ctx.text ??= value;
      continue;
    }
    if (tag === Tag.PidTagHtml && value instanceof Uint8Array) {
      ctx.html ??= Buffer.from(value).toString('utf8');
      continue;
    }
    ctx.msg.props.set(tag, value);
  }
  ctx.msg.named.push(...message.named);
  ctx.msg.attachments.push(...message.attachments);
  return true;
}

const TNEF_SKIP: ReadonlySet<number> = new Set([Tag.PidTagTransportMessageHeaders, Tag.PidTagMessageDeliveryTime, Tag.PidTagEntryId, Tag.PidTagSearchKey]);

function finishBodies(ctx: Ctx): void {
  const p = ctx.msg.props;
  const cp = codePageOf(ctx.bodyCharset);
  p.set(Tag.PidTagInternetCodepage, ctx.html !== null || ctx.text !== null ? 65001 : cp);
  if (ctx.html !== null) {
    p.set(Tag.PidTagHtml, Buffer.from(ctx.html, 'utf8'));
    if (ctx.text !== null) p.set(Tag.PidTagBody, ctx.text);
    p.set(Tag.PidTagNativeBody, NativeBody.Html);
  } else if (ctx.rtf !== null) {
    p.set(Tag.PidTagRtfCompressed, ctx.rtf);
    p.set(Tag.PidTagRtfInSync, true);
    if (ctx.text !== null) p.set(Tag.PidTagBody, ctx.text);
    p.set(Tag.PidTagNativeBody, NativeBody.Rtf);
  } else if (ctx.text !== null) {
    p.set(Tag.PidTagBody, ctx.text);
    p.set(Tag.PidTagNativeBody, NativeBody.PlainText);
  } else {
    p.set(Tag.PidTagNativeBody, NativeBody.Undefined);
  }
  if (ctx.rtf !== null && ctx.html !== null) p.set(Tag.PidTagRtfCompressed, ctx.rtf);
}

function stripAngles(s: string): string {
  const t = s.trim();
  return t.startsWith('<') && t.endsWith('>') ? t.slice(1, -1) : t;
}

function contentId(part: MimePart): string | null {
  const f = findHeader(part.headers, 'content-id');
  return f === undefined ? null : stripAngles(headerText(f.value, 'latin1', false));
}

function partHeader(part: MimePart, name: string): RawHeader | undefined {
  return findHeader(part.headers, name);
}

function fileNameOf(part: MimePart): string | null {
  const n = part.disposition?.params.filename ?? part.contentType.params.name;
  if (n === undefined || n.trim() === '') return null;
  // Path parts are never kept (a name like "../../x" is only a name).
  return n.replace(/^.*[\\/]/, '').trim() || null;
}

function extensionOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot > 0 && dot >= name.length - 12 ? name.slice(dot) : '';
}

function convertAttachment(ctx: Ctx, part: MimePart, inline: boolean, related: boolean): MapiAttachment {
  const a: MapiAttachment = { props: new Map(), named: [] };
  const p = a.props;
  const ct = part.contentType;
  p.set(Tag.PidTagAttachMimeTag, ct.value);
  p.set(Tag.PidTagRenderingPosition, -1);
  const cid = contentId(part);
  if (cid !== null && cid !== '') p.set(Tag.PidTagAttachContentId, cid);
  const loc = partHeader(part, 'content-location');
  if (loc !== undefined) p.set(Tag.PidTagAttachContentLocation, clip(headerText(loc.value)));
  const referenced = ctx.html !== null && ((cid !== null && cid !== '' && ctx.html.includes(`cid:${cid}`)) || (loc !== undefined && ctx.html.includes(headerText(loc.value))));
  if (referenced) {
    p.set(Tag.PidTagAttachFlags, ATT_MHTML_REF);
    p.set(Tag.PidTagAttachmentHidden, true);
  } else if (related && inline && ct.type === 'image') {
    // An inline image of a related body that the HTML does not name: shown, not hidden.
    p.set(Tag.PidTagAttachmentHidden, false);
  }

  // message/rfc822 (and an illegally encoded one) becomes an embedded message.
  if (ct.type === 'message' && (ct.subtype === 'rfc822' || ct.subtype === 'global')) {
    if (ctx.depth + 1 < MAX_EMBED_DEPTH) {
      let inner: { tree: MimeTree; root: MimePart };
      if (part.message !== null) inner = { tree: ctx.tree, root: part.message };
      else {
        const decoded = decodeTransfer(ctx.tree.buf.subarray(part.bodyStart, part.end), part.encoding);
        const t = parseMimeTree(decoded);
        ctx.problems.push(...t.problems.map((x) => `embedded ${part.path}: ${x}`));
        inner = { tree: t, root: t.root };
      }
      const embedded = convertMessage(inner.tree, inner.root, ctx.depth + 1, ctx.problems);
      a.embedded = embedded;
      p.set(Tag.PidTagAttachMethod, AttachMethod.EmbeddedMessage);
      const subject = embedded.props.get(Tag.PidTagSubject);
      p.set(Tag.PidTagDisplayName, typeof subject === 'string' && subject !== '' ? subject : (fileNameOf(part) ?? 'Message'));
      return a;
    }
    ctx.problems.push(`embedded message ${part.path} nested deeper than ${MAX_EMBED_DEPTH}; kept as a file`);
  }

  p.set(Tag.PidTagAttachMethod, AttachMethod.ByValue);
  // A signed multipart is kept whole: its bytes are what the signature covers.
  const data = ct.value === 'multipart/signed' ? signedEntity(ctx, part) : decodeTransfer(ctx.tree.buf.subarray(part.bodyStart, part.end), part.encoding);
  a.data = Buffer.from(data);
  let name = fileNameOf(part);
  if (ct.value === 'multipart/signed' || ct.value === 'application/pkcs7-mime' || ct.value === 'application/x-pkcs7-mime') name = 'smime.p7m';
  if (name === null) {
    const ext = libmime.detectExtension(ct.value);
    name = `${ct.type === 'image' ? 'image' : 'attachment'}${ext !== '' && ext !== 'bin' ? `.${ext}` : ext === 'bin' ? '.bin' : ''}`;
  }
  p.set(Tag.PidTagAttachLongFilename, clip(name, 255));
  p.set(Tag.PidTagAttachFilename, clip(name, 255));
  p.set(Tag.PidTagDisplayName, clip(name, 255));
  const ext = extensionOf(name);
  if (ext !== '') p.set(Tag.PidTagAttachExtension, ext);
  if (ct.type === 'text' && ct.params.charset !== undefined) p.set(Tag.PidTagTextAttachmentCharset, ct.params.charset);
  return a;
}

/** A signed entity as the signature covers it: its Content-* fields, a blank line, its body (bytes unchanged). */
function signedEntity(ctx: Ctx, part: MimePart): Buffer {
  const fields = part.headers.filter((h) => h.name.startsWith('content-')).map((h) => ctx.tree.buf.subarray(h.start, h.end));
  const lastEnd = fields.length > 0 ? fields[fields.length - 1]! : null;
  const needsBreak = lastEnd !== null && lastEnd[lastEnd.length - 1] !== 0x0a;
  return Buffer.concat([...fields, Buffer.from(needsBreak ? '\r\n\r\n' : '\r\n'), ctx.tree.buf.subarray(part.bodyStart, part.end)]);
}

/** Names of the named properties this converter emits (for tests and the store's mapping). */
export const EMITTED_NAMES: readonly NamedProp['name'][] = [PidNameKeywords, PidNameContentClass];
