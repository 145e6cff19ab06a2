/** UIDL [msg] (RFC 1939 §7): unique-ids that stay the same across sessions (../uidl.ts). */
import { ok, type Reply } from '../replies.js';
import type { CommandContext, TransactionState } from '../session-state.js';
import { isReply, messageArg } from './message-arg.js';

export function handleUidl(_s: CommandContext, st: TransactionState, args: string[]): Reply {
  if (args.length === 1) {
    const m = messageArg(st.drop, args[0]!);
    return isReply(m) ? m : ok(`${m.n} ${m.uidl}`);
  }
  return { kind: 'lines', text: 'unique-id listing follows', lines: st.drop.live().map((m) => `${m.n} ${m.uidl}`) };
}
