/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §7.4.2):
 *
 *   fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")")
 *           [SP "(" "CHANGEDSINCE" SP mod-sequence-value ")"]   (RFC 7162, read already)
 *
 * Flags, UIDs and MODSEQs come from the session's view (no store call). Anything else is asked
 * from the mailbox actor in rounds of at most FETCH_BUDGET_BYTES, each round written and flushed
 * with back-pressure before the next, so a FETCH of a whole large mailbox streams. Only what the
 * items need crosses threads: nothing, the original's size, its header block, or all of it (or
 * the MAPI data of a message with no original, made into MIME here and cached).
 */
import type { ImapFetchedRef, FetchWant } from '../../../actors/mailbox/imap-view.js';
import { unpackWire } from '../../../actors/mailbox/imap-pack.js';
import { parseMimeTree, type MimeTree } from '../../mail/mime/mime-tree.js';
import type { Reader } from '../parser/reader.js';
import { readFetchItems, type FetchItem, type SectionItem } from '../parser/fetch-att.js';
import { formatDateTime } from '../parser/date.js';
import { bad, errorCompletion, ok } from '../errors.js';
import { Flag, flagsText } from '../flags.js';
import { FETCH_BUDGET_BYTES } from '../limits.js';
import { writeEnvelope } from '../response/envelope.js';
import { writeBodyStructure } from '../response/body-structure.js';
import { applyPartial, sectionBytes } from '../response/sections.js';
import type { CommandContext, Completion, SelectedState } from '../session-state.js';
import { applySync, sinceFor, syncView } from './sync.js';
import { live, readTargets } from './targets.js';

function isHeaderOnly(s: SectionItem): boolean {
  return s.part.length === 0 && (s.text === 'header' || s.text === 'fields' || s.text === 'fields.not');
}

/** What the items need from the store. */
function wantOf(items: readonly FetchItem[]): FetchWant | null {
  let want: FetchWant | null = null;
  const rank = { none: 0, size: 1, header: 2, full: 3 } as const;
  const need = (w: FetchWant) => {
    if (want === null || rank[w] > rank[want]) want = w;
  };
  for (const it of items) {
    switch (it.k) {
      case 'flags':
      case 'uid':
      case 'modseq':
        break;
      case 'internaldate':
        need('none');
        break;
      case 'rfc822.size':
        need('size');
        break;
      case 'envelope':
      case 'rfc822.header':
        need('header');
        break;
      case 'section':
        need(isHeaderOnly(it) ? 'header' : 'full');
        break;
      default:
        need('full');
    }
  }
  return want;
}

function setsSeen(items: readonly FetchItem[]): boolean {
  return items.some((it) => (it.k === 'section' && !it.peek) || it.k === 'rfc822' || it.k === 'rfc822.text');
}

export async function handleFetch(ctx: CommandContext, r: Reader, byUid: boolean): Promise<Completion> {
  const st = ctx.state;
  if (st.kind !== 'selected') return bad('select a mailbox first');
  if (!r.sp()) return bad('FETCH needs a message set and items');
  const targets = readTargets(r, st, byUid);
  if (typeof targets === 'string' || !r.sp()) return bad(typeof targets === 'string' ? targets : r.error!);
  const items = readFetchItems(r);
  if (items === null) return bad(r.error!);
  let changedSince: number | null = null;
  if (r.take(0x20)) {
    if (!r.expect(0x28, '"("') || !r.peekWord('CHANGEDSINCE')) return bad(r.error ?? 'unknown FETCH modifier');
    r.pos += 12;
    changedSince = r.sp() ? r.number64() : null;
    if (changedSince === null || !r.expect(0x29, '")"')) return bad(r.error!);
    if (!items.some((i) => i.k === 'modseq')) items.push({ k: 'modseq' });
  }
  if (!r.end()) return bad(r.error!);
  if (byUid && !items.some((i) => i.k === 'uid')) items.unshift({ k: 'uid' });
  const want = wantOf(items);
  const markSeen = !st.view.readOnly && setsSeen(items);
  let idx = live(st, targets);
  const partlyGone = idx.length < targets.length;
  try {
    if (want === null && !markSeen) {
      if (st.view.dirty) {
        const failed = await syncView(ctx, st, byUid);
        if (failed !== null) return failed;
        if (ctx.state !== st) return ok('FETCH completed');
        idx = idx.filter((i) => i < st.view.uids.length);
      }
      const v = st.view;
      for (const i of idx) {
        if (changedSince !== null && v.modseqs[i]! <= changedSince) continue;
        writeFromView(ctx, st, i, items);
        // A flag listing of a large mailbox goes out in pieces too.
        if (ctx.out.length >= FETCH_BUDGET_BYTES / 2) await ctx.flush();
      }
    } else {
      await fetchFromStore(ctx, st, idx, items, want ?? 'none', markSeen, byUid, changedSince);
    }
  } catch (e) {
    return errorCompletion(e, 'fetch');
  }
  return partlyGone ? ok('Some messages were expunged meanwhile', 'EXPUNGEISSUED') : ok(byUid ? 'UID FETCH completed' : 'FETCH completed');
}

function writeFromView(ctx: CommandContext, st: SelectedState, i: number, items: readonly FetchItem[]): void {
  const v = st.view;
  const w = ctx.out;
  w.raw(`* ${i + 1} FETCH (`);
  let first = true;
  for (const it of items) {
    if (!first) w.raw(' ');
    first = false;
    if (it.k === 'uid') w.raw(`UID ${v.uids[i]}`);
    else if (it.k === 'flags') w.raw(`FLAGS (${v.flagsTextAt(i)})`);
    else if (it.k === 'modseq') w.raw(`MODSEQ (${v.modseqs[i]})`);
  }
  w.raw(')\r\n');
}

async function fetchFromStore(ctx: CommandContext, st: SelectedState, idx: number[], items: FetchItem[], want: FetchWant, markSeen: boolean, byUid: boolean, changedSince: number | null): Promise<void> {
  const v = st.view;
  const mids = idx.map((i) => v.mids[i]!);
  const uids = idx.map((i) => v.uids[i]!);
  const address = st.mailbox.address;
  let since = sinceFor(st);
  let at = 0;
  while (at < mids.length || since !== undefined) {
    const sliceMids = mids.slice(at, at + 5000);
    const sliceUids = uids.slice(at, at + 5000);
    const sizeKnown = want === 'size' ? sliceMids.filter((mid, k) => ctx.door.source.knownSize(address, mid, sliceUids[k]!) !== undefined) : undefined;
    const res = await st.mailbox.call(markSeen ? 'imapFetchSeen' : 'imapFetch', {
      folder: v.folder,
      mids: sliceMids,
      uids: sliceUids,
      want,
      budget: FETCH_BUDGET_BYTES,
      ...(sizeKnown !== undefined && sizeKnown.length > 0 ? { sizeKnown } : {}),
      ...(since !== undefined ? { since } : {}),
    });
    since = undefined;
    if (ctx.state !== st) return;
    // The messages' own state first (a \Seen we just set), then what others changed.
    const flagsChanged = new Set<number>();
    for (const m of res.messages) if (v.update(m)) flagsChanged.add(m.uid);
    applySync(ctx, st, res.sync, byUid);
    const data = Buffer.isBuffer(res.data) ? res.data : Buffer.from(res.data.buffer, res.data.byteOffset, res.data.byteLength);
    for (const m of res.messages) {
      if (changedSince !== null && m.modseq <= changedSince) continue;
      writeMessage(ctx, st, m, data, items, flagsChanged.has(m.uid) && markSeen);
      if (ctx.out.length >= FETCH_BUDGET_BYTES / 2) await ctx.flush();
    }
    at += Math.max(res.done, sliceMids.length === 0 ? 0 : 1);
    if (sliceMids.length === 0) break;
    await ctx.flush();
  }
}

function writeMessage(ctx: CommandContext, st: SelectedState, m: ImapFetchedRef, data: Buffer, items: readonly FetchItem[], addFlags: boolean): void {
  const v = st.view;
  const i = v.indexOfUid(m.uid);
  if (i < 0) return;
  const address = st.mailbox.address;
  const source = ctx.door.source;
  let bytes: Buffer | null = null;
  const mime = (): Buffer => {
    if (bytes !== null) return bytes;
    if (m.mime !== undefined) bytes = data.subarray(m.mime[0], m.mime[0] + m.mime[1]);
    else if (m.wire !== undefined) bytes = source.generate(address, m.mid, m.uid, unpackWire(data.subarray(m.wire[0], m.wire[0] + m.wire[1])));
    else bytes = source.cached(address, m.mid, m.uid) ?? Buffer.alloc(0);
    return bytes;
  };
  let tree: MimeTree | null = null;
  const mimeTree = (): MimeTree => (tree ??= parseMimeTree(mime()));
  const size = (): number => m.mimeSize ?? source.knownSize(address, m.mid, m.uid) ?? mime().length;
  const w = ctx.out;
  w.raw(`* ${i + 1} FETCH (`);
  let first = true;
  const sep = () => {
    if (!first) w.raw(' ');
    first = false;
  };
  let flagsWritten = false;
  for (const it of items) {
    sep();
    switch (it.k) {
      case 'uid':
        w.raw(`UID ${m.uid}`);
        break;
      case 'flags':
        w.raw(`FLAGS (${v.flagsTextAt(i)})`);
        flagsWritten = true;
        break;
      case 'modseq':
        w.raw(`MODSEQ (${m.modseq})`);
        break;
      case 'internaldate':
        w.raw(`INTERNALDATE "${formatDateTime(m.internalDate)}"`);
        break;
      case 'rfc822.size':
        w.raw(`RFC822.SIZE ${size()}`);
        break;
      case 'envelope':
        w.raw('ENVELOPE ');
        writeEnvelope(w, mimeTree().root.headers);
        break;
      case 'body':
      case 'bodystructure':
        w.raw(it.k === 'body' ? 'BODY ' : 'BODYSTRUCTURE ');
        writeBodyStructure(w, mimeTree().buf, mimeTree().root, it.k === 'bodystructure');
        break;
      case 'rfc822':
        w.raw('RFC822 ').literal(mime());
        break;
      case 'rfc822.header': {
        const t = mimeTree();
        w.raw('RFC822.HEADER ').literal(t.buf.subarray(t.root.start, t.root.bodyStart));
        break;
      }
      case 'rfc822.text': {
        const t = mimeTree();
        w.raw('RFC822.TEXT ').literal(t.buf.subarray(t.root.bodyStart, t.root.end));
        break;
      }
      case 'section': {
        const whole = it.part.length === 0 && it.text === null ? mime() : sectionBytes(mimeTree(), it);
        const part = applyPartial(whole, it.partial);
        w.raw(`BODY[${it.label}]${it.partial !== null ? `<${it.partial[0]}>` : ''} `).literal(part);
        break;
      }
    }
  }
  if (addFlags && !flagsWritten) {
    sep();
    w.raw(`FLAGS (${flagsText(v.flagsAt(i) | Flag.Seen, v.keywords[i])})`);
  }
  w.raw(')\r\n');
}
