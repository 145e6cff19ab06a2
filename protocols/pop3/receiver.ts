/**
 * The POP3 door's line receiver (hot: every byte a client sends passes here). Resumable: bytes go
 * in as they arrive (`push`, any split), complete lines come out (`next`), and `needMore` says a
 * line is still incomplete. Lines end in CRLF (RFC 1939 §3); a bare LF is accepted too.
 *
 * Limits are inside: a line longer than `maxLine` (line end included) comes out once as `tooLong`,
 * its bytes are dropped as they arrive, and the receiver resyncs at the next line end, so an
 * endless line never holds more than `maxLine` bytes.
 *
 * Buffer: one grow-only buffer, compacted when full. A `line` is a view into it, valid only until
 * the next `push` (the session parses it at once).
 */

export type Received = { kind: 'line'; line: Buffer } | { kind: 'needMore' } | { kind: 'tooLong' };

const LF = 0x0a;
const CR = 0x0d;
const NEED_MORE: Received = { kind: 'needMore' };
const TOO_LONG: Received = { kind: 'tooLong' };
const INITIAL_BYTES = 512;

export class LineReceiver {
  private buf = Buffer.allocUnsafe(INITIAL_BYTES);
  private start = 0;
  private end = 0;
  /** Where the search for the next LF goes on (bytes before it hold none). */
  private scanned = 0;
  /** Dropping the rest of an over-long line up to its line end. */
  private skipping = false;

  constructor(private readonly maxLine: number) {}

  /** Bytes received and not yet taken out as lines. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.end + chunk.length > this.buf.length) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.scanned -= this.start;
        this.start = 0;
      }
      if (this.end + chunk.length > this.buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + chunk.length));
        this.buf.copy(grown, 0, 0, this.end);
        this.buf = grown;
      }
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  next(): Received {
    for (;;) {
      if (this.start === this.end) {
        this.start = this.end = this.scanned = 0;
        return NEED_MORE;
      }
      const at = this.buf.indexOf(LF, this.scanned);
      if (at < 0 || at >= this.end) {
        this.scanned = this.end;
        if (this.skipping) {
          this.start = this.end = this.scanned = 0;
          return NEED_MORE;
        }
        // Without its line end this line already has maxLine bytes: it cannot fit.
        if (this.end - this.start >= this.maxLine) {
          this.skipping = true;
          this.start = this.end = this.scanned = 0;
          return TOO_LONG;
        }
        return NEED_MORE;
      }
      const from = this.start;
      this.start = this.scanned = at + 1;
      if (this.skipping) {
        this.skipping = false;
        continue;
      }
      if (at + 1 - from > this.maxLine) return TOO_LONG;
      const to = at > from && this.buf[at - 1] === CR ? at - 1 : at;
      return { kind: 'line', line: this.buf.subarray(from, to) };
    }
  }

  /**
   * Drops everything buffered; returns how much. After STLS: plaintext pipelined behind it must not
   * run as if it came over TLS (the STARTTLS command-injection flaw; RFC 2595 §4 has the server
   * forget what it learnt before the handshake).
   */
  discard(): number {
    const n = this.end - this.start;
    this.start = this.end = this.scanned = 0;
    this.skipping = false;
    return n;
  }
}
