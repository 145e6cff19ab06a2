/**
 * Failed logins per client address in a fixed window: after `limit` failures within `windowMs`
 * of the first, the address is refused (HTTP 429, SMTP 421, POP3 -ERR [LOGIN-DELAY]... each door
 * in its words) until the window ends, even with a right password,
 * so guessing costs the guesser time and the server no scrypt. Memory is bounded: past
 * MAX_TRACKED addresses the oldest entry is dropped.
 */

/** Most client addresses tracked at once. */
const MAX_TRACKED = 100_000;

interface Entry {
  start: number;
  count: number;
}

export class FailureThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
  ) {}

  /** Milliseconds the address must still wait (0: it may try). */
  blockedFor(key: string, now = Date.now()): number {
    const e = this.entries.get(key);
    if (e === undefined) return 0;
    const end = e.start + this.windowMs;
    if (now >= end) {
      this.entries.delete(key);
      return 0;
    }
    return e.count >= this.limit ? end - now : 0;
  }

  fail(key: string, now = Date.now()): void {
    let e = this.entries.get(key);
    if (e !== undefined && now >= e.start + this.windowMs) {
      this.entries.delete(key);
      e = undefined;
    }
    if (e === undefined) {
      if (this.entries.size >= MAX_TRACKED) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, { start: now, count: 1 });
    } else e.count++;
  }

  get tracked(): number {
    return this.entries.size;
  }
}
