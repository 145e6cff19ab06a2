/**
 * MAPI message → Internet mail (MS-OXCMAIL 2.2): for IMAP, POP3 and remote recipients.
 *
 * Stable: the output is a pure function of the message's properties, recipients and attachments
 * (dates come from the message, boundaries and a missing Message-ID are derived from its
 * content and identity), so the same stored object always gives the same bytes and IMAP sizes
 * and BODYSTRUCTURE never change between fetches. Only 7-bit output: text parts are
 * quoted-printable UTF-8, binary parts base64, headers RFC 2047 / RFC 2231 encoded; so a boundary
 * containing "=_" can never occur inside a part.
 *
 * Bodies per MS-OXBBODY: the stored HTML, else HTML de-encapsulated from RTF, else the plain
 * text; the plain-text alternative is the stored PidTagBody or made from the HTML.
 */
import { createHash } from 'node:crypto';
import libmime from 'libmime';
import type { MapiAttachment, MapiMessage } from './mapi-message.js';
import { AttachMethod, RecipientType, Tag } from '../../storage/prop-tags.js';
import { filetimeToDate, type PropValue } from '../../storage/prop-types.js';
import { parseAddressId, parseFlatEntryList } from '../../storage/address-ids.js';
import { encodeBase64Lines, encodeQuotedPrintable } from './mime/transfer-encoding.js';
import { readBodies } from './body.js';
import { PidNameKeywords } from './mime-to-mapi.js';
import { guidToString } from '../../storage/guid.js';

/** Deepest chain of embedded messages written out; deeper ones are left out (and counted). */
export const MAX_EXPORT_DEPTH = 10;

export interface MapiToMimeOptions {
  /** Host name for a Message-ID the message does not have. */
  hostname?: string;
  /** Write Bcc (the sender's own copy, drafts); never for transport. */
  includeBcc?: boolean;
  /** SMTP address (and display name) of an EX address (a legacy DN), from the directory. */
  resolveEx?: (legacyDn: string) => { address: string; name?: string } | null;
}

interface Mailbox {
  name: string;
  address: string | null;
}

const CRLF = '\r\n';

export function mapiToMime(msg: MapiMessage, opts: MapiToMimeOptions = {}): Buffer {
  return Buffer.from(writeMessage(msg, opts, 0, ''), 'latin1');
}

function str(v: PropValue | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

function bin(v: PropValue | undefined): Uint8Array | null {
  return v instanceof Uint8Array ? v : null;
}

function time(v: PropValue | undefined): Date | null {
  return typeof v === 'bigint' ? filetimeToDate(v) : null;
}

// ---- headers ----

function needsEncoding(s: string): boolean {
  return /[^\x20-\x7e]/.test(s);
}

/** An unstructured header field, folded at 78 (RFC 5322 2.2.3), non-ASCII as encoded words. */
function field(name: string, value: string): string {
  const clean = value.replace(/[\r\n]+/g, ' ');
  const v = needsEncoding(clean) ? libmime.encodeWords(clean, 'Q', 52) : clean;
  return libmime.foldLines(`${name}: ${v}`, 76) + CRLF;
}

function quoteName(name: string): string {
  if (name === '') return '';
  if (needsEncoding(name)) return libmime.encodeWords(name, 'Q', 52);
  if (/^[\w !#$%&'*+/=?^`{|}~-]+$/.test(name)) return name;
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function formatMailbox(m: Mailbox): string {
  if (m.address === null) return `${quoteName(m.name || 'Unknown')}: ;`;
  const name = m.name !== '' && m.name !== m.address ? quoteName(m.name) : '';
  return name === '' ? `<${m.address}>` : `${name} <${m.address}>`;
}

function addressField(name: string, list: readonly Mailbox[]): string {
  if (list.length === 0) return '';
  // Fold between addresses only (an encoded word is never split).
  let out = `${name}: `;
  let lineLen = out.length;
  list.forEach((m, i) => {
    const s = formatMailbox(m) + (i < list.length - 1 ? ',' : '');
    if (i > 0) {
      if (lineLen + 1 + s.length > 76) {
        out += `${CRLF} `;
        lineLen = 1;
      } else {
        out += ' ';
        lineLen++;
      }
    }
    out += s;
    lineLen += s.length;
  });
  return out + CRLF;
}

function smtpOf(opts: MapiToMimeOptions, type: string | null, email: string | null, smtp: string | null, entryId: Uint8Array | null, name: string): Mailbox {
  if (smtp !== null && smtp !== '') return { name, address: smtp };
  if (type !== null && type.toUpperCase() === 'SMTP' && email !== null && email !== '') return { name, address: email };
  if (type !== null && type.toUpperCase() === 'EX' && email !== null) {
    const r = opts.resolveEx?.(email) ?? null;
    if (r !== null) return { name: name || r.name || '', address: r.address };
  }
  if (entryId !== null) {
    const parsed = parseAddressId(entryId);
    if (parsed?.kind === 'one-off' && parsed.addressType.toUpperCase() === 'SMTP') return { name: name || parsed.displayName, address: parsed.address };
    if (parsed?.kind === 'address-book') {
      const r = opts.resolveEx?.(parsed.x500dn) ?? null;
      if (r !== null) return { name: name || r.name || '', address: r.address };
    }
  }
  return { name, address: null };
}

function roleMailbox(msg: MapiMessage, opts: MapiToMimeOptions, role: 'Sender' | 'SentRepresenting'): Mailbox | null {
  const p = msg.props;
  const name = str(p.get(Tag[`PidTag${role}Name`])) ?? '';
  const type = str(p.get(Tag[`PidTag${role}AddressType`]));
  const email = str(p.get(Tag[`PidTag${role}EmailAddress`]));
  const smtp = str(p.get(Tag[`PidTag${role}SmtpAddress`]));
  const entryId = bin(p.get(Tag[`PidTag${role}EntryId`]));
  if (name === '' && type === null && email === null && smtp === null && entryId === null) return null;
  return smtpOf(opts, type, email, smtp, entryId, name);
}

function recipientMailbox(r: Map<number, PropValue>, opts: MapiToMimeOptions): Mailbox {
  const name = str(r.get(Tag.PidTagDisplayName)) ?? str(r.get(Tag.PidTagRecipientDisplayName)) ?? '';
  return smtpOf(opts, str(r.get(Tag.PidTagAddressType)), str(r.get(Tag.PidTagEmailAddress)), str(r.get(Tag.PidTagSmtpAddress)), bin(r.get(Tag.PidTagEntryId)), name);
}

/** A stable identity for the message: its source key, else a hash of what it says. */
function identityHash(msg: MapiMessage): string {
  const h = createHash('sha256');
  const sk = bin(msg.props.get(Tag.PidTagSourceKey)) ?? bin(msg.props.get(Tag.PidTagSearchKey));
  if (sk !== null) h.update(sk);
  else {
    for (const tag of [Tag.PidTagSubject, Tag.PidTagClientSubmitTime, Tag.PidTagMessageDeliveryTime, Tag.PidTagCreationTime, Tag.PidTagSenderEmailAddress]) h.update(String(msg.props.get(tag) ?? '')).update('\0');
    const html = bin(msg.props.get(Tag.PidTagHtml));
    if (html !== null) h.update(html);
    h.update(str(msg.props.get(Tag.PidTagBody)) ?? '');
  }
  return h.digest('hex');
}

function writeHeaders(msg: MapiMessage, opts: MapiToMimeOptions, hash: string): string {
  const p = msg.props;
  let out = '';
  const from = roleMailbox(msg, opts, 'SentRepresenting');
  const sender = roleMailbox(msg, opts, 'Sender');
  if (from !== null) out += addressField('From', [from]);
  else if (sender !== null) out += addressField('From', [sender]);
  if (from !== null && sender !== null && sender.address !== null && sender.address.toLowerCase() !== (from.address ?? '').toLowerCase()) out += addressField('Sender', [sender]);
  const replies = bin(p.get(Tag.PidTagReplyRecipientEntries));
  if (replies !== null) {
    const list = (parseFlatEntryList(replies) ?? []).map((id) => smtpOf(opts, null, null, null, id, '')).filter((m) => m.address !== null);
    out += addressField('Reply-To', list);
  }
  const byType = (t: number) => msg.recipients.filter((r) => r.get(Tag.PidTagRecipientType) === t).map((r) => recipientMailbox(r, opts));
  out += addressField('To', byType(RecipientType.To));
  out += addressField('Cc', byType(RecipientType.Cc));
  if (opts.includeBcc === true) out += addressField('Bcc', byType(RecipientType.Bcc));
  out += field('Subject', str(p.get(Tag.PidTagSubject)) ?? '');
  const date = time(p.get(Tag.PidTagClientSubmitTime)) ?? time(p.get(Tag.PidTagMessageDeliveryTime)) ?? time(p.get(Tag.PidTagCreationTime)) ?? time(p.get(Tag.PidTagLastModificationTime)) ?? new Date(0);
  out += `Date: ${rfc5322Date(date)}${CRLF}`;
  const mid = str(p.get(Tag.PidTagInternetMessageId));
  out += `Message-ID: ${mid !== null && mid !== '' ? mid : `<${hash.slice(0, 32)}@${opts.hostname ?? 'stoa.invalid'}>`}${CRLF}`;
  const irt = str(p.get(Tag.PidTagInReplyToId));
  if (irt !== null && irt !== '') out += libmime.foldLines(`In-Reply-To: ${irt}`, 76) + CRLF;
  const refs = str(p.get(Tag.PidTagInternetReferences));
  if (refs !== null && refs !== '') out += libmime.foldLines(`References: ${refs}`, 76) + CRLF;
  const topic = str(p.get(Tag.PidTagConversationTopic));
  if (topic !== null && topic !== '') out += field('Thread-Topic', topic);
  const idx = bin(p.get(Tag.PidTagConversationIndex));
  if (idx !== null && idx.byteLength >= 22) out += `Thread-Index: ${Buffer.from(idx).toString('base64')}${CRLF}`;
  const importance = p.get(Tag.PidTagImportance);
  if (importance === 2) out += `Importance: high${CRLF}X-Priority: 1${CRLF}`;
  else if (importance === 0) out += `Importance: low${CRLF}X-Priority: 5${CRLF}`;
  const sens = p.get(Tag.PidTagSensitivity);
  if (sens === 1) out += `Sensitivity: Personal${CRLF}`;
  else if (sens === 2) out += `Sensitivity: Private${CRLF}`;
  else if (sens === 3) out += `Sensitivity: Company-Confidential${CRLF}`;
  if (p.get(Tag.PidTagReadReceiptRequested) === true && from?.address) out += addressField('Disposition-Notification-To', [from]);
  const kw = msg.named.find((n) => 'name' in n.name && n.name.name === PidNameKeywords.name && guidToString(n.name.guid) === guidToString(PidNameKeywords.guid));
  if (kw !== undefined && Array.isArray(kw.value) && kw.value.length > 0) out += field('Keywords', kw.value.map(String).join(', '));
  out += `MIME-Version: 1.0${CRLF}`;
  return out;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** RFC 5322 3.3 date in UTC ("+0000"): the message keeps no time zone. */
export function rfc5322Date(d: Date): string {
  const t = Number.isNaN(d.getTime()) ? new Date(0) : d;
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${DAYS[t.getUTCDay()]}, ${t.getUTCDate()} ${MONTHS[t.getUTCMonth()]} ${t.getUTCFullYear()} ${p2(t.getUTCHours())}:${p2(t.getUTCMinutes())}:${p2(t.getUTCSeconds())} +0000`;
}

// ---- body structure ----

interface Entity {
  headers: string;
  body: string;
}

function textEntity(subtype: 'plain' | 'html', text: string): Entity {
  const bytes = Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8');
  return { headers: `Content-Type: text/${subtype}; charset=utf-8${CRLF}Content-Transfer-Encoding: quoted-printable${CRLF}`, body: encodeQuotedPrintable(bytes) };
}

function multipart(subtype: string, boundary: string, parts: Entity[], extra = ''): Entity {
  let body = '';
  for (const part of parts) body += `--${boundary}${CRLF}${part.headers}${CRLF}${part.body}${CRLF}`;
  body += `--${boundary}--${CRLF}`;
  return { headers: `Content-Type: multipart/${subtype};${extra}${CRLF} boundary="${boundary}"${CRLF}`, body };
}

function paramHeader(name: string, value: string, params: Record<string, string>): string {
  return libmime.foldLines(`${name}: ${libmime.buildHeaderValue({ value, params })}`, 76) + CRLF;
}

function attachmentEntity(a: MapiAttachment, opts: MapiToMimeOptions, depth: number, path: string, inline: boolean): Entity | null {
  const p = a.props;
  const method = p.get(Tag.PidTagAttachMethod);
  const name = str(p.get(Tag.PidTagAttachLongFilename)) ?? str(p.get(Tag.PidTagAttachFilename)) ?? str(p.get(Tag.PidTagDisplayName)) ?? '';
  if (method === AttachMethod.EmbeddedMessage && a.embedded !== undefined) {
    if (depth + 1 >= MAX_EXPORT_DEPTH) return null;
    const inner = writeMessage(a.embedded, { ...opts, includeBcc: false }, depth + 1, path);
    const params: Record<string, string> = {};
    if (name !== '') params.filename = `${name}.eml`;
    return { headers: `Content-Type: message/rfc822${CRLF}${paramHeader('Content-Disposition', 'attachment', params)}`, body: inner.replace(/\r\n$/, '') };
  }
  const data = a.data ?? new Uint8Array(0);
  const mime = str(p.get(Tag.PidTagAttachMimeTag)) ?? (libmime.detectMimeType(name) || 'application/octet-stream');
  const ctParams: Record<string, string> = {};
  if (name !== '') ctParams.name = name;
  const type = /^[\w.+-]+\/[\w.+-]+$/.test(mime) ? mime.toLowerCase() : 'application/octet-stream';
  let headers = paramHeader('Content-Type', type, ctParams);
  // message/* may not be base64 (RFC 2046 5.2); 7-bit text with short lines goes as it is.
  const asIs = (type.startsWith('message/') || type === 'text/rfc822-headers') && isSevenBitLines(data);
  headers += `Content-Transfer-Encoding: ${asIs ? '7bit' : 'base64'}${CRLF}`;
  const cid = str(p.get(Tag.PidTagAttachContentId));
  if (cid !== null && cid !== '') headers += `Content-ID: <${cid.replace(/[<>\r\n]/g, '')}>${CRLF}`;
  const loc = str(p.get(Tag.PidTagAttachContentLocation));
  if (loc !== null && loc !== '') headers += field('Content-Location', loc);
  const dParams: Record<string, string> = {};
  if (name !== '') dParams.filename = name;
  headers += paramHeader('Content-Disposition', inline ? 'inline' : 'attachment', dParams);
  return { headers, body: asIs ? Buffer.from(data).toString('latin1').replace(/\r?\n/g, CRLF).replace(/\r\n$/, '') : encodeBase64Lines(data) };
}

function isSevenBitLines(data: Uint8Array): boolean {
  let line = 0;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c >= 0x80 || c === 0) return false;
    if (c === 0x0a) line = 0;
    else if (++line > 998) return false;
  }
  return true;
}

function isInlineAttachment(a: MapiAttachment): boolean {
  return a.props.get(Tag.PidTagAttachmentHidden) === true || (typeof a.props.get(Tag.PidTagAttachFlags) === 'number' && ((a.props.get(Tag.PidTagAttachFlags) as number) & 0x4) !== 0);
}

/** The message's body entity (headers of the entity itself, no message headers). */
function bodyEntity(msg: MapiMessage, opts: MapiToMimeOptions, depth: number, path: string, boundary: (kind: string) => string): Entity {
  const cls = str(msg.props.get(Tag.PidTagMessageClass)) ?? 'IPM.Note';
  // S/MIME (MS-OXCMAIL 2.2.3.2.2 / MS-OXOSMIME): the opaque attachment is the message's content.
  if (/^IPM\.Note\.SMIME/i.test(cls) && msg.attachments.length === 1 && msg.attachments[0]!.data !== undefined) {
    const a = msg.attachments[0]!;
    const tag = (str(a.props.get(Tag.PidTagAttachMimeTag)) ?? '').toLowerCase();
    const data = Buffer.from(a.data!);
    if (tag === 'multipart/signed') {
      const split = data.indexOf('\r\n\r\n');
      if (split > 0) return { headers: data.toString('latin1', 0, split + 2), body: data.toString('latin1', split + 4) };
    } else {
      return {
        headers: `Content-Type: application/pkcs7-mime; smime-type=enveloped-data;${CRLF} name="smime.p7m"${CRLF}Content-Transfer-Encoding: base64${CRLF}Content-Disposition: attachment; filename="smime.p7m"${CRLF}`,
        body: encodeBase64Lines(data),
      };
    }
  }
  const bodies = readBodies(msg.props);
  const inline = msg.attachments.filter((a) => isInlineAttachment(a) && bodies.html !== null);
  const others = msg.attachments.filter((a) => !inline.includes(a));
  let main: Entity;
  if (bodies.html !== null) {
    let html: Entity = textEntity('html', bodies.html);
    if (inline.length > 0) {
      const parts = [html, ...inline.map((a, i) => attachmentEntity(a, opts, depth, `${path}r${i}`, true)).filter((e): e is Entity => e !== null)];
      html = multipart('related', boundary('rel'), parts, ' type="text/html";');
    }
    main = multipart('alternative', boundary('alt'), [textEntity('plain', bodies.text ?? ''), html]);
  } else {
    main = textEntity('plain', bodies.text ?? '');
  }
  if (others.length === 0) return main;
  const parts = [main, ...others.map((a, i) => attachmentEntity(a, opts, depth, `${path}m${i}`, false)).filter((e): e is Entity => e !== null)];
  // A delivery report (RFC 3464) keeps its report structure.
  const isReport = /^REPORT\.IPM\.Note\.(NDR|DR|Delayed\.DR)$/i.test(cls) && others.some((a) => str(a.props.get(Tag.PidTagAttachMimeTag))?.toLowerCase() === 'message/delivery-status');
  if (isReport) return multipart('report', boundary('rep'), parts, ' report-type=delivery-status;');
  return multipart('mixed', boundary('mix'), parts);
}

function writeMessage(msg: MapiMessage, opts: MapiToMimeOptions, depth: number, path: string): string {
  const hash = identityHash(msg);
  const boundary = (kind: string) => `----=_Stoa_${kind}_${depth}${path}_${hash.slice(0, 24)}`;
  const headers = writeHeaders(msg, opts, hash);
  const entity = bodyEntity(msg, opts, depth, path, boundary);
  return `${headers}${entity.headers}${CRLF}${entity.body}`;
}

