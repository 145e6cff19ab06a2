/** LIST [msg] (RFC 1939 §5): sizes in octets as RETR sends them (before byte-stuffing). */
import { ok, type Reply } from '../replies.js';
import { errorReply, replies } from '../errors.js';
import type { CommandContext, TransactionState } from '../session-state.js';
import { isReply, messageArg } from './message-arg.js';

export async function handleList(_s: CommandContext, st: TransactionState, args: string[]): Promise<Reply> {
  if (args.length === 1) {
    const m = messageArg(st.drop, args[0]!);
    if (isReply(m)) return m;
    try {
      await st.drop.learnSizes([m]);
    } catch (e) {
      return errorReply(e, `read message ${m.n}`);
    }
    return m.gone ? replies.gone(m.n) : ok(`${m.n} ${m.size}`);
  }
  try {
    await st.drop.learnSizes(st.drop.live());
  } catch (e) {
    return errorReply(e, 'compute the message sizes');
  }
  const live = st.drop.live();
  let octets = 0;
  const lines = live.map((m) => {
    octets += m.size;
    return `${m.n} ${m.size}`;
  });
  return { kind: 'lines', text: `${live.length} messages (${octets} octets)`, lines };
}
