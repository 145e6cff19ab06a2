/** TOP msg n (RFC 1939 §7): the header, the empty line, and the first n lines of the body. */
import type { Reply } from '../replies.js';
import { errorReply, replies } from '../errors.js';
import { parseLineCount } from '../command-line.js';
import { topEnd } from '../message-bytes.js';
import type { CommandContext, TransactionState } from '../session-state.js';
import { isReply, messageArg } from './message-arg.js';

export async function handleTop(_s: CommandContext, st: TransactionState, args: string[]): Promise<Reply> {
  const m = messageArg(st.drop, args[0]!);
  if (isReply(m)) return m;
  const lines = parseLineCount(args[1]!);
  if (lines === null) return replies.usage('TOP', 'msg n (n: a number of lines, 0 or more)');
  let bytes: Buffer | 'gone';
  try {
    bytes = await st.drop.fetch(m);
  } catch (e) {
    return errorReply(e, `read message ${m.n}`);
  }
  if (bytes === 'gone') return replies.gone(m.n);
  return { kind: 'message', text: 'top of message follows', bytes, end: topEnd(bytes, lines) };
}
