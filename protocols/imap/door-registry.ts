/**
 * What the door remembers across its sessions: connections per user (a limit), failed logins per
 * client address (throttling), and which UIDs some session has already seen as \Recent.
 */

interface Failures {
  count: number;
  windowStart: number;
}

const WINDOW_MS = 60_000;
/** Addresses remembered for throttling; the oldest go first. */
const MAX_ADDRESSES = 10_000;
/** Folders remembered for \Recent. */
const MAX_RECENT_FOLDERS = 100_000;

export class DoorRegistry {
  private readonly perUser = new Map<string, number>();
  private readonly failures = new Map<string, Failures>();
  private readonly recent = new Map<string, number>();

  /** Takes a connection slot for the user; false when the user has `max` already. */
  acquire(userId: string, max: number): boolean {
    const n = this.perUser.get(userId) ?? 0;
    if (n >= max) return false;
    this.perUser.set(userId, n + 1);
    return true;
  }

  release(userId: string): void {
    const n = (this.perUser.get(userId) ?? 1) - 1;
    if (n <= 0) this.perUser.delete(userId);
    else this.perUser.set(userId, n);
  }

  connections(userId: string): number {
    return this.perUser.get(userId) ?? 0;
  }

  /** Whether an address has failed too often in the last minute. */
  throttled(address: string, max: number, now = Date.now()): boolean {
    const f = this.failures.get(address);
    return f !== undefined && now - f.windowStart < WINDOW_MS && f.count >= max;
  }

  failed(address: string, now = Date.now()): void {
    const f = this.failures.get(address);
    if (f === undefined || now - f.windowStart >= WINDOW_MS) {
      if (this.failures.size >= MAX_ADDRESSES) this.failures.delete(this.failures.keys().next().value!);
      this.failures.set(address, { count: 1, windowStart: now });
    } else f.count++;
  }

  /**
   * \Recent (RFC 3501 §2.3.2): the first session to see a message gets it. Returns the highest
   * UID some earlier session saw in this folder and records `highest` as seen.
   */
  claimRecent(folderKey: string, highest: number): number {
    const before = this.recent.get(folderKey) ?? 0;
    if (highest > before) {
      if (!this.recent.has(folderKey) && this.recent.size >= MAX_RECENT_FOLDERS) this.recent.delete(this.recent.keys().next().value!);
      this.recent.set(folderKey, highest);
    }
    return before;
  }
}
