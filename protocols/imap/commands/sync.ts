/**
 * Keeping the selected mailbox current: a sync answer (from imapSync, or piggybacked on a
 * command's own answer) applied to the view, its untagged responses written.
 */
import type { ImapSync } from '../../../actors/mailbox/imap-view.js';
import { errorCompletion } from '../errors.js';
import type { CommandContext, Completion, SelectedState } from '../session-state.js';

export function applySync(ctx: CommandContext, st: SelectedState, sync: ImapSync | undefined, canExpunge: boolean): void {
  if (sync === undefined) return;
  if (sync.fullResync) ctx.log.warn({ folder: st.view.folder }, 'IMAP: state older than the tombstone horizon; expunges may be missed');
  st.view.apply(sync, ctx.out, canExpunge, (highest) => ctx.door.registry.claimRecent(`${st.mailbox.address}\u0000${st.view.folder}`, highest));
}

/** Asks what changed since the view's MODSEQ and applies it; a completion when the store failed. */
export async function syncView(ctx: CommandContext, st: SelectedState, canExpunge: boolean): Promise<Completion | null> {
  st.view.dirty = false;
  try {
    const s = await st.mailbox.call('imapSync', { folder: st.view.folder, since: st.view.modseq });
    if (ctx.state !== st) return null;
    applySync(ctx, st, s, canExpunge);
    return null;
  } catch (e) {
    st.view.dirty = true;
    return errorCompletion(e, 'update the mailbox');
  }
}

/** The `since` to piggyback on a command's store call (only when the view knows it is behind). */
export function sinceFor(st: SelectedState): number | undefined {
  if (!st.view.dirty) return undefined;
  st.view.dirty = false;
  return st.view.modseq;
}
