/**
 * Structured header values: Content-Type and Content-Disposition with parameters (RFC 2045,
 * 2183, RFC 2231 continuations and charsets through libmime), address lists (RFC 5322 3.4,
 * through nodemailer's address parser), dates (RFC 5322 3.3 and the obsolete forms).
 */
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { unfoldBytes } from './headers.js';
import { decodeText } from './charset.js';

export interface ContentType {
  type: string;
  subtype: string;
  /** "type/subtype" in lower case. */
  value: string;
  /** Parameters with lower-case names, values decoded. */
  params: Record<string, string>;
}

export interface ContentDisposition {
  value: string;
  params: Record<string, string>;
}

function parseParams(raw: Buffer): { value: string; params: Record<string, string> } {
  const text = decodeText(unfoldBytes(raw), null);
  const parsed = libmime.parseHeaderValue(text);
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed.params ?? {})) {
    if (typeof v !== 'string') continue;
    let value = v;
    // Encoded words inside quoted parameters: illegal (RFC 2047 5) but what many clients send.
    if (value.includes('=?')) {
      try {
        value = libmime.decodeWords(value);
      } catch {
        // keep as is
      }
    }
    params[k.toLowerCase()] = value;
  }
  return { value: String(parsed.value ?? '').trim().toLowerCase(), params };
}

/** Content-Type, or null when it is not "type/subtype". */
export function parseContentType(raw: Buffer): ContentType | null {
  const { value, params } = parseParams(raw);
  const m = /^([a-z0-9!#$&^_.+-]+)\/([a-z0-9!#$&^_.+-]+)$/.exec(value);
  if (m === null) return null;
  return { type: m[1]!, subtype: m[2]!, value, params };
}

export function parseDisposition(raw: Buffer): ContentDisposition {
  return parseParams(raw);
}

export interface Address {
  name: string;
  address: string;
}

/** A flat list of addresses (groups expanded) from an address-list header. */
export function parseAddresses(text: string): Address[] {
  const out: Address[] = [];
  let parsed: ReturnType<typeof addressparser>;
  try {
    parsed = addressparser(text);
  } catch {
    return out;
  }
  const walk = (list: typeof parsed) => {
    for (const a of list) {
      if ('group' in a && Array.isArray(a.group)) walk(a.group as typeof parsed);
      else if (typeof a.address === 'string' && a.address !== '') out.push({ name: decodeName(a.name ?? ''), address: a.address.trim() });
      else if (typeof a.name === 'string' && a.name.includes('@')) out.push({ name: '', address: a.name.trim() });
    }
  };
  walk(parsed);
  return out;
}

function decodeName(name: string): string {
  if (!name.includes('=?')) return name.trim();
  try {
    return libmime.decodeWords(name).trim();
  } catch {
    return name.trim();
  }
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = { ut: 0, utc: 0, gmt: 0, z: 0, est: -500, edt: -400, cst: -600, cdt: -500, mst: -700, mdt: -600, pst: -800, pdt: -700 };

/** An RFC 5322 date (also the obsolete forms: two-digit years, named zones), or null. */
export function parseMailDate(text: string): Date | null {
  const m = /(?:[a-z]{3},?\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[a-z]{1,5})?/i.exec(text);
  if (m === null) {
    const d = new Date(text);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  let offset = 0;
  const z = m[7];
  if (z !== undefined) {
    const n = /^[+-]\d{4}$/.test(z) ? Number(z) : (ZONES[z.toLowerCase()] ?? 0);
    const sign = n < 0 ? -1 : 1;
    const abs = Math.abs(n);
    offset = sign * (Math.floor(abs / 100) * 60 + (abs % 100));
  }
  const ms = Date.UTC(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)) - offset * 60_000;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** Message ids of a Message-ID / In-Reply-To / References value ("<a@b>" tokens). */
export function parseMessageIds(text: string): string[] {
  return text.match(/<[^<>\s]+>/g) ?? [];
}
