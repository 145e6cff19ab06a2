/**
 * IMAP dates (RFC 3501 §9):
 *
 *   date      = date-text / DQUOTE date-text DQUOTE       date-text = date-day "-" date-month "-" date-year
 *   date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE
 */
import type { Reader } from './reader.js';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH_NAMES = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A SEARCH date: ms of 00:00 UTC that day (RFC 3501 compares dates disregarding time and zone). */
export function readDate(r: Reader): number | null {
  const quoted = r.take(0x22);
  const text = r.run((c) => (c >= 0x30 && c <= 0x39) || c === 0x2d || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a), 'a date');
  if (text === null) return null;
  if (quoted && !r.expect(0x22, 'a closing quote')) return null;
  const m = /^(\d{1,2})-([a-z]{3})-(\d{4})$/i.exec(text);
  const month = m === null ? -1 : MONTHS.indexOf(m[2]!.toLowerCase());
  if (m === null || month < 0) return r.fail('bad date');
  const day = Number(m[1]);
  const ms = Date.UTC(Number(m[3]), month, day);
  if (new Date(ms).getUTCDate() !== day) return r.fail('bad date');
  return ms;
}

/** An APPEND date-time, as ms since 1970. */
export function readDateTime(r: Reader): number | null {
  const s = r.string();
  if (s === null) return null;
  const m = /^([ \d]\d)-([a-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/i.exec(s);
  const month = m === null ? -1 : MONTHS.indexOf(m[2]!.toLowerCase());
  if (m === null || month < 0) return r.fail('bad date-time');
  const offset = (m[7] === '-' ? -1 : 1) * (Number(m[8]) * 60 + Number(m[9]));
  const ms = Date.UTC(Number(m[3]), month, Number(m[1]!.trim()), Number(m[4]), Number(m[5]), Number(m[6])) - offset * 60_000;
  return Number.isNaN(ms) ? r.fail('bad date-time') : ms;
}

/** INTERNALDATE as IMAP writes it: "17-Jul-1996 02:44:25 +0000" (UTC). */
export function formatDateTime(ms: number): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  return `${p2(d.getUTCDate())}-${MONTH_NAMES[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}
