/**
 * BODYSTRUCTURE and BODY (RFC 3501 §7.4.2, §9 body) from the MIME tree over the served bytes:
 *
 *   body-type-1part = (media-basic / media-message / media-text) SP body-fields ...
 *   body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
 *   text parts add body-fld-lines; message/rfc822 adds envelope SP body SP body-fld-lines;
 *   body-ext-1part  = body-fld-md5 SP body-fld-dsp SP body-fld-lang SP body-fld-loc
 *   body-type-mpart = 1*body SP media-subtype [SP body-fld-param SP body-fld-dsp SP body-fld-lang SP body-fld-loc]
 *
 * BODY is the same without extension data.
 */
import { findHeader, unfoldBytes, type RawHeader } from '../../mail/mime/headers.js';
import { decodeText } from '../../mail/mime/charset.js';
import type { MimePart } from '../../mail/mime/mime-tree.js';
import { writeEnvelope } from './envelope.js';
import type { ResponseWriter } from './writer.js';
import libmime from 'libmime';

/** Parameter values are 7-bit on the wire: a decoded non-ASCII value goes back out as an RFC 2047 word, as mail clients read it. */
function paramValue(v: string): string {
  return /[^\x20-\x7e]/.test(v) ? libmime.encodeWord(v, 'B') : v;
}

function hdr(headers: readonly RawHeader[], name: string): string | null {
  const h = findHeader(headers, name);
  return h === undefined ? null : decodeText(unfoldBytes(h.value), null).trim();
}

function params(w: ResponseWriter, p: Record<string, string>, drop: string[] = []): void {
  const keys = Object.keys(p).filter((k) => !drop.includes(k));
  if (keys.length === 0) {
    w.raw('NIL');
    return;
  }
  w.raw('(');
  keys.forEach((k, i) => {
    if (i > 0) w.raw(' ');
    w.str(k).raw(' ').str(paramValue(p[k]!));
  });
  w.raw(')');
}

/** Lines of a body: its line breaks, plus one for a last line without a break. */
export function countLines(buf: Buffer, start: number, end: number): number {
  if (end <= start) return 0;
  let n = 0;
  let at = buf.indexOf(0x0a, start);
  while (at >= 0 && at < end) {
    n++;
    at = buf.indexOf(0x0a, at + 1);
  }
  if (buf[end - 1] !== 0x0a) n++;
  return n;
}

function disposition(w: ResponseWriter, part: MimePart): void {
  if (part.disposition === null || part.disposition.value === '') {
    w.raw('NIL');
    return;
  }
  w.raw('(').str(part.disposition.value).raw(' ');
  params(w, part.disposition.params);
  w.raw(')');
}

function language(w: ResponseWriter, part: MimePart): void {
  const l = hdr(part.headers, 'content-language');
  if (l === null || l === '') {
    w.raw('NIL');
    return;
  }
  const list = l.split(/[\s,]+/).filter((x) => x !== '');
  if (list.length === 1) w.str(list[0]!);
  else {
    w.raw('(');
    list.forEach((x, i) => (i > 0 ? w.raw(' ') : w, w.str(x)));
    w.raw(')');
  }
}

export function writeBodyStructure(w: ResponseWriter, buf: Buffer, part: MimePart, extended: boolean): void {
  const ct = part.contentType;
  if (part.children.length > 0) {
    w.raw('(');
    for (const c of part.children) writeBodyStructure(w, buf, c, extended);
    w.raw(' ').str(ct.subtype);
    if (extended) {
      w.raw(' ');
      params(w, ct.params);
      w.raw(' ');
      disposition(w, part);
      w.raw(' ');
      language(w, part);
      w.raw(' ').nstr(hdr(part.headers, 'content-location'));
    }
    w.raw(')');
    return;
  }
  // A multipart kept opaque (no usable boundary) is described as the text it is.
  const isMultipart = ct.type === 'multipart';
  const type = isMultipart ? 'text' : ct.type;
  const subtype = isMultipart ? 'plain' : ct.subtype;
  w.raw('(').str(type).raw(' ').str(subtype).raw(' ');
  const p = { ...ct.params };
  if (type === 'text' && p.charset === undefined) p.charset = 'us-ascii';
  params(w, p);
  w.raw(' ').nstr(hdr(part.headers, 'content-id')).raw(' ').nstr(hdr(part.headers, 'content-description')).raw(' ');
  w.str(part.encoding.toUpperCase()).raw(' ').num(Math.max(0, part.end - part.bodyStart));
  if (part.message !== null) {
    w.raw(' ');
    writeEnvelope(w, part.message.headers);
    w.raw(' ');
    writeBodyStructure(w, buf, part.message, extended);
    w.raw(' ').num(countLines(buf, part.bodyStart, part.end));
  } else if (type === 'text') {
    w.raw(' ').num(countLines(buf, part.bodyStart, part.end));
  }
  if (extended) {
    w.raw(' ').nstr(hdr(part.headers, 'content-md5')).raw(' ');
    disposition(w, part);
    w.raw(' ');
    language(w, part);
    w.raw(' ').nstr(hdr(part.headers, 'content-location'));
  }
  w.raw(')');
}
