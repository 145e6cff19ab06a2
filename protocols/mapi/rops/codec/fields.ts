/**
 * Field codecs for ROP buffers: each field pulls, pushes and (for round-trip tests) generates a
 * value, so one declaration per ROP gives its request and response codecs in both directions.
 * Fields see the context (column sets, requested tags, logon kind) and the fields already read
 * (for counts and presence flags earlier in the buffer).
 */
import { PropType, propTag, type PropValue } from '../../../../storage/prop-types.js';
import type { Restriction } from '../../../../storage/restriction.js';
import { WireReader } from '../../wire/reader.js';
import { WireWriter } from '../../wire/writer.js';
import {
  pullPropTags, pushPropTags, pullTaggedValues, pushTaggedValues, pullPropertyRow, pushPropertyRow, pullPropertyProblems, pushPropertyProblems,
  pullPropertyName, pushPropertyName, pullLongTermId, pushLongTermId, pullSizedRestriction, pushSizedRestriction, pullSortOrderSet, pushSortOrderSet,
  NameKind, rowOf, cellAbsent, type TaggedValue, type PropertyRow, type PropertyProblem, type PropertyName, type LongTermId, type SortOrderSet,
} from '../../wire/prop-values.js';
import { pullRecipientRow, pushRecipientRow, RecipientFlag, RecipientType, type RecipientRow } from '../../wire/recipient-row.js';

/** What a ROP codec may need beyond its own bytes. */
export interface RopCtx {
  /** The table's column set (RopQueryRows, RopFindRow, RopExpandRow responses). */
  columns?: readonly number[];
  /** The tags a RopGetPropertiesSpecific asked for (its response row). */
  propTags?: readonly number[];
  /** The logon is a private mailbox (RopLogon response shape, optional per-logon fields). */
  privateLogon?: boolean;
  /**
   * The message's recipient columns, for RecipientRows of ROPs that do not carry them
   * (RopReadRecipients). ROPs that carry RecipientColumns use their own.
   */
  recipientColumns?: readonly number[];
}

/** Deterministic random source for generated values. */
export type Rand = () => number;

export type Obj = Record<string, unknown>;

export interface Field<T> {
  pull(r: WireReader, ctx: RopCtx, so: Obj): T;
  push(w: WireWriter, v: T, ctx: RopCtx, so: Obj): void;
  gen(rand: Rand, ctx: RopCtx, so: Obj): T;
}

export type Schema = Record<string, Field<unknown>>;
export type Infer<S extends Schema> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

const int = (rand: Rand, max: number): number => Math.floor(rand() * max);

export const u8: Field<number> = { pull: (r) => r.u8(), push: (w, v) => w.u8(v), gen: (g) => int(g, 0x100) };
export const u16: Field<number> = { pull: (r) => r.u16(), push: (w, v) => w.u16(v), gen: (g) => int(g, 0x10000) };
export const u32: Field<number> = { pull: (r) => r.u32(), push: (w, v) => w.u32(v), gen: (g) => int(g, 0x100000000) };
export const i32: Field<number> = { pull: (r) => r.i32(), push: (w, v) => w.i32(v), gen: (g) => int(g, 0x100000000) - 0x80000000 };
export const u64: Field<bigint> = {
  pull: (r) => r.u64(),
  push: (w, v) => w.u64(v),
  gen: (g) => (BigInt(int(g, 0x100000000)) << 32n) | BigInt(int(g, 0x100000000)),
};
/** A one-byte Boolean: 0x00 false, anything else true (pushed as 0x01). */
export const bool: Field<boolean> = { pull: (r) => r.u8() !== 0, push: (w, v) => w.u8(v ? 1 : 0), gen: (g) => g() < 0.5 };
export const guid: Field<Uint8Array> = { pull: (r) => r.guid(), push: (w, v) => w.guid(v), gen: (g) => genBytes(g, 16) };

function genBytes(g: Rand, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = int(g, 256);
  return b;
}

const ALPHA = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJ /:.-é';
function genText(g: Rand, max = 12): string {
  let s = '';
  const n = int(g, max);
  for (let i = 0; i < n; i++) s += ALPHA[int(g, ALPHA.length)];
  return s;
}
function genAscii(g: Rand, max = 12): string {
  return genText(g, max).replace(/é/g, 'e');
}

/** Exactly n bytes. */
export function fixed(n: number): Field<Uint8Array> {
  return { pull: (r) => r.copy(n), push: (w, v) => w.bytes(v.length === n ? v : v.slice(0, n)), gen: (g) => genBytes(g, n) };
}

/** Bytes with a u16 (or u32) size in front. */
export function sized(width: 2 | 4 = 2, max = 64): Field<Uint8Array> {
  return {
    pull: (r) => r.copy(width === 2 ? r.u16() : r.u32()),
    push: (w, v) => {
      if (width === 2) w.u16(v.byteLength);
      else w.u32(v.byteLength);
      w.bytes(v);
    },
    gen: (g) => genBytes(g, int(g, max)),
  };
}

/** Null-terminated 8-bit string. */
export const str8z: Field<string> = { pull: (r) => r.str8z(), push: (w, v) => w.str8z(v), gen: (g) => genAscii(g) };
/** Null-terminated UTF-16LE string. */
export const utf16z: Field<string> = { pull: (r) => r.utf16z(), push: (w, v) => w.utf16z(v), gen: (g) => genText(g) };

/** A string in UTF-16 or 8-bit form as an earlier Boolean field says (UseUnicode...). */
export function strBy(flagField: string): Field<string> {
  return {
    pull: (r, _c, so) => (so[flagField] ? r.utf16z() : r.str8z()),
    push: (w, v, _c, so) => (so[flagField] ? w.utf16z(v) : w.str8z(v)),
    gen: (g, _c, so) => (so[flagField] ? genText(g) : genAscii(g)),
  };
}

/** A counted array: the count (u8, u16 or u32) in front of the items. */
export function arr<T>(width: 1 | 2 | 4, item: Field<T>, minItem = 1, maxGen = 4): Field<T[]> {
  return {
    pull: (r, ctx, so) => {
      const n = r.count(width === 1 ? r.u8() : width === 2 ? r.u16() : r.u32(), minItem);
      const out: T[] = [];
      for (let i = 0; i < n && r.ok; i++) out.push(item.pull(r, ctx, so));
      return out;
    },
    push: (w, v, ctx, so) => {
      if (width === 1) w.u8(v.length);
      else if (width === 2) w.u16(v.length);
      else w.u32(v.length);
      for (const x of v) item.push(w, x, ctx, so);
    },
    gen: (g, ctx, so) => Array.from({ length: int(g, maxGen + 1) }, () => item.gen(g, ctx, so)),
  };
}

/** The enclosing structure's fields of a nested one (for fields that depend on outer ones). */
const PARENT = new WeakMap<Obj, Obj>();

/** A field's value from the nearest enclosing structure that has it. */
export function lookup(so: Obj, key: string): unknown {
  for (let o: Obj | undefined = so; o !== undefined; o = PARENT.get(o)) if (o[key] !== undefined) return o[key];
  return undefined;
}

/** A nested structure. */
export function struct<S extends Schema>(schema: S): Field<Infer<S>> {
  const child = (so: Obj): Obj => {
    const into: Obj = {};
    PARENT.set(into, so);
    return into;
  };
  return {
    pull: (r, ctx, so) => pullSchema(r, schema, ctx, child(so)),
    push: (w, v, ctx, so) => {
      PARENT.set(v as Obj, so);
      pushSchema(w, schema, v, ctx);
    },
    gen: (g, ctx, so) => genSchema(g, schema, ctx, child(so)),
  };
}

/** A field present only when `pred` holds for the fields read before it. */
export function when<T>(pred: (so: Obj, ctx: RopCtx) => boolean, f: Field<T>): Field<T | undefined> {
  return {
    pull: (r, ctx, so) => (pred(so, ctx) ? f.pull(r, ctx, so) : undefined),
    push: (w, v, ctx, so) => {
      if (!pred(so, ctx)) return;
      if (v === undefined) throw new TypeError('conditional field required by earlier fields is missing');
      f.push(w, v, ctx, so);
    },
    gen: (g, ctx, so) => (pred(so, ctx) ? f.gen(g, ctx, so) : undefined),
  };
}

export function pullSchema<S extends Schema>(r: WireReader, schema: S, ctx: RopCtx, into: Obj = {}): Infer<S> {
  for (const k of Object.keys(schema)) {
    into[k] = schema[k].pull(r, ctx, into);
    if (!r.ok) break;
  }
  return into as Infer<S>;
}

export function pushSchema<S extends Schema>(w: WireWriter, schema: S, v: Infer<S>, ctx: RopCtx): void {
  const so = v as Obj;
  for (const k of Object.keys(schema)) schema[k].push(w, so[k], ctx, so);
}

export function genSchema<S extends Schema>(g: Rand, schema: S, ctx: RopCtx, into: Obj = {}): Infer<S> {
  for (const k of Object.keys(schema)) into[k] = schema[k].gen(g, ctx, into);
  return into as Infer<S>;
}

// ---------------------------------------------------------------------------------------------
// MAPI structures as fields

const GEN_TAGS = [0x3001001f, 0x0e080003, 0x67480014, 0x0fff0102, 0x0e07000b, 0x30070040, 0x001a001e, 0x8001101f];
const genTag = (g: Rand): number => GEN_TAGS[int(g, GEN_TAGS.length)];

function genValue(g: Rand, tag: number): PropValue {
  switch (tag & 0xffff) {
    case PropType.PtypString:
    case PropType.PtypString8:
      return genAscii(g);
    case PropType.PtypInteger32:
      return i32.gen(g, {}, {}) as number;
    case PropType.PtypInteger64:
      return BigInt.asIntN(64, u64.gen(g, {}, {}) as bigint);
    case PropType.PtypTime:
      return u64.gen(g, {}, {}) as bigint;
    case PropType.PtypBoolean:
      return g() < 0.5;
    case PropType.PtypBinary:
      return genBytes(g, int(g, 20));
    case PropType.PtypMultipleString:
      return [genText(g), genText(g)];
    default:
      return null;
  }
}

/** PropertyTagArray with a u16 count. */
export const propTags: Field<number[]> = {
  pull: (r) => pullPropTags(r),
  push: (w, v) => pushPropTags(w, v),
  gen: (g) => Array.from({ length: int(g, 5) }, () => genTag(g)),
};

/** TaggedPropertyValue array with a u16 count. */
export const taggedValues: Field<TaggedValue[]> = {
  pull: (r) => pullTaggedValues(r, r.u16()),
  push: (w, v) => {
    w.u16(v.length);
    pushTaggedValues(w, v);
  },
  gen: (g) => Array.from({ length: int(g, 4) }, () => {
    const tag = genTag(g);
    return { tag, value: genValue(g, tag) };
  }),
};

/** PropertyValueSize (u16, the bytes of count + values), PropertyValueCount, PropertyValues. */
export const sizedTaggedValues: Field<TaggedValue[]> = {
  pull: (r, ctx, so) => {
    const size = r.u16();
    if (!r.has(size, 'property values')) return [];
    const end = r.pos + size;
    const saved = r.end;
    r.end = end;
    const v = taggedValues.pull(r, ctx, so);
    if (r.ok && r.pos !== end) r.fail('bad-size', 'PropertyValueSize does not match the values');
    r.end = saved;
    return v;
  },
  push: (w, v, ctx, so) => {
    const at = w.pos;
    w.u16(0);
    taggedValues.push(w, v, ctx, so);
    w.patchU16(at, w.pos - at - 2);
  },
  gen: (g, ctx, so) => taggedValues.gen(g, ctx, so),
};

export const problems: Field<PropertyProblem[]> = {
  pull: (r) => pullPropertyProblems(r),
  push: (w, v) => pushPropertyProblems(w, v),
  gen: (g) => Array.from({ length: int(g, 3) }, () => ({ index: int(g, 10), tag: genTag(g), errorCode: 0x8004010f })),
};

export const longTermId: Field<LongTermId> = {
  pull: (r) => pullLongTermId(r),
  push: (w, v) => pushLongTermId(w, v),
  gen: (g) => ({ databaseGuid: genBytes(g, 16), globalCounter: genBytes(g, 6), pad: 0 }),
};

export const propertyName: Field<PropertyName> = {
  pull: (r) => pullPropertyName(r),
  push: (w, v) => pushPropertyName(w, v),
  gen: (g) =>
    g() < 0.5
      ? { kind: NameKind.MNID_ID, guid: genBytes(g, 16), lid: int(g, 0x10000) }
      : { kind: NameKind.MNID_STRING, guid: genBytes(g, 16), name: genText(g) },
};

const genRestriction = (g: Rand): Restriction =>
  g() < 0.5
    ? { type: 'exist', tag: genTag(g) }
    : { type: 'and', children: [{ type: 'property', relop: 4, tag: 0x3001001f, value: genAscii(g) }, { type: 'not', child: { type: 'exist', tag: 0x0e07000b } }] };

/** RestrictionDataSize (u16) + restriction; size 0 is "no restriction" (null). */
export const sizedRestriction: Field<Restriction | null> = {
  pull: (r) => pullSizedRestriction(r),
  push: (w, v) => pushSizedRestriction(w, v),
  gen: (g) => (g() < 0.2 ? null : genRestriction(g)),
};

export const sortOrderSet: Field<SortOrderSet> = {
  pull: (r) => pullSortOrderSet(r),
  push: (w, v) => pushSortOrderSet(w, v),
  gen: (g) => ({ categorizedCount: 0, expandedCount: 0, sortOrders: Array.from({ length: int(g, 3) }, () => ({ propertyType: 0x40, propertyId: 0x0e06, order: int(g, 2) })) }),
};

function genRow(g: Rand, columns: readonly number[]): PropertyRow {
  return rowOf(columns.map((tag) => (g() < 0.15 ? cellAbsent() : g() < 0.1 ? { error: 0x8004010f } : genValue(g, tag))));
}

/** One PropertyRow over a column set taken from the context. */
export function row(cols: (ctx: RopCtx) => readonly number[] | undefined): Field<PropertyRow> {
  const need = (ctx: RopCtx): readonly number[] => {
    const c = cols(ctx);
    if (c === undefined) throw new TypeError('this ROP response needs its column set in the context');
    return c;
  };
  return {
    pull: (r, ctx) => {
      const c = cols(ctx);
      if (c === undefined) {
        r.fail('bad-value', 'response needs a column set');
        return { flagged: false, cells: [] };
      }
      return pullPropertyRow(r, c);
    },
    push: (w, v, ctx) => pushPropertyRow(w, v, need(ctx)),
    gen: (g, ctx) => genRow(g, need(ctx)),
  };
}

export const tableColumns = (ctx: RopCtx): readonly number[] | undefined => ctx.columns;
export const requestedTags = (ctx: RopCtx): readonly number[] | undefined => ctx.propTags;

/** TypedString (MS-OXCDATA 2.11.6? as used by RopOpenMessage): StringType then the string. */
export const TypedStringType = { None: 0x00, Empty: 0x01, String8: 0x02, ReducedUnicode: 0x03, Unicode: 0x04 } as const;
export interface TypedString {
  stringType: number;
  value: string;
}
export const typedString: Field<TypedString> = {
  pull: (r) => {
    const stringType = r.u8();
    switch (stringType) {
      case TypedStringType.None:
      case TypedStringType.Empty:
        return { stringType, value: '' };
      case TypedStringType.String8:
      case TypedStringType.ReducedUnicode:
        return { stringType, value: r.str8z() };
      case TypedStringType.Unicode:
        return { stringType, value: r.utf16z() };
      default:
        r.fail('bad-value', `StringType 0x${stringType.toString(16)}`);
        return { stringType, value: '' };
    }
  },
  push: (w, v) => {
    w.u8(v.stringType);
    if (v.stringType === TypedStringType.String8 || v.stringType === TypedStringType.ReducedUnicode) w.str8z(v.value);
    else if (v.stringType === TypedStringType.Unicode) w.utf16z(v.value);
  },
  gen: (g) => {
    const t = int(g, 5);
    return { stringType: t, value: t >= 2 ? genAscii(g) : '' };
  },
};

/** ServerCount (u16), CheapServerCount (u16), Servers (null-terminated 8-bit strings). */
export interface ServerList {
  cheapServerCount: number;
  servers: string[];
}
export const serverList: Field<ServerList> = {
  pull: (r) => {
    const n = r.count(r.u16(), 1, 'servers');
    const cheapServerCount = r.u16();
    const servers: string[] = [];
    for (let i = 0; i < n && r.ok; i++) servers.push(r.str8z());
    return { cheapServerCount, servers };
  },
  push: (w, v) => {
    w.u16(v.servers.length);
    w.u16(v.cheapServerCount);
    for (const s of v.servers) w.str8z(s);
  },
  gen: (g) => {
    const servers = Array.from({ length: int(g, 3) }, () => genAscii(g));
    return { cheapServerCount: int(g, servers.length + 1), servers };
  },
};

/** RecipientRowSize (u16) + RecipientRow kept as bytes (unused by the codecs; see recipientRow). */
export const recipientRowBytes: Field<Uint8Array> = sized(2, 40);

/**
 * RecipientRowSize (u16) + RecipientRow (MS-OXCDATA 2.8.3). The row's properties follow the
 * recipient columns: the RecipientColumns field of the enclosing ROP when it has one, else
 * ctx.recipientColumns (RopReadRecipients). RecipientRowSize 0 (no row: RopModifyRecipients
 * removing a recipient) is null.
 */
export const recipientRow: Field<RecipientRow | null> = {
  pull: (r, ctx, so) => {
    const size = r.u16();
    if (size === 0) return null;
    if (!r.has(size, 'RecipientRow')) return null;
    const cols = recipientColumnsOf(so, ctx);
    if (cols === undefined) {
      r.fail('bad-value', 'RecipientRow needs the recipient columns');
      return { flags: 0, columnCount: 0, properties: { flagged: false, cells: [] } };
    }
    const end = r.pos + size;
    const saved = r.end;
    r.end = end;
    const v = pullRecipientRow(r, cols);
    if (r.ok && r.pos !== end) r.fail('bad-size', 'RecipientRowSize does not match the RecipientRow');
    r.end = saved;
    return v;
  },
  push: (w, v, ctx, so) => {
    if (v === null) return w.u16(0);
    const cols = recipientColumnsOf(so, ctx);
    if (cols === undefined) throw new TypeError('RecipientRow needs the recipient columns');
    const at = w.pos;
    w.u16(0);
    pushRecipientRow(w, v, cols);
    w.patchU16(at, w.pos - at - 2);
  },
  gen: (g, ctx, so) => {
    const cols = recipientColumnsOf(so, ctx) ?? [];
    const columnCount = int(g, cols.length + 1);
    const properties = genRow(g, cols.slice(0, columnCount));
    const unicode = g() < 0.5 ? RecipientFlag.U : 0;
    switch (int(g, 4)) {
      case 3:
        return null;
      case 0:
        return {
          flags: RecipientType.X500DN | RecipientFlag.D | RecipientFlag.I | unicode,
          addressPrefixUsed: 0,
          displayType: int(g, 6),
          x500dn: '/o=Stoa/ou=Exchange Administrative Group/cn=Recipients/cn=' + genAscii(g),
          displayName: unicode ? genText(g) : genAscii(g),
          simpleDisplayName: genAscii(g),
          columnCount,
          properties,
        };
      case 1:
        return {
          flags: RecipientType.PersonalDistributionList1 | RecipientFlag.D | RecipientFlag.T | RecipientFlag.S | unicode,
          entryId: genBytes(g, int(g, 30)),
          searchKey: genBytes(g, int(g, 20)),
          displayName: genAscii(g),
          transmittableDisplayName: genAscii(g),
          columnCount,
          properties,
        };
      default:
        return {
          flags: RecipientType.NoType | RecipientFlag.O | RecipientFlag.E | RecipientFlag.D | unicode,
          addressType: 'SMTP',
          emailAddress: genAscii(g) + '@example.org',
          displayName: unicode ? genText(g) : genAscii(g),
          columnCount,
          properties,
        };
    }
  },
};

function recipientColumnsOf(so: Obj, ctx: RopCtx): readonly number[] | undefined {
  return (lookup(so, 'recipientColumns') as readonly number[] | undefined) ?? ctx.recipientColumns;
}

/** A list of u64 ids with a u16 count (MessageIds, FolderIds). */
export const ids64 = arr(2, u64, 8);

/** Counted u16 ids (PropertyIds). */
export const ids16 = arr(2, u16, 2);

/** PropertyTag of a single tag (generated from the sample set). */
export const tag: Field<number> = { pull: (r) => r.u32(), push: (w, v) => w.u32(v), gen: (g) => genTag(g) };

/** The bytes left in the window (opaque tails such as RopBufferTooSmall's RequestBuffers). */
export const rest: Field<Uint8Array> = {
  pull: (r) => r.copy(r.remaining),
  push: (w, v) => w.bytes(v),
  gen: (g) => genBytes(g, int(g, 16)),
};

export { propTag };
