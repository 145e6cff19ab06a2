/**
 * ID (RFC 2971): the client's identification is logged; the server names itself.
 *
 *   id = "ID" SP id-params-list     id-params-list = "(" *(string SP nstring) ")" / nil
 */
import type { Reader } from '../parser/reader.js';
import { bad, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';

/** At most 30 pairs, each value at most 1024 octets (RFC 2971 §3.3). */
const MAX_PAIRS = 30;

export function handleId(ctx: CommandContext, r: Reader): Completion {
  if (!r.sp()) return bad('ID needs a parameter list or NIL');
  const client: Record<string, string | null> = {};
  if (r.peekWord('NIL')) r.pos += 3;
  else {
    if (!r.expect(0x28, '"("')) return bad(r.error!);
    let n = 0;
    while (!r.take(0x29)) {
      if (n > 0 && !r.sp()) return bad(r.error!);
      const k = r.string();
      if (k === null || !r.sp()) return bad(r.error ?? 'bad ID parameters');
      const v = r.nstring();
      if (v === null) return bad(r.error!);
      if (++n > MAX_PAIRS || k.length > 30 || (v.value?.length ?? 0) > 1024) return bad('ID parameters too long');
      client[k.toLowerCase()] = v.value;
    }
  }
  if (!r.end()) return bad(r.error!);
  ctx.log.debug({ client }, 'IMAP client ID');
  ctx.out.raw('* ID ("name" "Stoa" "vendor" "Stoa")\r\n');
  return ok('ID completed');
}
