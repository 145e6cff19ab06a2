/**
 * A client line to a command (pure). RFC 1939 §3 and RFC 2449 §3:
 *
 *   command = keyword *(SP param) CRLF      ; keyword case-insensitive, 3 or 4 characters
 *   param   = 1*VCHAR                        ; up to 40 characters (RFC 2449 §4)
 *
 * The door is lenient where clients are sloppy: runs of spaces and trailing spaces separate
 * nothing, and keywords of up to 16 letters are read (so an unknown extension gets "unknown
 * command", not "malformed"). `rest` keeps everything after the first space verbatim, for PASS,
 * whose argument is a password that may hold spaces.
 */

export type CommandLine =
  | { kind: 'command'; verb: string; args: string[]; rest: string }
  | { kind: 'empty' }
  | { kind: 'malformed' };

const KEYWORD = /^[A-Za-z]{1,16}$/;

export function parseCommandLine(line: Uint8Array): CommandLine {
  const text = Buffer.from(line.buffer, line.byteOffset, line.byteLength).toString('utf8');
  if (text.trim() === '') return { kind: 'empty' };
  const sp = text.indexOf(' ');
  const keyword = sp < 0 ? text : text.slice(0, sp);
  if (!KEYWORD.test(keyword)) return { kind: 'malformed' };
  const rest = sp < 0 ? '' : text.slice(sp + 1);
  const args = rest.split(' ').filter((a) => a !== '');
  return { kind: 'command', verb: keyword.toUpperCase(), args, rest };
}

/** A message number argument: a positive decimal without sign or leading zeros beyond reason. */
export function parseMessageNumber(arg: string): number | null {
  if (!/^[0-9]{1,9}$/.test(arg)) return null;
  const n = Number(arg);
  return n >= 1 ? n : null;
}

/** TOP's line count: a non-negative decimal (values past 10^9 mean "all"). */
export function parseLineCount(arg: string): number | null {
  if (!/^[0-9]{1,20}$/.test(arg)) return null;
  return Math.min(Number(arg), 1e9);
}
