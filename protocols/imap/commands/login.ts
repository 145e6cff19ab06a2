/** LOGIN (RFC 3501 §6.2.3): login = "LOGIN" SP userid SP password (astrings). */
import type { Reader } from '../parser/reader.js';
import { bad } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { login, plaintextRefused } from './login-common.js';

export function handleLogin(ctx: CommandContext, r: Reader): Completion | Promise<Completion> {
  if (!r.sp()) return bad('LOGIN needs a user name and a password');
  const user = r.astring();
  if (user === null || !r.sp()) return bad(r.error ?? 'LOGIN needs a password');
  const password = r.astring();
  if (password === null || !r.end()) return bad(r.error!);
  return plaintextRefused(ctx) ?? login(ctx, user, password, '');
}
