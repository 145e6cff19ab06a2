/** CAPABILITY (RFC 3501 §6.1.1): what this server speaks, by state. */
import type { CommandContext, Completion } from '../session-state.js';
import { ok } from '../errors.js';

export function capabilityList(ctx: CommandContext): string {
  const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
  if (ctx.state.kind === 'notAuthenticated') {
    if (!ctx.tls && ctx.door.secureContext !== null) caps.push('STARTTLS');
    if (ctx.tls || ctx.door.allowPlaintextAuth) caps.push('AUTH=PLAIN');
    else caps.push('LOGINDISABLED');
    return caps.join(' ');
  }
  caps.push('NAMESPACE', 'UIDPLUS', 'MOVE', 'UNSELECT', 'CHILDREN', 'SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', `APPENDLIMIT=${ctx.door.limits.appendBytes}`);
  return caps.join(' ');
}

export function handleCapability(ctx: CommandContext, r: import('../parser/reader.js').Reader): Completion {
  if (!r.end()) return { status: 'BAD', text: 'CAPABILITY takes no arguments' };
  ctx.out.raw(`* CAPABILITY ${capabilityList(ctx)}\r\n`);
  return ok('CAPABILITY completed');
}
