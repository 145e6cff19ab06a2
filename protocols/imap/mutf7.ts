/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable US-ASCII stands for itself except
 * "&", written "&-"; other characters are UTF-16BE in modified base64 ("," for "/", no padding)
 * between "&" and "-". Pure; decoding bad input returns null.
 */

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,';
const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

export function encodeMutf7(name: string): string {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      out += c === 0x26 ? '&-' : name[i];
      i++;
      continue;
    }
    let j = i;
    while (j < name.length && !(name.charCodeAt(j) >= 0x20 && name.charCodeAt(j) <= 0x7e)) j++;
    const bytes: number[] = [];
    for (let k = i; k < j; k++) {
      const u = name.charCodeAt(k);
      bytes.push(u >> 8, u & 0xff);
    }
    let bits = 0;
    let acc = 0;
    out += '&';
    for (const b of bytes) {
      acc = (acc << 8) | b;
      bits += 8;
      while (bits >= 6) {
        bits -= 6;
        out += B64[(acc >> bits) & 0x3f];
      }
    }
    if (bits > 0) out += B64[(acc << (6 - bits)) & 0x3f];
    out += '-';
    i = j;
  }
  return out;
}

export function decodeMutf7(text: string): string | null {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return null;
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end < 0) return null;
    if (end === i + 1) {
      out += '&';
      i = end + 1;
      continue;
    }
    let acc = 0;
    let bits = 0;
    const units: number[] = [];
    let pending: number[] = [];
    for (let k = i + 1; k < end; k++) {
      const v = B64_INDEX.get(text[k]!);
      if (v === undefined) return null;
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        pending.push((acc >> bits) & 0xff);
        if (pending.length === 2) {
          units.push((pending[0]! << 8) | pending[1]!);
          pending = [];
        }
      }
    }
    // Leftover bits must be zero padding, and no half UTF-16 unit may remain.
    if (pending.length !== 0 || (acc & ((1 << bits) - 1)) !== 0) return null;
    const s = String.fromCharCode(...units);
    // A shifted run of printable ASCII is not the canonical form: refuse it (§5.1.3).
    if (/^[\x20-\x7e]*$/.test(s) && s.length > 0) return null;
    out += s;
    i = end + 1;
  }
  return out;
}
