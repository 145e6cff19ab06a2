/** RENAME (RFC 3501 §6.3.5): superiors of the new name are created; renaming INBOX moves its messages. */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';

export async function handleRename(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('RENAME needs two mailbox names');
  const from = readMailbox(r);
  if (from === null || !r.sp()) return bad(r.error!);
  const to = readMailbox(r);
  if (to === null || !r.end()) return bad(r.error!);
  if (to.path.length === 1 && to.path[0] === 'INBOX') return { status: 'NO', code: 'ALREADYEXISTS', text: 'INBOX exists' };
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    await st.mailbox.call('imapRename', { from: from.path, to: to.path });
  } catch (e) {
    return errorCompletion(e, `rename ${from.imap}`);
  }
  return ok('RENAME completed');
}
