/**
 * Message sizes as POP3 sends them, remembered by the door across sessions: computing one means
 * fetching (and for mail made by MAPI, generating) the whole message, and STAT / LIST need them
 * all. Keyed by (mailbox, MID, change number): any content change (and any flag change, which can
 * alter generated MIME, e.g. its Keywords header) gets a new change number, so a hit is exact.
 * LRU in a Map's insertion order; bounded by entries.
 */

export class SizeCache {
  private readonly map = new Map<string, number>();
  hits = 0;
  misses = 0;

  constructor(private readonly maxEntries: number) {}

  private static key(mailbox: string, mid: number, cn: number): string {
    return `${mailbox}\0${mid}\0${cn}`;
  }

  get(mailbox: string, mid: number, cn: number): number | undefined {
    const k = SizeCache.key(mailbox, mid, cn);
    const v = this.map.get(k);
    if (v === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.map.delete(k);
    this.map.set(k, v);
    return v;
  }

  set(mailbox: string, mid: number, cn: number, size: number): void {
    if (this.maxEntries <= 0) return;
    const k = SizeCache.key(mailbox, mid, cn);
    this.map.delete(k);
    if (this.map.size >= this.maxEntries) this.map.delete(this.map.keys().next().value!);
    this.map.set(k, size);
  }

  get size(): number {
    return this.map.size;
  }
}
