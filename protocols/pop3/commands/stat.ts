/** STAT (RFC 1939 §5): "+OK count octets" of the messages not deleted. */
import { ok, type Reply } from '../replies.js';
import { errorReply } from '../errors.js';
import type { CommandContext, TransactionState } from '../session-state.js';

export async function handleStat(_s: CommandContext, st: TransactionState): Promise<Reply> {
  try {
    await st.drop.learnSizes(st.drop.live());
  } catch (e) {
    return errorReply(e, 'compute the maildrop size');
  }
  const live = st.drop.live();
  let octets = 0;
  for (const m of live) octets += m.size;
  return ok(`${live.length} ${octets}`);
}
