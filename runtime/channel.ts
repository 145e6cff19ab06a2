/**
 * HOT PATH. One end of the data plane between the main thread and a worker: a ring out, a ring
 * in, and the thread's message port for payloads that move by ArrayBuffer transfer.
 *
 * Sending never blocks: when the outgoing ring is full, frames wait in a local queue (in order)
 * until the consumer frees room. Receiving runs a loop that drains the incoming ring in batches,
 * yields to the event loop between batches (a per-turn cap, so timers and I/O are not starved),
 * and parks with Atomics.waitAsync when the ring is empty.
 */
import { Ring } from './ring.js';
import { decodeFrame, encodeHeaderScratch, encodePayloadInto, headerBytes, FrameFlag, type DecodedFrame, type FrameKind } from './frame.js';

/** The part of a Worker / parentPort we use. */
export interface PortLike {
  postMessage(value: unknown, transferList?: readonly ArrayBuffer[]): void;
}

/** The control message that carries a frame's detached buffers. */
export interface TransferMessage {
  t: 'xfer';
  n: number;
  bufs: ArrayBuffer[];
}

export function isTransferMessage(m: unknown): m is TransferMessage {
  return typeof m === 'object' && m !== null && (m as { t?: unknown }).t === 'xfer';
}

export interface ChannelInit {
  out: SharedArrayBuffer;
  in: SharedArrayBuffer;
  port: PortLike;
  /** Spin this long on an empty ring before parking (µs). */
  spinMicros: number;
  /** Frames handled per event-loop turn before yielding. */
  batch?: number;
  /**
   * On a send while the receive loop is parked, wake it so it spins (spinMicros) for the reply:
   * a reply that comes back within the spin is read without a cross-thread wake-up.
   */
  spinForReply?: boolean;
}

export type FrameHandler = (frame: DecodedFrame, transferred: ArrayBuffer[] | undefined) => void;

interface Pending {
  bytes: Uint8Array;
}

/** Frames written (or read) before the index is published to the other side even mid-burst. */
const PUBLISH_EVERY = 16;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Channel {
  private readonly out: Ring;
  private readonly in: Ring;
  private readonly port: PortLike;
  private readonly spinMicros: number;
  private readonly batch: number;
  private readonly pending: Pending[] = [];
  private pendingHead = 0;
  private flushing = false;
  private xferOut = 0;
  private readonly xferIn = new Map<number, ArrayBuffer[]>();
  private xferWaiter: { n: number; resolve: (bufs: ArrayBuffer[]) => void } | null = null;
  private stopped = false;
  /** True while the receive loop is parked in Atomics.waitAsync. */
  private parked = false;
  /** Wake our own parked receive loop when we send, so it spins for the reply (main thread). */
  private readonly spinForReply: boolean;
  private publishQueued = false;
  private unpublished = 0;
  private readonly publishNow = (): void => {
    this.publishQueued = false;
    this.unpublished = 0;
    this.out.publish();
  };
  /** Frames sent and received, for stats. */
  sent = 0;
  received = 0;

  constructor(init: ChannelInit) {
    this.out = new Ring(init.out);
    this.in = new Ring(init.in);
    this.port = init.port;
    this.spinMicros = init.spinMicros;
    this.batch = init.batch ?? 256;
    this.spinForReply = init.spinForReply ?? false;
  }

  /** Frames waiting in the local queue because the ring was full. */
  backlog(): number {
    return this.pending.length - this.pendingHead;
  }

  /** Sends one frame. `payload` is any MessagePack-able value; big binary fields are moved. */
  send(kind: FrameKind, id: number, seq: number, key: string, op: string, payload: unknown): void {
    const enc = encodePayloadInto(payload);
    const body = enc.bytes;
    let flags = enc.raw === true ? FrameFlag.RAW : 0;
    let xfer = 0;
    if (enc.transfer.length > 0) {
      xfer = ++this.xferOut >>> 0;
      flags |= FrameFlag.DETACHED;
      const msg: TransferMessage = { t: 'xfer', n: xfer, bufs: enc.transfer };
      this.port.postMessage(msg, enc.transfer);
    }
    const headerLen = encodeHeaderScratch(kind, flags, id, seq, xfer, key, op);
    const header = headerBytes();
    this.sent++;
    if (headerLen + body.byteLength > this.out.maxFrame) {
      // Only a huge non-binary payload (e.g. a giant string) gets here.
      throw new RangeError(`message of ${body.byteLength} bytes is too large for the ring; send big data as a Uint8Array field`);
    }
    if (this.backlog() === 0 && this.out.tryWrite(header, body, headerLen, false)) {
      // The first frame of a microtask turn is published at once (an isolated call pays no
      // extra delay); the rest of a burst every PUBLISH_EVERY frames and at the end of the turn,
      // so a burst costs few atomic stores and notifies while the consumer still overlaps.
      if (!this.publishQueued) {
        this.out.publish();
        this.publishQueued = true;
        queueMicrotask(this.publishNow);
        if (this.parked && this.spinForReply) {
          this.parked = false;
          this.in.wakeConsumer();
        }
      } else if (++this.unpublished >= PUBLISH_EVERY) {
        this.unpublished = 0;
        this.out.publish();
      }
      return;
    }
    const bytes = new Uint8Array(headerLen + body.byteLength);
    bytes.set(header.subarray(0, headerLen), 0);
    bytes.set(body, headerLen);
    this.pending.push({ bytes });
    if (!this.flushing) void this.flushPending();
  }

  private async flushPending(): Promise<void> {
    this.flushing = true;
    try {
      while (this.backlog() > 0 && !this.stopped) {
        const p = this.pending[this.pendingHead]!;
        if (this.out.tryWrite(p.bytes)) {
          this.pending[this.pendingHead++] = undefined as unknown as Pending;
          if (this.pendingHead > 1024 && this.pendingHead * 2 > this.pending.length) {
            this.pending.splice(0, this.pendingHead);
            this.pendingHead = 0;
          }
          continue;
        }
        await this.out.waitForRoom();
        if (this.out.closed()) break;
      }
    } finally {
      this.flushing = false;
    }
  }

  /** Called by the owner when a transfer message arrives on the port. */
  acceptTransfer(m: TransferMessage): void {
    if (this.xferWaiter !== null && this.xferWaiter.n === m.n) {
      const w = this.xferWaiter;
      this.xferWaiter = null;
      w.resolve(m.bufs);
      return;
    }
    this.xferIn.set(m.n, m.bufs);
  }

  private takeTransfer(n: number): ArrayBuffer[] | Promise<ArrayBuffer[]> {
    const got = this.xferIn.get(n);
    if (got !== undefined) {
      this.xferIn.delete(n);
      return got;
    }
    return new Promise((resolve) => {
      this.xferWaiter = { n, resolve };
    });
  }

  /** Runs the receive loop until stop(). */
  async run(onFrame: FrameHandler): Promise<void> {
    while (!this.stopped) {
      let handled = 0;
      for (;;) {
        const raw = this.in.read(false);
        if (raw === null) break;
        this.received++;
        const frame = decodeFrame(raw);
        if (frame === null) continue;
        if ((frame.flags & FrameFlag.DETACHED) !== 0) {
          // Hold this frame (and so every later one) until its buffers arrive: order is kept.
          const t = this.takeTransfer(frame.xfer);
          const bufs = t instanceof Promise ? await t : t;
          if (this.stopped) return;
          onFrame(frame, bufs);
        } else {
          onFrame(frame, undefined);
        }
        if ((handled & (PUBLISH_EVERY - 1)) === PUBLISH_EVERY - 1) this.in.release();
        if (++handled >= this.batch) {
          handled = 0;
          this.in.release();
          await yieldToLoop();
          if (this.stopped) return;
        }
      }
      this.in.release();
      if (this.in.closed()) return;
      // Empty: first let queued callbacks run (they often send the next request, whose reply
      // the spin below then catches), then spin briefly, then park.
      if (this.spinMicros > 0) {
        await yieldToLoop();
        if (this.stopped) return;
        if (!this.in.isEmpty() || this.in.spin(this.spinMicros)) continue;
      }
      this.parked = true;
      await this.in.waitForData(0);
      this.parked = false;
    }
  }

  /** Stops the receive loop and wakes anything parked on either ring. */
  stop(): void {
    this.stopped = true;
    this.in.close();
    this.out.close();
    if (this.xferWaiter !== null) {
      const w = this.xferWaiter;
      this.xferWaiter = null;
      w.resolve([]);
    }
  }
}
