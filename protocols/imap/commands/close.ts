/**
 * CLOSE (RFC 3501 §6.4.2: expunges \Deleted messages silently, unless read-only) and UNSELECT
 * (RFC 3691: leaves without expunging).
 */
import { errorCompletion, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

export async function handleClose(ctx: CommandContext, expunge: boolean): Promise<Completion> {
  const st = ctx.state;
  if (st.kind !== 'selected') return ok('nothing selected');
  if (expunge && !st.view.readOnly) {
    try {
      await st.mailbox.call('imapExpunge', { folder: st.view.folder });
    } catch (e) {
      return errorCompletion(e, 'expunge the mailbox');
    }
  }
  ctx.setState({ kind: 'authenticated', user: st.user, mailbox: st.mailbox });
  return ok(expunge ? 'CLOSE completed' : 'UNSELECT completed');
}
