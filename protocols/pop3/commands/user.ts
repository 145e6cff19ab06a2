/** USER (RFC 1939 §7): remembered for PASS. Always +OK: whether a user exists is not told. */
import { ok, type Reply } from '../replies.js';
import type { AuthorizationState, CommandContext } from '../session-state.js';

export function handleUser(_s: CommandContext, st: AuthorizationState, args: string[]): Reply {
  st.user = args[0]!;
  return ok('send PASS');
}
