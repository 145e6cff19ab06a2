/**
 * HOT PATH. A single-producer single-consumer ring of variable-length frames in a
 * SharedArrayBuffer. One ring per worker and direction carries the actor calls and replies
 * (the data plane); see docs/ARCHITECTURE.md. Bench: perf/bench/ring-roundtrip.ts.
 *
 * Layout (bytes):
 *   0   i32 head          bytes ever written, mod 2^32 (written by the producer only)
 *   16  i32 consumerWait  1 while the consumer is parked on `head`
 *   32  i32 closed        1 once either side closed the ring
 *   64  i32 tail          bytes ever read, mod 2^32 (written by the consumer only)
 *   80  i32 producerWait  1 while the producer is parked on `tail`
 *   128 data[capacity]    capacity is a power of two
 * head and tail sit on separate cache lines so the two threads do not share one.
 *
 * A frame is a u32 little-endian length followed by that many bytes. Frames wrap around the
 * end of the data area byte-exactly (no padding or wrap markers), so any capacity is usable.
 *
 * Waiting never blocks a thread: both ends park with Atomics.waitAsync, after an optional short
 * spin. A worker that owns an LMDB environment must keep its event loop running (commit
 * callbacks, timers and transferred buffers arrive through it), so Atomics.wait is never used.
 * The park protocol is Dekker-style on sequentially consistent atomics: the waiter stores its
 * flag then re-reads the index; the other side stores the index then reads the flag. At least one
 * of them sees the other's store, so a wake-up is never lost. Only the waiter ever writes its
 * flag (it clears it after waking): were the notifier to clear it, a stale clear could erase a
 * newer park and lose its wake-up.
 *
 * Note: a pending Atomics.waitAsync does not keep a thread's event loop alive. The runtime's
 * threads stay alive through their message ports; anything else using a Ring must hold a ref'd
 * handle of its own while it waits.
 */

const HEAD = 0;
const CONSUMER_WAIT = 4;
const CLOSED = 8;
const TAIL = 16;
const PRODUCER_WAIT = 20;
export const RING_HEADER_BYTES = 128;
const LEN_BYTES = 4;

export interface RingInit {
  sab: SharedArrayBuffer;
}

export class Ring {
  readonly capacity: number;
  /** Largest payload one frame may carry; larger payloads must travel another way. */
  readonly maxFrame: number;
  private readonly ctl: Int32Array;
  private readonly data: Uint8Array;
  private readonly mask: number;
  private tailSeenFull = 0;
  /** Producer side: our own head, and the last tail we read (room is at least what it implies). */
  private headOwn: number;
  private tailSeen: number;
  /** Consumer side: our own tail, and the last head we read. */
  private tailOwn: number;
  private headSeen: number;

  /** Makes the shared memory for a ring whose data area holds `capacity` bytes (power of two). */
  static allocate(capacity: number): SharedArrayBuffer {
    if (!Number.isInteger(capacity) || capacity < 64 || (capacity & (capacity - 1)) !== 0 || capacity > 2 ** 30) {
      throw new RangeError(`ring capacity must be a power of two between 64 and 2^30, got ${capacity}`);
    }
    return new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
  }

  constructor(sab: SharedArrayBuffer, maxFrame?: number) {
    this.capacity = sab.byteLength - RING_HEADER_BYTES;
    if (this.capacity <= 0 || (this.capacity & (this.capacity - 1)) !== 0) throw new RangeError('bad ring buffer size');
    this.ctl = new Int32Array(sab, 0, RING_HEADER_BYTES / 4);
    this.data = new Uint8Array(sab, RING_HEADER_BYTES, this.capacity);
    this.mask = this.capacity - 1;
    this.headOwn = Atomics.load(this.ctl, HEAD) >>> 0;
    this.tailOwn = Atomics.load(this.ctl, TAIL) >>> 0;
    this.tailSeen = this.tailOwn;
    this.headSeen = this.headOwn;
    const limit = this.capacity - LEN_BYTES;
    this.maxFrame = maxFrame === undefined ? limit : Math.min(maxFrame, limit);
  }

  /** Bytes currently held (frames plus their length prefixes). */
  used(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL)) >>> 0;
  }

  /** Consumer's view: nothing left to read. */
  isEmpty(): boolean {
    return Atomics.load(this.ctl, HEAD) >>> 0 === this.tailOwn;
  }

  closed(): boolean {
    return Atomics.load(this.ctl, CLOSED) !== 0;
  }

  /** Marks the ring closed and wakes both ends so their loops can stop. */
  close(): void {
    Atomics.store(this.ctl, CLOSED, 1);
    Atomics.notify(this.ctl, HEAD);
    Atomics.notify(this.ctl, TAIL);
  }

  // ---- producer side ----

  /**
   * Writes one frame made of the first `aLen` bytes of `a` followed by `b` (either may be empty).
   * Returns false, writing nothing, when the ring lacks room right now.
   * Throws when the frame can never fit (larger than maxFrame): callers must check first.
   */
  tryWrite(a: Uint8Array, b?: Uint8Array, aLen = a.byteLength, publish = true): boolean {
    const len = aLen + (b === undefined ? 0 : b.byteLength);
    if (len > this.maxFrame) throw new RangeError(`frame of ${len} bytes exceeds the ring's limit of ${this.maxFrame}`);
    // head is ours (only the producer writes it); tail is re-read only when the cached value
    // says there may not be room.
    const head = this.headOwn;
    const need = len + LEN_BYTES;
    if (this.capacity - ((head - this.tailSeen) >>> 0) < need) {
      this.tailSeen = Atomics.load(this.ctl, TAIL) >>> 0;
      if (this.capacity - ((head - this.tailSeen) >>> 0) < need) {
        this.tailSeenFull = this.tailSeen | 0;
        return false;
      }
    }
    const d = this.data;
    const m = this.mask;
    d[head & m] = len & 0xff;
    d[(head + 1) & m] = (len >>> 8) & 0xff;
    d[(head + 2) & m] = (len >>> 16) & 0xff;
    d[(head + 3) & m] = len >>> 24;
    let pos = this.copyIn(a, (head + LEN_BYTES) >>> 0, aLen);
    if (b !== undefined) pos = this.copyIn(b, pos);
    this.headOwn = pos;
    if (publish) this.publish();
    return true;
  }

  /**
   * Makes every frame written so far visible to the consumer (and wakes it if parked). Writers
   * that batch call tryWrite(..., false) several times and publish once: one atomic store and at
   * most one notify per batch instead of per frame.
   */
  publish(): void {
    if ((Atomics.load(this.ctl, HEAD) >>> 0) === this.headOwn) return;
    Atomics.store(this.ctl, HEAD, this.headOwn | 0);
    if (Atomics.load(this.ctl, CONSUMER_WAIT) !== 0) Atomics.notify(this.ctl, HEAD);
  }

  /**
   * Resolves once the consumer has freed room since the last failed tryWrite (or the ring
   * closed). Never blocks the thread.
   */
  waitForRoom(): Promise<void> {
    this.publish(); // the consumer frees room only for frames it can see
    // Compare with the tail seen when the write failed: room freed since then must not be missed.
    const tail = this.tailSeenFull;
    Atomics.store(this.ctl, PRODUCER_WAIT, 1);
    // Re-read after raising the flag (see the park protocol at the top).
    if (Atomics.load(this.ctl, TAIL) !== tail || this.closed()) {
      Atomics.store(this.ctl, PRODUCER_WAIT, 0);
      return Promise.resolve();
    }
    const r = Atomics.waitAsync(this.ctl, TAIL, tail);
    if (!r.async) {
      Atomics.store(this.ctl, PRODUCER_WAIT, 0);
      return Promise.resolve();
    }
    return r.value.then(() => {
      Atomics.store(this.ctl, PRODUCER_WAIT, 0);
    });
  }

  // ---- consumer side ----

  /**
   * Reads the next frame into a new buffer the caller owns, or returns null when empty. With
   * `release` false the room is handed back later by release() (batching, as publish does).
   */
  read(release = true): Buffer | null {
    const tail = this.tailOwn;
    if (this.headSeen === tail) {
      this.headSeen = Atomics.load(this.ctl, HEAD) >>> 0;
      if (this.headSeen === tail) return null;
    }
    const d = this.data;
    const m = this.mask;
    const len = (d[tail & m]! | (d[(tail + 1) & m]! << 8) | (d[(tail + 2) & m]! << 16) | (d[(tail + 3) & m]! << 24)) >>> 0;
    // allocUnsafe: small frames come from Node's buffer pool (no allocation per frame).
    const out = Buffer.allocUnsafe(len);
    this.copyOut(out, (tail + LEN_BYTES) >>> 0);
    this.tailOwn = (tail + LEN_BYTES + len) >>> 0;
    if (release) this.release();
    return out;
  }

  /** Hands the room of every frame read so far back to the producer (and wakes it if parked). */
  release(): void {
    if ((Atomics.load(this.ctl, TAIL) >>> 0) === this.tailOwn) return;
    Atomics.store(this.ctl, TAIL, this.tailOwn | 0);
    if (Atomics.load(this.ctl, PRODUCER_WAIT) !== 0) Atomics.notify(this.ctl, TAIL);
  }

  /**
   * Resolves when a frame may be available (or the ring closed). Spins for up to `spinMicros`
   * first, which saves the park/wake cost when the other side answers quickly.
   */
  waitForData(spinMicros = 0): Promise<void> {
    this.release(); // never park holding room the producer may be waiting for
    if (spinMicros > 0 && this.spin(spinMicros)) return Promise.resolve();
    const tail = Atomics.load(this.ctl, TAIL);
    Atomics.store(this.ctl, CONSUMER_WAIT, 1);
    const head = Atomics.load(this.ctl, HEAD);
    if (head !== tail || this.closed()) {
      Atomics.store(this.ctl, CONSUMER_WAIT, 0);
      return Promise.resolve();
    }
    const r = Atomics.waitAsync(this.ctl, HEAD, head);
    if (!r.async) {
      Atomics.store(this.ctl, CONSUMER_WAIT, 0);
      return Promise.resolve();
    }
    return r.value.then(() => {
      Atomics.store(this.ctl, CONSUMER_WAIT, 0);
    });
  }

  /** Busy-waits up to `micros` for a frame; true when one arrived. Blocks the thread meanwhile. */
  spin(micros: number): boolean {
    const until = performance.now() + micros / 1000;
    const tail = this.tailOwn | 0;
    for (let i = 1; ; i++) {
      if (Atomics.load(this.ctl, HEAD) !== tail) return true;
      // Read the clock only now and then: it costs more than the check.
      if ((i & 63) === 0 && performance.now() >= until) return false;
    }
  }

  /** Wakes a consumer parked on this ring (for example itself, to start spinning for a reply). */
  wakeConsumer(): void {
    Atomics.notify(this.ctl, HEAD);
  }

  // ---- byte copies with wrap-around ----

  /** Copies below this many bytes go byte by byte: cheaper than making subarray views. */
  private static readonly SMALL_COPY = 48;

  private copyIn(src: Uint8Array, at: number, n = src.byteLength): number {
    const off = at & this.mask;
    if (n <= Ring.SMALL_COPY) {
      const d = this.data;
      const m = this.mask;
      for (let i = 0; i < n; i++) d[(at + i) & m] = src[i]!;
      return (at + n) >>> 0;
    }
    const first = Math.min(n, this.capacity - off);
    this.data.set(first === src.byteLength ? src : src.subarray(0, first), off);
    if (first < n) this.data.set(src.subarray(first, n), 0);
    return (at + n) >>> 0;
  }

  private copyOut(dst: Uint8Array, at: number): void {
    const n = dst.byteLength;
    const off = at & this.mask;
    if (n <= Ring.SMALL_COPY) {
      const d = this.data;
      const m = this.mask;
      for (let i = 0; i < n; i++) dst[i] = d[(at + i) & m]!;
      return;
    }
    const first = Math.min(n, this.capacity - off);
    dst.set(this.data.subarray(off, off + first), 0);
    if (first < n) dst.set(this.data.subarray(0, n - first), first);
  }
}
