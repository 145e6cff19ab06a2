/**
 * The POP3 door's only way to the store: four calls on the mailbox actor, behind an interface
 * the maildrop uses (and tests can stand in for). Errors are the actor's plain ErrorData
 * (thrown as ActorError); errors.ts turns them into POP3 words.
 */
import { actorRef, type ActorRef } from '../../runtime/actor.js';
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import { fetchMessageMime } from '../mail/fetch-mime.js';

export interface SnapshotEntry {
  mid: number;
  /** Change number of the content (a flag change gives a new one too; the read state does not). */
  cn: number;
}

export interface MailboxAccess {
  /** The mailbox's address (its actor id): the size cache's key. */
  readonly address: string;
  /** The mailbox's replica GUID (the namespace of its MIDs, in UIDLs). */
  readonly replGuid: string;
  /** The Inbox's messages now, in arrival order. */
  snapshot(): Promise<SnapshotEntry[]>;
  /** A message as Internet mail (the original MIME when kept, else generated); ActorError ecNotFound once it is gone. */
  fetch(mid: number): Promise<Buffer>;
  /** Soft-deletes messages from the Inbox (recoverable, like Outlook's deletes); reports those already gone. */
  deleteMessages(mids: number[]): Promise<{ deleted: number[]; missing: number[] }>;
}

/** Opens a mailbox through its actor: one call for the Inbox id and GUID. ecNotFound when there is no mailbox. */
export async function openActorMailbox(system: ActorSystem, dir: DirectoryStore, hostname: string, address: string): Promise<MailboxAccess> {
  const ref: ActorRef<MailboxProtocol> = actorRef<MailboxProtocol>('mailbox', address);
  const info = await system.call(ref, 'logonInfo', null);
  const inbox = info.special.inbox;
  return {
    address,
    replGuid: info.replGuid,
    async snapshot() {
      const c = await system.call(ref, 'changesSince', { folder: inbox, cn: 0 });
      const out: SnapshotEntry[] = [];
      for (const m of c.changed) if (!m.assoc) out.push({ mid: m.mid, cn: m.cn });
      // MIDs come from one counter: their order is the order messages arrived in the Inbox.
      return out.sort((a, b) => a.mid - b.mid);
    },
    // POP3 is the owner's own view: Bcc is kept, as IMAP and export do.
    fetch: (mid) => fetchMessageMime(system, ref, mid, dir, { hostname, includeBcc: true }),
    deleteMessages: (mids) => system.call(ref, 'deleteMessages', { folder: inbox, mids, hard: false }),
  };
}
