/**
 * FETCH items (RFC 3501 §6.4.5, §9):
 *
 *   fetch-att = "ENVELOPE" / "FLAGS" / "INTERNALDATE" / "RFC822" [".HEADER" / ".SIZE" / ".TEXT"] /
 *               "BODY" ["STRUCTURE"] / "UID" / "BODY" ["." "PEEK"] section ["<" number "." nz-number ">"]
 *               / "MODSEQ" (RFC 7162)
 *   section   = "[" [section-spec] "]"
 *   section-spec = section-msgtext / (section-part ["." section-text])
 *   section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
 *   section-text = section-msgtext / "MIME"
 *   macros ALL, FAST, FULL.
 */
import type { Reader } from './reader.js';

export type SectionText = 'header' | 'fields' | 'fields.not' | 'text' | 'mime' | null;

export interface SectionItem {
  k: 'section';
  peek: boolean;
  /** Part numbers ([] for the whole message). */
  part: number[];
  text: SectionText;
  /** Header field names for HEADER.FIELDS (.NOT), lower case. */
  fields: string[];
  /** <origin.length> */
  partial: [number, number] | null;
  /** The section as echoed in the response ("1.HEADER.FIELDS (From To)"). */
  label: string;
}

export type FetchItem =
  | { k: 'envelope' | 'flags' | 'internaldate' | 'rfc822' | 'rfc822.header' | 'rfc822.size' | 'rfc822.text' | 'body' | 'bodystructure' | 'uid' | 'modseq' }
  | SectionItem;

const MACROS: Record<string, FetchItem['k'][]> = {
  ALL: ['flags', 'internaldate', 'rfc822.size', 'envelope'],
  FAST: ['flags', 'internaldate', 'rfc822.size'],
  FULL: ['flags', 'internaldate', 'rfc822.size', 'envelope', 'body'],
};

const SIMPLE: Record<string, FetchItem['k']> = {
  ENVELOPE: 'envelope',
  FLAGS: 'flags',
  INTERNALDATE: 'internaldate',
  RFC822: 'rfc822',
  'RFC822.HEADER': 'rfc822.header',
  'RFC822.SIZE': 'rfc822.size',
  'RFC822.TEXT': 'rfc822.text',
  BODYSTRUCTURE: 'bodystructure',
  UID: 'uid',
  MODSEQ: 'modseq',
};

function itemName(r: Reader): string | null {
  return r.run((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e, 'a FETCH item');
}

function readSection(r: Reader, peek: boolean): SectionItem | null {
  if (!r.expect(0x5b, '"["')) return null;
  const part: number[] = [];
  let text: SectionText = null;
  const fields: string[] = [];
  let label = '';
  if (!r.take(0x5d)) {
    const spec = r.run((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e, 'a section');
    if (spec === null) return null;
    const pieces = spec.split('.');
    let i = 0;
    while (i < pieces.length && /^\d+$/.test(pieces[i]!)) {
      const n = Number(pieces[i]);
      if (n === 0 || pieces[i]!.length > 9) return r.fail('bad section part');
      part.push(n);
      i++;
    }
    const rest = pieces.slice(i).join('.').toUpperCase();
    if (rest === '') text = null;
    else if (rest === 'HEADER') text = 'header';
    else if (rest === 'TEXT') text = 'text';
    else if (rest === 'MIME' && part.length > 0) text = 'mime';
    else if (rest === 'HEADER.FIELDS') text = 'fields';
    else if (rest === 'HEADER.FIELDS.NOT') text = 'fields.not';
    else return r.fail('bad section');
    if (spec.endsWith('.') || (part.length === 0 && pieces.length > 0 && pieces[0] === '' )) return r.fail('bad section');
    label = [...part.map(String), ...(rest === '' ? [] : [rest])].join('.');
    if (text === 'fields' || text === 'fields.not') {
      if (!r.sp() || !r.expect(0x28, '"("')) return null;
      const names: string[] = [];
      for (;;) {
        const f = r.astring();
        if (f === null) return null;
        names.push(f);
        fields.push(f.toLowerCase());
        if (r.take(0x29)) break;
        if (!r.sp()) return null;
      }
      label += ` (${names.join(' ')})`;
    }
    if (!r.expect(0x5d, '"]"')) return null;
  }
  let partial: [number, number] | null = null;
  if (r.take(0x3c)) {
    const start = r.number();
    if (start === null || !r.expect(0x2e, '"."')) return null;
    const len = r.nzNumber();
    if (len === null || !r.expect(0x3e, '">"')) return null;
    partial = [start, len];
  }
  return { k: 'section', peek, part, text, fields, partial, label };
}

function readItem(r: Reader): FetchItem | null {
  const name = itemName(r);
  if (name === null) return null;
  const up = name.toUpperCase();
  if ((up === 'BODY' || up === 'BODY.PEEK') && r.peek() === 0x5b) return readSection(r, up === 'BODY.PEEK');
  if (up === 'BODY') return { k: 'body' };
  const k = SIMPLE[up];
  if (k === undefined) return r.fail(`unknown FETCH item ${name.slice(0, 30)}`);
  return { k } as FetchItem;
}

/** A macro, one item, or a parenthesized list. */
export function readFetchItems(r: Reader): FetchItem[] | null {
  if (r.take(0x28)) {
    const out: FetchItem[] = [];
    for (;;) {
      const it = readItem(r);
      if (it === null) return null;
      out.push(it);
      if (r.take(0x29)) return out;
      if (!r.sp()) return null;
    }
  }
  const save = r.pos;
  const name = itemName(r);
  if (name === null) return null;
  const macro = MACROS[name.toUpperCase()];
  if (macro !== undefined) return macro.map((k) => ({ k }) as FetchItem);
  r.pos = save;
  const it = readItem(r);
  return it === null ? null : [it];
}
