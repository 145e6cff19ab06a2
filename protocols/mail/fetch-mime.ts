/**
 * A stored message as Internet mail, for every door that serves mail bytes (IMAP, POP3, export,
 * the outbound queue): its original MIME when the store kept it (received or imported mail whose
 * content did not change since), else the stable MIME made from its properties, with EX
 * addresses resolved through the directory.
 */
import type { ActorSystem } from '../../runtime/actor-system.js';
import type { ActorRef } from '../../runtime/actor.js';
import type { MailboxProtocol } from '../../actors/mailbox/mailbox-actor.js';
import type { DirectoryStore } from '../../storage/directory-store.js';
import { wireToMapi } from '../../actors/mailbox/wire-message.js';
import { mapiToMime } from './mapi-to-mime.js';

export interface FetchMimeOptions {
  hostname: string;
  /** Write Bcc recipients (the owner's own view: IMAP, POP3, export); never for transport. */
  includeBcc?: boolean;
}

export async function fetchMessageMime(system: ActorSystem, ref: ActorRef<MailboxProtocol>, mid: number, dir: DirectoryStore, opts: FetchMimeOptions): Promise<Buffer> {
  const original = await system.call(ref, 'getOriginalMime', { mid });
  if (original !== null) return Buffer.from(original.buffer, original.byteOffset, original.byteLength);
  const wire = await system.call(ref, 'getMessageFull', { mid });
  return mapiToMime(wireToMapi(wire), {
    hostname: opts.hostname,
    includeBcc: opts.includeBcc ?? true,
    resolveEx: (dn) => {
      const u = dir.userByLegacyDn(dn);
      return u === undefined ? null : { address: u.address, name: u.displayName };
    },
  });
}
