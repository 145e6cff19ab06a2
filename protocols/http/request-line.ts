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
 */
import { METHODS } from 'node:http';
import { MAX_LEADING_EMPTY_LINES, MAX_METHOD_BYTES } from './limits.js';

export type RequestStart = { kind: 'need-more' } | { kind: 'invalid'; reason: string } | { kind: 'method'; method: string; standard: boolean };

/** Methods Node's HTTP parser accepts; every other token goes to the door's own parser. */
export const NODE_METHODS: ReadonlySet<string> = new Set(METHODS);

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
