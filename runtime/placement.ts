/**
 * Placement of actor keys on workers: rendezvous (highest-random-weight) hashing, so that
 * changing the worker count from n to m moves only the keys whose best worker changed
 * (about |n−m|/max(n,m) of them), plus an operator override table.
 */

/** 32-bit FNV-1a over the key's UTF-16 code units, mixed with the worker index. */
function score(key: string, worker: number): number {
  let h = 0x811c9dc5 ^ Math.imul(worker + 1, 0x9e3779b1);
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // Final avalanche (murmur3 fmix32) so nearby keys spread.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function rendezvous(key: string, workers: number): number {
  let best = 0;
  let bestScore = -1;
  for (let w = 0; w < workers; w++) {
    const s = score(key, w);
    if (s > bestScore) {
      bestScore = s;
      best = w;
    }
  }
  return best;
}

export class Placement {
  private readonly overrides = new Map<string, number>();
  constructor(public workers: number) {}

  /** The worker an actor key belongs on now. */
  place(key: string): number {
    const o = this.overrides.get(key);
    if (o !== undefined && o < this.workers) return o;
    return rendezvous(key, this.workers);
  }

  setOverride(key: string, worker: number | null): void {
    if (worker === null) this.overrides.delete(key);
    else this.overrides.set(key, worker);
  }

  overridesList(): { key: string; worker: number }[] {
    return [...this.overrides].map(([key, worker]) => ({ key, worker }));
  }
}
