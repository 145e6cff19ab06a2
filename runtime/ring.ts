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
  private readonly lenScratch = new Uint8Array(LEN_BYTES);
  private readonly lenView = new DataView(this.lenScratch.buffer);
  private tailSeenFull = 0;

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
    const limit = this.capacity - LEN_BYTES;
    this.maxFrame = maxFrame === undefined ? limit : Math.min(maxFrame, limit);
  }

  /** Bytes currently held (frames plus their length prefixes). */
  used(): number {
    return (Atomics.load(this.ctl, HEAD) - Atomics.load(this.ctl, TAIL)) >>> 0;
  }

  isEmpty(): boolean {
    return Atomics.load(this.ctl, HEAD) === Atomics.load(this.ctl, TAIL);
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
   * Writes one frame made of `a` followed by `b` (either may be empty).
   * Returns false, writing nothing, when the ring lacks room right now.
   * Throws when the frame can never fit (larger than maxFrame): callers must check first.
   */
  tryWrite(a: Uint8Array, b?: Uint8Array): boolean {
    const len = a.byteLength + (b === undefined ? 0 : b.byteLength);
    if (len > this.maxFrame) throw new RangeError(`frame of ${len} bytes exceeds the ring's limit of ${this.maxFrame}`);
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    const tail = Atomics.load(this.ctl, TAIL) >>> 0;
    const free = this.capacity - ((head - tail) >>> 0);
    if (free < len + LEN_BYTES) {
      this.tailSeenFull = tail | 0;
      return false;
    }
    this.lenView.setUint32(0, len, true);
    let pos = this.copyIn(this.lenScratch, head);
    pos = this.copyIn(a, pos);
    if (b !== undefined) pos = this.copyIn(b, pos);
    Atomics.store(this.ctl, HEAD, pos | 0);
    if (Atomics.load(this.ctl, CONSUMER_WAIT) !== 0) Atomics.notify(this.ctl, HEAD);
    return true;
  }

  /**
   * Resolves once the consumer has freed room since the last failed tryWrite (or the ring
   * closed). Never blocks the thread.
   */
  waitForRoom(): Promise<void> {
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

  /** Reads the next frame into a new buffer the caller owns, or returns null when empty. */
  read(): Uint8Array | null {
    const tail = Atomics.load(this.ctl, TAIL) >>> 0;
    const head = Atomics.load(this.ctl, HEAD) >>> 0;
    if (head === tail) return null;
    this.copyOut(this.lenScratch, tail);
    const len = this.lenView.getUint32(0, true);
    const out = new Uint8Array(len);
    this.copyOut(out, (tail + LEN_BYTES) >>> 0);
    Atomics.store(this.ctl, TAIL, (tail + LEN_BYTES + len) | 0);
    if (Atomics.load(this.ctl, PRODUCER_WAIT) !== 0) Atomics.notify(this.ctl, TAIL);
    return out;
  }

  /**
   * Resolves when a frame may be available (or the ring closed). Spins for up to `spinMicros`
   * first, which saves the park/wake cost when the other side answers quickly.
   */
  waitForData(spinMicros = 0): Promise<void> {
    if (spinMicros > 0) {
      const until = performance.now() + spinMicros / 1000;
      do {
        if (Atomics.load(this.ctl, HEAD) !== Atomics.load(this.ctl, TAIL)) return Promise.resolve();
      } while (performance.now() < until);
    }
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

  // ---- byte copies with wrap-around ----

  private copyIn(src: Uint8Array, at: number): number {
    const off = at & this.mask;
    const first = Math.min(src.byteLength, this.capacity - off);
    this.data.set(first === src.byteLength ? src : src.subarray(0, first), off);
    if (first < src.byteLength) this.data.set(src.subarray(first), 0);
    return (at + src.byteLength) >>> 0;
  }

  private copyOut(dst: Uint8Array, at: number): void {
    const off = at & this.mask;
    const first = Math.min(dst.byteLength, this.capacity - off);
    dst.set(this.data.subarray(off, off + first), 0);
    if (first < dst.byteLength) dst.set(this.data.subarray(0, dst.byteLength - first), first);
  }
}
