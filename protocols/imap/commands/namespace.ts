/** NAMESPACE (RFC 2342): one personal namespace, "" with "/"; no others. */
import type { Reader } from '../parser/reader.js';
import { bad, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

export function handleNamespace(ctx: CommandContext, r: Reader): Completion {
  if (!r.end()) return bad('NAMESPACE takes no arguments');
  ctx.out.raw('* NAMESPACE (("" "/")) NIL NIL\r\n');
  return ok('NAMESPACE completed');
}
