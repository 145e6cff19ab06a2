/** LOGOUT (RFC 3501 §6.1.3): BYE, the tagged OK, then the connection closes. */
import type { Reader } from '../parser/reader.js';
import { bad, texts } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

export function handleLogout(ctx: CommandContext, r: Reader): Completion {
  if (!r.end()) return bad('LOGOUT takes no arguments');
  ctx.out.raw(`* BYE ${texts.bye}\r\n`);
  ctx.setState({ kind: 'logout' });
  return { status: 'OK', text: 'LOGOUT completed', after: 'close' };
}
