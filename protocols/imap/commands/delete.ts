/** DELETE (RFC 3501 §6.3.4): not INBOX nor special folders; a mailbox with children is refused. */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';

export async function handleDelete(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('DELETE needs a mailbox name');
  const name = readMailbox(r);
  if (name === null || !r.end()) return bad(r.error!);
  if (name.path.length === 1 && name.path[0] === 'INBOX') return no('CANNOT', 'INBOX cannot be deleted');
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    const { folder } = await st.mailbox.call('imapDelete', { path: name.path });
    const now = ctx.state;
    if (now.kind === 'selected' && now.view.folder === folder) {
      // The selected mailbox went away: leave it (RFC 3501 allows BYE; leaving is kinder).
      ctx.out.raw('* OK [CLOSED] The selected mailbox was deleted\r\n');
      ctx.setState({ kind: 'authenticated', user: now.user, mailbox: now.mailbox });
    }
  } catch (e) {
    return errorCompletion(e, `delete ${name.imap}`);
  }
  return ok('DELETE completed');
}
