/**
 * SELECT and EXAMINE (RFC 3501 §6.3.1-2): one actor message for the whole listing (UIDs, flags,
 * MODSEQs); the session keeps it as the view.
 */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, ok } from '../errors.js';
import { MailboxView } from '../mailbox-view.js';
import { Flag } from '../flags.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';

export async function handleSelect(ctx: CommandContext, r: Reader, readOnly: boolean): Promise<Completion> {
  const verb = readOnly ? 'EXAMINE' : 'SELECT';
  if (!r.sp()) return bad(`${verb} needs a mailbox name`);
  const name = readMailbox(r);
  // RFC 7162 / 4466 select parameters (CONDSTORE, QRESYNC) are for a later issue.
  if (name === null || !r.end()) return bad(r.error!);
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  // A failed SELECT leaves no mailbox selected (§6.3.1).
  if (st.kind === 'selected') ctx.setState({ kind: 'authenticated', user: st.user, mailbox: st.mailbox });
  let data;
  try {
    data = await st.mailbox.call('imapSelect', { path: name.path });
  } catch (e) {
    return errorCompletion(e, `select ${name.imap}`);
  }
  if (ctx.state.kind !== 'authenticated') return bad('connection state changed');
  const highest = data.uids.length === 0 ? 0 : data.uids[data.uids.length - 1]!;
  const recentAfter = readOnly ? Number.MAX_SAFE_INTEGER : ctx.door.registry.claimRecent(`${st.mailbox.address}\u0000${data.folder}`, highest);
  const view = new MailboxView(data, name.path, name.imap, readOnly, recentAfter);
  ctx.setState({ kind: 'selected', user: st.user, mailbox: st.mailbox, view });
  const w = ctx.out;
  const flags = view.flagList();
  w.raw(`* FLAGS (${flags})\r\n`);
  w.raw(readOnly ? '* OK [PERMANENTFLAGS ()] Read-only mailbox\r\n' : `* OK [PERMANENTFLAGS (${flags} \\*)] Flags permitted\r\n`);
  w.raw(`* ${view.exists} EXISTS\r\n* ${view.recentCount} RECENT\r\n`);
  const firstUnseen = view.flags.findIndex((f) => (f & Flag.Seen) === 0);
  if (firstUnseen >= 0) w.raw(`* OK [UNSEEN ${firstUnseen + 1}] First unseen\r\n`);
  w.raw(`* OK [UIDVALIDITY ${view.uidValidity}] UIDs valid\r\n* OK [UIDNEXT ${view.uidNext}] Predicted next UID\r\n`);
  return ok(`${verb} completed`, readOnly ? 'READ-ONLY' : 'READ-WRITE');
}
