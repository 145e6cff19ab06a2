/**
 * The MailboxGuid of each user's mailbox, for the MAPI over HTTP URLs (?MailboxId=<guid>@<domain>).
 * The directory does not hold it: the mailbox does (its identity, made at provisioning), so the
 * first lookup asks the mailbox actor (logonInfo) and the answer is kept: a mailbox's GUID never
 * changes (a restore brings back the same mailbox, see admin.ts restoreChecked). Keyed by user id,
 * so a user removed and added again is asked anew. Concurrent first lookups share one call.
 */
import type { UserRecord } from '../../storage/directory-store.js';

/** Most GUIDs kept; past it the oldest is dropped (one lookup brings it back). */
const MAX_CACHED = 200_000;

export class MailboxGuids {
  private readonly known = new Map<string, string>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(private readonly fetch: (address: string) => Promise<string>) {}

  /** The GUID if already known (no await on the hot path). */
  cached(user: UserRecord): string | undefined {
    return this.known.get(user.id);
  }

  get(user: UserRecord): Promise<string> {
    const have = this.known.get(user.id);
    if (have !== undefined) return Promise.resolve(have);
    let p = this.pending.get(user.id);
    if (p === undefined) {
      p = this.fetch(user.address).then(
        (guid) => {
          this.pending.delete(user.id);
          if (this.known.size >= MAX_CACHED) this.known.delete(this.known.keys().next().value!);
          this.known.set(user.id, guid);
          return guid;
        },
        (err: unknown) => {
          this.pending.delete(user.id);
          throw err;
        },
      );
      this.pending.set(user.id, p);
    }
    return p;
  }
}
