/** STATUS (RFC 3501 §6.3.10): one actor message; the selected mailbox answers from its view. */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, ok } from '../errors.js';
import { Flag } from '../flags.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';
import { readStatusItems, writeStatus } from './status-items.js';

export async function handleStatus(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('STATUS needs a mailbox name and items');
  const name = readMailbox(r);
  if (name === null || !r.sp()) return bad(r.error!);
  const items = readStatusItems(r);
  if (items === null || !r.end()) return bad(r.error!);
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    const s = await st.mailbox.call('imapStatus', { path: name.path });
    const now = ctx.state;
    const recent = now.kind === 'selected' && now.view.folder === s.id ? now.view.recentCount : 0;
    if (now.kind === 'selected' && now.view.folder === s.id && !now.view.dirty) {
      // The view may be ahead of or behind the store by this session's unannounced changes: it is what the client knows.
      const v = now.view;
      writeStatus(ctx.out, name.imap, items, { messages: v.exists, unseen: v.flags.filter((f) => (f & Flag.Seen) === 0).length, uidNext: v.uidNext, uidValidity: v.uidValidity, size: s.size, recent });
    } else writeStatus(ctx.out, name.imap, items, { ...s, recent });
  } catch (e) {
    return errorCompletion(e, `get the status of ${name.imap}`);
  }
  return ok('STATUS completed');
}
