/**
 * ENVELOPE (RFC 3501 §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
 * message-id, from the header block as it is (encoded words are not decoded: the client does
 * that). Sender and reply-to default to from. Addresses are (name adl mailbox host); a group is
 * (NIL NIL name NIL) ... (NIL NIL NIL NIL).
 */
import addressparser from 'nodemailer/lib/addressparser';
import { findHeader, unfoldBytes, type RawHeader } from '../../mail/mime/headers.js';
import { decodeText } from '../../mail/mime/charset.js';
import type { ResponseWriter } from './writer.js';

type Parsed = ReturnType<typeof addressparser>;

function text(h: RawHeader | undefined): string | null {
  if (h === undefined) return null;
  return decodeText(unfoldBytes(h.value), null).trim();
}

function writeAddress(w: ResponseWriter, name: string, address: string): void {
  const at = address.lastIndexOf('@');
  const mailbox = at < 0 ? address : address.slice(0, at);
  const host = at < 0 ? '' : address.slice(at + 1);
  w.raw('(').nstr(name === '' ? null : name).raw(' NIL ').nstr(mailbox === '' ? null : mailbox).raw(' ').nstr(at < 0 ? null : host).raw(')');
}

function writeList(w: ResponseWriter, list: Parsed): number {
  let n = 0;
  for (const a of list) {
    if ('group' in a && Array.isArray(a.group)) {
      w.raw('(NIL NIL ').nstr(a.name ?? '').raw(' NIL)');
      n += 1 + writeList(w, a.group as Parsed);
      w.raw('(NIL NIL NIL NIL)');
      n++;
    } else if (typeof a.address === 'string' && a.address !== '') {
      writeAddress(w, a.name ?? '', a.address);
      n++;
    }
  }
  return n;
}

function addresses(w: ResponseWriter, value: string | null): void {
  if (value === null || value === '') {
    w.raw('NIL');
    return;
  }
  let parsed: Parsed;
  try {
    parsed = addressparser(value, { flatten: false }) as Parsed;
  } catch {
    w.raw('NIL');
    return;
  }
  w.raw('(');
  const start = w.length;
  const n = writeList(w, parsed);
  if (n === 0 && w.length === start) {
    // Nothing usable: NIL rather than an empty list (empty lists are not allowed here).
    w.raw('(NIL NIL NIL NIL))');
    return;
  }
  w.raw(')');
}

export function writeEnvelope(w: ResponseWriter, headers: readonly RawHeader[]): void {
  const get = (n: string) => text(findHeader(headers, n));
  const from = get('from');
  w.raw('(').nstr(get('date')).raw(' ').nstr(get('subject')).raw(' ');
  addresses(w, from);
  w.raw(' ');
  addresses(w, get('sender') ?? from);
  w.raw(' ');
  addresses(w, get('reply-to') ?? from);
  w.raw(' ');
  addresses(w, get('to'));
  w.raw(' ');
  addresses(w, get('cc'));
  w.raw(' ');
  addresses(w, get('bcc'));
  w.raw(' ').nstr(get('in-reply-to')).raw(' ').nstr(get('message-id')).raw(')');
}
