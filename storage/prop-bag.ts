/**
 * The store's encoding of a set of properties (a "property bag"): compact, little-endian, every
 * type of MS-OXCDATA 2.11.1 including multi-valued ones. This is the on-disk layout (versioned by
 * the schema), not the ROP wire format (MS-OXCDATA 2.11.2), which the MAPI codecs produce.
 *
 *   bag   = u32 count, count × (u32 tag, value)
 *   value = by type: i16 | i32 | u32 (ErrorCode) | f32 | f64 | i64 (Currency, Integer64) |
 *           u64 (Time) | u8 (Boolean) | 16 bytes (Guid) | u32 n + n bytes (String/String8 as
 *           UTF-8, Binary, ServerId, Restriction, RuleAction, Object) | nothing (Null, Unspecified)
 *   multi = u32 count, count × value of the base type
 */
import { PropType, MV_FLAG, isMultiValued, isKnownType, propTypeOf, type PropValue } from './prop-types.js';

export class PropValueError extends Error {
  constructor(
    readonly tag: number,
    message: string,
  ) {
    super(`property 0x${tag.toString(16).padStart(8, '0')}: ${message}`);
    this.name = 'PropValueError';
  }
}

export type PropMap = Map<number, PropValue>;

/** Grow-only output buffer. */
class Out {
  buf = Buffer.allocUnsafe(256);
  pos = 0;
  need(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  u8(v: number): void {
    this.need(1);
    this.buf[this.pos++] = v;
  }
  u32(v: number): void {
    this.need(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.u32(b.byteLength);
    this.need(b.byteLength);
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }
}

function fail(tag: number, want: string, got: unknown): never {
  throw new PropValueError(tag, `expected ${want}, got ${typeof got === 'object' ? (got === null ? 'null' : (got.constructor?.name ?? 'object')) : typeof got}`);
}

function writeScalar(o: Out, tag: number, type: number, v: PropValue): void {
  switch (type) {
    case PropType.PtypNull:
    case PropType.PtypUnspecified:
      return;
    case PropType.PtypInteger16:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -32768 || v > 32767) fail(tag, '16-bit integer', v);
      o.need(2);
      o.buf.writeInt16LE(v, o.pos);
      o.pos += 2;
      return;
    case PropType.PtypInteger32:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < -2147483648 || v > 2147483647) fail(tag, '32-bit integer', v);
      o.need(4);
      o.buf.writeInt32LE(v, o.pos);
      o.pos += 4;
      return;
    case PropType.PtypErrorCode:
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(tag, 'unsigned 32-bit error code', v);
      o.u32(v);
      return;
    case PropType.PtypFloating32:
      if (typeof v !== 'number') fail(tag, 'number', v);
      o.need(4);
      o.buf.writeFloatLE(v, o.pos);
      o.pos += 4;
      return;
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      if (typeof v !== 'number') fail(tag, 'number', v);
      o.need(8);
      o.buf.writeDoubleLE(v, o.pos);
      o.pos += 8;
      return;
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      // Signed or unsigned (ids such as PidTagMid are unsigned 64-bit): the same 8 bytes; read back signed.
      if (typeof v !== 'bigint' || v < -(2n ** 63n) || v >= 2n ** 64n) fail(tag, '64-bit bigint', v);
      o.need(8);
      o.buf.writeBigInt64LE(BigInt.asIntN(64, v), o.pos);
      o.pos += 8;
      return;
    case PropType.PtypTime:
      if (typeof v !== 'bigint' || v < 0n || v >= 2n ** 64n) fail(tag, 'FILETIME bigint', v);
      o.need(8);
      o.buf.writeBigUInt64LE(v, o.pos);
      o.pos += 8;
      return;
    case PropType.PtypBoolean:
      if (typeof v !== 'boolean') fail(tag, 'boolean', v);
      o.u8(v ? 1 : 0);
      return;
    case PropType.PtypString:
    case PropType.PtypString8: {
      if (typeof v !== 'string') fail(tag, 'string', v);
      const n = Buffer.byteLength(v, 'utf8');
      o.u32(n);
      o.need(n);
      o.buf.write(v, o.pos, 'utf8');
      o.pos += n;
      return;
    }
    case PropType.PtypGuid:
      if (!(v instanceof Uint8Array) || v.byteLength !== 16) fail(tag, '16-byte GUID', v);
      o.need(16);
      o.buf.set(v, o.pos);
      o.pos += 16;
      return;
    case PropType.PtypBinary:
    case PropType.PtypServerId:
    case PropType.PtypRestriction:
    case PropType.PtypRuleAction:
    case PropType.PtypObject:
      if (!(v instanceof Uint8Array)) fail(tag, 'Uint8Array', v);
      o.bytes(v);
      return;
    default:
      throw new PropValueError(tag, `unknown property type 0x${type.toString(16)}`);
  }
}

/** Encodes properties; throws PropValueError when a value does not fit its tag's type. */
export function encodePropBag(props: PropMap | Iterable<[number, PropValue]>): Buffer {
  const o = new Out();
  const entries = props instanceof Map ? [...props] : [...props];
  o.u32(entries.length);
  for (const [tag, v] of entries) {
    const type = propTypeOf(tag);
    if (!isKnownType(type)) throw new PropValueError(tag, `unknown property type 0x${type.toString(16)}`);
    o.u32(tag);
    if ((type & MV_FLAG) !== 0) {
      if (!isMultiValued(type)) throw new PropValueError(tag, 'not a multi-valued type');
      if (!Array.isArray(v)) fail(tag, 'array', v);
      o.u32(v.length);
      for (const e of v) writeScalar(o, tag, type & ~MV_FLAG, e);
    } else {
      writeScalar(o, tag, type, v);
    }
  }
  return Buffer.from(o.buf.subarray(0, o.pos));
}

class In {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    readonly copy: boolean,
  ) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RangeError('truncated property bag');
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  bytes(n: number): Uint8Array {
    this.need(n);
    const s = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return this.copy ? Buffer.from(s) : s;
  }
}

function readScalar(i: In, type: number): PropValue {
  const b = i.buf;
  switch (type) {
    case PropType.PtypNull:
    case PropType.PtypUnspecified:
      return null;
    case PropType.PtypInteger16:
      i.need(2);
      i.pos += 2;
      return b.readInt16LE(i.pos - 2);
    case PropType.PtypInteger32:
      i.need(4);
      i.pos += 4;
      return b.readInt32LE(i.pos - 4);
    case PropType.PtypErrorCode:
      return i.u32();
    case PropType.PtypFloating32:
      i.need(4);
      i.pos += 4;
      return b.readFloatLE(i.pos - 4);
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      i.need(8);
      i.pos += 8;
      return b.readDoubleLE(i.pos - 8);
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      i.need(8);
      i.pos += 8;
      return b.readBigInt64LE(i.pos - 8);
    case PropType.PtypTime:
      i.need(8);
      i.pos += 8;
      return b.readBigUInt64LE(i.pos - 8);
    case PropType.PtypBoolean:
      i.need(1);
      return b[i.pos++] !== 0;
    case PropType.PtypString:
    case PropType.PtypString8: {
      const n = i.u32();
      i.need(n);
      i.pos += n;
      return b.toString('utf8', i.pos - n, i.pos);
    }
    case PropType.PtypGuid:
      return i.bytes(16);
    case PropType.PtypBinary:
    case PropType.PtypServerId:
    case PropType.PtypRestriction:
    case PropType.PtypRuleAction:
    case PropType.PtypObject:
      return i.bytes(i.u32());
    default:
      throw new RangeError(`unknown property type 0x${type.toString(16)} in stored bag`);
  }
}

/**
 * Decodes a bag. With `copy` false, binary values are views into `buf` (only safe while `buf`
 * is: not for lmdb-js getBinaryFast buffers that outlive the next read).
 */
export function decodePropBag(buf: Buffer, copy = true): PropMap {
  const i = new In(buf, copy);
  const count = i.u32();
  const out: PropMap = new Map();
  for (let k = 0; k < count; k++) {
    const tag = i.u32();
    const type = propTypeOf(tag);
    if ((type & MV_FLAG) !== 0) {
      const n = i.u32();
      if (n > buf.length) throw new RangeError('corrupt multi-valued count');
      const arr: PropValue[] = [];
      for (let j = 0; j < n; j++) arr.push(readScalar(i, type & ~MV_FLAG));
      out.set(tag, arr);
    } else {
      out.set(tag, readScalar(i, type));
    }
  }
  return out;
}
