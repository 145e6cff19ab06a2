/**
 * APPEND (RFC 3501 §6.3.11) with UIDPLUS's APPENDUID (RFC 4315) and APPENDLIMIT (RFC 7889):
 *
 *   append = "APPEND" SP mailbox [SP flag-list] [SP date-time] SP literal
 *
 * The message is converted once (MS-OXCMAIL in the CPU pool) and stored with its original MIME,
 * as delivery and import store it; its flags go into the same write.
 */
import type { Reader } from '../parser/reader.js';
import { readDateTime } from '../parser/date.js';
import { bad, errorCompletion, no, ok } from '../errors.js';
import { flagBit, isKeywordAtom, STORABLE } from '../flags.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';

export async function handleAppend(ctx: CommandContext, r: Reader): Promise<Completion> {
  if (!r.sp()) return bad('APPEND needs a mailbox name and a message');
  const name = readMailbox(r);
  if (name === null || !r.sp()) return bad(r.error!);
  let flags: string[] = [];
  if (r.peek() === 0x28) {
    const f = r.flagList();
    if (f === null || !r.sp()) return bad(r.error!);
    flags = f;
  }
  let date = Date.now();
  if (r.peek() === 0x22) {
    const d = readDateTime(r);
    if (d === null || !r.sp()) return bad(r.error!);
    date = d;
  }
  if (r.peek() !== 0x7b) return bad('APPEND needs the message as a literal');
  const view = r.stringBytes();
  if (view === null || !r.end()) return bad(r.error ?? 'unexpected arguments after the message');
  // The literal is a view into the receive buffer: copied before anything waits.
  const raw = Buffer.from(view);
  let bits = 0;
  const keywords: string[] = [];
  for (const f of flags) {
    const bit = flagBit(f);
    if (bit !== 0) bits |= bit & STORABLE;
    else if (f.startsWith('\\')) return bad(`unknown system flag ${f.slice(0, 20)}`);
    else if (isKeywordAtom(f)) keywords.push(f);
  }
  if (raw.length === 0) return no('CANNOT', 'an empty message cannot be appended');
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    const message = await ctx.door.convert(raw, date);
    const r2 = await st.mailbox.call('imapAppend', { path: name.path, message, flags: bits, keywords });
    const now = ctx.state;
    if (now.kind === 'selected' && now.view.folder === r2.folder) now.view.dirty = true;
    return ok('APPEND completed', `APPENDUID ${r2.uidValidity} ${r2.uid}`);
  } catch (e) {
    const c = errorCompletion(e, `append to ${name.imap}`);
    // RFC 3501 §6.3.11: a missing destination is [TRYCREATE].
    return c.code === 'NONEXISTENT' ? { ...c, code: 'TRYCREATE' } : c;
  }
}
