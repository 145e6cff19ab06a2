/** EXPUNGE (RFC 3501 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1): \Deleted messages go (recoverable, as Outlook's deletes). */
import type { Reader } from '../parser/reader.js';
import { readSequenceSet } from '../parser/sequence-set.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { applySync, sinceFor } from './sync.js';

export async function handleExpunge(ctx: CommandContext, r: Reader, byUid: boolean): Promise<Completion> {
  let uids: number[] | undefined;
  const st = ctx.state;
  if (st.kind !== 'selected') return bad('select a mailbox first');
  if (byUid) {
    if (!r.sp()) return bad('UID EXPUNGE needs a UID set');
    const set = readSequenceSet(r);
    if (set === null || !r.end()) return bad(r.error!);
    uids = st.view.uidIndices(set).map((i) => st.view.uids[i]!);
  } else if (!r.end()) return bad('EXPUNGE takes no arguments');
  if (st.view.readOnly) return no('READ-ONLY', 'the mailbox is read-only');
  try {
    const res = await st.mailbox.call('imapExpunge', { folder: st.view.folder, ...(uids !== undefined ? { uids } : {}), since: sinceFor(st) ?? st.view.modseq });
    if (ctx.state !== st) return ok('EXPUNGE completed');
    st.view.markGone(res.expunged);
    applySync(ctx, st, res.sync, true);
    st.view.announceExpunges(ctx.out);
  } catch (e) {
    return errorCompletion(e, 'expunge');
  }
  return ok('EXPUNGE completed');
}
