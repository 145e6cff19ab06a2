/**
 * Text in a declared charset, for bodies and 8-bit headers. Declared charsets lie: text that is
 * valid UTF-8 but declared US-ASCII is read as UTF-8, an unknown charset falls back to UTF-8 when
 * the bytes are valid UTF-8 and to Windows-1252 otherwise (the superset of ISO-8859-1 that mail
 * in practice means). Decoding goes through libmime's charset layer (iconv-lite, plus
 * encoding-japanese for ISO-2022-JP).
 */
import { decode as libDecode, normalizeCharset } from 'libmime/lib/charset.js';
import iconv from 'iconv-lite';

const UTF8 = /^utf-?8$/i;
const ASCII_ALIASES = /^(us-?ascii|ascii|ansi_x3\.4-1968|iso646-us|us)$/i;
const fatal = new TextDecoder('utf-8', { fatal: true });

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    fatal.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

/** Whether a charset name is one this server can decode. */
export function knownCharset(charset: string): boolean {
  const n = normalizeCharset(charset);
  return UTF8.test(n) || /^iso-?2022-?jp/i.test(n) || iconv.encodingExists(n);
}

/**
 * Decodes `bytes` declared as `charset` (null: undeclared). Never throws.
 * `fallback` is used when the declaration is missing or unknown and the bytes are not UTF-8.
 */
export function decodeText(bytes: Uint8Array, charset: string | null, fallback = 'windows-1252'): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (isAscii(buf)) {
    // ISO-2022-JP and UTF-7 are 7-bit charsets; everything else reads ASCII as ASCII.
    if (charset !== null && /^(iso-?2022|utf-?7)/i.test(charset.trim())) return safeDecode(buf, charset);
    return buf.toString('latin1');
  }
  const declared = charset?.trim() ?? '';
  if (declared === '' || ASCII_ALIASES.test(declared) || !knownCharset(declared)) {
    return isValidUtf8(buf) ? buf.toString('utf8') : safeDecode(buf, fallback);
  }
  if (UTF8.test(normalizeCharset(declared))) return buf.toString('utf8');
  return safeDecode(buf, declared);
}

function safeDecode(buf: Buffer, charset: string): string {
  try {
    return libDecode(buf, charset);
  } catch {
    return buf.toString('latin1');
  }
}

/** Encodes text into a charset (UTF-8 when unknown). */
export function encodeText(text: string, charset: string): Buffer {
  const n = normalizeCharset(charset);
  if (UTF8.test(n) || !iconv.encodingExists(n)) return Buffer.from(text, 'utf8');
  return iconv.encode(text, n);
}

/** Windows code page number of a charset (PidTagInternetCodepage), 65001 for UTF-8 and unknown ones. */
export function codePageOf(charset: string | null): number {
  if (charset === null) return 65001;
  const n = normalizeCharset(charset).toLowerCase();
  const m = /^(?:windows-|cp)(\d{3,5})$/.exec(n);
  if (m !== null) return Number(m[1]);
  return CODE_PAGES[n] ?? 65001;
}

/** The charset name of a Windows code page (for PidTagInternetCodepage → MIME). */
export function charsetOfCodePage(cp: number): string {
  for (const [name, page] of Object.entries(CODE_PAGES)) if (page === cp) return name;
  if (cp >= 874 && cp <= 1258) return `windows-${cp}`;
  return 'utf-8';
}

/** Code page numbers of common mail charsets (the registered Windows code page identifiers). */
const CODE_PAGES: Record<string, number> = {
  'utf-8': 65001,
  'us-ascii': 20127,
  'iso-8859-1': 28591,
  'iso-8859-2': 28592,
  'iso-8859-3': 28593,
  'iso-8859-4': 28594,
  'iso-8859-5': 28595,
  'iso-8859-6': 28596,
  'iso-8859-7': 28597,
  'iso-8859-8': 28598,
  'iso-8859-9': 28599,
  'iso-8859-13': 28603,
  'iso-8859-15': 28605,
  'koi8-r': 20866,
  'koi8-u': 21866,
  'shift_jis': 932,
  'iso-2022-jp': 50220,
  'euc-jp': 51932,
  'gb2312': 936,
  'gbk': 936,
  'gb18030': 54936,
  'big5': 950,
  'euc-kr': 51949,
  'ks_c_5601-1987': 949,
  'utf-7': 65000,
};
