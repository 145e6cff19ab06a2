/** PASS (RFC 1939 §7): the password for the preceding USER (the rest of the line, spaces included). */
import { err, type Reply } from '../replies.js';
import type { AuthorizationState, CommandContext } from '../session-state.js';
import { login } from './login.js';

export function handlePass(s: CommandContext, st: AuthorizationState, args: string[]): Reply | Promise<Reply> {
  const user = st.user;
  if (user === null) return err(null, 'USER first');
  st.user = null;
  return login(s, user, args[0]!, '');
}
