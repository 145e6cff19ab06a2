/**
 * Response bytes (hot: every response is built here). A grow-only buffer for the response being
 * built; `take()` hands out what was written and starts over. Strings go out as atoms, quoted
 * strings or literals (RFC 3501 §4.3) as their content requires; message data as literals.
 */

const INITIAL = 512;

function isQuotable(s: string): boolean {
  if (s.length > 1024) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Byte arrays at least this large are referenced, not copied (message bodies in FETCH). */
const BY_REFERENCE = 16 * 1024;

export class ResponseWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL);
  private pos = 0;
  /** Finished pieces before the current one (big byte arrays by reference). */
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  get length(): number {
    return this.chunkBytes + this.pos;
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** ASCII text as is (atoms, numbers, syntax). */
  raw(s: string): this {
    this.need(s.length);
    this.pos += this.buf.write(s, this.pos, 'latin1');
    return this;
  }

  bytes(b: Uint8Array): this {
    if (b.length >= BY_REFERENCE) {
      if (this.pos > 0) this.chunks.push(this.cut());
      const ref = Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
      this.chunks.push(ref);
      this.chunkBytes += ref.length;
      return this;
    }
    this.need(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }

  num(n: number): this {
    return this.raw(String(n));
  }

  /** A string: quoted when it can be, else a literal of its UTF-8. */
  str(s: string): this {
    if (isQuotable(s)) {
      if (s.indexOf('"') < 0 && s.indexOf('\\') < 0) return this.raw(`"${s}"`);
      return this.raw(`"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`);
    }
    return this.literal(Buffer.from(s, 'utf8'));
  }

  /** Bytes as a string: quoted when printable ASCII, else a literal. */
  strBytes(b: Uint8Array): this {
    if (b.length <= 1024) {
      let ok = true;
      for (let i = 0; i < b.length; i++) {
        const c = b[i]!;
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
          ok = false;
          break;
        }
      }
      if (ok) return this.raw('"').bytes(b).raw('"');
    }
    return this.literal(b);
  }

  nstr(s: string | null | undefined): this {
    return s === null || s === undefined ? this.raw('NIL') : this.str(s);
  }

  literal(b: Uint8Array): this {
    this.raw(`{${b.length}}\r\n`);
    return this.bytes(b);
  }

  crlf(): this {
    return this.raw('\r\n');
  }

  /** The current piece as a copy (the buffer is reused). */
  private cut(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.chunkBytes += this.pos;
    this.pos = 0;
    return out;
  }

  /** What was written, in pieces, and starts over. */
  take(): Buffer[] {
    const out = this.chunks;
    if (this.pos > 0) out.push(this.cut());
    this.chunks = [];
    this.chunkBytes = 0;
    // Grow-only within a command; back to small between commands (per-connection memory).
    if (this.buf.length > 4096) this.buf = Buffer.allocUnsafe(INITIAL);
    return out;
  }

  /** Everything written as one buffer (tests, small responses). */
  takeBuffer(): Buffer {
    return Buffer.concat(this.take());
  }
}

/** A one-line response as bytes. */
export function line(s: string): Buffer {
  return Buffer.from(`${s}\r\n`, 'utf8');
}
