/**
 * PtypString8 values of the address book are bytes in the session's code page (STAT CodePage,
 * MS-OXNSPI 2.2.8). The wire layer carries them as Latin-1 "byte strings" (one char per byte);
 * these two functions convert between such byte strings and real strings. iconv-lite knows the
 * Windows code pages (cp1252, cp1251, cp932, ...); an unknown code page falls back to Windows-1252,
 * the code page of Western Outlook installs.
 */
import iconv from 'iconv-lite';
import { CP_TELETEX, CP_WINUNICODE } from './nspi-constants.js';

const CP_UTF8 = 65001;
const FALLBACK = 'cp1252';

function encodingOf(codePage: number): string {
  if (codePage === CP_UTF8) return 'utf8';
  // Teletex (T.61) and the Unicode code page have no 8-bit form of their own here: Latin-1.
  if (codePage === CP_TELETEX || codePage === CP_WINUNICODE) return 'latin1';
  const name = `cp${codePage}`;
  return iconv.encodingExists(name) ? name : FALLBACK;
}

/** A string as the byte string that PtypString8 puts on the wire in `codePage`. */
export function toCodePage(s: string, codePage: number): string {
  return iconv.encode(s, encodingOf(codePage)).toString('latin1');
}

/** A PtypString8 byte string from the wire, decoded from `codePage`. */
export function fromCodePage(bytes: string, codePage: number): string {
  return iconv.decode(Buffer.from(bytes, 'latin1'), encodingOf(codePage));
}

/** True when the server can convert strings to and from this code page. */
export function isKnownCodePage(codePage: number): boolean {
  return codePage === CP_UTF8 || codePage === CP_TELETEX || iconv.encodingExists(`cp${codePage}`);
}
