/**
 * The IMAP door's command receiver (hot: every byte a client sends passes here). Resumable:
 * bytes go in as they arrive (`push`, any split), whole commands come out (`next`).
 *
 *   command = tag SP name *(SP arg) CRLF, where an argument may be a literal:
 *   literal = "{" number ["+"] "}" CRLF *OCTET        (RFC 3501 §4.3, LITERAL+ RFC 7888)
 *
 * A command is handed out as the bytes the client sent, lines and literals inline, without the
 * final line end: the parser (parser/reader.ts) reads literals by their announced size, so it
 * never mistakes literal bytes for syntax. A synchronizing literal yields `needLiteral` (the
 * session answers "+") before its bytes are read.
 *
 * Limits are inside: a line longer than `lineBytes`, a literal over its limit (APPEND's message:
 * `appendBytes`; any other: `literalBytes`, also the total per command) is an `error` with the
 * tag when it could be read; the command's remaining bytes, including non-synchronizing literals
 * the client sends anyway, are then dropped as they arrive (never buffered), and the receiver
 * resyncs at the command's end. A rejected synchronizing literal is never sent by the client.
 *
 * Buffer: one grow-only buffer per command, allocated at the first byte, compacted as commands
 * are taken; `shrink()` cuts it back after each command. A command is a view valid until the
 * next `push`.
 */
import { SHRINK_BYTES } from './limits.js';

export type ReceiverError = 'lineTooLong' | 'literalTooLarge' | 'badLiteral';

export type Received =
  | { kind: 'needMore' }
  | { kind: 'needLiteral'; size: number }
  | { kind: 'ok'; command: Buffer }
  | { kind: 'error'; why: ReceiverError; tag: string | null; limit: number };

export interface ReceiverLimits {
  lineBytes: number;
  literalBytes: number;
  appendBytes: number;
}

const LF = 0x0a;
const CR = 0x0d;
const NEED_MORE: Received = { kind: 'needMore' };
const INITIAL_BYTES = 1024;
/** Tail of a skipped line kept to see whether it announced a literal ("{4294967295+}\r"). */
const TAIL_BYTES = 16;

type Mode = 'line' | 'literal' | 'skipLine' | 'skipLiteral';

export class Receiver {
  private buf: Buffer | null = null;
  /** Start of the current command. */
  private start = 0;
  /** Start of the current line within the command. */
  private lineStart = 0;
  /** Where the search for LF goes on. */
  private scan = 0;
  private end = 0;
  private mode: Mode = 'line';
  /** Literal bytes still to come (literal and skipLiteral modes). */
  private remaining = 0;
  /** The rest of the current command is being dropped (after an error). */
  private dropping = false;
  private appendCommand: boolean | null = null;
  private literalTotal = 0;
  /** Last bytes of a skipped line. */
  private tail = '';

  constructor(private readonly limits: ReceiverLimits) {}

  /** Bytes received and not yet taken out. */
  get buffered(): number {
    return this.end - this.start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.buf === null) this.buf = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, chunk.length));
    if (this.end + chunk.length > this.buf.length) {
      if (this.start > 0) this.compact();
      if (this.end + chunk.length > this.buf.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + chunk.length));
        this.buf.copy(grown, 0, 0, this.end);
        this.buf = grown;
      }
    }
    this.buf.set(chunk, this.end);
    this.end += chunk.length;
  }

  private compact(): void {
    const b = this.buf!;
    const s = this.start;
    b.copyWithin(0, s, this.end);
    this.end -= s;
    this.scan -= s;
    this.lineStart -= s;
    this.start = 0;
  }

  /** Cuts the buffer back to SHRINK_BYTES when what it holds fits (between commands). */
  shrink(): void {
    const b = this.buf;
    if (b === null || b.length <= SHRINK_BYTES) return;
    const held = this.end - this.start;
    if (held > SHRINK_BYTES) return;
    if (held === 0) {
      this.buf = null;
      this.end = this.scan = this.lineStart = this.start = 0;
      return;
    }
    const small = Buffer.allocUnsafe(SHRINK_BYTES);
    b.copy(small, 0, this.start, this.end);
    this.end -= this.start;
    this.scan -= this.start;
    this.lineStart -= this.start;
    this.start = 0;
    this.buf = small;
  }

  /** Capacity held (for tests of the shrink rule). */
  get capacity(): number {
    return this.buf?.length ?? 0;
  }

  next(): Received {
    for (;;) {
      const b = this.buf;
      if (b === null || this.scan >= this.end) {
        if (this.mode === 'line' && this.end - this.lineStart > this.limits.lineBytes) return this.lineTooLong();
        this.release();
        return NEED_MORE;
      }
      switch (this.mode) {
        case 'literal': {
          const take = Math.min(this.remaining, this.end - this.scan);
          this.scan += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            this.mode = 'line';
            this.lineStart = this.scan;
          }
          continue;
        }
        case 'skipLiteral': {
          const take = Math.min(this.remaining, this.end - this.scan);
          this.scan += take;
          this.remaining -= take;
          this.drop();
          if (this.remaining === 0) this.mode = 'skipLine';
          continue;
        }
        case 'skipLine': {
          const at = b.indexOf(LF, this.scan);
          const stop = at < 0 || at >= this.end ? this.end : at;
          this.tail = (this.tail + b.toString('latin1', Math.max(this.scan, stop - TAIL_BYTES), stop)).slice(-TAIL_BYTES);
          if (at < 0 || at >= this.end) {
            this.scan = this.end;
            this.drop();
            continue;
          }
          this.scan = at + 1;
          this.drop();
          const lit = literalAtEnd(this.tail);
          this.tail = '';
          if (lit !== null && !lit.sync) {
            this.mode = 'skipLiteral';
            this.remaining = lit.size;
            continue;
          }
          // The command ended (or waits for a "+" that will not come): the next one starts here.
          this.resetCommand();
          continue;
        }
        case 'line': {
          const at = b.indexOf(LF, this.scan);
          if (at < 0 || at >= this.end) {
            this.scan = this.end;
            if (this.end - this.lineStart > this.limits.lineBytes) return this.lineTooLong();
            this.release();
            return NEED_MORE;
          }
          if (at + 1 - this.lineStart > this.limits.lineBytes) {
            this.scan = at;
            return this.lineTooLong();
          }
          this.scan = at + 1;
          const lineEnd = at > this.lineStart && b[at - 1] === CR ? at - 1 : at;
          const lit = literalAt(b, this.lineStart, lineEnd);
          if (lit === null) {
            const command = b.subarray(this.start, lineEnd);
            this.start = this.lineStart = this.scan;
            this.appendCommand = null;
            this.literalTotal = 0;
            return { kind: 'ok', command };
          }
          if (lit === 'bad') return this.reject('badLiteral', 0, true);
          const limit = this.literalLimit();
          if (lit.size > limit || this.literalTotal + lit.size > limit + (this.isAppend() ? this.limits.literalBytes : 0)) {
            return this.reject('literalTooLarge', limit, lit.sync, lit.size);
          }
          this.literalTotal += lit.size;
          this.mode = 'literal';
          this.remaining = lit.size;
          if (lit.size === 0) {
            this.mode = 'line';
            this.lineStart = this.scan;
          }
          if (lit.sync) return { kind: 'needLiteral', size: lit.size };
          continue;
        }
      }
    }
  }

  /**
   * A plain line (IDLE's DONE, an AUTHENTICATE response): no literals. `tooLong` past lineBytes
   * (the line is then skipped).
   */
  nextLine(): { kind: 'line'; line: Buffer } | { kind: 'needMore' } | { kind: 'tooLong' } {
    const b = this.buf;
    if (b === null || this.mode !== 'line') return NEED_MORE as { kind: 'needMore' };
    const at = b.indexOf(LF, this.scan);
    if (at < 0 || at >= this.end) {
      this.scan = this.end;
      if (this.end - this.lineStart > this.limits.lineBytes) {
        this.mode = 'skipLine';
        this.dropping = true;
        this.drop();
        return { kind: 'tooLong' };
      }
      return { kind: 'needMore' };
    }
    const lineEnd = at > this.lineStart && b[at - 1] === CR ? at - 1 : at;
    const line = b.subarray(this.lineStart, lineEnd);
    this.scan = at + 1;
    this.start = this.lineStart = this.scan;
    return { kind: 'line', line };
  }

  /** Drops everything buffered (STARTTLS: nothing sent in clear may run under TLS, RFC 3501 §6.2.1). */
  discard(): number {
    const n = this.end - this.start;
    this.buf = null;
    this.start = this.lineStart = this.scan = this.end = 0;
    this.mode = 'line';
    this.dropping = false;
    this.appendCommand = null;
    this.literalTotal = 0;
    this.tail = '';
    return n;
  }

  private isAppend(): boolean {
    if (this.appendCommand === null) {
      const b = this.buf!;
      const text = b.toString('latin1', this.start, Math.min(this.end, this.start + 80));
      this.appendCommand = /^[^ ]+ append /i.test(text);
    }
    return this.appendCommand;
  }

  private literalLimit(): number {
    return this.isAppend() ? this.limits.appendBytes : this.limits.literalBytes;
  }

  private tagOf(): string | null {
    const b = this.buf!;
    const text = b.toString('latin1', this.start, Math.min(this.end, this.start + 200));
    const m = /^([\x21\x23\x24\x26\x27\x2c-\x5b\x5e-\x7a\x7c\x7e]+)[ \r\n]/.exec(text);
    return m === null ? null : m[1]!;
  }

  private lineTooLong(): Received {
    const tag = this.tagOf();
    const b = this.buf!;
    this.tail = b.toString('latin1', Math.max(this.lineStart, this.scan - TAIL_BYTES), this.scan);
    this.mode = 'skipLine';
    this.dropping = true;
    this.drop();
    return { kind: 'error', why: 'lineTooLong', tag, limit: this.limits.lineBytes };
  }

  private reject(why: ReceiverError, limit: number, sync: boolean, size = 0): Received {
    const tag = this.tagOf();
    if (sync) {
      // The client sends nothing more of this command until it sees "+": the next line is a new command.
      this.resetCommand();
    } else {
      this.mode = 'skipLiteral';
      this.remaining = size;
      this.dropping = true;
      this.drop();
      if (size === 0) this.mode = 'skipLine';
    }
    return { kind: 'error', why, tag, limit };
  }

  /** Forgets the bytes of a command being dropped. */
  private drop(): void {
    this.start = this.lineStart = this.scan;
  }

  private resetCommand(): void {
    this.start = this.lineStart = this.scan;
    this.mode = 'line';
    this.dropping = false;
    this.appendCommand = null;
    this.literalTotal = 0;
  }

  /** Nothing unprocessed: the buffer can be reused from its start. */
  private release(): void {
    if (this.start === this.end && this.buf !== null) {
      this.start = this.lineStart = this.scan = this.end = 0;
    }
  }

  /** Whether the receiver is inside a command being dropped (for tests). */
  get isDropping(): boolean {
    return this.dropping;
  }
}

/** A literal announced at the end of a line: "{n}" or "{n+}"; 'bad' for a malformed one. */
function literalAt(b: Buffer, from: number, to: number): { size: number; sync: boolean } | 'bad' | null {
  if (to <= from || b[to - 1] !== 0x7d) return null;
  let i = to - 2;
  let sync = true;
  if (i >= from && b[i] === 0x2b) {
    sync = false;
    i--;
  }
  let size = 0;
  let digits = 0;
  let mul = 1;
  while (i >= from && b[i]! >= 0x30 && b[i]! <= 0x39) {
    size += (b[i]! - 0x30) * mul;
    mul *= 10;
    digits++;
    i--;
  }
  if (i < from || b[i] !== 0x7b) return null;
  if (digits === 0 || digits > 10 || size > 0xffffffff) return 'bad';
  return { size, sync };
}

function literalAtEnd(tail: string): { size: number; sync: boolean } | null {
  const t = tail.endsWith('\r') ? tail.slice(0, -1) : tail;
  const m = /\{(\d{1,10})(\+?)\}$/.exec(t);
  return m === null ? null : { size: Number(m[1]), sync: m[2] !== '+' };
}
