/**
 * Little-endian reader over a Uint8Array for the MAPI wire formats (MS-OXCDATA, MS-OXCROPS,
 * MS-OXCRPC). It never throws on bad input: the first error is recorded (`error`), later pulls
 * return zero values, and every pull checks the remaining bytes before it allocates, so a
 * hostile count cannot make us allocate more than the buffer holds. Hot path: byte views are
 * `subarray`s of the input (valid as long as the input is); copy them if you keep them.
 */

/** Stable error codes of the MAPI wire layer (plain strings: they cross threads). */
export type WireErrorCode = 'short' | 'bad-value' | 'too-deep' | 'too-many' | 'unknown-rop' | 'reserved-rop' | 'bad-size' | 'trailing';

export interface WireError {
  code: WireErrorCode;
  offset: number;
  detail: string;
}

const utf16 = new TextDecoder('utf-16le');
const latin1 = new TextDecoder('latin1');

export class WireReader {
  readonly buf: Uint8Array;
  private readonly view: DataView;
  pos: number;
  /** The end of the readable window (a ROP buffer is read up to RopSize, not its end). */
  end: number;
  error: WireError | null = null;

  constructor(buf: Uint8Array, start = 0, end = buf.byteLength) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.pos = start;
    this.end = Math.min(end, buf.byteLength);
  }

  get ok(): boolean {
    return this.error === null;
  }

  get remaining(): number {
    return this.error === null ? this.end - this.pos : 0;
  }

  /** Records the first error; later ones are ignored (the first is the cause). */
  fail(code: WireErrorCode, detail: string): void {
    if (this.error === null) this.error = { code, offset: this.pos, detail };
  }

  /** True when n more bytes can be read; records a 'short' error otherwise. */
  has(n: number, what = 'value'): boolean {
    if (this.error !== null) return false;
    if (n < 0 || this.pos + n > this.end) {
      this.fail('short', `${what}: need ${n} bytes, ${this.end - this.pos} left`);
      return false;
    }
    return true;
  }

  u8(): number {
    if (!this.has(1)) return 0;
    return this.buf[this.pos++];
  }

  u16(): number {
    if (!this.has(2)) return 0;
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  i16(): number {
    if (!this.has(2)) return 0;
    const v = this.view.getInt16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(): number {
    if (!this.has(4)) return 0;
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(): number {
    if (!this.has(4)) return 0;
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(): bigint {
    if (!this.has(8)) return 0n;
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  i64(): bigint {
    if (!this.has(8)) return 0n;
    const v = this.view.getBigInt64(this.pos, true);
    this.pos += 8;
    return v;
  }

  f32(): number {
    if (!this.has(4)) return 0;
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  f64(): number {
    if (!this.has(8)) return 0;
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** A view of the next n bytes (not a copy). */
  bytes(n: number, what = 'bytes'): Uint8Array {
    if (!this.has(n, what)) return new Uint8Array(0);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A copy of the next n bytes (for values that outlive the input). */
  copy(n: number, what = 'bytes'): Uint8Array {
    return this.bytes(n, what).slice();
  }

  /** 16 bytes in wire order. */
  guid(): Uint8Array {
    return this.copy(16, 'guid');
  }

  /** A UTF-16LE string ended by a 2-byte null (the null is consumed, not returned). */
  utf16z(): string {
    if (this.error !== null) return '';
    for (let i = this.pos; i + 1 < this.end; i += 2) {
      if (this.buf[i] === 0 && this.buf[i + 1] === 0) {
        const s = utf16.decode(this.buf.subarray(this.pos, i));
        this.pos = i + 2;
        return s;
      }
    }
    this.fail('short', 'unterminated UTF-16 string');
    return '';
  }

  /** An 8-bit string ended by a null byte. Decoded as Latin-1 (the code page is the caller's). */
  str8z(): string {
    if (this.error !== null) return '';
    const i = this.buf.indexOf(0, this.pos);
    if (i < 0 || i >= this.end) {
      this.fail('short', 'unterminated 8-bit string');
      return '';
    }
    const s = latin1.decode(this.buf.subarray(this.pos, i));
    this.pos = i + 1;
    return s;
  }

  /** A UTF-16LE string of exactly n bytes (trailing nulls dropped). */
  utf16n(n: number): string {
    const b = this.bytes(n, 'utf-16 string');
    let e = b.byteLength & ~1;
    while (e >= 2 && b[e - 1] === 0 && b[e - 2] === 0) e -= 2;
    return utf16.decode(b.subarray(0, e));
  }

  /** An 8-bit string of exactly n bytes (trailing nulls dropped). */
  str8n(n: number): string {
    const b = this.bytes(n, '8-bit string');
    let e = b.byteLength;
    while (e > 0 && b[e - 1] === 0) e--;
    return latin1.decode(b.subarray(0, e));
  }

  /**
   * A count of items each at least `minItemSize` bytes: refused (error, 0) when the rest of the
   * input cannot hold that many, so arrays are never pre-sized from untrusted counts.
   */
  count(n: number, minItemSize: number, what = 'items'): number {
    if (this.error !== null) return 0;
    if (n * minItemSize > this.end - this.pos) {
      this.fail('short', `${what}: ${n} items cannot fit in ${this.end - this.pos} bytes`);
      return 0;
    }
    return n;
  }
}
