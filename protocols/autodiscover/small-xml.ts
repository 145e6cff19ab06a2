/**
 * A small, strict XML reader for request bodies of a few hundred bytes (AutoDiscover): elements
 * with local names (prefixes dropped), text (the five predefined entities and character
 * references decoded, CDATA kept), comments and the declaration skipped. Refused: DOCTYPE (so no
 * entity definitions or expansion), unknown entities, mismatched or unclosed tags, nesting past
 * a limit. A general parser validated then parsed such a body at ~30 µs; this reads it in a few.
 */

export interface XmlElement {
  name: string;
  children: XmlElement[];
  text: string;
}

const PREDEFINED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const NAME = /^[A-Za-z_][\w.-]*(?::[A-Za-z_][\w.-]*)?/;

function decodeText(s: string): string | null {
  if (s.indexOf('&') < 0) return s;
  let bad = false;
  const out = s.replace(/&([^;&\s]{1,10});|&/g, (all, ent: string | undefined) => {
    if (ent === undefined) {
      bad = true;
      return all;
    }
    if (ent[0] === '#') {
      const cp = ent[1] === 'x' ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10);
      if (!Number.isInteger(cp) || cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        bad = true;
        return all;
      }
      return String.fromCodePoint(cp);
    }
    const v = PREDEFINED[ent];
    if (v === undefined) bad = true;
    return v ?? all;
  });
  return bad ? null : out;
}

/** The document's root element, or an error reason. */
export function readSmallXml(text: string, maxDepth: number): XmlElement | { error: string } {
  const stack: XmlElement[] = [];
  let root: XmlElement | null = null;
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    const lt = text.indexOf('<', pos);
    const chunk = text.slice(pos, lt < 0 ? n : lt);
    if (chunk.trim() !== '') {
      if (stack.length === 0) return { error: 'text outside the root element' };
      const t = decodeText(chunk);
      if (t === null) return { error: 'an unknown or broken entity reference' };
      stack[stack.length - 1]!.text += t;
    } else if (stack.length > 0) stack[stack.length - 1]!.text += chunk;
    if (lt < 0) break;
    if (text.startsWith('<?', lt)) {
      const end = text.indexOf('?>', lt + 2);
      if (end < 0) return { error: 'an unclosed processing instruction' };
      pos = end + 2;
    } else if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      if (end < 0) return { error: 'an unclosed comment' };
      pos = end + 3;
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      if (end < 0 || stack.length === 0) return { error: 'a misplaced or unclosed CDATA section' };
      stack[stack.length - 1]!.text += text.slice(lt + 9, end);
      pos = end + 3;
    } else if (text.startsWith('<!', lt)) {
      return { error: 'DTDs are not accepted' };
    } else if (text[lt + 1] === '/') {
      const m = NAME.exec(text.slice(lt + 2, lt + 2 + 256));
      const gt = text.indexOf('>', lt + 2);
      if (m === null || gt < 0 || text.slice(lt + 2 + m[0].length, gt).trim() !== '') return { error: 'a malformed closing tag' };
      const open = stack.pop();
      if (open === undefined || open.name !== localName(m[0])) return { error: `a closing tag </${m[0]}> that does not match` };
      pos = gt + 1;
    } else {
      const m = NAME.exec(text.slice(lt + 1, lt + 1 + 256));
      if (m === null) return { error: 'a malformed tag' };
      // Attributes are skipped, but must be well-formed: name="value" or name='value'.
      let p = lt + 1 + m[0].length;
      for (;;) {
        while (p < n && /\s/.test(text[p]!)) p++;
        if (text[p] === '>' || text.startsWith('/>', p)) break;
        const a = /^[A-Za-z_][\w.:-]*\s*=\s*("[^"<]*"|'[^'<]*')/.exec(text.slice(p, p + 4096));
        if (a === null) return { error: 'a malformed attribute' };
        p += a[0].length;
      }
      if (p >= n) return { error: 'an unclosed tag' };
      const el: XmlElement = { name: localName(m[0]), children: [], text: '' };
      if (stack.length === 0) {
        if (root !== null) return { error: 'more than one root element' };
        root = el;
      } else stack[stack.length - 1]!.children.push(el);
      const selfClosing = text.startsWith('/>', p);
      if (!selfClosing) {
        if (stack.length >= maxDepth) return { error: `elements nested deeper than ${maxDepth}` };
        stack.push(el);
      }
      pos = p + (selfClosing ? 2 : 1);
    }
  }
  if (stack.length > 0) return { error: `<${stack[stack.length - 1]!.name}> is not closed` };
  if (root === null) return { error: 'no root element' };
  return root;
}

function localName(qname: string): string {
  const colon = qname.indexOf(':');
  return colon < 0 ? qname : qname.slice(colon + 1);
}
