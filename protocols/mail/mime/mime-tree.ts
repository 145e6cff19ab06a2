/**
 * The structure of an RFC 5322 / MIME message (RFC 2045, 2046) as byte offsets into the
 * original buffer: every part's header block, body and children, nothing decoded or copied.
 * IMAP (BODYSTRUCTURE, BODY[section], sizes and line counts) and the MAPI conversion both read
 * this tree, so what a client sees always refers to the stored bytes.
 *
 * Bad input never throws: a missing closing delimiter ends the part at its parent's end, an
 * oversized header block or a nesting too deep turns the rest into an opaque body, and each
 * such repair is recorded in `problems`.
 *
 *   part      = header-block CRLF body
 *   multipart = preamble *( CRLF "--" boundary [ "--" ] LWSP CRLF part ) epilogue   (RFC 2046 5.1.1)
 */
import { parseHeaderBlock, type RawHeader } from './headers.js';
import { parseContentType, parseDisposition, type ContentDisposition, type ContentType } from './header-values.js';

/** Deepest nesting of multiparts and message/rfc822 parts parsed; deeper ones stay opaque. */
export const MAX_DEPTH = 40;
/** Most parts parsed in one message; the rest stay inside their parent's body. */
export const MAX_PARTS = 5000;

export interface MimePart {
  /** Offset of the header block. */
  start: number;
  /** Offset of the body (after the empty line ending the header block). */
  bodyStart: number;
  /** End of the body (exclusive; the CRLF before a delimiter belongs to the delimiter). */
  end: number;
  headers: RawHeader[];
  contentType: ContentType;
  disposition: ContentDisposition | null;
  /** Content-Transfer-Encoding, lower case ("7bit" when absent). */
  encoding: string;
  /** Children of a multipart. */
  children: MimePart[];
  /** The message inside a message/rfc822 (or message/global) part. */
  message: MimePart | null;
  /** IMAP section path ("" for the top, "1.2" below). */
  path: string;
}

export interface MimeTree {
  buf: Buffer;
  root: MimePart;
  problems: string[];
}

/** Parses the structure of a whole message. */
export function parseMimeTree(input: Uint8Array): MimeTree {
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  const st: State = { buf, problems: [], parts: 0 };
  const root = parsePart(st, 0, buf.length, 0, '', null);
  return { buf, root, problems: st.problems };
}

interface State {
  buf: Buffer;
  problems: string[];
  parts: number;
}

function parsePart(st: State, start: number, end: number, depth: number, path: string, parentDefault: ContentType | null): MimePart {
  st.parts++;
  const hb = parseHeaderBlock(st.buf, start, end);
  if (hb.problem !== null) st.problems.push(`part ${path || 'top'}: ${hb.problem}`);
  const get = (name: string) => hb.headers.find((h) => h.name === name)?.value;
  const ctRaw = get('content-type');
  let contentType = ctRaw !== undefined ? parseContentType(ctRaw) : null;
  if (contentType === null) {
    if (ctRaw !== undefined) st.problems.push(`part ${path || 'top'}: unreadable Content-Type, taken as ${parentDefault?.value ?? 'text/plain'}`);
    contentType = parentDefault ?? { type: 'text', subtype: 'plain', value: 'text/plain', params: {} };
  }
  const cdRaw = get('content-disposition');
  const encRaw = get('content-transfer-encoding');
  const part: MimePart = {
    start,
    bodyStart: hb.bodyStart,
    end,
    headers: hb.headers,
    contentType,
    disposition: cdRaw !== undefined ? parseDisposition(cdRaw) : null,
    encoding: encRaw !== undefined ? encRaw.toString('latin1').trim().toLowerCase() || '7bit' : '7bit',
    children: [],
    message: null,
    path,
  };
  if (depth >= MAX_DEPTH || st.parts >= MAX_PARTS) {
    if (contentType.type === 'multipart' || contentType.type === 'message') st.problems.push(`part ${path || 'top'}: nested too deep or too many parts; kept opaque`);
    return part;
  }
  if (contentType.type === 'multipart') {
    const boundary = contentType.params.boundary;
    if (boundary === undefined || boundary === '') {
      st.problems.push(`part ${path || 'top'}: multipart without a boundary; kept opaque`);
      return part;
    }
    splitMultipart(st, part, boundary, depth);
  } else if (contentType.type === 'message' && (contentType.subtype === 'rfc822' || contentType.subtype === 'global') && (part.encoding === '7bit' || part.encoding === '8bit' || part.encoding === 'binary')) {
    // An encoded (base64) message/rfc822 is illegal (RFC 2046 5.2.1) but exists; it stays a leaf and
    // the converter decodes and parses it separately.
    part.message = parsePart(st, part.bodyStart, end, depth + 1, path === '' ? '' : path, null);
    part.message.path = path;
  }
  return part;
}

const LF = 0x0a;
const CR = 0x0d;
const DASH = 0x2d;

/**
 * Finds the delimiter lines of `boundary` within the part's body and parses the parts between
 * them. A delimiter is "--boundary" at a line start, then optional "--", then only white space
 * to the end of the line.
 */
function splitMultipart(st: State, part: MimePart, boundary: string, depth: number): void {
  const { buf } = st;
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const childDefault: ContentType =
    part.contentType.subtype === 'digest' ? { type: 'message', subtype: 'rfc822', value: 'message/rfc822', params: {} } : { type: 'text', subtype: 'plain', value: 'text/plain', params: {} };
  let pos = part.bodyStart;
  let partStart = -1;
  let closed = false;
  let index = 1;
  while (pos < part.end) {
    const at = buf.indexOf(delim, pos);
    if (at < 0 || at + delim.length > part.end) break;
    const atLineStart = at === part.bodyStart || buf[at - 1] === LF;
    if (!atLineStart) {
      pos = at + 1;
      continue;
    }
    let p = at + delim.length;
    let closing = false;
    if (buf[p] === DASH && buf[p + 1] === DASH) {
      closing = true;
      p += 2;
    }
    while (p < part.end && (buf[p] === 0x20 || buf[p] === 0x09)) p++;
    if (p < part.end && buf[p] !== CR && buf[p] !== LF) {
      // "--boundaryX": a longer boundary that merely starts with ours.
      pos = at + 1;
      continue;
    }
    const lineEnd = p < part.end && buf[p] === CR && buf[p + 1] === LF ? p + 2 : Math.min(p + 1, part.end);
    // The line break before the delimiter belongs to it.
    let bodyEnd = at;
    if (bodyEnd > part.bodyStart && buf[bodyEnd - 1] === LF) bodyEnd--;
    if (bodyEnd > part.bodyStart && buf[bodyEnd - 1] === CR) bodyEnd--;
    if (partStart >= 0) {
      part.children.push(parsePart(st, partStart, Math.max(partStart, bodyEnd), depth + 1, childPath(part.path, index++), childDefault));
    }
    if (closing) {
      closed = true;
      break;
    }
    partStart = lineEnd;
    pos = lineEnd;
  }
  if (partStart >= 0 && !closed) {
    st.problems.push(`part ${part.path || 'top'}: multipart without its closing delimiter`);
    part.children.push(parsePart(st, partStart, part.end, depth + 1, childPath(part.path, index++), childDefault));
  }
  if (partStart < 0) st.problems.push(`part ${part.path || 'top'}: multipart with no delimiter line; kept opaque`);
}

function childPath(parent: string, index: number): string {
  return parent === '' ? String(index) : `${parent}.${index}`;
}

/** Every leaf part in document order (multiparts walked, message/rfc822 not entered). */
export function* leafParts(part: MimePart): Generator<MimePart> {
  if (part.children.length > 0) {
    for (const c of part.children) yield* leafParts(c);
  } else yield part;
}
