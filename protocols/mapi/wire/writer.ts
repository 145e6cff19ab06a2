/**
 * Grow-only little-endian writer for the MAPI wire formats. `finish()` returns a view of the
 * bytes written (valid until the next write). Values out of a field's range are written masked
 * to the field width: pushers take typed values, so this is a caller bug, not input.
 */

const utf8 = new TextEncoder();

export class WireWriter {
  private buf: Uint8Array;
  private view: DataView;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(Math.max(16, initial));
    this.view = new DataView(this.buf.buffer);
  }

  private need(n: number): void {
    if (this.pos + n <= this.buf.byteLength) return;
    let size = this.buf.byteLength * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(v: number): void {
    this.need(1);
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.need(2);
    this.view.setUint16(this.pos, v & 0xffff, true);
    this.pos += 2;
  }

  i16(v: number): void {
    this.need(2);
    this.view.setInt16(this.pos, v, true);
    this.pos += 2;
  }

  u32(v: number): void {
    this.need(4);
    this.view.setUint32(this.pos, v >>> 0, true);
    this.pos += 4;
  }

  i32(v: number): void {
    this.need(4);
    this.view.setInt32(this.pos, v | 0, true);
    this.pos += 4;
  }

  u64(v: bigint): void {
    this.need(8);
    this.view.setBigUint64(this.pos, BigInt.asUintN(64, v), true);
    this.pos += 8;
  }

  i64(v: bigint): void {
    this.need(8);
    this.view.setBigInt64(this.pos, BigInt.asIntN(64, v), true);
    this.pos += 8;
  }

  f32(v: number): void {
    this.need(4);
    this.view.setFloat32(this.pos, v, true);
    this.pos += 4;
  }

  f64(v: number): void {
    this.need(8);
    this.view.setFloat64(this.pos, v, true);
    this.pos += 8;
  }

  bytes(b: Uint8Array): void {
    this.need(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** n zero bytes. */
  zeros(n: number): void {
    this.need(n);
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }

  /** 16 bytes; a shorter or longer input is padded or cut (caller bug). */
  guid(g: Uint8Array): void {
    this.need(16);
    this.buf.fill(0, this.pos, this.pos + 16);
    this.buf.set(g.subarray(0, 16), this.pos);
    this.pos += 16;
  }

  /** UTF-16LE without a terminator. */
  utf16(s: string): void {
    this.need(s.length * 2);
    for (let i = 0; i < s.length; i++) {
      this.view.setUint16(this.pos, s.charCodeAt(i), true);
      this.pos += 2;
    }
  }

  /** UTF-16LE with a 2-byte null terminator. */
  utf16z(s: string): void {
    this.utf16(s);
    this.u16(0);
  }

  /** 8-bit (Latin-1; characters above 0xFF become '?') with a null terminator. */
  str8z(s: string): void {
    this.str8(s);
    this.u8(0);
  }

  str8(s: string): void {
    this.need(s.length);
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      this.buf[this.pos++] = c > 0xff ? 0x3f : c;
    }
  }

  utf8(s: string): void {
    this.bytes(utf8.encode(s));
  }

  /** Writes a u16 at an earlier offset (size fields known only after their content). */
  patchU16(at: number, v: number): void {
    this.view.setUint16(at, v & 0xffff, true);
  }

  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0, true);
  }

  /** Drops everything after `at` (used to undo a response that does not fit). */
  truncate(at: number): void {
    if (at < this.pos) this.pos = at;
  }

  /** A view of the bytes written so far. */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  /** A copy of the bytes written so far. */
  toBytes(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
