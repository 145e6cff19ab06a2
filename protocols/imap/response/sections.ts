/**
 * BODY[section] content (RFC 3501 §6.4.5) from the MIME tree over the served bytes: views into
 * the message, never copies, except HEADER.FIELDS which assembles the chosen fields.
 *
 * Part numbers: in a multipart, n is the n-th child; a non-multipart message (or part) has one
 * part, 1, which is its body; a message/rfc822 part's numbers continue inside the message it
 * holds. HEADER and TEXT of a part are those of the message a message/rfc822 part holds; MIME
 * is the part's own header block.
 */
import type { MimePart, MimeTree } from '../../mail/mime/mime-tree.js';
import type { SectionItem } from '../parser/fetch-att.js';

const CRLF = Buffer.from('\r\n');
const EMPTY = Buffer.alloc(0);

function resolve(root: MimePart, path: readonly number[]): MimePart | null {
  let cur = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i]!;
    // Inside a message/rfc822 part, numbering continues in the message it holds.
    const holder = i > 0 && cur.message !== null ? cur.message : cur;
    if (holder.children.length > 0) {
      const c = holder.children[n - 1];
      if (c === undefined) return null;
      cur = c;
    } else if (n === 1) {
      cur = holder === cur ? cur : holder;
    } else return null;
  }
  return cur;
}

function headerBlock(buf: Buffer, p: MimePart): Buffer {
  return buf.subarray(p.start, p.bodyStart);
}

function fields(buf: Buffer, p: MimePart, names: readonly string[], not: boolean): Buffer {
  const want = new Set(names);
  const parts: Buffer[] = [];
  for (const h of p.headers) if (want.has(h.name) !== not) parts.push(buf.subarray(h.start, h.end));
  parts.push(CRLF);
  return Buffer.concat(parts);
}

/** The bytes a section names (before any <partial>). */
export function sectionBytes(tree: MimeTree, s: SectionItem): Buffer {
  const { buf, root } = tree;
  const part = resolve(root, s.part);
  if (part === null) return EMPTY;
  const isPart = s.part.length > 0;
  // HEADER / TEXT / HEADER.FIELDS of a part address the message a message/rfc822 part holds.
  const msg = isPart ? part.message : part;
  switch (s.text) {
    case null:
      return isPart ? buf.subarray(part.bodyStart, part.end) : buf.subarray(root.start, root.end);
    case 'mime':
      return headerBlock(buf, part);
    case 'header':
      return msg === null ? EMPTY : headerBlock(buf, msg);
    case 'text':
      return msg === null ? EMPTY : buf.subarray(msg.bodyStart, msg.end);
    case 'fields':
    case 'fields.not':
      return msg === null ? EMPTY : fields(buf, msg, s.fields, s.text === 'fields.not');
  }
}

/** <origin.length> applied (RFC 3501: past the end gives an empty string). */
export function applyPartial(b: Buffer, partial: [number, number] | null): Buffer {
  if (partial === null) return b;
  const [start, len] = partial;
  if (start >= b.length) return EMPTY;
  return b.subarray(start, Math.min(b.length, start + len));
}
