/**
 * IDLE (RFC 2177): "+ idling", then changes as they happen (the mailbox actor's events wake the
 * session; one sync per burst) until the client's DONE.
 */
import type { Reader } from '../parser/reader.js';
import { bad, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { syncView } from './sync.js';

export async function handleIdle(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.end()) return bad('IDLE takes no arguments');
  const st = ctx.state;
  // Whatever is pending goes out first (a client idles after it read everything).
  if (st.kind === 'selected' && st.view.dirty) {
    const failed = await syncView(ctx, st, true);
    if (failed !== null) return failed;
  }
  const end = await ctx.idle();
  if (end === 'bad') return bad('expected DONE');
  return ok('IDLE terminated');
}
