/**
 * ENABLE (RFC 5161): nothing this server offers needs enabling yet (CONDSTORE, QRESYNC and
 * UTF8=ACCEPT come later), so the answer lists none; unknown names are ignored as the RFC says.
 */
import type { Reader } from '../parser/reader.js';
import { bad, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

export function handleEnable(ctx: CommandContext, r: Reader): Completion {
  const names: string[] = [];
  while (!r.atEnd()) {
    if (!r.sp()) return bad(r.error!);
    const a = r.atom();
    if (a === null) return bad(r.error!);
    names.push(a.toUpperCase());
  }
  if (names.length === 0) return bad('ENABLE needs at least one capability');
  ctx.out.raw('* ENABLED\r\n');
  return ok('ENABLE completed');
}
