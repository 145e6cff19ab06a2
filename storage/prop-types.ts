/**
 * Property data types (MS-OXCDATA 2.11.1) and the JS value each one holds in the store.
 * A property tag is a u32: property id in the high 16 bits, type in the low 16 bits.
 * Multi-valued types are the base type with MV_FLAG (0x1000) set.
 */

export const PropType = {
  PtypUnspecified: 0x0000,
  PtypNull: 0x0001,
  PtypInteger16: 0x0002,
  PtypInteger32: 0x0003,
  PtypFloating32: 0x0004,
  PtypFloating64: 0x0005,
  PtypCurrency: 0x0006,
  PtypFloatingTime: 0x0007,
  PtypErrorCode: 0x000a,
  PtypBoolean: 0x000b,
  PtypObject: 0x000d,
  PtypInteger64: 0x0014,
  PtypString8: 0x001e,
  PtypString: 0x001f,
  PtypTime: 0x0040,
  PtypGuid: 0x0048,
  PtypServerId: 0x00fb,
  PtypRestriction: 0x00fd,
  PtypRuleAction: 0x00fe,
  PtypBinary: 0x0102,
  PtypMultipleInteger16: 0x1002,
  PtypMultipleInteger32: 0x1003,
  PtypMultipleFloating32: 0x1004,
  PtypMultipleFloating64: 0x1005,
  PtypMultipleCurrency: 0x1006,
  PtypMultipleFloatingTime: 0x1007,
  PtypMultipleInteger64: 0x1014,
  PtypMultipleString8: 0x101e,
  PtypMultipleString: 0x101f,
  PtypMultipleTime: 0x1040,
  PtypMultipleGuid: 0x1048,
  PtypMultipleBinary: 0x1102,
} as const;
export type PropTypeValue = (typeof PropType)[keyof typeof PropType];

export const MV_FLAG = 0x1000;

/** Base types that may be multi-valued (MS-OXCDATA 2.11.1). */
export const MV_BASE_TYPES: ReadonlySet<number> = new Set([
  PropType.PtypInteger16,
  PropType.PtypInteger32,
  PropType.PtypFloating32,
  PropType.PtypFloating64,
  PropType.PtypCurrency,
  PropType.PtypFloatingTime,
  PropType.PtypInteger64,
  PropType.PtypString8,
  PropType.PtypString,
  PropType.PtypTime,
  PropType.PtypGuid,
  PropType.PtypBinary,
]);

const KNOWN_TYPES: ReadonlySet<number> = new Set(Object.values(PropType));

export function isKnownType(t: number): boolean {
  return KNOWN_TYPES.has(t);
}

export function propTag(id: number, type: number): number {
  return ((id & 0xffff) << 16 | (type & 0xffff)) >>> 0;
}

export function propId(tag: number): number {
  return tag >>> 16;
}

export function propTypeOf(tag: number): number {
  return tag & 0xffff;
}

export function isMultiValued(type: number): boolean {
  return (type & MV_FLAG) !== 0 && MV_BASE_TYPES.has(type & ~MV_FLAG);
}

/**
 * The JS value of a property, by type:
 * - Integer16, Integer32, ErrorCode: number (ErrorCode as an unsigned 32-bit number)
 * - Floating32, Floating64, FloatingTime (OLE automation date, days since 1899-12-30): number
 * - Currency (fixed point, 1/10,000 units), Integer64: bigint
 * - Time (FILETIME: 100 ns intervals since 1601-01-01 UTC): bigint
 * - Boolean: boolean
 * - String, String8: string (String8 is kept as the text it decodes to)
 * - Guid: a 16-byte Uint8Array in the wire byte order
 * - Binary, ServerId, Restriction, RuleAction, Object: Uint8Array (the encoded bytes)
 * - Null, Unspecified: null
 * - Multiple*: an array of the base type's values
 */
export type PropValue = number | bigint | boolean | string | Uint8Array | null | PropValue[];

/** Seconds between 1601-01-01 and 1970-01-01. */
const FILETIME_UNIX_OFFSET_S = 11_644_473_600n;

export function dateToFiletime(d: Date): bigint {
  return (BigInt(d.getTime()) + FILETIME_UNIX_OFFSET_S * 1000n) * 10_000n;
}

export function filetimeToDate(ft: bigint): Date {
  return new Date(Number(ft / 10_000n - FILETIME_UNIX_OFFSET_S * 1000n));
}
