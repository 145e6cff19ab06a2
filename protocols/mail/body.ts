/**
 * Message bodies per MS-OXBBODY: a message keeps its native body (PidTagNativeBody names it:
 * plain text, HTML or compressed RTF) and the other forms are made when they are read, so they
 * can never disagree with it. Outlook often saves only PidTagRtfCompressed, with HTML or text
 * encapsulated in it (MS-OXRTFEX).
 */
import { Tag } from '../../storage/prop-tags.js';
import type { PropValue } from '../../storage/prop-types.js';
import { compressRtf, decompressRtf } from './rtf/compressed-rtf.js';
import { deEncapsulate, encapsulateHtml, encapsulateText, rtfToText } from './rtf/rtf-encapsulation.js';
import { charsetOfCodePage, decodeText } from './mime/charset.js';
import { htmlToText, textToHtml } from './html-text.js';

export const BODY_TAGS: readonly number[] = [Tag.PidTagBody, Tag.PidTagHtml, Tag.PidTagRtfCompressed];

export interface Bodies {
  html: string | null;
  text: string | null;
}

function htmlOf(props: ReadonlyMap<number, PropValue>): string | null {
  const v = props.get(Tag.PidTagHtml);
  if (!(v instanceof Uint8Array)) return null;
  const cp = props.get(Tag.PidTagInternetCodepage);
  return decodeText(v, typeof cp === 'number' ? charsetOfCodePage(cp) : 'utf-8');
}

/** The RTF body's content: de-encapsulated HTML or text, else the text of plain RTF. */
function fromRtf(props: ReadonlyMap<number, PropValue>): Bodies | null {
  const v = props.get(Tag.PidTagRtfCompressed);
  if (!(v instanceof Uint8Array)) return null;
  const { rtf } = decompressRtf(v);
  if (rtf.byteLength === 0) return null;
  const inner = deEncapsulate(rtf);
  if (inner?.kind === 'html') return { html: inner.value, text: null };
  if (inner?.kind === 'text') return { html: null, text: inner.value };
  return { html: null, text: rtfToText(rtf) };
}

/** The HTML and plain text to show, from whichever body the message has. */
export function readBodies(props: ReadonlyMap<number, PropValue>): Bodies {
  const storedText = props.get(Tag.PidTagBody);
  let text = typeof storedText === 'string' ? storedText : null;
  let html = htmlOf(props);
  if (html === null) {
    // RTF with HTML inside gives the HTML even beside a stored plain text (Outlook's TNEF mail).
    const r = fromRtf(props);
    if (r !== null) {
      html = r.html;
      text ??= r.text;
    }
  }
  if (text === null && html !== null) text = htmlToText(html);
  return { html, text };
}

/**
 * Adds the body forms among `wanted` that the message lacks, made from the one it has.
 * Returns the tags it added.
 */
export function synthesizeBodies(props: Map<number, PropValue>, wanted: readonly number[] | null): number[] {
  const want = (t: number) => (wanted === null || wanted.includes(t)) && !props.has(t);
  const added: number[] = [];
  if (!want(Tag.PidTagBody) && !want(Tag.PidTagHtml) && !want(Tag.PidTagRtfCompressed)) return added;
  const hasAny = props.has(Tag.PidTagBody) || props.has(Tag.PidTagHtml) || props.has(Tag.PidTagRtfCompressed);
  if (!hasAny) return added;
  const b = readBodies(props);
  if (want(Tag.PidTagBody) && b.text !== null) {
    props.set(Tag.PidTagBody, b.text);
    added.push(Tag.PidTagBody);
  }
  if (want(Tag.PidTagHtml)) {
    const html = b.html ?? (b.text !== null ? textToHtml(b.text) : null);
    if (html !== null) {
      props.set(Tag.PidTagHtml, Buffer.from(html, 'utf8'));
      added.push(Tag.PidTagHtml);
      if (!props.has(Tag.PidTagInternetCodepage)) props.set(Tag.PidTagInternetCodepage, 65001);
    }
  }
  if (want(Tag.PidTagRtfCompressed)) {
    const rtf = b.html !== null ? encapsulateHtml(b.html) : b.text !== null ? encapsulateText(b.text) : null;
    if (rtf !== null) {
      props.set(Tag.PidTagRtfCompressed, compressRtf(rtf));
      added.push(Tag.PidTagRtfCompressed);
    }
  }
  return added;
}
