/**
 * STORE (RFC 3501 §6.4.6), also with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3) read already:
 *
 *   store = "STORE" SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP store-att-flags
 *   store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list / (flag *(SP flag)))
 *
 * One actor message changes every named message (read state, follow-up flag, verbs, categories,
 * IMAP-only flags) in one transaction.
 */
import type { StoreMode } from '../../../actors/mailbox/imap-view.js';
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import { flagBit, isKeywordAtom, STORABLE, flagsText } from '../flags.js';
import { formatSequenceSet } from '../parser/sequence-set.js';
import type { CommandContext, Completion } from '../session-state.js';
import { applySync, sinceFor } from './sync.js';
import { live, readTargets } from './targets.js';

export async function handleStore(ctx: CommandContext, r: Reader, byUid: boolean): Promise<Completion> {
  const st = ctx.state;
  if (st.kind !== 'selected') return bad('select a mailbox first');
  if (!r.sp()) return bad('STORE needs a message set, an action and flags');
  const targets = readTargets(r, st, byUid);
  if (typeof targets === 'string' || !r.sp()) return bad(typeof targets === 'string' ? targets : r.error!);
  let unchangedSince: number | undefined;
  if (r.take(0x28)) {
    if (!r.peekWord('UNCHANGEDSINCE')) return bad('unknown STORE modifier');
    r.pos += 14;
    const n = r.sp() ? r.number64() : null;
    if (n === null || !r.expect(0x29, '")"') || !r.sp()) return bad(r.error!);
    unchangedSince = n;
  }
  const action = r.atom();
  if (action === null || !r.sp()) return bad(r.error!);
  const m = /^([+-]?)FLAGS(\.SILENT)?$/i.exec(action);
  if (m === null) return bad(`unknown STORE action ${action.slice(0, 20)}`);
  const mode: StoreMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
  const silent = m[2] !== undefined;
  const list = r.flagList(true);
  if (list === null || !r.end()) return bad(r.error!);
  let bits = 0;
  const keywords: string[] = [];
  for (const f of list) {
    const bit = flagBit(f);
    if (bit !== 0) bits |= bit & STORABLE;
    else if (f.startsWith('\\')) return bad(`unknown system flag ${f.slice(0, 20)}`);
    else if (isKeywordAtom(f)) keywords.push(f);
  }
  if (st.view.readOnly) return no('READ-ONLY', 'the mailbox is read-only');
  const idx = live(st, targets);
  const view = st.view;
  if (idx.length === 0 && !view.dirty) return ok('STORE completed');
  try {
    const res = await st.mailbox.call('imapStore', {
      folder: view.folder,
      mids: idx.map((i) => view.mids[i]!),
      mode,
      flags: bits,
      keywords,
      ...(unchangedSince !== undefined ? { unchangedSince } : {}),
      ...(() => {
        const since = sinceFor(st);
        return since === undefined ? {} : { since };
      })(),
    });
    if (ctx.state !== st) return ok('STORE completed');
    // Our own changes first, so the piggybacked sync does not report them back as someone else's.
    for (const s of res.updated) view.update(s);
    applySync(ctx, st, res.sync, byUid);
    if (!silent) {
      for (const s of res.updated) {
        const i = view.indexOfUid(s.uid);
        if (i >= 0) ctx.out.raw(`* ${i + 1} FETCH (UID ${s.uid} FLAGS (${flagsText(view.flagsAt(i), view.keywords[i])}))\r\n`);
      }
    }
    if (view.keywordsGrew) {
      view.keywordsGrew = false;
      ctx.out.raw(`* FLAGS (${view.flagList()})\r\n* OK [PERMANENTFLAGS (${view.flagList()} \\*)] Flags permitted\r\n`);
    }
    if (res.modified.length > 0) {
      const nums = res.modified.map((mid) => view.mids.indexOf(mid)).filter((i) => i >= 0).map((i) => (byUid ? view.uids[i]! : i + 1));
      return ok('Conditional STORE failed for some messages', `MODIFIED ${formatSequenceSet(nums)}`);
    }
  } catch (e) {
    return errorCompletion(e, 'store flags');
  }
  return ok('STORE completed');
}
