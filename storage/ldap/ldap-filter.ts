/**
 * LDAP strings built from untrusted input: RFC 4515 filter values, DN comparison keys, and the
 * directory ids (objectGUID, entryUUID, nsUniqueId) turned into one stable form.
 */
import { createHash } from 'node:crypto';

/**
 * Escapes a value for an RFC 4515 filter: `*`, `(`, `)`, `\` and NUL become `\2a`, `\28`, `\29`,
 * `\5c`, `\00` (section 3: these must be escaped; everything else may stay as UTF-8). A login
 * name like `*)(uid=*` therefore matches only an entry whose attribute holds exactly that text.
 */
export function escapeFilterValue(value: string): string {
  let out = '';
  for (const ch of value) {
    switch (ch) {
      case '*':
        out += '\\2a';
        break;
      case '(':
        out += '\\28';
        break;
      case ')':
        out += '\\29';
        break;
      case '\\':
        out += '\\5c';
        break;
      case '\0':
        out += '\\00';
        break;
      default:
        out += ch;
    }
  }
  return out;
}

/** `(attr=value)` with the value escaped; the attribute name is checked (it comes from config). */
export function eq(attr: string, value: string): string {
  if (!ATTR_RE.test(attr)) throw new Error(`not an attribute description: ${JSON.stringify(attr)}`);
  return `(${attr}=${escapeFilterValue(value)})`;
}

/** RFC 4512 attribute descriptions: a name or an OID, with options (`member;range=0-*`). */
export const ATTR_RE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9=*-]+)*$/;

/** `(&a b ...)` of the non-empty parts; one part stands alone. */
export function and(...parts: string[]): string {
  const p = parts.filter((x) => x !== '').map(wrap);
  return p.length === 0 ? '(objectClass=*)' : p.length === 1 ? p[0]! : `(&${p.join('')})`;
}

export function or(...parts: string[]): string {
  const p = parts.filter((x) => x !== '').map(wrap);
  return p.length === 1 ? p[0]! : `(|${p.join('')})`;
}

/** An operator may write `objectClass=person` in config; a filter always has its parentheses. */
export function wrap(filter: string): string {
  const f = filter.trim();
  return f.startsWith('(') ? f : `(${f})`;
}

/**
 * A comparison key for a DN: attribute types and values lower-cased, spaces around `,`, `+` and
 * `=` dropped unless escaped. Servers send one DN in one spelling, but `member` values written by
 * hand or by other tools may differ in case and spacing (RFC 4514 names are case-insensitive for
 * the attribute types directories use here).
 */
export function dnKey(dn: string): string {
  let out = '';
  let i = 0;
  while (i < dn.length) {
    const c = dn[i]!;
    if (c === '\\' && i + 1 < dn.length) {
      out += c + dn[i + 1]!;
      i += 2;
      continue;
    }
    if (c === ',' || c === '+' || c === '=') {
      out = out.replace(/ +$/, '') + c;
      i++;
      while (dn[i] === ' ') i++;
      continue;
    }
    out += c;
    i++;
  }
  return out.trim().toLowerCase();
}

/**
 * AD's objectGUID as text: 16 bytes whose first three fields are little-endian
 * (MS-DTYP 2.3.4.2), so the bytes 78 56 34 12 ... read as 12345678-....
 */
export function guidFromBytes(b: Uint8Array): string {
  if (b.length !== 16) throw new Error(`objectGUID has 16 bytes, got ${b.length}`);
  const h = (i: number) => b[i]!.toString(16).padStart(2, '0');
  const seq = (ids: number[]) => ids.map(h).join('');
  return `${seq([3, 2, 1, 0])}-${seq([5, 4])}-${seq([7, 6])}-${seq([8, 9])}-${seq([10, 11, 12, 13, 14, 15])}`;
}

/** The bytes of a GUID string in AD's order, for a `(objectGUID=\xx...)` filter. */
export function guidFilterValue(guid: string): string {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const bytes = Buffer.from(hex, 'hex');
  const order = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
  return order.map((i) => `\\${bytes[i]!.toString(16).padStart(2, '0')}`).join('');
}

/**
 * The embedded directory's user id for a directory entry: the entry's own 128-bit id when it is
 * one (objectGUID, entryUUID; 389 DS's nsUniqueId is 128 bits written as 4 x 8 hex digits),
 * otherwise a name-based UUID of (configuration, id). Deterministic, so a directory rebuilt from
 * LDAP gives every user the same id, and so the same legacy DN its mailbox was made with.
 */
export function userIdFor(config: string, sourceId: string): string {
  const hex = sourceId.replace(/-/g, '').toLowerCase();
  const h = /^[0-9a-f]{32}$/.test(hex) ? hex : createHash('sha256').update(`${config}\0${sourceId}`).digest('hex').slice(0, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
