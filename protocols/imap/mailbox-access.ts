/**
 * The IMAP door's only way to the store: the mailbox actor's IMAP view ops (one per command)
 * and its events (for IDLE and unsolicited updates). Errors are the actor's plain ErrorData
 * (thrown as ActorError); errors.ts turns them into IMAP words.
 */
import { actorRef, type ActorRef } from '../../runtime/actor.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';

export type ImapOp = keyof MailboxProtocol & `imap${string}`;

export class MailboxAccess {
  readonly ref: ActorRef<MailboxProtocol>;

  constructor(
    private readonly system: ActorSystem,
    readonly address: string,
  ) {
    this.ref = actorRef<MailboxProtocol>('mailbox', address);
  }

  call<O extends ImapOp>(op: O, args: MailboxProtocol[O]['args']): Promise<MailboxProtocol[O]['result']> {
    return this.system.call(this.ref, op, args);
  }

  /** Listens to the mailbox's change events; returns the unsubscribe function. */
  subscribe(listener: (topic: string, data: unknown) => void): () => void {
    return this.system.subscribe(this.ref, listener);
  }
}
