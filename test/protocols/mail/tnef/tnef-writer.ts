/**
 * A small TNEF *writer* for building test streams (MS-OXTNEF 2.1.3): attributes with their
 * checksums, property lists (2.1.3.4) with named properties, multi-valued and variable-size
 * values, objects with their interface id, recipient tables, DTR dates and RENDDATA.
 * Written from the specification's layout; it checks nothing and can write broken streams on
 * purpose (a chosen checksum, raw bytes for a value).
 */
import iconv from 'iconv-lite';
import type { PropertyName } from '../../../../storage/named-props.js';
import { MV_FLAG, PropType } from '../../../../storage/prop-types.js';
import { AttrLevel, TNEF_SIGNATURE } from '../../../../protocols/mail/tnef/tnef-ids.js';

export { AttId, AttrLevel } from '../../../../protocols/mail/tnef/tnef-ids.js';

/** Growable byte output. */
export class Bytes {
  private parts: Uint8Array[] = [];
  get length(): number {
    return this.parts.reduce((n, p) => n + p.length, 0);
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    return this;
  }
  u8(v: number): this {
    return this.raw(Uint8Array.of(v));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(v);
    return this.raw(b);
  }
  i16(v: number): this {
    const b = Buffer.alloc(2);
    b.writeInt16LE(v);
    return this.raw(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v >>> 0);
    return this.raw(b);
  }
  pad(to = 4): this {
    const n = (to - (this.length % to)) % to;
    return this.raw(new Uint8Array(n));
  }
  done(): Uint8Array {
    return new Uint8Array(Buffer.concat(this.parts));
  }
}

export function sum16(data: Uint8Array): number {
  let s = 0;
  for (const b of data) s += b;
  return s & 0xffff;
}

/** One attribute: level, id, length, data, checksum (or the given wrong checksum). */
export function attribute(level: number, id: number, data: Uint8Array, checksum = sum16(data)): Uint8Array {
  return new Bytes().u8(level).u32(id).u32(data.length).raw(data).u16(checksum).done();
}

export const msgAttr = (id: number, data: Uint8Array): Uint8Array => attribute(AttrLevel.Message, id, data);
export const attAttr = (id: number, data: Uint8Array): Uint8Array => attribute(AttrLevel.Attachment, id, data);

/** Signature, legacy key, attributes. */
export function tnefStream(attributes: Uint8Array[], key = 1): Uint8Array {
  const out = new Bytes().u32(TNEF_SIGNATURE).u16(key);
  for (const a of attributes) out.raw(a);
  return out.done();
}

/** Offsets where each attribute of a stream starts, and its end (for truncation tests). */
export function attributeBoundaries(attributes: Uint8Array[]): number[] {
  const out = [6];
  for (const a of attributes) out.push(out[out.length - 1]! + a.length);
  return out;
}

/** 8-bit text with its NUL, in a code page iconv-lite knows ('windows-1252', 'cp1251'). */
export function str8(text: string, encoding = 'windows-1252'): Uint8Array {
  return new Uint8Array(Buffer.concat([iconv.encode(text, encoding), Buffer.of(0)]));
}

export function utf16z(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text + '\0', 'utf16le'));
}

export function u16(v: number): Uint8Array {
  return new Bytes().u16(v).done();
}

export function u32(v: number): Uint8Array {
  return new Bytes().u32(v).done();
}

/** DTR: year, month, day, hour, minute, second, day of week. */
export function dtr(y: number, mo: number, d: number, h: number, mi: number, s: number, dow: number): Uint8Array {
  return new Bytes().u16(y).u16(mo).u16(d).u16(h).u16(mi).u16(s).u16(dow).done();
}

/** RENDDATA: atyp, position, width, height, flags (14 bytes). */
export function renddata(atyp: number, position = 0xffffffff): Uint8Array {
  return new Bytes().u16(atyp).u32(position).u16(32).u16(32).u32(0).done();
}

/** attOemCodepage: primary and secondary code page. */
export function oemCodepage(cp: number): Uint8Array {
  return new Bytes().u32(cp).u32(0).done();
}

/** A value for the writer: JS values by type, or `{ raw }` for an exact value body. */
export type WValue = number | bigint | boolean | string | Uint8Array | { iid: Uint8Array; data: Uint8Array } | WValue[];

export interface WProp {
  type: number;
  id: number;
  name?: PropertyName;
  value: WValue;
  /** Code page name for String8 values. */
  encoding?: string;
}

function writeScalar(out: Bytes, type: number, v: WValue): void {
  const b = Buffer.alloc(16);
  switch (type) {
    case PropType.PtypInteger16:
      out.i16(v as number).pad();
      return;
    case PropType.PtypInteger32:
      b.writeInt32LE(v as number);
      out.raw(b.subarray(0, 4));
      return;
    case PropType.PtypErrorCode:
      out.u32(v as number);
      return;
    case PropType.PtypFloating32:
      b.writeFloatLE(v as number);
      out.raw(b.subarray(0, 4));
      return;
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      b.writeDoubleLE(v as number);
      out.raw(b.subarray(0, 8));
      return;
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      b.writeBigInt64LE(v as bigint);
      out.raw(b.subarray(0, 8));
      return;
    case PropType.PtypTime:
      b.writeBigUInt64LE(v as bigint);
      out.raw(b.subarray(0, 8));
      return;
    case PropType.PtypBoolean:
      out.u16(v ? 1 : 0).pad();
      return;
    case PropType.PtypGuid:
      out.raw(v as Uint8Array);
      return;
    default:
      throw new Error(`not a fixed type: ${type}`);
  }
}

function writeSized(out: Bytes, type: number, v: WValue, encoding: string): void {
  let body: Uint8Array;
  if (type === PropType.PtypString8) body = typeof v === 'string' ? str8(v, encoding) : (v as Uint8Array);
  else if (type === PropType.PtypString) body = typeof v === 'string' ? utf16z(v) : (v as Uint8Array);
  else if (type === PropType.PtypObject) {
    const o = v as { iid: Uint8Array; data: Uint8Array };
    body = new Uint8Array(Buffer.concat([o.iid, o.data]));
  } else body = v as Uint8Array;
  out.u32(body.length).raw(body).raw(new Uint8Array((4 - (body.length % 4)) % 4));
}

const VARIABLE = new Set<number>([PropType.PtypString8, PropType.PtypString, PropType.PtypBinary, PropType.PtypObject]);

export function writeProp(out: Bytes, p: WProp): void {
  out.u16(p.type).u16(p.id);
  if (p.name !== undefined) {
    out.raw(p.name.guid);
    if ('lid' in p.name) out.u32(0).u32(p.name.lid);
    else {
      const name = utf16z(p.name.name);
      out.u32(1).u32(name.length).raw(name).raw(new Uint8Array((4 - (name.length % 4)) % 4));
    }
  }
  const enc = p.encoding ?? 'windows-1252';
  if (p.type & MV_FLAG) {
    const base = p.type & ~MV_FLAG;
    const values = p.value as WValue[];
    out.u32(values.length);
    for (const v of values) {
      if (VARIABLE.has(base)) writeSized(out, base, v, enc);
      else writeScalar(out, base, v);
    }
    return;
  }
  if (VARIABLE.has(p.type)) {
    out.u32(1);
    writeSized(out, p.type, p.value, enc);
  } else writeScalar(out, p.type, p.value);
}

/** A property list: count, then the properties. */
export function propList(props: WProp[], count = props.length): Uint8Array {
  const out = new Bytes().u32(count);
  for (const p of props) writeProp(out, p);
  return out.done();
}

/** attRecipTable data: row count, then one property list per row. */
export function recipTable(rows: WProp[][]): Uint8Array {
  const out = new Bytes().u32(rows.length);
  for (const r of rows) out.raw(propList(r));
  return out.done();
}

/** attFrom data: TRP, display name (NUL, padded to 2), "type:address" with its NUL, padding. */
export function from(name: string, address: string, encoding = 'windows-1252'): Uint8Array {
  let n = str8(name, encoding);
  if (n.length % 2) n = new Uint8Array(Buffer.concat([n, Buffer.of(0)]));
  const a = str8(address, encoding);
  const body = new Bytes().raw(n).raw(a);
  const bodyLength = body.length;
  return new Bytes()
    .u16(0x0004)
    .u16(bodyLength + 16)
    .u16(n.length)
    .u16(a.length)
    .raw(body.done())
    .pad(8)
    .done();
}
