/**
 * SEARCH keys (RFC 3501 §6.4.4, §9), read into a tree the session then resolves (sequence sets,
 * session flags) and hands to the mailbox actor:
 *
 *   search     = "SEARCH" [SP "CHARSET" SP astring] 1*(SP search-key)
 *   search-key = "ALL" / "ANSWERED" / "BCC" SP astring / "BEFORE" SP date / "BODY" SP astring /
 *                "CC" SP astring / "DELETED" / "FLAGGED" / "FROM" SP astring / "KEYWORD" SP flag-keyword /
 *                "NEW" / "OLD" / "ON" SP date / "RECENT" / "SEEN" / "SINCE" SP date / "SUBJECT" SP astring /
 *                "TEXT" SP astring / "TO" SP astring / "UNANSWERED" / "UNDELETED" / "UNFLAGGED" /
 *                "UNKEYWORD" SP flag-keyword / "UNSEEN" / "DRAFT" / "HEADER" SP header-fld-name SP astring /
 *                "LARGER" SP number / "NOT" SP search-key / "OR" SP search-key SP search-key /
 *                "SENTBEFORE" SP date / "SENTON" SP date / "SENTSINCE" SP date / "SMALLER" SP number /
 *                "UID" SP sequence-set / "UNDRAFT" / sequence-set / "(" search-key *(SP search-key) ")"
 *                / "MODSEQ" SP mod-sequence-valzer (RFC 7162)
 */
import { Flag } from '../flags.js';
import { MAX_NESTING } from '../limits.js';
import { readDate } from './date.js';
import type { Reader } from './reader.js';
import { readSequenceSet, startsSequenceSet, type SequenceSet } from './sequence-set.js';

export type TextField = 'subject' | 'from' | 'to' | 'cc' | 'bcc' | 'body' | 'text';

export type SearchKey =
  | { k: 'all' }
  | { k: 'and'; c: SearchKey[] }
  | { k: 'or'; a: SearchKey; b: SearchKey }
  | { k: 'not'; c: SearchKey }
  | { k: 'seq'; set: SequenceSet }
  | { k: 'uid'; set: SequenceSet }
  | { k: 'flag'; bit: number; set: boolean }
  | { k: 'keyword'; name: string; set: boolean }
  | { k: 'recent'; set: boolean }
  | { k: 'text'; field: TextField; value: string }
  | { k: 'header'; name: string; value: string }
  | { k: 'date'; field: 'internal' | 'sent'; op: 'before' | 'on' | 'since'; day: number }
  | { k: 'size'; op: 'larger' | 'smaller'; n: number }
  | { k: 'modseq'; n: number };

const FLAG_KEYS: Record<string, [number, boolean]> = {
  ANSWERED: [Flag.Answered, true],
  DELETED: [Flag.Deleted, true],
  DRAFT: [Flag.Draft, true],
  FLAGGED: [Flag.Flagged, true],
  SEEN: [Flag.Seen, true],
  UNANSWERED: [Flag.Answered, false],
  UNDELETED: [Flag.Deleted, false],
  UNDRAFT: [Flag.Draft, false],
  UNFLAGGED: [Flag.Flagged, false],
  UNSEEN: [Flag.Seen, false],
};
const TEXT_KEYS: Record<string, TextField> = { SUBJECT: 'subject', FROM: 'from', TO: 'to', CC: 'cc', BCC: 'bcc', BODY: 'body', TEXT: 'text' };
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'],
  ON: ['internal', 'on'],
  SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'],
  SENTON: ['sent', 'on'],
  SENTSINCE: ['sent', 'since'],
};

/** Decodes a search string in the command's charset (only UTF-8 and US-ASCII are accepted). */
function str(r: Reader): string | null {
  return r.astring();
}

function readKey(r: Reader, depth: number): SearchKey | null {
  if (depth > MAX_NESTING) return r.fail('search nested too deep');
  if (r.take(0x28)) {
    const c: SearchKey[] = [];
    for (;;) {
      const k = readKey(r, depth + 1);
      if (k === null) return null;
      c.push(k);
      if (r.take(0x29)) return c.length === 1 ? c[0]! : { k: 'and', c };
      if (!r.sp()) return null;
    }
  }
  if (startsSequenceSet(r)) {
    const set = readSequenceSet(r);
    return set === null ? null : { k: 'seq', set };
  }
  const word = r.atom();
  if (word === null) return null;
  const w = word.toUpperCase();
  const flag = FLAG_KEYS[w];
  if (flag !== undefined) return { k: 'flag', bit: flag[0], set: flag[1] };
  const field = TEXT_KEYS[w];
  if (field !== undefined) {
    if (!r.sp()) return null;
    const value = str(r);
    return value === null ? null : { k: 'text', field, value };
  }
  const date = DATE_KEYS[w];
  if (date !== undefined) {
    if (!r.sp()) return null;
    const day = readDate(r);
    return day === null ? null : { k: 'date', field: date[0], op: date[1], day };
  }
  switch (w) {
    case 'ALL':
      return { k: 'all' };
    case 'NEW':
      return { k: 'and', c: [{ k: 'recent', set: true }, { k: 'flag', bit: Flag.Seen, set: false }] };
    case 'OLD':
      return { k: 'recent', set: false };
    case 'RECENT':
      return { k: 'recent', set: true };
    case 'KEYWORD':
    case 'UNKEYWORD': {
      if (!r.sp()) return null;
      const name = r.flag();
      if (name === null) return null;
      return { k: 'keyword', name, set: w === 'KEYWORD' };
    }
    case 'HEADER': {
      if (!r.sp()) return null;
      const name = r.astring();
      if (name === null || !r.sp()) return null;
      const value = str(r);
      return value === null ? null : { k: 'header', name, value };
    }
    case 'LARGER':
    case 'SMALLER': {
      if (!r.sp()) return null;
      const n = r.number();
      return n === null ? null : { k: 'size', op: w === 'LARGER' ? 'larger' : 'smaller', n };
    }
    case 'NOT': {
      if (!r.sp()) return null;
      const c = readKey(r, depth + 1);
      return c === null ? null : { k: 'not', c };
    }
    case 'OR': {
      if (!r.sp()) return null;
      const a = readKey(r, depth + 1);
      if (a === null || !r.sp()) return null;
      const b = readKey(r, depth + 1);
      return b === null ? null : { k: 'or', a, b };
    }
    case 'UID': {
      if (!r.sp()) return null;
      const set = readSequenceSet(r);
      return set === null ? null : { k: 'uid', set };
    }
    case 'MODSEQ': {
      if (!r.sp()) return null;
      // RFC 7162 §3.1.5: an optional entry name and type before the value.
      if (r.peek() === 0x22) {
        if (r.string() === null || !r.sp() || r.atom() === null || !r.sp()) return null;
      }
      const n = r.number64();
      return n === null ? null : { k: 'modseq', n };
    }
    default:
      return r.fail(`unknown search key ${word.slice(0, 30)}`);
  }
}

export interface SearchCommand {
  charset: string | null;
  /** RFC 4731 ESEARCH RETURN options are for a later issue; RETURN is refused for now. */
  key: SearchKey;
}

/** The arguments after "SEARCH " (CHARSET included). */
export function readSearch(r: Reader): SearchCommand | null {
  let charset: string | null = null;
  if (r.peekWord('CHARSET')) {
    r.pos += 7;
    if (!r.sp()) return null;
    charset = r.astring();
    if (charset === null || !r.sp()) return null;
  }
  const keys: SearchKey[] = [];
  for (;;) {
    const k = readKey(r, 0);
    if (k === null) return null;
    keys.push(k);
    if (r.atEnd()) break;
    if (!r.sp()) return null;
  }
  return { charset, key: keys.length === 1 ? keys[0]! : { k: 'and', c: keys } };
}
