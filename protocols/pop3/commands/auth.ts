/**
 * AUTH (RFC 5034 §4) with the PLAIN mechanism (RFC 4616), with an initial response on the AUTH
 * line or in one continuation ("+ " from the server, a base64 line or "*" to cancel from the
 * client). AUTH without arguments lists the mechanisms (the form of the RFC 1734 era that some
 * clients still send to discover them).
 */
import { err, type Reply } from '../replies.js';
import type { AuthorizationState, CommandContext } from '../session-state.js';
import { decodePlain } from '../sasl-plain.js';
import { login } from './login.js';

export const SASL_MECHANISMS = ['PLAIN'];

export function handleAuth(s: CommandContext, _st: AuthorizationState, args: string[]): Reply | Promise<Reply> {
  if (args.length === 0) return { kind: 'lines', text: 'SASL mechanisms follow', lines: SASL_MECHANISMS };
  const mechanism = args[0]!.toUpperCase();
  if (mechanism !== 'PLAIN') return err(null, `unsupported SASL mechanism ${mechanism.slice(0, 20)} (supported: ${SASL_MECHANISMS.join(' ')})`);
  if (args.length === 1) {
    s.state = { kind: 'sasl', mechanism: 'PLAIN' };
    return { kind: 'challenge', base64: '' };
  }
  return plain(s, args[1]!);
}

/** The client's line after a "+ " challenge. */
export function continueSasl(s: CommandContext, line: string): Reply | Promise<Reply> {
  s.state = { kind: 'authorization', user: null };
  if (line === '*') return err(null, 'authentication cancelled');
  return plain(s, line);
}

function plain(s: CommandContext, base64: string): Reply | Promise<Reply> {
  const c = decodePlain(base64.trim());
  if (!c.ok) return err(null, `invalid PLAIN response: ${c.why}`);
  return login(s, c.authcid, c.password, c.authzid);
}
