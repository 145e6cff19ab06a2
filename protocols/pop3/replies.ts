/**
 * What a POP3 command answers, as data, and its bytes (pure). The session writes them; RETR and
 * TOP (`message`) and long listings (`lines`) are streamed with back-pressure by the session.
 *
 * Extended response codes (RFC 2449 §8, RFC 3206) go in brackets right after "-ERR":
 * IN-USE, LOGIN-DELAY (RFC 2449 §8.1, §8.2), SYS/TEMP, SYS/PERM and AUTH (RFC 3206 §4, §5).
 */
import { MAX_RESPONSE_LINE } from './limits.js';

export type RespCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

/** What the session does once the reply is written. */
export type After = 'close' | 'starttls';

export type Reply =
  | { kind: 'ok'; text: string; after?: After }
  | { kind: 'err'; code: RespCode | null; text: string; after?: After }
  /** A multi-line answer of short lines (CAPA, LIST, UIDL): "+OK text", the lines, ".". */
  | { kind: 'lines'; text: string; lines: readonly string[] }
  /** RETR / TOP: "+OK text", bytes [0, end) of the message with CRLF line ends, dot-stuffed, ".". */
  | { kind: 'message'; text: string; bytes: Buffer; end: number }
  /** A SASL server challenge (RFC 5034 §4): "+ " base64. */
  | { kind: 'challenge'; base64: string };

export const ok = (text: string, after?: After): Reply => (after === undefined ? { kind: 'ok', text } : { kind: 'ok', text, after });
export const err = (code: RespCode | null, text: string, after?: After): Reply => (after === undefined ? { kind: 'err', code, text } : { kind: 'err', code, text, after });

/** A status line; text past the 512-octet line limit (RFC 2449 §4) is cut, and line breaks in it become spaces. */
export function statusLine(r: { kind: 'ok' | 'err'; text: string; code?: RespCode | null }): Buffer {
  const head = r.kind === 'err' ? (r.code === null || r.code === undefined ? '-ERR' : `-ERR [${r.code}]`) : '+OK';
  const text = r.text.replace(/[\r\n]+/g, ' ');
  let line = text === '' ? head : `${head} ${text}`;
  if (Buffer.byteLength(line) > MAX_RESPONSE_LINE - 2) line = Buffer.from(line).subarray(0, MAX_RESPONSE_LINE - 2).toString('utf8').replace(/\uFFFD$/, '');
  return Buffer.from(`${line}\r\n`);
}

export function challengeLine(base64: string): Buffer {
  return Buffer.from(`+ ${base64}\r\n`, 'latin1');
}

export const TERMINATOR = Buffer.from('.\r\n', 'latin1');
