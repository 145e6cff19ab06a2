/**
 * Store properties → the ROP forms of MS-OXCPRPT: the row of RopGetPropertiesSpecific (asked tags
 * in order, a FlaggedPropertyRow with an error cell per missing or too-large value), the tagged
 * values of RopGetPropertiesAll, and string conversion between PtypString and PtypString8 as the
 * client asks (the tag's type, or WantUnicode for PtypUnspecified).
 */
import { Ec } from '../../../protocols/mapi/rops/ids.js';
import { TypedValue, rowOf, type PropertyProblem, type PropertyRow, type RowCell, type TaggedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { MV_FLAG, PropType, propTag, propId, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import type { PropMap } from '../../../storage/prop-bag.js';

/** Values larger than this are answered ecMAPIOOM unless PropertySizeLimit asks otherwise (MS-OXCPRPT 3.2.5.1). */
export const DEFAULT_SIZE_LIMIT = 0x8000;

/** The stored property with this id, whatever its string flavour (PtypString / PtypString8). */
function lookup(props: PropMap, tag: number): [number, PropValue] | undefined {
  const v = props.get(tag);
  if (v !== undefined) return [tag, v];
  const type = propTypeOf(tag);
  const id = propId(tag);
  const alt = (t: number): number | undefined => {
    if (t === PropType.PtypString) return PropType.PtypString8;
    if (t === PropType.PtypString8) return PropType.PtypString;
    if (t === (PropType.PtypString | MV_FLAG)) return PropType.PtypString8 | MV_FLAG;
    if (t === (PropType.PtypString8 | MV_FLAG)) return PropType.PtypString | MV_FLAG;
    return undefined;
  };
  if (type === PropType.PtypUnspecified) {
    for (const [t, val] of props) if (propId(t) === id) return [t, val];
    return undefined;
  }
  const a = alt(type);
  if (a === undefined) return undefined;
  const w = props.get(propTag(id, a));
  return w === undefined ? undefined : [propTag(id, a), w];
}

/** The stored type turned into the one the client reads (strings only differ). */
function wantedType(storedTag: number, askedType: number, wantUnicode: boolean): number {
  const st = propTypeOf(storedTag);
  if (askedType !== PropType.PtypUnspecified) return askedType;
  if (st === PropType.PtypString || st === PropType.PtypString8) return wantUnicode ? PropType.PtypString : PropType.PtypString8;
  if (st === (PropType.PtypString | MV_FLAG) || st === (PropType.PtypString8 | MV_FLAG)) return (wantUnicode ? PropType.PtypString : PropType.PtypString8) | MV_FLAG;
  return st;
}

/** The wire size a value takes (strings as UTF-16 or 8-bit), for the size limit. */
function valueSize(type: number, v: PropValue): number {
  if (typeof v === 'string') return type === PropType.PtypString8 ? v.length + 1 : (v.length + 1) * 2;
  if (v instanceof Uint8Array) return v.byteLength;
  if (Array.isArray(v)) return v.reduce<number>((n, x) => n + valueSize(type & ~MV_FLAG, x), 0);
  return 8;
}

/** A string value for PtypString8: characters outside Latin-1 become '?' (the 8-bit code page of the logon is Windows-1252 or close). */
function to8bit(v: PropValue): PropValue {
  if (typeof v === 'string') return v.replace(/[^\x00-\xff]/g, '?');
  if (Array.isArray(v)) return v.map(to8bit);
  return v;
}

export interface RowOptions {
  wantUnicode: boolean;
  sizeLimit: number;
}

/** RopGetPropertiesSpecific's row: one cell per asked tag. */
export function specificRow(props: PropMap, tags: readonly number[], o: RowOptions): PropertyRow {
  const limit = o.sizeLimit === 0 ? DEFAULT_SIZE_LIMIT : o.sizeLimit;
  const cells: RowCell[] = tags.map((tag) => {
    const hit = lookup(props, tag);
    if (hit === undefined) return { error: Ec.ecNotFound };
    const [stored, v] = hit;
    const type = wantedType(stored, propTypeOf(tag), o.wantUnicode);
    if (valueSize(type, v) > limit) return { error: Ec.ecMAPIOOM };
    const value = (type & ~MV_FLAG) === PropType.PtypString8 ? to8bit(v) : v;
    return propTypeOf(tag) === PropType.PtypUnspecified ? new TypedValue(type, value) : value;
  });
  return rowOf(cells);
}

/** RopGetPropertiesAll's list: every property within the size limit, strings as asked. */
export function allValues(props: PropMap, o: RowOptions): TaggedValue[] {
  const limit = o.sizeLimit === 0 ? DEFAULT_SIZE_LIMIT : o.sizeLimit;
  const out: TaggedValue[] = [];
  for (const [tag, v] of props) {
    const type = wantedType(tag, PropType.PtypUnspecified, o.wantUnicode);
    const t = propTag(propId(tag), type);
    if (valueSize(type, v) > limit) out.push({ tag: propTag(propId(tag), PropType.PtypErrorCode), value: Ec.ecMAPIOOM });
    else out.push({ tag: t, value: (type & ~MV_FLAG) === PropType.PtypString8 ? to8bit(v) : v });
  }
  return out;
}

/**
 * The tags to fetch from an object for the asked ones: both string flavours of a string tag (the
 * object may store either), undefined (everything) when a tag asks PtypUnspecified.
 */
export function tagsToFetch(tags: readonly number[]): number[] | undefined {
  const out = new Set<number>();
  for (const tag of tags) {
    const type = propTypeOf(tag);
    const id = propId(tag);
    if (type === PropType.PtypUnspecified) return undefined;
    out.add(tag);
    const base = type & ~MV_FLAG;
    if (base === PropType.PtypString || base === PropType.PtypString8) {
      const mv = type & MV_FLAG;
      out.add(propTag(id, PropType.PtypString | mv));
      out.add(propTag(id, PropType.PtypString8 | mv));
    }
  }
  return [...out];
}

/**
 * RopSetProperties' values as a bag: PtypErrorCode and PtypUnspecified values are refused per
 * property (ecInvalidParam) with their index in the request.
 */
export function bagOfValues(values: readonly TaggedValue[]): { bag: PropMap; refused: PropertyProblem[] } {
  const bag: PropMap = new Map();
  const refused: PropertyProblem[] = [];
  values.forEach((v, index) => {
    const type = propTypeOf(v.tag);
    if (type === PropType.PtypErrorCode || type === PropType.PtypUnspecified) refused.push({ index, tag: v.tag, errorCode: Ec.ecInvalidParam });
    else bag.set(v.tag, v.value);
  });
  return { bag, refused };
}

/** Per-property errors of an actor op (ec names) as PropertyProblems indexed into the request. */
export function problemsAt(asked: readonly number[], errs: readonly { tag: number; error: string }[]): PropertyProblem[] {
  return errs.map((e) => ({ index: Math.max(0, asked.indexOf(e.tag)), tag: e.tag, errorCode: (Ec as Record<string, number>)[e.error] ?? Ec.ecError }));
}
