/**
 * One pass over RTF ([MSFT-RTF]) that yields its text, in two modes:
 *
 * - 'html': the de-encapsulating reader of MS-OXRTFEX for HTML: the content of \*\htmltag
 *   destination groups plus the text outside them, except what \htmlrtf … \htmlrtf0 marks as
 *   RTF-only (the HTMLRTF control word). Every other destination is skipped.
 * - 'text': the document's text, as an RTF reader shows it (also the \fromtext de-encapsulation
 *   of MS-OXRTFEX for plain text): destinations skipped, \par → CRLF, \tab → TAB.
 *
 * Text is decoded in the code page of the current font (\fN with the font table's \fcharsetN or
 * \cpgN), else the document's (\ansicpgN), as MS-OXRTFEX says the de-encapsulating reader SHOULD; \uN with \ucN
 * skip counts; \'hh; \binN data skipped. Bad input never throws; time is linear in the input and
 * memory bounded by it: group state beyond MAX_GROUP_DEPTH is shared with the deepest level.
 *
 * Hot file: de-encapsulation runs on every RTF-only message read by a client that wants HTML;
 * see perf/bench/rtf.ts. Plain text runs are copied in whole slices into a grow-only byte
 * buffer and decoded once per run of same-code-page text.
 */
import { DEFAULT_CODEPAGE, UTF8_CODEPAGE, charsetToCodepage, decodeCodepage } from './rtf-codepages.js';

export type RtfReadMode = 'html' | 'text';

/**
 * Deepest group nesting with its own state. Real documents nest a few dozen levels; beyond
 * this, groups share the deepest state (still balanced), so "{{{{…" costs neither stack nor
 * memory per level.
 */
export const MAX_GROUP_DEPTH = 1024;
/** [MSFT-RTF]: a control word has at most 32 letters; longer ones are read but not recognized. */
const MAX_CONTROL_WORD = 32;
/** Digits of a parameter that count; more are consumed but ignored (keeps the value finite). */
const MAX_PARAM_DIGITS = 10;
/** Skip counts (\ucN) above this are clamped: no writer needs more bytes per fallback. */
const MAX_UC = 16;
/**
 * Tokens inspected to recognize encapsulation (MS-OXRTFEX 2.2.3.1): group starts and control
 * words from the start of the document; text or a group end before \fromhtml1 / \fromtext means
 * there is none.
 */
const MAX_HEADER_TOKENS = 10;
/** Initial size of the text byte buffer; it grows by doubling, bounded by the input. */
const INITIAL_PENDING = 4096;

// Group state bits.
const SKIP = 1; // inside a destination whose text is not output
const HTMLTAG = 2; // inside \*\htmltag ('html' mode)
const HTMLRTF = 4; // \htmlrtf on ('html' mode)
const FONTTBL = 8; // inside \fonttbl: \f, \fcharset, \cpg define fonts

const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const CR = 0x0d;
const LF = 0x0a;

/** Bytes that end a run of plain text: control, group, raw line breaks (ignored), NUL (ignored). */
const TEXT_STOP = new Uint8Array(256);
for (const c of [BACKSLASH, LBRACE, RBRACE, CR, LF, 0]) TEXT_STOP[c] = 1;

const isLetter = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const hexValue = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;

/** Control words with a textual equivalent ([MSFT-RTF] "Special characters"). */
const SYMBOLS: ReadonlyMap<string, string> = new Map([
  ['par', '\r\n'],
  ['line', '\r\n'],
  ['sect', '\r\n'],
  ['page', '\r\n'],
  ['row', '\r\n'],
  ['nestrow', '\r\n'],
  ['tab', '\t'],
  ['cell', '\t'],
  ['nestcell', '\t'],
  ['emdash', '\u2014'],
  ['endash', '\u2013'],
  ['emspace', '\u2003'],
  ['enspace', '\u2002'],
  ['qmspace', '\u2005'],
  ['bullet', '\u2022'],
  ['lquote', '\u2018'],
  ['rquote', '\u2019'],
  ['ldblquote', '\u201c'],
  ['rdblquote', '\u201d'],
  ['zwj', '\u200d'],
  ['zwnj', '\u200c'],
  ['ltrmark', '\u200e'],
  ['rtlmark', '\u200f'],
]);

/**
 * Destinations whose content is not text of the document ([MSFT-RTF]); groups marked \* are
 * skipped too unless they are \*\htmltag in 'html' mode.
 */
const DESTINATIONS: ReadonlySet<string> = new Set([
  'colortbl', 'stylesheet', 'info', 'pict', 'header', 'headerl', 'headerr', 'headerf', 'footer',
  'footerl', 'footerr', 'footerf', 'footnote', 'fldinst', 'filetbl', 'revtbl', 'listtable',
  'listoverridetable', 'rsidtbl', 'generator', 'xmlnstbl', 'themedata', 'colorschememapping',
  'datastore', 'latentstyles', 'pgdsctbl', 'objdata', 'objclass', 'nonshppict', 'shpinst',
  'bkmkstart', 'bkmkend', 'template', 'docvar', 'atnid', 'atnauthor', 'annotation', 'userprops',
  'xe', 'tc', 'txe', 'datafield', 'mmathPr', 'private', 'fontemb', 'fontfile', 'falt', 'panose',
]);

export type Encapsulation = 'html' | 'text';

/** MS-OXRTFEX 2.2.3.1: \fromhtml1 or \fromtext among the first tokens of the RTF header. */
export function detectEncapsulation(bytes: Uint8Array): Encapsulation | null {
  const n = bytes.length;
  let tokens = 0;
  let i = 0;
  while (i < n && tokens < MAX_HEADER_TOKENS) {
    const c = bytes[i]!;
    if (c === CR || c === LF) {
      i++;
      continue;
    }
    if (c === LBRACE) {
      tokens++;
      i++;
      continue;
    }
    if (c !== BACKSLASH || i + 1 >= n) return null; // text or a group end: the header is over
    const d = bytes[++i]!;
    if (!isLetter(d)) {
      if (d !== 0x2a) return null; // \* is a token; \' \\ \{ \} are text
      tokens++;
      i++;
      continue;
    }
    const start = i;
    while (i < n && isLetter(bytes[i]!)) i++;
    const nameEnd = i;
    let hasParam = false;
    let param = 0;
    if (i < n && bytes[i] === 0x2d) i++;
    while (i < n && isDigit(bytes[i]!)) {
      hasParam = true;
      if (param < 1e9) param = param * 10 + (bytes[i]! - 0x30);
      i++;
    }
    if (i < n && bytes[i] === 0x20) i++;
    tokens++;
    const len = nameEnd - start;
    if (len === 8 && hasParam && param === 1 && matches(bytes, start, 'fromhtml')) return 'html';
    if (len === 8 && !hasParam && matches(bytes, start, 'fromtext')) return 'text';
  }
  return null;
}

function matches(bytes: Uint8Array, at: number, word: string): boolean {
  for (let k = 0; k < word.length; k++) if (bytes[at + k] !== word.charCodeAt(k)) return false;
  return true;
}

/**
 * Control word names seen so far, by a hash of their bytes: reading a name then costs a hash
 * and a compare instead of a new string per control word (this was a fifth of the reader's time).
 * Bounded: names beyond this many distinct ones are built each time.
 */
const MAX_CACHED_WORDS = 2048;
const wordCache = new Map<number, string>();

function controlWord(bytes: Uint8Array, latin: Buffer, start: number, len: number): string {
  let h = len;
  for (let k = 0; k < len; k++) h = (Math.imul(h, 31) + bytes[start + k]!) | 0;
  const cached = wordCache.get(h);
  if (cached !== undefined && cached.length === len && matches(bytes, start, cached)) return cached;
  const word = latin.toString('latin1', start, start + len);
  if (cached === undefined && wordCache.size < MAX_CACHED_WORDS) wordCache.set(h, word);
  return word;
}

/** Code pages where a byte >= 0x81 may lead a two-byte character whose trail byte is ASCII. */
const DOUBLE_BYTE_CODEPAGES: ReadonlySet<number> = new Set([932, 936, 949, 950, 1361, 10001, 10002, 10003, 10008]);

/** Is "\htmltag" (not followed by a letter) at `at`? */
function isHtmltagAt(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === BACKSLASH && matches(bytes, at + 1, 'htmltag') && !isLetter(bytes[at + 8] ?? 0);
}

/**
 * Reads `bytes` as RTF and returns its text per `mode`. `rawUtf8`: unescaped 8-bit text is
 * UTF-8 (the RTF came as a Unicode string), not in the font's code page; \'hh still is.
 */
export function readRtfText(bytes: Uint8Array, mode: RtfReadMode, rawUtf8 = false): string {
  const n = bytes.length;
  const latin = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const html = mode === 'html';

  // Group state: current values in locals, saved ones in fixed-size typed stacks.
  const savedFlags = new Uint8Array(MAX_GROUP_DEPTH);
  const savedUc = new Uint8Array(MAX_GROUP_DEPTH);
  const savedFont = new Int32Array(MAX_GROUP_DEPTH);
  let depth = 0;
  let sharedDepth = 0; // groups opened beyond MAX_GROUP_DEPTH, sharing the deepest state
  let flags = 0;
  let uc = 1;
  let font = -1; // -1: the default font (\deffN)
  let ucSkip = 0; // fallback characters after \uN still to skip

  // Document state.
  let docCp = DEFAULT_CODEPAGE;
  let deff = 0;
  let definingFont = -1;
  const fontCharset = new Map<number, number>();
  const fontCpg = new Map<number, number>();

  let out = '';
  let pending = new Uint8Array(INITIAL_PENDING);
  let pendingLen = 0;
  let pendingCp = 0;
  let pendingAscii = true;

  const flush = (): void => {
    if (pendingLen === 0) return;
    out += decodeCodepage(pending.subarray(0, pendingLen), pendingCp, pendingAscii);
    pendingLen = 0;
    pendingAscii = true;
  };
  const reserve = (extra: number): void => {
    if (pendingLen + extra <= pending.length) return;
    let size = pending.length * 2;
    while (size < pendingLen + extra) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(pending.subarray(0, pendingLen));
    pending = grown;
  };
  const pushByte = (b: number, cp: number): void => {
    if (pendingLen > 0 && cp !== pendingCp) flush();
    pendingCp = cp;
    reserve(1);
    pending[pendingLen++] = b;
    if (b >= 0x80) pendingAscii = false;
  };
  const pushRun = (start: number, end: number, cp: number): void => {
    if (pendingLen > 0 && cp !== pendingCp) flush();
    pendingCp = cp;
    reserve(end - start);
    pending.set(bytes.subarray(start, end), pendingLen);
    pendingLen += end - start;
    if (pendingAscii) for (let k = start; k < end; k++) if (bytes[k]! >= 0x80) { pendingAscii = false; break; }
  };
  const emitString = (s: string): void => {
    flush();
    out += s;
  };
  const emitting = (): boolean => (flags & SKIP) === 0 && (!html || (flags & HTMLRTF) === 0);
  /** MS-OXRTFEX: text in the current font's code page; HTMLTAG content in the document's (see below). */
  const textCp = (): number => {
    // \*\htmltag content is HTML source the encapsulating writer put in the document code page;
    // fonts format the RTF view only (e.g. \fcharset0 fonts in an \ansicpg1251 document).
    if ((flags & HTMLTAG) !== 0) return docCp;
    const f = font >= 0 ? font : deff;
    const cpg = fontCpg.get(f);
    if (cpg !== undefined) return cpg;
    const charset = fontCharset.get(f);
    return charset === undefined ? docCp : charsetToCodepage(charset, docCp);
  };

  let i = 0;
  scan: while (i < n) {
    const c = bytes[i]!;
    if (c === LBRACE) {
      i++;
      ucSkip = 0;
      if (depth < MAX_GROUP_DEPTH) {
        savedFlags[depth] = flags;
        savedUc[depth] = uc;
        savedFont[depth] = font;
        depth++;
      } else sharedDepth++;
      continue;
    }
    if (c === RBRACE) {
      i++;
      ucSkip = 0;
      if (sharedDepth > 0) sharedDepth--;
      else if (depth > 0) {
        depth--;
        flags = savedFlags[depth]!;
        uc = savedUc[depth]!;
        font = savedFont[depth]!;
        if (depth === 0) break scan; // the document's group is closed: anything after is padding
      }
      continue;
    }
    if (c === CR || c === LF || c === 0) {
      i++;
      continue;
    }
    if (c !== BACKSLASH) {
      // A run of plain text.
      let j = i + 1;
      if ((flags & SKIP) !== 0) {
        while (j < n && TEXT_STOP[bytes[j]!] === 0) j++;
        i = j;
        continue;
      }
      let high = c;
      while (j < n && TEXT_STOP[bytes[j]!] === 0) high |= bytes[j++]!;
      if (ucSkip > 0) {
        const skip = Math.min(ucSkip, j - i);
        ucSkip -= skip;
        i += skip;
        if (i === j) continue;
        high = 0x80; // not worth rescanning: take the general path
      }
      if (emitting()) {
        // ASCII is the same in every code page and never completes a pending double-byte
        // character unless the pending bytes are in a double-byte code page.
        if (high < 0x80 && (pendingLen === 0 || !DOUBLE_BYTE_CODEPAGES.has(pendingCp))) emitString(latin.toString('latin1', i, j));
        else pushRun(i, j, rawUtf8 ? UTF8_CODEPAGE : textCp());
      }
      i = j;
      continue;
    }

    // A control word or symbol.
    if (++i >= n) break;
    const d = bytes[i]!;
    if (!isLetter(d)) {
      i++;
      if (d === 0x27) {
        // \'hh: a byte in the current code page.
        const hi = i < n ? hexValue(bytes[i]!) : -1;
        const lo = i + 1 < n ? hexValue(bytes[i + 1]!) : -1;
        if (hi < 0 || lo < 0) continue;
        i += 2;
        if ((flags & SKIP) !== 0) continue;
        if (ucSkip > 0) {
          ucSkip--;
          continue;
        }
        if (emitting()) pushByte((hi << 4) | lo, textCp());
        continue;
      }
      if ((flags & SKIP) !== 0) continue;
      if (d === 0x2a) {
        // \*: an optional destination. Kept only if it is \htmltag in 'html' mode.
        if (html && isHtmltagAt(bytes, i)) flags |= HTMLTAG;
        else flags |= SKIP;
        continue;
      }
      if (ucSkip > 0) {
        ucSkip--;
        continue;
      }
      if (!emitting()) continue;
      switch (d) {
        case BACKSLASH:
        case LBRACE:
        case RBRACE:
          pushByte(d, textCp());
          break;
        case CR:
        case LF:
          emitString('\r\n'); // "\<newline>" is \par
          break;
        case 0x7e: // \~ non-breaking space
          emitString('\u00a0');
          break;
        case 0x5f: // \_ non-breaking hyphen
          emitString('\u2011');
          break;
        default: // \- optional hyphen, \: index subentry, \| formula: no text
          break;
      }
      continue;
    }

    const nameStart = i;
    while (i < n && isLetter(bytes[i]!)) i++;
    const nameLen = i - nameStart;
    let hasParam = false;
    let param = 0;
    let negative = false;
    if (i + 1 < n && bytes[i] === 0x2d && isDigit(bytes[i + 1]!)) {
      negative = true;
      i++;
    }
    for (let digits = 0; i < n && isDigit(bytes[i]!); digits++, i++) {
      hasParam = true;
      if (digits < MAX_PARAM_DIGITS) param = param * 10 + (bytes[i]! - 0x30);
    }
    if (negative) param = -param;
    if (i < n && bytes[i] === 0x20) i++; // the delimiting space belongs to the control word

    if (nameLen === 3 && matches(bytes, nameStart, 'bin')) {
      // \binN: N bytes of binary data follow; never text.
      if (hasParam && param > 0) i = Math.min(n, i + param);
      if (ucSkip > 0) ucSkip--;
      continue;
    }
    if ((flags & SKIP) !== 0 && (flags & FONTTBL) === 0) continue;
    if (nameLen > MAX_CONTROL_WORD) continue;
    const name = controlWord(bytes, latin, nameStart, nameLen);

    if ((flags & FONTTBL) !== 0) {
      if (name === 'f' && hasParam) definingFont = param;
      else if (name === 'fcharset' && hasParam && definingFont >= 0) fontCharset.set(definingFont, param);
      else if (name === 'cpg' && hasParam && param > 0 && definingFont >= 0) fontCpg.set(definingFont, param);
      continue;
    }
    if (ucSkip > 0 && name !== 'u') {
      ucSkip--;
      continue;
    }
    switch (name) {
      case 'u': {
        // \uN: a UTF-16 code unit, signed 16-bit; then \ucN fallback characters to skip.
        if (!hasParam) break;
        if (emitting()) emitString(String.fromCharCode(param & 0xffff));
        ucSkip = uc;
        break;
      }
      case 'uc':
        uc = hasParam ? Math.max(0, Math.min(MAX_UC, param)) : 1;
        break;
      case 'htmlrtf':
        // A toggle (MS-OXRTFEX HTMLRTF): \htmlrtf and \htmlrtf1 on, \htmlrtf0 off; group-scoped.
        if (html) flags = !hasParam || param !== 0 ? flags | HTMLRTF : flags & ~HTMLRTF;
        break;
      case 'f':
        if (hasParam) font = param;
        break;
      case 'plain':
        font = -1;
        break;
      case 'fonttbl':
        flags |= FONTTBL | SKIP;
        break;
      case 'ansicpg':
        if (hasParam && param > 0) docCp = param;
        break;
      case 'mac':
        docCp = 10000;
        break;
      case 'pc':
        docCp = 437;
        break;
      case 'pca':
        docCp = 850;
        break;
      case 'deff':
        if (hasParam) deff = param;
        break;
      default: {
        if (DESTINATIONS.has(name)) {
          flags |= SKIP;
          break;
        }
        const symbol = SYMBOLS.get(name);
        if (symbol !== undefined && emitting()) emitString(symbol);
      }
    }
  }
  flush();
  return out;
}
