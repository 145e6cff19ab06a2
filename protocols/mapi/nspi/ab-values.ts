/**
 * The address book's own property value forms on the MAPI/HTTP wire (MS-OXCMAPIHTTP 2.2.1):
 *
 *   AddressBookPropertyValue (2.2.1.1): a MS-OXCDATA PropertyValue, preceded by a HasValue byte
 *     when the type is PtypString, PtypString8, PtypBinary or any PtypMultiple* type; the value
 *     follows only when HasValue is nonzero. Counts are 32-bit here (MS-OXCDATA 2.11.1.1: "in the
 *     context of the MAPI extensions for HTTP ... byte counts for PtypBinary property values and
 *     value counts for PtypMultiple property values are 32 bits wide"). Inside a multi-valued
 *     string or binary value each element carries its own HasValue byte, as real traffic does
 *     (Exchange writes 0xFF); we write 0xFF for every true Boolean of this layer.
 *   AddressBookTaggedPropertyValue (2.2.1.5): PropertyTag then AddressBookPropertyValue.
 *   AddressBookPropertyValueList (2.2.1.3): u32 count then tagged values.
 *   AddressBookTypedPropertyValue (2.2.1.4): u16 type then AddressBookPropertyValue.
 *   AddressBookFlaggedPropertyValue (2.2.1.6): Flag 0x0 value / 0x1 absent / 0xA PtypErrorCode.
 *   AddressBookFlaggedPropertyValueWithType (2.2.1.7): u16 type, then the flagged form.
 *   AddressBookPropertyRow (2.2.1.8): Flags 0x0 (plain values, typed where the column is
 *     PtypUnspecified) or 0x1 (flagged values, with their type where the column is unspecified).
 *   LargePropertyTagArray (2.2.1.9 / MS-OXCDATA 2.10.2): u32 count then tags.
 *
 * PtypString8 travels as bytes in the session's code page: this layer reads and writes it as a
 * Latin-1 "byte string" (one char per byte) and the engine converts (./codepage.ts).
 */
import { MV_FLAG, PropType, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import { pullPropValue, pushPropValue } from '../wire/prop-values.js';
import type { WireReader } from '../wire/reader.js';
import type { WireWriter } from '../wire/writer.js';

/** The Boolean "true" this layer writes (Exchange's value). */
export const WIRE_TRUE = 0xff;

/** Tags in one LargePropertyTagArray; more is refused (a client asks for a few dozen columns). */
export const MAX_PROP_TAGS = 4096;

/** Values in one multi-valued property or one value list. */
export const MAX_VALUES = 65536;

function hasHasValue(type: number): boolean {
  return type === PropType.PtypString || type === PropType.PtypString8 || type === PropType.PtypBinary || (type & MV_FLAG) !== 0;
}

/** Wire sizes of the fixed-size types (MS-OXCDATA 2.11.1). */
const FIXED_SIZES = new Map<number, number>([
  [PropType.PtypNull, 0],
  [PropType.PtypBoolean, 1],
  [PropType.PtypInteger16, 2],
  [PropType.PtypInteger32, 4],
  [PropType.PtypFloating32, 4],
  [PropType.PtypErrorCode, 4],
  [PropType.PtypFloating64, 8],
  [PropType.PtypCurrency, 8],
  [PropType.PtypFloatingTime, 8],
  [PropType.PtypInteger64, 8],
  [PropType.PtypTime, 8],
  [PropType.PtypGuid, 16],
]);

/** The wire size of a fixed-size type, -1 for the others. */
function fixedSize(type: number): number {
  return FIXED_SIZES.get(type) ?? -1;
}

function isMvBase(base: number): boolean {
  return base === PropType.PtypString || base === PropType.PtypString8 || base === PropType.PtypBinary || (fixedSize(base) > 0 && base !== PropType.PtypBoolean && base !== PropType.PtypErrorCode);
}

/** True when `type` has a wire form in the address book layer. */
export function isAbType(type: number): boolean {
  if ((type & MV_FLAG) !== 0) return isMvBase(type & ~MV_FLAG);
  return type === PropType.PtypString || type === PropType.PtypString8 || type === PropType.PtypBinary || fixedSize(type) >= 0;
}

/**
 * A single value without HasValue. Fixed-size types have the ROP layout (MS-OXCDATA 2.11.2.1) and
 * go through the shared codec; strings and binaries differ (32-bit binary count) and are here.
 */
function pullScalar(r: WireReader, type: number): PropValue {
  switch (type) {
    case PropType.PtypString:
      return r.utf16z();
    case PropType.PtypString8:
      return r.str8z();
    case PropType.PtypBinary:
      return r.copy(r.u32(), 'binary');
    default:
      if (fixedSize(type) < 0) {
        r.fail('bad-value', `address book property type 0x${type.toString(16)}`);
        return null;
      }
      return pullPropValue(r, type);
  }
}

/** An element of a multi-valued string or binary: its own HasValue byte, then the value. */
function pullElement(r: WireReader, base: number): PropValue {
  if (base === PropType.PtypString || base === PropType.PtypString8 || base === PropType.PtypBinary) {
    if (r.u8() === 0) return base === PropType.PtypBinary ? new Uint8Array(0) : '';
  }
  return pullScalar(r, base);
}

/**
 * AddressBookPropertyValue of `type`. A HasValue of false gives `null` (the property has no
 * value); callers treat that as absent.
 */
export function pullAbValue(r: WireReader, type: number): PropValue {
  if (!isAbType(type)) {
    r.fail('bad-value', `address book property type 0x${type.toString(16)}`);
    return null;
  }
  if (hasHasValue(type) && r.u8() === 0) return null;
  if ((type & MV_FLAG) !== 0) {
    const base = type & ~MV_FLAG;
    const min = Math.max(1, fixedSize(base));
    const n = r.count(r.u32(), min, 'multi-valued property');
    if (n > MAX_VALUES) {
      r.fail('too-many', `${n} values`);
      return null;
    }
    const out: PropValue[] = [];
    for (let i = 0; i < n && r.ok; i++) out.push(pullElement(r, base));
    return out;
  }
  return pullScalar(r, type);
}

function pushScalar(w: WireWriter, type: number, v: PropValue): void {
  switch (type) {
    case PropType.PtypString:
      return w.utf16z(String(v));
    case PropType.PtypString8:
      return w.str8z(String(v));
    case PropType.PtypBinary: {
      const b = v instanceof Uint8Array ? v : new Uint8Array(0);
      w.u32(b.byteLength);
      return w.bytes(b);
    }
    default:
      if (fixedSize(type) < 0) throw new TypeError(`cannot push address book property type 0x${type.toString(16)}`);
      return pushPropValue(w, type, v);
  }
}

/** Pushes an AddressBookPropertyValue; `null` on a HasValue type writes HasValue = false. */
export function pushAbValue(w: WireWriter, type: number, v: PropValue): void {
  if (hasHasValue(type)) {
    if (v === null) return w.u8(0);
    w.u8(WIRE_TRUE);
  }
  if ((type & MV_FLAG) !== 0) {
    const base = type & ~MV_FLAG;
    const list = Array.isArray(v) ? v : [];
    w.u32(list.length);
    for (const x of list) {
      if (base === PropType.PtypString || base === PropType.PtypString8 || base === PropType.PtypBinary) w.u8(WIRE_TRUE);
      pushScalar(w, base, x);
    }
    return;
  }
  pushScalar(w, type, v);
}

// ---------------------------------------------------------------------------------------------
// Tagged values and lists

export interface AbTaggedValue {
  tag: number;
  value: PropValue;
}

export function pullAbTaggedValue(r: WireReader): AbTaggedValue {
  const tag = r.u32();
  return { tag, value: pullAbValue(r, propTypeOf(tag)) };
}

export function pushAbTaggedValue(w: WireWriter, t: AbTaggedValue): void {
  w.u32(t.tag);
  pushAbValue(w, propTypeOf(t.tag), t.value);
}

/** AddressBookPropertyValueList. */
export function pullAbValueList(r: WireReader): AbTaggedValue[] {
  const n = r.count(r.u32(), 4, 'property values');
  if (n > MAX_VALUES) {
    r.fail('too-many', `${n} property values`);
    return [];
  }
  const out: AbTaggedValue[] = [];
  for (let i = 0; i < n && r.ok; i++) out.push(pullAbTaggedValue(r));
  return out;
}

export function pushAbValueList(w: WireWriter, values: readonly AbTaggedValue[]): void {
  w.u32(values.length);
  for (const v of values) pushAbTaggedValue(w, v);
}

/** A u32 count then that many u32s (LargePropertyTagArray, MinimalIds); beyond `max`, an error. */
export function pullU32Array(r: WireReader, max: number, what: string): number[] {
  const n = r.count(r.u32(), 4, what);
  if (n > max) {
    r.fail('too-many', `${n} ${what}`);
    return [];
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32();
  return r.ok ? out : [];
}

export function pushU32Array(w: WireWriter, values: readonly number[]): void {
  w.u32(values.length);
  for (const v of values) w.u32(v);
}

/** LargePropertyTagArray. */
export function pullLargeTags(r: WireReader): number[] {
  return pullU32Array(r, MAX_PROP_TAGS, 'property tags');
}

export const pushLargeTags = pushU32Array;

// ---------------------------------------------------------------------------------------------
// Rows

/** One cell of an address book row. `type` matters only under a PtypUnspecified column. */
export type AbCell = { kind: 'value'; type: number; value: PropValue } | { kind: 'error'; code: number } | { kind: 'absent' };

export interface AbRow {
  /** AddressBookPropertyRow Flags = 0x1: every cell carries a flag (needed for absent or error cells). */
  flagged: boolean;
  cells: AbCell[];
}

const FLAG_VALUE = 0x0;
const FLAG_ABSENT = 0x1;
const FLAG_ERROR = 0xa;

/** A row in the flagged form exactly when some cell is not a value. */
export function abRowOf(cells: AbCell[]): AbRow {
  return { flagged: cells.some((c) => c.kind !== 'value'), cells };
}

export function pullAbRow(r: WireReader, columns: readonly number[]): AbRow {
  const flags = r.u8();
  if (flags !== 0 && flags !== 1) {
    r.fail('bad-value', `property row flags 0x${flags.toString(16)}`);
    return { flagged: false, cells: [] };
  }
  const flagged = flags === 1;
  const cells: AbCell[] = [];
  for (const tag of columns) {
    if (!r.ok) break;
    const colType = propTypeOf(tag);
    const type = colType === PropType.PtypUnspecified ? r.u16() : colType;
    if (flagged) {
      const f = r.u8();
      if (f === FLAG_ABSENT) {
        cells.push({ kind: 'absent' });
        continue;
      }
      if (f === FLAG_ERROR) {
        cells.push({ kind: 'error', code: r.u32() });
        continue;
      }
      if (f !== FLAG_VALUE) {
        r.fail('bad-value', `flagged value flag 0x${f.toString(16)}`);
        break;
      }
    }
    cells.push({ kind: 'value', type, value: pullAbValue(r, type) });
  }
  return { flagged, cells };
}

export function pushAbRow(w: WireWriter, row: AbRow, columns: readonly number[]): void {
  if (row.cells.length !== columns.length) throw new RangeError('row cells do not match the columns');
  w.u8(row.flagged ? 1 : 0);
  for (let i = 0; i < columns.length; i++) {
    const c = row.cells[i];
    const colType = propTypeOf(columns[i]);
    const unspecified = colType === PropType.PtypUnspecified;
    if (unspecified) w.u16(c.kind === 'value' ? c.type : c.kind === 'error' ? PropType.PtypErrorCode : PropType.PtypNull);
    if (row.flagged) {
      if (c.kind === 'absent') {
        w.u8(FLAG_ABSENT);
        continue;
      }
      if (c.kind === 'error') {
        w.u8(FLAG_ERROR);
        w.u32(c.code);
        continue;
      }
      w.u8(FLAG_VALUE);
    } else if (c.kind !== 'value') {
      throw new TypeError('a plain address book row cannot hold absent or error cells');
    }
    pushAbValue(w, unspecified ? c.type : colType, c.value);
  }
}

export function pullAbRows(r: WireReader, columns: readonly number[], count: number): AbRow[] {
  const n = r.count(count, 1, 'rows');
  const out: AbRow[] = [];
  for (let i = 0; i < n && r.ok; i++) out.push(pullAbRow(r, columns));
  return out;
}
