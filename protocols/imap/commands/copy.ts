/**
 * COPY (RFC 3501 §6.4.7) and MOVE (RFC 6851), also by UID, with UIDPLUS's COPYUID (RFC 4315):
 * one actor message copies or moves every named message into the destination (flags and
 * INTERNALDATE kept). MOVE announces COPYUID untagged, then the expunges, then completes.
 */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import { formatUidList } from '../parser/sequence-set.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';
import { applySync, sinceFor } from './sync.js';
import { live, readTargets } from './targets.js';

export async function handleCopy(ctx: CommandContext, r: Reader, byUid: boolean, move: boolean): Promise<Completion> {
  const verb = move ? 'MOVE' : 'COPY';
  const st = ctx.state;
  if (st.kind !== 'selected') return bad('select a mailbox first');
  if (!r.sp()) return bad(`${verb} needs a message set and a mailbox`);
  const targets = readTargets(r, st, byUid);
  if (typeof targets === 'string' || !r.sp()) return bad(typeof targets === 'string' ? targets : r.error!);
  const dest = readMailbox(r);
  if (dest === null || !r.end()) return bad(r.error!);
  if (move && st.view.readOnly) return no('READ-ONLY', 'the mailbox is read-only');
  const view = st.view;
  const idx = live(st, targets);
  if (idx.length === 0) return ok(`${verb} completed (no messages)`);
  try {
    const since = sinceFor(st);
    const res = await st.mailbox.call('imapCopy', { from: view.folder, to: dest.path, mids: idx.map((i) => view.mids[i]!), move, ...(since !== undefined ? { since } : {}) });
    if (ctx.state !== st) return ok(`${verb} completed`);
    // MOVE: COPYUID first, then the expunges (RFC 6851 §4.3), ours and others' together.
    applySync(ctx, st, res.sync, !move);
    const code = res.pairs.length === 0 ? undefined : `COPYUID ${res.uidValidity} ${formatUidList(res.pairs.map((p) => p[0]))} ${formatUidList(res.pairs.map((p) => p[1]))}`;
    if (move) {
      if (code !== undefined) ctx.out.raw(`* OK [${code}] Moved\r\n`);
      view.markGone(res.pairs.map((p) => p[0]));
      view.announceExpunges(ctx.out);
      return ok('MOVE completed');
    }
    return ok('COPY completed', code);
  } catch (e) {
    const c = errorCompletion(e, `${verb.toLowerCase()} to ${dest.imap}`);
    return c.code === 'NONEXISTENT' ? { ...c, code: 'TRYCREATE' } : c;
  }
}
