/**
 * Header blocks (RFC 5322 2.2): field name, colon, value with folding. Values stay bytes (a
 * header may carry 8-bit text in any charset); `headerText` decodes them.
 */
import libmime from 'libmime';
import { decodeText } from './charset.js';

/** Largest header block read as headers; the rest of an oversized block is taken as body. */
export const MAX_HEADER_BYTES = 512 * 1024;
/** Most header fields kept per block. */
export const MAX_HEADER_FIELDS = 4096;

export interface RawHeader {
  /** Field name in lower case. */
  name: string;
  /** The value after the colon, folding included, up to (not including) the final line break. */
  value: Buffer;
  /** Offsets of the whole field (name through its last line's break) in the message. */
  start: number;
  end: number;
}

export interface HeaderBlock {
  headers: RawHeader[];
  /** Offset of the body (after the blank line), or `end` when there is none. */
  bodyStart: number;
  problem: string | null;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const HT = 0x09;
const COLON = 0x3a;

/** Reads the header block starting at `start` (bounded by `end`). */
export function parseHeaderBlock(buf: Buffer, start: number, end: number): HeaderBlock {
  const headers: RawHeader[] = [];
  let problem: string | null = null;
  let pos = start;
  const limit = Math.min(end, start + MAX_HEADER_BYTES);
  // An mbox "From " line before the headers (RFC 4155) is not a header.
  if (buf.length - pos >= 5 && buf.toString('latin1', pos, pos + 5) === 'From ') {
    const nl = buf.indexOf(LF, pos);
    if (nl >= 0 && nl < end) pos = nl + 1;
  }
  let current: RawHeader | null = null;
  while (pos < end) {
    if (pos >= limit) {
      problem = `header block longer than ${MAX_HEADER_BYTES} bytes; the rest taken as body`;
      return { headers, bodyStart: pos, problem };
    }
    let nl = buf.indexOf(LF, pos);
    if (nl < 0 || nl >= end) nl = end;
    let lineEnd = nl;
    if (lineEnd > pos && buf[lineEnd - 1] === CR) lineEnd--;
    const next = Math.min(nl + 1, end);
    if (lineEnd === pos) {
      // The blank line ending the block.
      return { headers, bodyStart: next, problem };
    }
    const first = buf[pos];
    if ((first === SP || first === HT) && current !== null) {
      current.value = buf.subarray(current.value.byteOffset - buf.byteOffset, lineEnd);
      current.end = next;
    } else {
      const colon = buf.indexOf(COLON, pos);
      const name = colon > pos && colon < lineEnd ? buf.toString('latin1', pos, colon).trim().toLowerCase() : '';
      if (name === '' || !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
        // Not a header line. Before any header it means the part has no header block at all
        // (RFC 2046 allows a part to start with its body only after a blank line, but broken
        // mail does this); later it is skipped.
        if (headers.length === 0) {
          problem = 'part without a header block';
          return { headers, bodyStart: start, problem };
        }
        problem ??= 'a line in the header block that is not a header field was skipped';
        current = null;
      } else if (headers.length < MAX_HEADER_FIELDS) {
        let v = colon + 1;
        while (v < lineEnd && (buf[v] === SP || buf[v] === HT)) v++;
        current = { name, value: buf.subarray(v, lineEnd), start: pos, end: next };
        headers.push(current);
      } else {
        problem ??= `more than ${MAX_HEADER_FIELDS} header fields; the rest ignored`;
        current = null;
      }
    }
    pos = next;
  }
  return { headers, bodyStart: end, problem };
}

/** The unfolded value (line breaks of folding removed) as a byte string. */
export function unfoldBytes(value: Buffer): Buffer {
  if (value.indexOf(LF) < 0) return value;
  const out = Buffer.allocUnsafe(value.length);
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === CR || c === LF) continue;
    out[n++] = c;
  }
  return out.subarray(0, n);
}

/**
 * The value as text: unfolded, 8-bit bytes decoded (UTF-8 when valid, else `fallbackCharset`),
 * and RFC 2047 encoded words decoded.
 */
export function headerText(value: Buffer, fallbackCharset = 'windows-1252', decodeWords = true): string {
  const bytes = unfoldBytes(value);
  const raw = decodeText(bytes, null, fallbackCharset);
  if (!decodeWords || raw.indexOf('=?') < 0) return raw.trim();
  try {
    return libmime.decodeWords(raw).trim();
  } catch {
    return raw.trim();
  }
}

/** The first field named `name` (lower case) of a list. */
export function findHeader(headers: readonly RawHeader[], name: string): RawHeader | undefined {
  for (const h of headers) if (h.name === name) return h;
  return undefined;
}
