/**
 * RETR msg (RFC 1939 §5): the whole message. "+OK n octets" counts what follows before
 * byte-stuffing; it equals LIST's figure unless the message's content was changed by another
 * client since the snapshot, in which case the current content is sent and counted. The next
 * message is read ahead meanwhile (maildrop.ts).
 */
import type { Reply } from '../replies.js';
import { errorReply, replies } from '../errors.js';
import { wireSize } from '../message-bytes.js';
import type { CommandContext, TransactionState } from '../session-state.js';
import { isReply, messageArg } from './message-arg.js';

export async function handleRetr(_s: CommandContext, st: TransactionState, args: string[]): Promise<Reply> {
  const m = messageArg(st.drop, args[0]!);
  if (isReply(m)) return m;
  let bytes: Buffer | 'gone';
  try {
    bytes = await st.drop.fetch(m);
  } catch (e) {
    return errorReply(e, `read message ${m.n}`);
  }
  if (bytes === 'gone') return replies.gone(m.n);
  st.drop.readAhead(m);
  return { kind: 'message', text: `${wireSize(bytes)} octets`, bytes, end: bytes.length };
}
