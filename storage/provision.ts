/** Creating a mailbox's environment and its initial contents, for the actor and the offline CLI. */
import { newGuid, guidToString } from './guid.js';
import type { MailboxEnv } from './mailbox-env.js';
import { MailboxStore, type Identity } from './mailbox-store.js';

export interface MailboxOwner {
  ownerName: string;
  legacyDn: string;
  serverShortname: string;
}

/** Provisions an open, empty environment; returns the new MailboxGuid (text form). */
export async function provisionEnv(env: MailboxEnv, owner: MailboxOwner): Promise<string> {
  const identity: Identity = { mailboxGuid: newGuid(), replGuid: newGuid(), ...owner };
  const store = new MailboxStore(env);
  await env.write(() => store.provision(identity));
  return guidToString(identity.mailboxGuid);
}
