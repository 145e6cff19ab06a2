/** STLS (RFC 2595 §4): the session starts TLS once "+OK" is written, and forgets USER (session.ts). */
import { err, ok, type Reply } from '../replies.js';
import type { CommandContext } from '../session-state.js';

export function handleStls(s: CommandContext): Reply {
  if (s.tls) return err(null, 'TLS is already active');
  return ok('Begin TLS negotiation', 'starttls');
}
