/** CREATE (RFC 3501 §6.3.3): mail folders (IPF.Note), with missing superiors created too. */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { parseMailboxName } from './mailbox-name.js';

export async function handleCreate(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('CREATE needs a mailbox name');
  // A trailing delimiter only says the client means to create children (§6.3.3).
  const raw = r.astringBytes();
  if (raw === null || !r.end()) return bad(r.error!);
  const name = parseMailboxName(raw.length > 1 && raw[raw.length - 1] === 0x2f ? raw.subarray(0, raw.length - 1) : raw);
  if (typeof name === 'string') return bad(name);
  if (name.path.length === 1 && name.path[0] === 'INBOX') return no('ALREADYEXISTS', 'INBOX always exists');
  if (name.path.some((p) => p.length > 255)) return no('CANNOT', 'a mailbox name level has at most 255 characters');
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    await st.mailbox.call('imapCreate', { path: name.path });
  } catch (e) {
    return errorCompletion(e, `create ${name.imap}`);
  }
  return ok('CREATE completed');
}

