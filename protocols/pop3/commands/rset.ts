/** RSET (RFC 1939 §5): every deletion mark of this session is undone. */
import { ok, type Reply } from '../replies.js';
import type { CommandContext, TransactionState } from '../session-state.js';

export function handleRset(_s: CommandContext, st: TransactionState): Reply {
  st.drop.undelete();
  const n = st.drop.live().length;
  return ok(`maildrop has ${n} message${n === 1 ? '' : 's'}`);
}
