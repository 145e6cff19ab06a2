/** The message a command names (its `msg` argument), or the reply saying why it cannot be used. */
import type { Reply } from '../replies.js';
import { replies } from '../errors.js';
import { parseMessageNumber } from '../command-line.js';
import type { DropMessage, Maildrop } from '../maildrop.js';

export function messageArg(drop: Maildrop, arg: string): DropMessage | Reply {
  const n = parseMessageNumber(arg);
  if (n === null) return replies.badMessageNumber();
  const p = drop.pick(n);
  if (p.ok) return p.msg;
  switch (p.why) {
    case 'no-such':
      return replies.noSuchMessage(n, drop.messages.length);
    case 'deleted':
      return replies.alreadyDeleted(n);
    case 'gone':
      return replies.gone(n);
  }
}

export function isReply(v: DropMessage | Reply): v is Reply {
  return 'kind' in v;
}
