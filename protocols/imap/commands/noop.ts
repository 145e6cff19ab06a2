/** NOOP (RFC 3501 §6.1.2) and CHECK (§6.4.1): in a selected mailbox, report what changed. */
import type { Reader } from '../parser/reader.js';
import { bad, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { syncView } from './sync.js';

export async function handleNoop(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.end()) return bad('NOOP takes no arguments');
  const st = ctx.state;
  if (st.kind === 'selected') {
    // Always ask: a client polling with NOOP must see changes even if an event was missed.
    const failed = await syncView(ctx, st, true);
    if (failed !== null) return failed;
  }
  return ok('NOOP completed');
}
