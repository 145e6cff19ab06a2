/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4). Keys about flags, numbers and UIDs are answered from
 * the session's view; the rest go to the mailbox actor as one program, text keys compiled to
 * MS-OXCDATA restrictions over the message's properties (subject, senders, recipients) or to
 * header / body matches.
 */
import type { SearchNode } from '../../../actors/mailbox/imap-view.js';
import { Fuzzy, RelOp, SUB_RECIPIENTS, toWireRestriction, type Restriction } from '../../../storage/restriction.js';
import { RecipientType, Tag } from '../../../storage/prop-tags.js';
import type { Reader } from '../parser/reader.js';
import { readSearch, type SearchKey } from '../parser/search-keys.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import type { MailboxView } from '../mailbox-view.js';
import type { CommandContext, Completion, SelectedState } from '../session-state.js';
import { applySync, sinceFor, syncView } from './sync.js';
import { live } from './targets.js';

const SUBSTRING = Fuzzy.FL_SUBSTRING | Fuzzy.FL_IGNORECASE;
const content = (tag: number, value: string): Restriction => ({ type: 'content', fuzzy: SUBSTRING, tag, value });

const FROM_TAGS = [
  Tag.PidTagSentRepresentingName,
  Tag.PidTagSentRepresentingSmtpAddress,
  Tag.PidTagSentRepresentingEmailAddress,
  Tag.PidTagSenderName,
  Tag.PidTagSenderSmtpAddress,
  Tag.PidTagSenderEmailAddress,
];

function recipients(type: number, value: string): Restriction {
  return {
    type: 'sub',
    subobject: SUB_RECIPIENTS,
    child: {
      type: 'and',
      children: [
        { type: 'property', relop: RelOp.EQ, tag: Tag.PidTagRecipientType, value: type },
        { type: 'or', children: [content(Tag.PidTagDisplayName, value), content(Tag.PidTagSmtpAddress, value), content(Tag.PidTagEmailAddress, value)] },
      ],
    },
  };
}

/** Keys the view can answer alone (no message content). */
function viewOnly(k: SearchKey): boolean {
  switch (k.k) {
    case 'all':
    case 'seq':
    case 'uid':
    case 'flag':
    case 'keyword':
    case 'recent':
      return true;
    case 'and':
      return k.c.every(viewOnly);
    case 'or':
      return viewOnly(k.a) && viewOnly(k.b);
    case 'not':
      return viewOnly(k.c);
    default:
      return false;
  }
}

function matchView(k: SearchKey, v: MailboxView, i: number, sets: Map<SearchKey, Set<number>>): boolean {
  switch (k.k) {
    case 'all':
      return true;
    case 'seq':
    case 'uid':
      return sets.get(k)!.has(i);
    case 'flag':
      return ((v.flags[i]! & k.bit) !== 0) === k.set;
    case 'keyword':
      return (v.keywords[i] ?? []).some((x) => x.toLowerCase() === k.name.toLowerCase()) === k.set;
    case 'recent':
      return v.recent.has(v.uids[i]!) === k.set;
    case 'and':
      return k.c.every((c) => matchView(c, v, i, sets));
    case 'or':
      return matchView(k.a, v, i, sets) || matchView(k.b, v, i, sets);
    case 'not':
      return !matchView(k.c, v, i, sets);
    default:
      return true;
  }
}

/** Index sets of the sequence-set and UID keys. */
function collectSets(k: SearchKey, v: MailboxView, out: Map<SearchKey, Set<number>>): void {
  switch (k.k) {
    case 'seq':
      out.set(k, new Set(v.seqIndices(k.set.map(([a, b]) => [Math.min(a === -1 ? v.exists : a, v.exists), Math.min(b === -1 ? v.exists : b, v.exists)])) ?? []));
      return;
    case 'uid':
      out.set(k, new Set(v.uidIndices(k.set)));
      return;
    case 'and':
      for (const c of k.c) collectSets(c, v, out);
      return;
    case 'or':
      collectSets(k.a, v, out);
      collectSets(k.b, v, out);
      return;
    case 'not':
      collectSets(k.c, v, out);
      return;
    default:
      return;
  }
}

/** The key as the actor's program (numbers resolved to mids here). */
function compile(k: SearchKey, v: MailboxView, sets: Map<SearchKey, Set<number>>): SearchNode {
  switch (k.k) {
    case 'all':
      return { k: 'all' };
    case 'seq':
    case 'uid':
    case 'recent': {
      const mids: number[] = [];
      for (let i = 0; i < v.uids.length; i++) if (matchView(k, v, i, sets)) mids.push(v.mids[i]!);
      return { k: 'mids', mids };
    }
    case 'flag':
      return { k: 'flag', bit: k.bit, set: k.set };
    case 'keyword':
      return { k: 'keyword', name: k.name, set: k.set };
    case 'and':
      return { k: 'and', c: k.c.map((c) => compile(c, v, sets)) };
    case 'or':
      return { k: 'or', a: compile(k.a, v, sets), b: compile(k.b, v, sets) };
    case 'not':
      return { k: 'not', c: compile(k.c, v, sets) };
    case 'text':
      switch (k.field) {
        case 'subject':
          return { k: 'restriction', r: toWireRestriction(content(Tag.PidTagSubject, k.value)) };
        case 'from':
          return { k: 'or', a: { k: 'restriction', r: toWireRestriction({ type: 'or', children: FROM_TAGS.map((t) => content(t, k.value)) }) }, b: { k: 'header', name: 'from', value: k.value } };
        case 'to':
          return { k: 'or', a: { k: 'restriction', r: toWireRestriction(recipients(RecipientType.To, k.value)) }, b: { k: 'header', name: 'to', value: k.value } };
        case 'cc':
          return { k: 'or', a: { k: 'restriction', r: toWireRestriction(recipients(RecipientType.Cc, k.value)) }, b: { k: 'header', name: 'cc', value: k.value } };
        case 'bcc':
          return { k: 'or', a: { k: 'restriction', r: toWireRestriction(recipients(RecipientType.Bcc, k.value)) }, b: { k: 'header', name: 'bcc', value: k.value } };
        case 'body':
          return { k: 'body', value: k.value };
        case 'text':
          return { k: 'text', value: k.value };
      }
      break;
    case 'header':
      return { k: 'header', name: k.name, value: k.value };
    case 'date':
      return { k: 'date', field: k.field, op: k.op, day: k.day };
    case 'size':
      return { k: 'size', op: k.op, n: k.n };
    case 'modseq':
      return { k: 'modseq', n: k.n };
  }
  return { k: 'none' };
}

export async function handleSearch(ctx: CommandContext, r: Reader, byUid: boolean): Promise<Completion> {
  const st = ctx.state;
  if (st.kind !== 'selected') return bad('select a mailbox first');
  if (!r.sp()) return bad('SEARCH needs search keys');
  if (r.peekWord('RETURN')) return bad('SEARCH RETURN (ESEARCH) is not supported');
  const cmd = readSearch(r);
  if (cmd === null || !r.end()) return bad(r.error ?? 'bad search');
  if (cmd.charset !== null && !/^(utf-8|us-ascii)$/i.test(cmd.charset)) return no('BADCHARSET (UTF-8 US-ASCII)', `charset ${cmd.charset.slice(0, 30)} is not supported`);
  return runSearch(ctx, st, cmd.key, byUid);
}

async function runSearch(ctx: CommandContext, st: SelectedState, key: SearchKey, byUid: boolean): Promise<Completion> {
  const v = st.view;
  let matched: number[];
  try {
    if (viewOnly(key)) {
      if (v.dirty) {
        const failed = await syncView(ctx, st, byUid);
        if (failed !== null) return failed;
      }
      const sets = new Map<SearchKey, Set<number>>();
      collectSets(key, v, sets);
      matched = live(st, v.uids.map((_, i) => i)).filter((i) => matchView(key, v, i, sets));
    } else {
      const sets = new Map<SearchKey, Set<number>>();
      collectSets(key, v, sets);
      const program = compile(key, v, sets);
      const candidates = live(st, v.uids.map((_, i) => i)).map((i) => v.mids[i]!);
      const since = sinceFor(st);
      const res = await st.mailbox.call('imapSearch', { folder: v.folder, candidates, program, ...(since !== undefined ? { since } : {}) });
      if (ctx.state !== st) return ok('SEARCH completed');
      applySync(ctx, st, res.sync, byUid);
      const want = new Set(res.mids);
      matched = [];
      // A mid whose content changed is listed twice (old UID gone, new UID): the live one counts.
      for (let i = 0; i < v.mids.length; i++) if (want.has(v.mids[i]!) && !v.gone.has(v.uids[i]!)) matched.push(i);
    }
  } catch (e) {
    return errorCompletion(e, 'search');
  }
  const w = ctx.out;
  w.raw('* SEARCH');
  for (const i of matched) w.raw(` ${byUid ? v.uids[i]! : i + 1}`);
  w.raw('\r\n');
  return ok(byUid ? 'UID SEARCH completed' : 'SEARCH completed');
}
