/** STARTTLS (RFC 3501 §6.2.1): only on the plain port, before login. */
import type { Reader } from '../parser/reader.js';
import { bad } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

export function handleStarttls(ctx: CommandContext, r: Reader): Completion {
  if (!r.end()) return bad('STARTTLS takes no arguments');
  if (ctx.tls) return bad('TLS is already active');
  if (ctx.door.secureContext === null) return { status: 'NO', text: 'TLS is not available' };
  return { status: 'OK', text: 'Begin TLS negotiation now', after: 'starttls' };
}
