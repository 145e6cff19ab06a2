/**
 * QUIT (RFC 1939 §4, §6). Before login: goodbye. In a transaction: the UPDATE state, where the
 * deletion marks are applied (soft deletes, recoverable like Outlook's), then goodbye; what
 * another client had already removed is reported, not failed. If the store cannot apply them,
 * "-ERR some deleted messages not removed" (RFC 1939 §6) and nothing is lost: the next session
 * sees those messages again.
 */
import { err, ok, type Reply } from '../replies.js';
import { errorReply } from '../errors.js';
import type { CommandContext } from '../session-state.js';

export async function handleQuit(s: CommandContext): Promise<Reply> {
  const st = s.state;
  const bye = `${s.door.hostname} POP3 server signing off`;
  if (st.kind !== 'transaction') return ok(bye, 'close');
  s.state = { kind: 'update' };
  try {
    const r = await st.drop.commit();
    const gone = r.alreadyGone > 0 ? `, ${r.alreadyGone} already removed by another client` : '';
    return ok(`${bye} (${r.deleted} message${r.deleted === 1 ? '' : 's'} deleted${gone})`, 'close');
  } catch (e) {
    s.log.warn({ err: e, mailbox: st.drop.box.address }, 'POP3 QUIT: deletes not applied');
    const why = errorReply(e, 'remove them');
    return err(why.kind === 'err' ? why.code : 'SYS/TEMP', `some deleted messages not removed: ${why.kind === 'err' ? why.text : ''}`, 'close');
  }
}
