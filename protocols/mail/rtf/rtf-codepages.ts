/**
 * Code pages of RTF text: \ansicpgN (the document's), \fcharsetN and \cpgN (a font's), and the
 * decoding of 8-bit text runs with iconv-lite.
 */
import iconv from 'iconv-lite';

/** \ansi without \ansicpg: Windows-1252 ([MSFT-RTF] "Character set"). */
export const DEFAULT_CODEPAGE = 1252;
/** Code page number for raw 8-bit text that is already UTF-8 (a Unicode string was given). */
export const UTF8_CODEPAGE = 65001;

/** \fcharsetN → Windows code page ([MSFT-RTF] font table, \fcharset). 1 ("default") is the document's. */
const CHARSET_CODEPAGES: ReadonlyMap<number, number> = new Map([
  [0, 1252], // ANSI
  [2, 1252], // Symbol: glyph indexes, no code page; bytes pass through as Windows-1252
  [77, 10000], // Mac Roman
  [128, 932], // Shift JIS
  [129, 949], // Hangul
  [130, 1361], // Johab
  [134, 936], // GB2312
  [136, 950], // Big5
  [161, 1253], // Greek
  [162, 1254], // Turkish
  [163, 1258], // Vietnamese
  [177, 1255], // Hebrew
  [178, 1256], // Arabic
  [186, 1257], // Baltic
  [204, 1251], // Cyrillic
  [222, 874], // Thai
  [238, 1250], // Eastern European
  [254, 437], // PC 437
  [255, 850], // OEM
]);

export function charsetToCodepage(charset: number, documentCodepage: number): number {
  return CHARSET_CODEPAGES.get(charset) ?? documentCodepage;
}

/** iconv-lite names for code pages it does not know as "cpN". */
const SPECIAL_NAMES: ReadonlyMap<number, string> = new Map([
  [UTF8_CODEPAGE, 'utf8'],
  [10000, 'macintosh'],
  [20127, 'ascii'],
  [1361, 'cp949'], // Johab is not in iconv-lite; its Hangul overlaps 949 best
]);
/** Resolved names are cached; a hostile stream of distinct \ansicpg values must not grow it unbounded. */
const MAX_CACHED_CODEPAGES = 64;
const nameCache = new Map<number, string>();

function encodingName(codepage: number): string {
  const cached = nameCache.get(codepage);
  if (cached !== undefined) return cached;
  const special = SPECIAL_NAMES.get(codepage);
  let name = 'cp1252';
  if (special !== undefined) name = special;
  else if (iconv.encodingExists(`cp${codepage}`)) name = `cp${codepage}`;
  else if (codepage >= 28591 && codepage <= 28606 && iconv.encodingExists(`iso8859${codepage - 28590}`)) name = `iso8859${codepage - 28590}`;
  if (nameCache.size < MAX_CACHED_CODEPAGES) nameCache.set(codepage, name);
  return name;
}

/** Decodes 8-bit text in `codepage`; `ascii` says every byte is below 0x80 (then any code page agrees). */
export function decodeCodepage(bytes: Uint8Array, codepage: number, ascii: boolean): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii) return buf.toString('latin1');
  return iconv.decode(buf, encodingName(codepage));
}
