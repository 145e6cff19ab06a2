/**
 * CAPA (RFC 2449 §5): the capabilities of this session's state. USER and SASL PLAIN are listed
 * only where they would be accepted (before TLS on the plain port they are not, unless the
 * door allows plaintext logins), STLS (RFC 2595 §4) only before TLS and before login.
 */
import type { Reply } from '../replies.js';
import { credentialsAllowed, type CommandContext } from '../session-state.js';

export function capabilities(s: CommandContext): string[] {
  // RESP-CODES: RFC 2449 §6.4; AUTH-RESP-CODE: RFC 3206 §6; PIPELINING: RFC 2449 §6.6.
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (s.state.kind === 'authorization' || s.state.kind === 'sasl') {
    if (!s.tls) caps.push('STLS');
    if (credentialsAllowed(s)) caps.push('USER', 'SASL PLAIN');
  }
  return caps;
}

export function handleCapa(s: CommandContext): Reply {
  return { kind: 'lines', text: 'capability list follows', lines: capabilities(s) };
}
