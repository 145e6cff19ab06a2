/**
 * Content-Transfer-Encoding (RFC 2045 6): base64 and quoted-printable decoded leniently
 * (stray characters skipped, broken escapes kept literally), anything else passed through.
 */

/** Decodes a part body; unknown encodings pass through unchanged. */
export function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'base64':
      // Node's decoder skips white space and characters outside the alphabet.
      return Buffer.from(body.toString('latin1'), 'base64');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

const EQ = 0x3d;
const CR = 0x0d;
const LF = 0x0a;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

export function decodeQuotedPrintable(src: Buffer): Buffer {
  const out = Buffer.allocUnsafe(src.length);
  let n = 0;
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === EQ) {
      const a = src[i + 1];
      const b = src[i + 2];
      if (a !== undefined && b !== undefined && hexValue(a) >= 0 && hexValue(b) >= 0) {
        out[n++] = (hexValue(a) << 4) | hexValue(b);
        i += 3;
        continue;
      }
      // Soft line break: "=" then optional white space then the line break.
      let j = i + 1;
      while (j < src.length && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j < src.length && (src[j] === CR || src[j] === LF)) {
        i = src[j] === CR && src[j + 1] === LF ? j + 2 : j + 1;
        continue;
      }
      if (j >= src.length) break;
      out[n++] = c;
      i++;
      continue;
    }
    if (c === 0x20 || c === 0x09) {
      // Trailing white space before a line break was added in transport (RFC 2045 6.7 rule 3).
      let j = i;
      while (j < src.length && (src[j] === 0x20 || src[j] === 0x09)) j++;
      if (j >= src.length || src[j] === CR || src[j] === LF) {
        i = j;
        continue;
      }
    }
    out[n++] = c;
    i++;
  }
  return out.subarray(0, n);
}

/** Base64 in lines of 76 characters (RFC 2045 6.8). */
export function encodeBase64Lines(data: Uint8Array): string {
  const b64 = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n');
}

/**
 * Quoted-printable (RFC 2045 6.7) of bytes, lines at most 76 characters, line breaks in the
 * input (CRLF or LF) kept as hard breaks (CRLF).
 */
export function encodeQuotedPrintable(data: Uint8Array): string {
  const out: string[] = [];
  let line = '';
  const flush = (soft: boolean) => {
    out.push(soft ? `${line}=` : line);
    line = '';
  };
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === CR && data[i + 1] === LF) continue;
    if (c === LF) {
      // White space at the end of a line must be encoded.
      const last = line.charCodeAt(line.length - 1);
      if (last === 0x20 || last === 0x09) line = line.slice(0, -1) + (last === 0x20 ? '=20' : '=09');
      flush(false);
      continue;
    }
    let tok: string;
    if ((c >= 33 && c <= 126 && c !== EQ) || c === 0x20 || c === 0x09) tok = String.fromCharCode(c);
    else tok = `=${c.toString(16).toUpperCase().padStart(2, '0')}`;
    // A "." or "From " at a line start survives every transport when encoded.
    if (line === '' && c === 0x2e) tok = '=2E';
    if (line.length + tok.length > 75) flush(true);
    line += tok;
  }
  if (line !== '') {
    const last = line.charCodeAt(line.length - 1);
    if (last === 0x20 || last === 0x09) line = line.slice(0, -1) + (last === 0x20 ? '=20' : '=09');
    out.push(line);
  }
  return out.join('\r\n');
}
