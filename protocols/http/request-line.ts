/**
 * Classifies the start of a connection by its first request's method, before any HTTP parser
 * sees it. Node's parser (llhttp) knows a fixed list of methods (`http.METHODS`) and rejects any
 * other with HPE_INVALID_METHOD, which rules out RPC over HTTP (`RPC_IN_DATA`, `RPC_OUT_DATA`,
 * MS-RPCH); connections whose first method is not on that list go to the door's own HTTP/1.1
 * handling instead.
 *
 *   request-line = method SP request-target SP HTTP-version   (RFC 9112 §3)
 *   method       = token = 1*tchar                             (RFC 9110 §9.1, §5.6.2)
 *
 * Pure: looks at bytes only.
 *
 * `requestStartAt` finds, after Node's parser refused a later request of a connection it reads
 * (HPE_INVALID_METHOD), where that request starts in the bytes the parser hands back, so the door
 * can serve it and the rest of the connection with its own parser.
 */
import { METHODS } from 'node:http';
import { MAX_LEADING_EMPTY_LINES, MAX_METHOD_BYTES } from './limits.js';

export type RequestStart = { kind: 'need-more' } | { kind: 'invalid'; reason: string } | { kind: 'method'; method: string; standard: boolean };

/** Methods Node's HTTP parser accepts; every other token goes to the door's own parser. */
export const NODE_METHODS: ReadonlySet<string> = new Set(METHODS);

/**
 * Every prefix of every method llhttp matches, each method followed by its SP (llhttp also knows
 * PRI, HTTP/2's preface, which Node leaves out of its list): llhttp matches a method byte by byte
 * and stops with HPE_INVALID_METHOD at the first byte that leaves this set.
 */
const METHOD_PREFIXES: ReadonlySet<string> = (() => {
  const set = new Set<string>();
  for (const m of [...METHODS, 'PRI']) for (let i = 0; i <= m.length + 1; i++) set.add(`${m} `.slice(0, i));
  return set;
})();
const LONGEST_METHOD_PREFIX = Math.max(...[...METHOD_PREFIXES].map((p) => p.length));

/** tchar of RFC 9110 §5.6.2 as a lookup table over byte values. */
export const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let b = 0x30; b <= 0x39; b++) TCHAR[b] = 1;
for (let b = 0x41; b <= 0x5a; b++) TCHAR[b] = 1;
for (let b = 0x61; b <= 0x7a; b++) TCHAR[b] = 1;

export function classifyRequestStart(buf: Uint8Array): RequestStart {
  let i = 0;
  let empty = 0;
  // RFC 9112 §2.2: skip empty lines (CRLF or bare LF) before the request line.
  while (i < buf.length && (buf[i] === 0x0d || buf[i] === 0x0a)) {
    if (buf[i] === 0x0a && ++empty > MAX_LEADING_EMPTY_LINES) return { kind: 'invalid', reason: 'too many empty lines before the request line' };
    i++;
  }
  const start = i;
  for (; i < buf.length; i++) {
    const b = buf[i]!;
    if (b === 0x20) {
      if (i === start) return { kind: 'invalid', reason: 'empty method' };
      const method = Buffer.from(buf.buffer, buf.byteOffset + start, i - start).toString('latin1');
      return { kind: 'method', method, standard: NODE_METHODS.has(method) };
    }
    if (TCHAR[b] !== 1) return { kind: 'invalid', reason: 'the method is not a token' };
    if (i - start >= MAX_METHOD_BYTES) return { kind: 'invalid', reason: 'method too long' };
  }
  return { kind: 'need-more' };
}

/**
 * Where the request starts that Node's parser refused with HPE_INVALID_METHOD at byte `errorAt`
 * of `buf` (the error's bytesParsed and rawPacket, which holds the whole read, earlier requests
 * included): the parser had matched some method prefix P up to there, and P plus that byte is no
 * method's prefix. P follows the end of the previous request: a line end, or when that request
 * had a Content-Length body (`afterBody`), any byte (a body can end in letters). Every reading
 * that fits is tried; null when none or more than one does (the caller refuses rather than
 * guesses). A P that began in an earlier read cannot be seen here: the buffer's start is taken as it.
 */
export function requestStartAt(buf: Uint8Array, errorAt: number, afterBody: boolean): number | null {
  if (!Number.isInteger(errorAt) || errorAt < 0 || errorAt >= buf.length) return null;
  const next = String.fromCharCode(buf[errorAt]!);
  let found: number | null = null;
  let prefix = '';
  for (let k = 0; k <= Math.min(errorAt, LONGEST_METHOD_PREFIX); k++) {
    const p = errorAt - k;
    if (k > 0) prefix = String.fromCharCode(buf[p]!) + prefix;
    if (!METHOD_PREFIXES.has(prefix) || METHOD_PREFIXES.has(prefix + next)) continue;
    if (p > 0 && buf[p - 1] !== 0x0a && !afterBody) continue;
    if (found !== null) return null;
    found = p;
  }
  return found;
}
