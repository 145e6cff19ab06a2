/**
 * DELE msg (RFC 1939 §5): marks the message; it is removed only at QUIT (UPDATE state). A
 * message another client already removed can still be marked (the client's wish holds: it is
 * gone); QUIT reports it.
 */
import { ok, type Reply } from '../replies.js';
import { replies } from '../errors.js';
import { parseMessageNumber } from '../command-line.js';
import type { CommandContext, TransactionState } from '../session-state.js';

export function handleDele(_s: CommandContext, st: TransactionState, args: string[]): Reply {
  const n = parseMessageNumber(args[0]!);
  if (n === null) return replies.badMessageNumber();
  const m = st.drop.messages[n - 1];
  if (m === undefined) return replies.noSuchMessage(n, st.drop.messages.length);
  if (m.deleted) return replies.alreadyDeleted(n);
  m.deleted = true;
  return ok(m.gone ? `message ${n} deleted (another client had already removed it)` : `message ${n} deleted`);
}
