/**
 * Plain text from HTML and HTML from plain text, for the body forms a message does not store
 * (MS-OXBBODY: the native body is kept, the others are made when read). Not a renderer: block
 * elements become line breaks, lists get bullets, links keep their target, scripts and styles
 * vanish, entities decode.
 */

const BLOCK = new Set(['p', 'div', 'tr', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'ul', 'ol', 'dl', 'dt', 'dd', 'section', 'article', 'header', 'footer', 'hr', 'address', 'center']);
const SKIP = new Set(['script', 'style', 'head', 'title', 'xml', 'template']);
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', copy: '©', reg: '®', trade: '™', hellip: '…', mdash: '—', ndash: '–', laquo: '«', raquo: '»', bull: '•', euro: '€', lsquo: '‘', rsquo: '’', ldquo: '“', rdquo: '”', shy: '' };

export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z][a-z0-9]{1,31});?/gi, (all, ent: string) => {
    if (ent[0] === '#') {
      const cp = ent[1] === 'x' || ent[1] === 'X' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      return cp > 0 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff) ? String.fromCodePoint(cp) : '\ufffd';
    }
    return NAMED[ent.toLowerCase()] ?? all;
  });
}

/** Text of an HTML document, lines separated by CRLF. */
export function htmlToText(html: string): string {
  const out: string[] = [];
  let skipping: string | null = null;
  let pre = 0;
  const re = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9:-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>|([^<]+)|</g;
  let m: RegExpExecArray | null;
  let href: string | null = null;
  while ((m = re.exec(html)) !== null) {
    const [, closing, rawName, attrs, text] = m;
    if (text !== undefined) {
      if (skipping !== null) continue;
      let t = decodeEntities(text);
      if (pre === 0) t = t.replace(/[ \t\r\n\f]+/g, ' ');
      out.push(t);
      continue;
    }
    if (rawName === undefined) {
      if (skipping === null && m[0] === '<') out.push('<');
      continue;
    }
    const name = rawName.toLowerCase();
    if (skipping !== null) {
      if (closing === '/' && name === skipping) skipping = null;
      continue;
    }
    if (SKIP.has(name) && closing !== '/' && !(attrs ?? '').trimEnd().endsWith('/')) {
      skipping = name;
      continue;
    }
    if (name === 'br') out.push('\n');
    else if (name === 'li' && closing !== '/') out.push('\n* ');
    else if (name === 'td' || name === 'th') {
      if (closing !== '/') out.push('\t');
    } else if (name === 'pre') {
      pre += closing === '/' ? -1 : 1;
      if (pre < 0) pre = 0;
      out.push('\n');
    } else if (name === 'a') {
      if (closing !== '/') {
        const h = /\bhref\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/i.exec(attrs ?? '');
        href = h === null ? null : decodeEntities(h[2] ?? h[3] ?? h[4] ?? '');
      } else if (href !== null) {
        if (/^(https?|ftp):/i.test(href)) out.push(` <${href}>`);
        href = null;
      }
    } else if (name === 'img' && closing !== '/') {
      const alt = /\balt\s*=\s*("([^"]*)"|'([^']*)')/i.exec(attrs ?? '');
      if (alt !== null && (alt[2] ?? alt[3] ?? '') !== '') out.push(`[${decodeEntities(alt[2] ?? alt[3] ?? '')}]`);
    } else if (BLOCK.has(name)) out.push('\n');
  }
  const joined = out.join('');
  const lines = joined.split('\n').map((l) => l.replace(/[ \u00a0]+$/g, '').replace(/^ +/, ''));
  // At most one empty line in a row; none at the ends.
  const kept: string[] = [];
  for (const l of lines) {
    if (l === '' && (kept.length === 0 || kept[kept.length - 1] === '')) continue;
    kept.push(l);
  }
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  return kept.join('\r\n');
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => (c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : '&quot;'));
}

/** A minimal HTML document showing plain text as written (line breaks kept). */
export function textToHtml(text: string): string {
  const body = escapeHtml(text).replace(/\r?\n/g, '<br>\r\n');
  return `<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head><body><div style="font-family: monospace; white-space: pre-wrap">${body}</div></body></html>`;
}
