/**
 * Property values and the structures around them on the wire (MS-OXCDATA 2.11-2.13, 2.2.1.3.1,
 * 2.6.1): PropertyValue by type (single- and multi-valued), TaggedPropertyValue,
 * TypedPropertyValue, FlaggedPropertyValue, StandardPropertyRow / FlaggedPropertyRow,
 * PropertyTagArray, PropertyProblem, PropertyName, LongTermId, restrictions and SortOrderSet.
 *
 * This is the ROP wire encoding, not the store's bag (storage/prop-bag.ts). Counts follow the
 * ROP context: Binary and ServerId carry a 2-byte COUNT, multi-valued properties a 4-byte COUNT,
 * Boolean is one byte.
 *
 * Values are the store's JS values (storage/prop-types.ts PropValue). PtypString8 is decoded as
 * Latin-1; callers that know the logon's code page convert. PtypServerId, PtypRestriction,
 * PtypRuleAction and PtypObject values are kept as their wire bytes (validated on pull).
 */
import { MV_FLAG, PropType, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import { RelOp, RestrictionType, type RelOpValue, type Restriction, type WireRestriction, toWireRestriction } from '../../../storage/restriction.js';
import type { WireReader } from './reader.js';
import type { WireWriter } from './writer.js';

/** Restriction nesting refused beyond this depth (matches storage/restriction.ts). */
export const MAX_RESTRICTION_DEPTH = 64;

/** MVI flag on a property tag's type in a column set or restriction (MS-OXCDATA 2.11.1). */
export const MVI_FLAG = 0x2000;

// ---------------------------------------------------------------------------------------------
// PropertyValue

/** The fixed wire size of a single value of a base type, 0 for variable sizes, -1 if unknown. */
function fixedSize(type: number): number {
  switch (type) {
    case PropType.PtypNull:
      return 0;
    case PropType.PtypBoolean:
      return 1;
    case PropType.PtypInteger16:
      return 2;
    case PropType.PtypInteger32:
    case PropType.PtypFloating32:
    case PropType.PtypErrorCode:
      return 4;
    case PropType.PtypFloating64:
    case PropType.PtypCurrency:
    case PropType.PtypFloatingTime:
    case PropType.PtypInteger64:
    case PropType.PtypTime:
      return 8;
    case PropType.PtypGuid:
      return 16;
    default:
      return 0;
  }
}

/** Minimum wire size of one value of a base type (for count checks before allocating). */
function minSize(type: number): number {
  const f = fixedSize(type);
  if (f > 0) return f;
  switch (type) {
    case PropType.PtypString:
      return 2;
    case PropType.PtypString8:
      return 1;
    default:
      return 2; // counted binaries: the COUNT itself
  }
}

/** Pulls one value of `type` (a property type, possibly multi-valued). */
export function pullPropValue(r: WireReader, type: number): PropValue {
  type &= ~MVI_FLAG & 0xffff;
  if ((type & MV_FLAG) !== 0) {
    const base = type & ~MV_FLAG;
    if (!isMvBase(base)) {
      r.fail('bad-value', `multi-valued type 0x${type.toString(16)}`);
      return null;
    }
    const n = r.count(r.u32(), minSize(base), 'multi-valued property');
    const out: PropValue[] = [];
    for (let i = 0; i < n && r.ok; i++) out.push(pullScalar(r, base));
    return out;
  }
  return pullScalar(r, type);
}

function isMvBase(base: number): boolean {
  switch (base) {
    case PropType.PtypInteger16:
    case PropType.PtypInteger32:
    case PropType.PtypFloating32:
    case PropType.PtypFloating64:
    case PropType.PtypCurrency:
    case PropType.PtypFloatingTime:
    case PropType.PtypInteger64:
    case PropType.PtypString8:
    case PropType.PtypString:
    case PropType.PtypTime:
    case PropType.PtypGuid:
    case PropType.PtypBinary:
      return true;
    default:
      return false;
  }
}

function pullScalar(r: WireReader, type: number): PropValue {
  switch (type) {
    case PropType.PtypNull:
      return null;
    case PropType.PtypInteger16:
      return r.i16();
    case PropType.PtypInteger32:
      return r.i32();
    case PropType.PtypErrorCode:
      return r.u32();
    case PropType.PtypFloating32:
      return r.f32();
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      return r.f64();
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      return r.i64();
    case PropType.PtypTime:
      return r.u64();
    case PropType.PtypBoolean:
      return r.u8() !== 0;
    case PropType.PtypGuid:
      return r.guid();
    case PropType.PtypString:
      return r.utf16z();
    case PropType.PtypString8:
      return r.str8z();
    case PropType.PtypBinary:
    case PropType.PtypServerId:
    // PtypObject has no ROP wire form of its own in MS-OXCDATA; it is carried as a counted binary.
    // eslint-disable-next-line no-fallthrough
    case PropType.PtypObject:
      return r.copy(r.u16(), 'binary');
    case PropType.PtypRestriction: {
      const start = r.pos;
      pullRestriction(r);
      return r.ok ? r.buf.slice(start, r.pos) : null;
    }
    case PropType.PtypRuleAction: {
      const start = r.pos;
      skipRuleActions(r);
      return r.ok ? r.buf.slice(start, r.pos) : null;
    }
    default:
      r.fail('bad-value', `property type 0x${type.toString(16)}`);
      return null;
  }
}

/**
 * RuleAction (MS-OXORULE 2.2.5) in a ROP buffer: NoOfActions (2 bytes), then ActionBlocks each
 * with a 2-byte ActionLength. Kept opaque; MS-OXORULE's codec will parse the blocks.
 */
function skipRuleActions(r: WireReader): void {
  const n = r.count(r.u16(), 2, 'rule actions');
  for (let i = 0; i < n && r.ok; i++) r.bytes(r.u16(), 'action block');
}

/** Pushes one value of `type`. A value of the wrong JS kind is a caller bug and throws. */
export function pushPropValue(w: WireWriter, type: number, v: PropValue): void {
  type &= ~MVI_FLAG & 0xffff;
  if ((type & MV_FLAG) !== 0) {
    const base = type & ~MV_FLAG;
    if (!Array.isArray(v)) throw new TypeError(`multi-valued type 0x${type.toString(16)} needs an array`);
    w.u32(v.length);
    for (const x of v) pushScalar(w, base, x);
    return;
  }
  pushScalar(w, type, v);
}

function num(v: PropValue, type: number): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  throw new TypeError(`type 0x${type.toString(16)}: expected a number`);
}

function big(v: PropValue, type: number): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  throw new TypeError(`type 0x${type.toString(16)}: expected a bigint`);
}

function bin(v: PropValue, type: number): Uint8Array {
  if (v instanceof Uint8Array) return v;
  throw new TypeError(`type 0x${type.toString(16)}: expected bytes`);
}

function str(v: PropValue, type: number): string {
  if (typeof v === 'string') return v;
  throw new TypeError(`type 0x${type.toString(16)}: expected a string`);
}

function pushScalar(w: WireWriter, type: number, v: PropValue): void {
  switch (type) {
    case PropType.PtypNull:
      return;
    case PropType.PtypInteger16:
      return w.i16(num(v, type));
    case PropType.PtypInteger32:
      return w.i32(num(v, type));
    case PropType.PtypErrorCode:
      return w.u32(num(v, type));
    case PropType.PtypFloating32:
      return w.f32(num(v, type));
    case PropType.PtypFloating64:
    case PropType.PtypFloatingTime:
      return w.f64(num(v, type));
    case PropType.PtypCurrency:
    case PropType.PtypInteger64:
      return w.i64(big(v, type));
    case PropType.PtypTime:
      return w.u64(big(v, type));
    case PropType.PtypBoolean:
      return w.u8(v === true || v === 1 ? 1 : 0);
    case PropType.PtypGuid:
      return w.guid(bin(v, type));
    case PropType.PtypString:
      return w.utf16z(str(v, type));
    case PropType.PtypString8:
      return w.str8z(str(v, type));
    case PropType.PtypBinary:
    case PropType.PtypServerId:
    case PropType.PtypObject: {
      const b = bin(v, type);
      if (b.byteLength > 0xffff) throw new RangeError('binary value longer than 65535 bytes');
      w.u16(b.byteLength);
      return w.bytes(b);
    }
    case PropType.PtypRestriction:
    case PropType.PtypRuleAction:
      return w.bytes(bin(v, type));
    default:
      throw new TypeError(`cannot push property type 0x${type.toString(16)}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Tagged, typed and flagged values

export interface TaggedValue {
  tag: number;
  value: PropValue;
}

/** TaggedPropertyValue (MS-OXCDATA 2.11.4): PropertyTag then PropertyValue. */
export function pullTaggedValue(r: WireReader): TaggedValue {
  const tag = r.u32();
  return { tag, value: pullPropValue(r, propTypeOf(tag)) };
}

export function pushTaggedValue(w: WireWriter, t: TaggedValue): void {
  w.u32(t.tag);
  pushPropValue(w, propTypeOf(t.tag), t.value);
}

/** TaggedPropertyValue arrays with a 2-byte count (RopSetProperties and friends). */
export function pullTaggedValues(r: WireReader, count: number): TaggedValue[] {
  const n = r.count(count, 4, 'property values');
  const out: TaggedValue[] = [];
  for (let i = 0; i < n && r.ok; i++) out.push(pullTaggedValue(r));
  return out;
}

export function pushTaggedValues(w: WireWriter, values: readonly TaggedValue[]): void {
  for (const v of values) pushTaggedValue(w, v);
}

/** TypedPropertyValue (MS-OXCDATA 2.11.3): PropertyType then PropertyValue. */
export class TypedValue {
  constructor(
    readonly type: number,
    readonly value: PropValue,
  ) {}
}

export function pullTypedValue(r: WireReader): TypedValue {
  const type = r.u16();
  return new TypedValue(type, pullPropValue(r, type));
}

export function pushTypedValue(w: WireWriter, t: TypedValue): void {
  w.u16(t.type);
  pushPropValue(w, t.type, t.value);
}

/** FlaggedPropertyValue Flag values (MS-OXCDATA 2.11.5). */
export const ValueFlag = { Present: 0x00, NotPresent: 0x01, Error: 0x0a } as const;

/** A cell of a property row: a value, or (flagged rows) absent or an error code. */
export type RowCell = PropValue | TypedValue | { absent: true } | { error: number };

export function cellAbsent(): { absent: true } {
  return { absent: true };
}

function isAbsent(c: RowCell): c is { absent: true } {
  return typeof c === 'object' && c !== null && !(c instanceof Uint8Array) && !Array.isArray(c) && !(c instanceof TypedValue) && 'absent' in c;
}

function isError(c: RowCell): c is { error: number } {
  return typeof c === 'object' && c !== null && !(c instanceof Uint8Array) && !Array.isArray(c) && !(c instanceof TypedValue) && 'error' in c;
}

// ---------------------------------------------------------------------------------------------
// PropertyRow (MS-OXCDATA 2.8.1)

export interface PropertyRow {
  /** FlaggedPropertyRow (Flag 0x01) when true, StandardPropertyRow (Flag 0x00) otherwise. */
  flagged: boolean;
  cells: RowCell[];
}

/** Pulls a PropertyRow whose layout the column set gives. */
export function pullPropertyRow(r: WireReader, columns: readonly number[]): PropertyRow {
  const flag = r.u8();
  if (flag !== 0 && flag !== 1) {
    r.fail('bad-value', `property row flag 0x${flag.toString(16)}`);
    return { flagged: false, cells: [] };
  }
  const flagged = flag === 1;
  const cells: RowCell[] = [];
  for (const tag of columns) {
    if (!r.ok) break;
    const type = propTypeOf(tag);
    if (flagged) {
      const f = r.u8();
      if (f === ValueFlag.NotPresent) {
        cells.push(cellAbsent());
        continue;
      }
      if (f === ValueFlag.Error) {
        cells.push({ error: r.u32() });
        continue;
      }
      if (f !== ValueFlag.Present) {
        r.fail('bad-value', `flagged value flag 0x${f.toString(16)}`);
        break;
      }
    }
    // A column of PtypUnspecified carries its type with each value (TypedPropertyValue).
    cells.push(type === PropType.PtypUnspecified ? pullTypedValue(r) : pullPropValue(r, type));
  }
  return { flagged, cells };
}

export function pushPropertyRow(w: WireWriter, row: PropertyRow, columns: readonly number[]): void {
  if (row.cells.length !== columns.length) throw new RangeError('row cells do not match the column set');
  w.u8(row.flagged ? 1 : 0);
  for (let i = 0; i < columns.length; i++) {
    const c = row.cells[i];
    const type = propTypeOf(columns[i]);
    if (row.flagged) {
      if (isAbsent(c)) {
        w.u8(ValueFlag.NotPresent);
        continue;
      }
      if (isError(c)) {
        w.u8(ValueFlag.Error);
        w.u32(c.error);
        continue;
      }
      w.u8(ValueFlag.Present);
    } else if (isAbsent(c) || isError(c)) {
      throw new TypeError('a standard property row cannot hold absent or error cells');
    }
    if (type === PropType.PtypUnspecified) {
      if (!(c instanceof TypedValue)) throw new TypeError('a PtypUnspecified column needs a TypedValue');
      pushTypedValue(w, c);
    } else {
      pushPropValue(w, type, c as PropValue);
    }
  }
}

/** A row whose cells need the flagged form (any absent or error cell). */
export function rowOf(cells: RowCell[]): PropertyRow {
  return { flagged: cells.some((c) => isAbsent(c) || isError(c)), cells };
}

// ---------------------------------------------------------------------------------------------
// PropertyTagArray, PropertyProblem, PropertyName, LongTermId

/** PropertyTagArray with a 2-byte count (MS-OXCDATA 2.10.1). */
export function pullPropTags(r: WireReader): number[] {
  return pullPropTagsN(r, r.u16());
}

export function pullPropTagsN(r: WireReader, count: number): number[] {
  const n = r.count(count, 4, 'property tags');
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.u32();
  return r.ok ? out : [];
}

export function pushPropTags(w: WireWriter, tags: readonly number[]): void {
  w.u16(tags.length);
  for (const t of tags) w.u32(t);
}

/** PropertyProblem (MS-OXCDATA 2.7). */
export interface PropertyProblem {
  index: number;
  tag: number;
  errorCode: number;
}

export function pullPropertyProblems(r: WireReader): PropertyProblem[] {
  const n = r.count(r.u16(), 10, 'property problems');
  const out: PropertyProblem[] = [];
  for (let i = 0; i < n && r.ok; i++) out.push({ index: r.u16(), tag: r.u32(), errorCode: r.u32() });
  return out;
}

export function pushPropertyProblems(w: WireWriter, p: readonly PropertyProblem[]): void {
  w.u16(p.length);
  for (const x of p) {
    w.u16(x.index);
    w.u32(x.tag);
    w.u32(x.errorCode);
  }
}

/** PropertyName Kind values (MS-OXCDATA 2.6.1). */
export const NameKind = { MNID_ID: 0x00, MNID_STRING: 0x01, None: 0xff } as const;

export type PropertyName =
  | { kind: typeof NameKind.MNID_ID; guid: Uint8Array; lid: number }
  | { kind: typeof NameKind.MNID_STRING; guid: Uint8Array; name: string }
  | { kind: typeof NameKind.None; guid: Uint8Array };

export function pullPropertyName(r: WireReader): PropertyName {
  const kind = r.u8();
  const guid = r.guid();
  switch (kind) {
    case NameKind.MNID_ID:
      return { kind, guid, lid: r.u32() };
    case NameKind.MNID_STRING: {
      // NameSize counts the bytes of Name, its terminating null included.
      const size = r.u8();
      return { kind, guid, name: r.utf16n(size) };
    }
    case NameKind.None:
      return { kind, guid };
    default:
      r.fail('bad-value', `property name kind 0x${kind.toString(16)}`);
      return { kind: NameKind.None, guid };
  }
}

export function pushPropertyName(w: WireWriter, n: PropertyName): void {
  w.u8(n.kind);
  w.guid(n.guid);
  if (n.kind === NameKind.MNID_ID) w.u32(n.lid);
  else if (n.kind === NameKind.MNID_STRING) {
    const size = (n.name.length + 1) * 2;
    if (size > 0xff) throw new RangeError('property name longer than 126 characters');
    w.u8(size);
    w.utf16z(n.name);
  }
}

/** LongTermId (MS-OXCDATA 2.2.1.3.1): DatabaseGuid, 6-byte GlobalCounter, 2-byte Pad. */
export interface LongTermId {
  databaseGuid: Uint8Array;
  /** The 6-byte global counter in wire (big-endian) order. */
  globalCounter: Uint8Array;
  pad: number;
}

export function pullLongTermId(r: WireReader): LongTermId {
  return { databaseGuid: r.guid(), globalCounter: r.copy(6, 'global counter'), pad: r.u16() };
}

export function pushLongTermId(w: WireWriter, l: LongTermId): void {
  w.guid(l.databaseGuid);
  const g = new Uint8Array(6);
  g.set(l.globalCounter.subarray(0, 6));
  w.bytes(g);
  w.u16(l.pad);
}

// ---------------------------------------------------------------------------------------------
// Restrictions (MS-OXCDATA 2.12)

/**
 * Pulls a restriction into the store's data model (storage/restriction.ts `Restriction`): the
 * values decode to PropValue here, so the semantic tree is the natural target; the thread-crossing
 * form is one `toWireRestriction` away (see pullWireRestriction). The TaggedValue's own tag is
 * not kept: the store model has one tag per node; on push the value's tag is derived from it.
 *
 * `wide`: RestrictCount and TaggedValuesCount widths. ROP buffers use 2-byte counts for And/Or;
 * the 4-byte form (extended rules, MS-OXORULE) is `wide = true`.
 */
export function pullRestriction(r: WireReader, wide = false, depth = 0): Restriction {
  const none: Restriction = { type: 'and', children: [] };
  if (depth > MAX_RESTRICTION_DEPTH) {
    r.fail('too-deep', 'restriction nested too deeply');
    return none;
  }
  const type = r.u8();
  if (!r.ok) return none;
  switch (type) {
    case RestrictionType.And:
    case RestrictionType.Or: {
      const n = r.count(wide ? r.u32() : r.u16(), 1, 'restrictions');
      const children: Restriction[] = [];
      for (let i = 0; i < n && r.ok; i++) children.push(pullRestriction(r, wide, depth + 1));
      return { type: type === RestrictionType.And ? 'and' : 'or', children };
    }
    case RestrictionType.Not:
      return { type: 'not', child: pullRestriction(r, wide, depth + 1) };
    case RestrictionType.Content: {
      const lo = r.u16();
      const hi = r.u16();
      const tag = r.u32();
      const v = pullTaggedValue(r);
      return { type: 'content', fuzzy: (lo | (hi << 16)) >>> 0, tag, value: v.value };
    }
    case RestrictionType.Property: {
      const relop = pullRelOp(r);
      const tag = r.u32();
      const v = pullTaggedValue(r);
      return { type: 'property', relop, tag, value: v.value };
    }
    case RestrictionType.CompareProperties: {
      const relop = pullRelOp(r);
      return { type: 'compareProps', relop, tag1: r.u32(), tag2: r.u32() };
    }
    case RestrictionType.Bitmask: {
      const op = r.u8();
      if (op > 1) r.fail('bad-value', `bitmask relop ${op}`);
      return { type: 'bitmask', op: op === 1 ? 1 : 0, tag: r.u32(), mask: r.u32() };
    }
    case RestrictionType.Size: {
      const relop = pullRelOp(r);
      return { type: 'size', relop, tag: r.u32(), size: r.u32() };
    }
    case RestrictionType.Exist:
      return { type: 'exist', tag: r.u32() };
    case RestrictionType.SubObject: {
      const subobject = r.u32();
      return { type: 'sub', subobject, child: pullRestriction(r, wide, depth + 1) };
    }
    case RestrictionType.Comment: {
      const n = r.count(r.u8(), 4, 'comment values');
      const props: [number, PropValue][] = [];
      for (let i = 0; i < n && r.ok; i++) {
        const v = pullTaggedValue(r);
        props.push([v.tag, v.value]);
      }
      const present = r.u8();
      return { type: 'comment', props, child: present !== 0 ? pullRestriction(r, wide, depth + 1) : null };
    }
    case RestrictionType.Count: {
      const count = r.u32();
      return { type: 'count', count, child: pullRestriction(r, wide, depth + 1) };
    }
    default:
      r.fail('bad-value', `restriction type 0x${type.toString(16)}`);
      return none;
  }
}

function pullRelOp(r: WireReader): RelOpValue {
  const v = r.u8();
  switch (v) {
    case RelOp.LT:
    case RelOp.LE:
    case RelOp.GT:
    case RelOp.GE:
    case RelOp.EQ:
    case RelOp.NE:
    case RelOp.RE:
    case RelOp.MEMBER_OF_DL:
      return v;
    default:
      r.fail('bad-value', `relop 0x${v.toString(16)}`);
      return RelOp.EQ;
  }
}

/** The tag a TaggedValue carries for a node's tag and value: single values on a multi-valued tag drop MV. */
function valueTag(tag: number, value: PropValue): number {
  const t = propTypeOf(tag) & ~MVI_FLAG;
  const single = !Array.isArray(value) && (t & MV_FLAG) !== 0 ? t & ~MV_FLAG : t;
  return ((tag & 0xffff0000) | single) >>> 0;
}

export function pushRestriction(w: WireWriter, x: Restriction, wide = false): void {
  switch (x.type) {
    case 'and':
    case 'or':
      w.u8(x.type === 'and' ? RestrictionType.And : RestrictionType.Or);
      if (wide) w.u32(x.children.length);
      else w.u16(x.children.length);
      for (const c of x.children) pushRestriction(w, c, wide);
      return;
    case 'not':
      w.u8(RestrictionType.Not);
      return pushRestriction(w, x.child, wide);
    case 'content':
      w.u8(RestrictionType.Content);
      w.u16(x.fuzzy & 0xffff);
      w.u16(x.fuzzy >>> 16);
      w.u32(x.tag);
      return pushTaggedValue(w, { tag: valueTag(x.tag, x.value), value: x.value });
    case 'property':
      w.u8(RestrictionType.Property);
      w.u8(x.relop);
      w.u32(x.tag);
      return pushTaggedValue(w, { tag: valueTag(x.tag, x.value), value: x.value });
    case 'compareProps':
      w.u8(RestrictionType.CompareProperties);
      w.u8(x.relop);
      w.u32(x.tag1);
      w.u32(x.tag2);
      return;
    case 'bitmask':
      w.u8(RestrictionType.Bitmask);
      w.u8(x.op);
      w.u32(x.tag);
      w.u32(x.mask);
      return;
    case 'size':
      w.u8(RestrictionType.Size);
      w.u8(x.relop);
      w.u32(x.tag);
      w.u32(x.size);
      return;
    case 'exist':
      w.u8(RestrictionType.Exist);
      w.u32(x.tag);
      return;
    case 'sub':
      w.u8(RestrictionType.SubObject);
      w.u32(x.subobject);
      return pushRestriction(w, x.child, wide);
    case 'comment':
      w.u8(RestrictionType.Comment);
      w.u8(x.props.length);
      for (const [tag, value] of x.props) pushTaggedValue(w, { tag, value });
      w.u8(x.child === null ? 0 : 1);
      if (x.child !== null) pushRestriction(w, x.child, wide);
      return;
    case 'count':
      w.u8(RestrictionType.Count);
      w.u32(x.count);
      return pushRestriction(w, x.child, wide);
  }
}

/** Pulls a restriction in the form that crosses threads (property values as store bags). */
export function pullWireRestriction(r: WireReader, wide = false): WireRestriction | null {
  const x = pullRestriction(r, wide);
  if (!r.ok) return null;
  try {
    return toWireRestriction(x);
  } catch (e) {
    r.fail('bad-value', `restriction value: ${(e as Error).message}`);
    return null;
  }
}

/**
 * A RestrictionDataSize-prefixed restriction (RopRestrict, RopFindRow, RopSetSearchCriteria):
 * size 0 means no restriction. The restriction must fill exactly the declared size.
 */
export function pullSizedRestriction(r: WireReader): Restriction | null {
  const size = r.u16();
  if (size === 0 || !r.has(size, 'restriction')) return null;
  const end = r.pos + size;
  const saved = r.end;
  r.end = end;
  const x = pullRestriction(r);
  if (r.ok && r.pos !== end) r.fail('bad-size', 'restriction shorter than RestrictionDataSize');
  r.end = saved;
  return x;
}

export function pushSizedRestriction(w: WireWriter, x: Restriction | null): void {
  const at = w.pos;
  w.u16(0);
  if (x === null) return;
  pushRestriction(w, x);
  w.patchU16(at, w.pos - at - 2);
}

// ---------------------------------------------------------------------------------------------
// SortOrderSet (MS-OXCDATA 2.13)

export const SortOrderFlag = { Ascend: 0x00, Descend: 0x01, MaximumCategory: 0x04 } as const;

export interface SortOrder {
  /** Property type (with MVI set for a multi-valued instance sort) and id. */
  propertyType: number;
  propertyId: number;
  order: number;
}

export interface SortOrderSet {
  categorizedCount: number;
  expandedCount: number;
  sortOrders: SortOrder[];
}

export function pullSortOrderSet(r: WireReader): SortOrderSet {
  const n = r.count(r.u16(), 5, 'sort orders');
  const categorizedCount = r.u16();
  const expandedCount = r.u16();
  const sortOrders: SortOrder[] = [];
  for (let i = 0; i < n && r.ok; i++) sortOrders.push({ propertyType: r.u16(), propertyId: r.u16(), order: r.u8() });
  return { categorizedCount, expandedCount, sortOrders };
}

export function pushSortOrderSet(w: WireWriter, s: SortOrderSet): void {
  w.u16(s.sortOrders.length);
  w.u16(s.categorizedCount);
  w.u16(s.expandedCount);
  for (const o of s.sortOrders) {
    w.u16(o.propertyType);
    w.u16(o.propertyId);
    w.u8(o.order);
  }
}
