/**
 * MS-OXRTFEX: HTML and plain text encapsulated in RTF (PidTagRtfCompressed bodies written by
 * Outlook), both ways, and the plain text of ordinary RTF (to synthesize PidTagBody).
 *
 * Line endings: RTF has no line-ending characters of its own, so encapsulation writes every
 * line break (CRLF, CR or LF) as \par and de-encapsulation reads \par as CRLF. A round trip
 * therefore returns the input with line endings normalized to CRLF, which the MS-OXRTFEX
 * overview allows ("normalize text line endings to use ... CRLFs"); input already in CRLF comes back
 * exactly.
 */
import { detectEncapsulation, readRtfText } from './rtf-reader.js';

export interface Deencapsulated {
  kind: 'html' | 'text';
  value: string;
}

/**
 * RTF as bytes. A string is read as a binary (latin1) string, one byte per character, unless
 * it has characters above U+00FF: then it is decoded text, and its raw non-ASCII characters
 * are taken as they are (\'hh escapes still go through the document's code pages).
 */
function rtfBytes(rtf: Uint8Array | string): { bytes: Uint8Array; rawUtf8: boolean } {
  if (typeof rtf !== 'string') return { bytes: rtf, rawUtf8: false };
  for (let k = 0; k < rtf.length; k++) if (rtf.charCodeAt(k) > 0xff) return { bytes: Buffer.from(rtf, 'utf8'), rawUtf8: true };
  return { bytes: Buffer.from(rtf, 'latin1'), rawUtf8: false };
}

/**
 * The HTML or plain text encapsulated in `rtf` (MS-OXRTFEX de-encapsulation), or null when its header
 * has neither \fromhtml1 nor \fromtext (2.2.3.1): then it is ordinary RTF, see rtfToText.
 */
export function deEncapsulate(rtf: Uint8Array | string): Deencapsulated | null {
  const { bytes, rawUtf8 } = rtfBytes(rtf);
  const kind = detectEncapsulation(bytes);
  if (kind === null) return null;
  return { kind, value: readRtfText(bytes, kind, rawUtf8) };
}

/**
 * The plain text of an RTF document as an RTF reader shows it: destinations (font and color
 * tables, stylesheet, info, pictures, field instructions, headers and footers, \* groups)
 * skipped, \par and \line as CRLF, \tab as TAB. For an encapsulated document this is its RTF
 * rendering, not the encapsulated content.
 */
export function rtfToText(rtf: Uint8Array | string): string {
  const { bytes, rawUtf8 } = rtfBytes(rtf);
  return readRtfText(bytes, 'text', rawUtf8);
}

/**
 * The header of the RTF we write (the MS-OXRTFEX steps for encapsulating writers): \fromhtml1 or \fromtext right
 * after \rtf1\ansi\ansicpg1252 (well inside the 10 tokens readers inspect), a font table with
 * charsets, and for HTML the empty {\*\htmltag64} before any visible text.
 */
const FONT_TABLE = '{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1\\fmodern\\fcharset0 Courier New;}}';
const HTML_PROLOG =
  '{\\rtf1\\ansi\\ansicpg1252\\fromhtml1 \\deff0' + FONT_TABLE + '\r\n' +
  '{\\colortbl\\red0\\green0\\blue0;\\red0\\green0\\blue255;}\r\n' +
  '{\\*\\generator Stoa;}{\\*\\htmltag64}\\uc1\\pard\\plain\\deftab360 \\f0\\fs20 ';
const TEXT_PROLOG =
  '{\\rtf1\\ansi\\ansicpg1252\\fromtext \\deff0' + FONT_TABLE + '\r\n' +
  '{\\*\\generator Stoa;}\\uc1\\pard\\plain\\deftab360 \\f0\\fs20 ';
/**
 * The HTMLTagParameter we write on every \*\htmltag. MS-OXRTFEX (HTMLTAG, 2.1.3.1.4) defines flags
 * (destination, tag type) for writers that convert the RTF view back to HTML; de-encapsulating
 * readers SHOULD ignore them, so we do not classify tags and always say "in body, P".
 */
const HTMLTAG_PARAM = 64;

const hex2 = (c: number): string => (c < 16 ? '0' : '') + c.toString(16);

/**
 * `s` as RTF text, 7-bit clean: \ { } escaped, TAB as \tab, line breaks as \par, other C0
 * controls and DEL as \'hh (the same byte in any ANSI code page), everything above U+007F as
 * \uN? (one UTF-16 code unit each, signed; '?' is the fallback the \uc1 skip count drops).
 */
function escapeRtf(s: string): string {
  let out = '';
  let run = 0;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x7b && c !== 0x7d) continue;
    out += s.slice(run, k);
    if (c === 0x5c || c === 0x7b || c === 0x7d) out += '\\' + s[k];
    else if (c === 0x09) out += '\\tab ';
    else if (c === 0x0d || c === 0x0a) {
      if (c === 0x0d && s.charCodeAt(k + 1) === 0x0a) k++;
      out += '\\par\r\n';
    } else if (c < 0x20 || c === 0x7f) out += "\\'" + hex2(c);
    else out += `\\u${c > 0x7fff ? c - 0x10000 : c}?`;
    run = k + 1;
  }
  return out + s.slice(run);
}

const latin1Bytes = (s: string): Uint8Array => Buffer.from(s, 'latin1');

/** `text` as RTF with \fromtext (MS-OXRTFEX FROMTEXT); deEncapsulate returns it (CRLF line ends). */
export function encapsulateText(text: string): Uint8Array {
  return latin1Bytes(TEXT_PROLOG + escapeRtf(text) + '}');
}

/** End of the markup starting at `i` ('<'), or -1 when that '<' is just text. */
function markupEnd(html: string, i: number): number {
  const n = html.length;
  if (html.startsWith('<!--', i)) {
    const e = html.indexOf('-->', i + 4);
    return e < 0 ? n : e + 3;
  }
  const c = html.charCodeAt(i + 1);
  const starts = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x2f || c === 0x21 || c === 0x3f;
  if (!starts) return -1;
  let quote = 0;
  for (let k = i + 1; k < n; k++) {
    const ch = html.charCodeAt(k);
    if (quote !== 0) {
      if (ch === quote) quote = 0;
    } else if (ch === 0x22 || ch === 0x27) quote = ch;
    else if (ch === 0x3e) return k + 1;
  }
  return n;
}

const RAW_TEXT_ELEMENT = /^<(script|style)[\s>/]/i;
const BODY_START = /^<body[\s>/]/i;
const BODY_END = /^<\/body[\s>]/i;
const LINE_BREAK_TAG = /^<br[\s>/]/i;
const BLOCK_END_TAG = /^<\/(p|div|li|tr|table|h[1-6]|blockquote|pre|ul|ol)[\s>]/i;
const ENTITY_OR_BREAK = /&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});|\r\n|\r|\n/g;
const NAMED_ENTITIES: ReadonlyMap<string, string> = new Map([
  ['amp', '&'], ['lt', '<'], ['gt', '>'], ['quot', '"'], ['apos', "'"], ['nbsp', '\u00a0'],
  ['copy', '\u00a9'], ['reg', '\u00ae'], ['euro', '\u20ac'], ['mdash', '\u2014'], ['ndash', '\u2013'],
  ['hellip', '\u2026'], ['laquo', '\u00ab'], ['raquo', '\u00bb'], ['uml', '\u00a8'],
]);

/** What an entity shows as, for the RTF view only; undefined when we do not know. */
function entityText(entity: string): string | undefined {
  const body = entity.slice(1, -1);
  if (body.startsWith('#')) {
    const cp = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return cp > 0 && cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : undefined;
  }
  return NAMED_ENTITIES.get(body);
}

const htmltagGroup = (content: string): string => `{\\*\\htmltag${HTMLTAG_PARAM} ${escapeRtf(content)}}`;
/** RTF-view-only content (MS-OXRTFEX HTMLRTF): de-encapsulation drops it. */
const rtfOnly = (rtf: string): string => `\\htmlrtf ${rtf}\\htmlrtf0 `;

/**
 * `html` as RTF with \fromhtml1 (MS-OXRTFEX FROMHTML, HTMLTAG): markup, comments, script and style in
 * \*\htmltag groups; text of the body as visible RTF text, with character references and line
 * breaks in \*\htmltag groups and an RTF-only rendering beside them. deEncapsulate returns the
 * HTML with line endings as CRLF.
 */
export function encapsulateHtml(html: string): Uint8Array {
  const parts: string[] = [HTML_PROLOG];
  const n = html.length;
  let inBody = !/<body[\s>/]/i.test(html); // a fragment without <body> is all body
  const emitText = (text: string): void => {
    if (!inBody || text.trim() === '') {
      parts.push(htmltagGroup(text));
      return;
    }
    let last = 0;
    ENTITY_OR_BREAK.lastIndex = 0;
    for (let m = ENTITY_OR_BREAK.exec(text); m !== null; m = ENTITY_OR_BREAK.exec(text)) {
      if (m.index > last) parts.push(escapeRtf(text.slice(last, m.index)));
      const token = m[0];
      if (token.startsWith('&')) {
        const shown = entityText(token);
        parts.push(htmltagGroup(token) + (shown === undefined ? '' : rtfOnly(escapeRtf(shown))));
      } else parts.push(htmltagGroup(token) + rtfOnly(' ')); // a line break in HTML text shows as a space
      last = m.index + token.length;
    }
    if (last < text.length) parts.push(escapeRtf(text.slice(last)));
  };

  let textStart = 0;
  let i = 0;
  while (i < n) {
    if (html.charCodeAt(i) !== 0x3c) {
      i++;
      continue;
    }
    let end = markupEnd(html, i);
    if (end < 0) {
      i++;
      continue;
    }
    if (textStart < i) emitText(html.slice(textStart, i));
    const tag = html.slice(i, end);
    const raw = RAW_TEXT_ELEMENT.exec(tag);
    if (raw !== null && !tag.endsWith('/>')) {
      // Script and style content is markup, not text: up to and including the end tag.
      const close = new RegExp(`</${raw[1]}[\\s>]`, 'ig');
      close.lastIndex = end;
      const m = close.exec(html);
      end = m === null ? n : Math.max(end, markupEnd(html, m.index));
    }
    parts.push(htmltagGroup(html.slice(i, end)));
    if (BODY_START.test(tag)) inBody = true;
    else if (BODY_END.test(tag)) inBody = false;
    else if (LINE_BREAK_TAG.test(tag)) parts.push(rtfOnly('\\line'));
    else if (BLOCK_END_TAG.test(tag)) parts.push(rtfOnly('\\par'));
    i = textStart = end;
  }
  if (textStart < n) emitText(html.slice(textStart));
  parts.push('}');
  return latin1Bytes(parts.join(''));
}
