/**
 * SUBSCRIBE and UNSUBSCRIBE (RFC 3501 §6.3.6-7). Every folder is subscribed unless unsubscribed
 * (folders made in Outlook show up in IMAP clients that list subscriptions only); subscriptions
 * to names that are no folder are kept as names.
 */
import type { Reader } from '../parser/reader.js';
import { bad, errorCompletion, ok } from '../errors.js';
import type { CommandContext, Completion } from '../session-state.js';
import { readMailbox } from './mailbox-name.js';

export async function handleSubscribe(ctx: CommandContext, r: Reader, subscribe: boolean): Promise<Completion> {
  const verb = subscribe ? 'SUBSCRIBE' : 'UNSUBSCRIBE';
  if (!r.sp()) return bad(`${verb} needs a mailbox name`);
  const name = readMailbox(r);
  if (name === null || !r.end()) return bad(r.error!);
  const st = ctx.state;
  if (st.kind !== 'authenticated' && st.kind !== 'selected') return bad('log in first');
  try {
    await st.mailbox.call('imapSubscribe', { path: name.path, subscribe });
  } catch (e) {
    return errorCompletion(e, `${verb.toLowerCase()} ${name.imap}`);
  }
  return ok(`${verb} completed`);
}
