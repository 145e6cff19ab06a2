/**
 * GUIDs in the byte order MAPI puts on the wire and in entry ids (MS-DTYP GUID: Data1, Data2 and
 * Data3 little-endian, Data4 as bytes), and their canonical text form.
 */
import { randomBytes } from 'node:crypto';

const RE = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

export function guidFromString(s: string): Uint8Array {
  const m = RE.exec(s);
  if (m === null) throw new TypeError(`not a GUID: ${s}`);
  const b = new Uint8Array(16);
  const d1 = Buffer.from(m[1]!, 'hex');
  const d2 = Buffer.from(m[2]!, 'hex');
  const d3 = Buffer.from(m[3]!, 'hex');
  b.set(d1.reverse(), 0);
  b.set(d2.reverse(), 4);
  b.set(d3.reverse(), 6);
  b.set(Buffer.from(m[4]! + m[5]!, 'hex'), 8);
  return b;
}

export function guidToString(b: Uint8Array): string {
  if (b.byteLength !== 16) throw new TypeError('a GUID is 16 bytes');
  const h = (from: number, to: number, reverse: boolean) => {
    const part = Buffer.from(b.subarray(from, to));
    return (reverse ? part.reverse() : part).toString('hex');
  };
  return `${h(0, 4, true)}-${h(4, 6, true)}-${h(6, 8, true)}-${h(8, 10, false)}-${h(10, 16, false)}`;
}

/** A random (version 4) GUID in wire byte order. */
export function newGuid(): Uint8Array {
  const b = new Uint8Array(randomBytes(16));
  // Version 4 and RFC 4122 variant, set on the text form's fields (Data3 is little-endian).
  b[7] = (b[7]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  return b;
}

export function guidEquals(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === 16 && b.byteLength === 16 && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, 16), Buffer.from(b.buffer, b.byteOffset, 16)) === 0;
}
