/**
 * Restrictions (MS-OXCDATA 2.12): the filter language of MAPI tables, search folders and rules,
 * also used by IMAP SEARCH, EAS and DAV queries. This is the data model and the evaluator over a
 * row of properties; the ROP wire codec lives with the MAPI door.
 *
 * Multi-valued columns match per value: a restriction on a multi-valued property is satisfied
 * when any of its values satisfies it.
 */
import { MV_FLAG, propTypeOf, PropType, type PropValue } from './prop-types.js';
import { decodePropBag, encodePropBag } from './prop-bag.js';

export const RestrictionType = {
  And: 0x00,
  Or: 0x01,
  Not: 0x02,
  Content: 0x03,
  Property: 0x04,
  CompareProperties: 0x05,
  Bitmask: 0x06,
  Size: 0x07,
  Exist: 0x08,
  SubObject: 0x09,
  Comment: 0x0a,
  Count: 0x0b,
} as const;

/** Content restriction FuzzyLevelLow / FuzzyLevelHigh flags. */
export const Fuzzy = {
  FL_FULLSTRING: 0x0000,
  FL_SUBSTRING: 0x0001,
  FL_PREFIX: 0x0002,
  FL_IGNORECASE: 0x10000,
  FL_IGNORENONSPACE: 0x20000,
  FL_LOOSE: 0x40000,
} as const;

export const RelOp = { LT: 0, LE: 1, GT: 2, GE: 3, EQ: 4, NE: 5, RE: 6, MEMBER_OF_DL: 0x64 } as const;
export type RelOpValue = (typeof RelOp)[keyof typeof RelOp];
export const BitmaskOp = { EQZ: 0, NEZ: 1 } as const;

/** PidTagMessageRecipients / PidTagMessageAttachments: the targets of a sub-object restriction. */
export const SUB_RECIPIENTS = 0x0e12000d;
export const SUB_ATTACHMENTS = 0x0e13000d;

export type Restriction =
  | { type: 'and'; children: Restriction[] }
  | { type: 'or'; children: Restriction[] }
  | { type: 'not'; child: Restriction }
  | { type: 'content'; fuzzy: number; tag: number; value: PropValue }
  | { type: 'property'; relop: RelOpValue; tag: number; value: PropValue }
  | { type: 'compareProps'; relop: RelOpValue; tag1: number; tag2: number }
  | { type: 'bitmask'; op: 0 | 1; tag: number; mask: number }
  | { type: 'size'; relop: RelOpValue; tag: number; size: number }
  | { type: 'exist'; tag: number }
  | { type: 'sub'; subobject: number; child: Restriction }
  | { type: 'comment'; props: [number, PropValue][]; child: Restriction | null }
  | { type: 'count'; count: number; child: Restriction };

/** What a restriction reads: a row's properties, and its recipient and attachment rows. */
export interface RestrictionRow {
  get(tag: number): PropValue | undefined;
  subRows?(subobject: number): RestrictionRow[];
}

export function mapRow(props: ReadonlyMap<number, PropValue>, subs?: { recipients?: ReadonlyMap<number, PropValue>[]; attachments?: ReadonlyMap<number, PropValue>[] }): RestrictionRow {
  return {
    get: (tag) => props.get(tag) ?? lookupByIdAndBase(props, tag),
    subRows: (sub) => (sub === SUB_RECIPIENTS ? (subs?.recipients ?? []) : sub === SUB_ATTACHMENTS ? (subs?.attachments ?? []) : []).map((m) => mapRow(m)),
  };
}

/**
 * A restriction on a single-valued tag also reads the multi-valued property of the same id (per
 * value), as when a client restricts a multi-valued column instance.
 */
function lookupByIdAndBase(props: ReadonlyMap<number, PropValue>, tag: number): PropValue | undefined {
  if ((tag & MV_FLAG) !== 0) return undefined;
  return props.get((tag | MV_FLAG) >>> 0);
}

/** Evaluation state shared across rows (Count restrictions stop matching after N rows). */
export class RestrictionContext {
  private readonly counts = new Map<Restriction, number>();
  remaining(r: Restriction & { type: 'count' }): number {
    return this.counts.get(r) ?? r.count;
  }
  take(r: Restriction & { type: 'count' }): void {
    this.counts.set(r, this.remaining(r) - 1);
  }
}

/** True when the row satisfies the restriction. */
export function evaluate(r: Restriction, row: RestrictionRow, ctx: RestrictionContext = new RestrictionContext()): boolean {
  switch (r.type) {
    case 'and':
      return r.children.every((c) => evaluate(c, row, ctx));
    case 'or':
      return r.children.some((c) => evaluate(c, row, ctx));
    case 'not':
      return !evaluate(r.child, row, ctx);
    case 'content':
      return anyValue(row.get(r.tag), (v) => contentMatch(v, r.value, r.fuzzy));
    case 'property': {
      const v = row.get(r.tag);
      if (v === undefined) return false;
      return anyValue(v, (x) => compareWith(x, r.value, r.relop));
    }
    case 'compareProps': {
      const a = row.get(r.tag1);
      const b = row.get(r.tag2);
      if (a === undefined || b === undefined || Array.isArray(a) || Array.isArray(b)) return false;
      return compareWith(a, b, r.relop);
    }
    case 'bitmask': {
      const v = row.get(r.tag);
      if (typeof v !== 'number') return false;
      const hit = (v & r.mask) !== 0;
      return r.op === BitmaskOp.NEZ ? hit : !hit;
    }
    case 'size': {
      const v = row.get(r.tag);
      if (v === undefined) return false;
      return relopResult(Math.sign(sizeOf(r.tag, v) - r.size), r.relop);
    }
    case 'exist':
      return row.get(r.tag) !== undefined;
    case 'sub':
      return (row.subRows?.(r.subobject) ?? []).some((sub) => evaluate(r.child, sub, ctx));
    case 'comment':
      return r.child === null ? true : evaluate(r.child, row, ctx);
    case 'count': {
      if (ctx.remaining(r) <= 0) return false;
      if (!evaluate(r.child, row, ctx)) return false;
      ctx.take(r);
      return true;
    }
  }
}

function anyValue(v: PropValue | undefined, test: (x: PropValue) => boolean): boolean {
  if (v === undefined) return false;
  return Array.isArray(v) ? v.some(test) : test(v);
}

/** Folds case (FL_IGNORECASE), strips combining marks (FL_IGNORENONSPACE), or both (FL_LOOSE). */
function fold(s: string, fuzzy: number): string {
  let out = s;
  const loose = (fuzzy & Fuzzy.FL_LOOSE) !== 0;
  if (loose || (fuzzy & Fuzzy.FL_IGNORENONSPACE) !== 0) out = out.normalize('NFD').replace(/\p{Mn}/gu, '');
  if (loose || (fuzzy & Fuzzy.FL_IGNORECASE) !== 0) out = out.toLocaleLowerCase('und');
  return out;
}

function contentMatch(v: PropValue, needle: PropValue, fuzzy: number): boolean {
  const mode = fuzzy & 0xffff;
  if (typeof v === 'string' && typeof needle === 'string') {
    const hay = fold(v, fuzzy);
    const n = fold(needle, fuzzy);
    if (mode === Fuzzy.FL_SUBSTRING) return hay.includes(n);
    if (mode === Fuzzy.FL_PREFIX) return hay.startsWith(n);
    return hay === n;
  }
  if (v instanceof Uint8Array && needle instanceof Uint8Array) {
    const hay = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    const n = Buffer.from(needle.buffer, needle.byteOffset, needle.byteLength);
    if (mode === Fuzzy.FL_SUBSTRING) return hay.indexOf(n) >= 0;
    if (mode === Fuzzy.FL_PREFIX) return hay.length >= n.length && hay.subarray(0, n.length).equals(n);
    return hay.equals(n);
  }
  return false;
}

/** Orders two values of one type: <0, 0, >0; NaN when they cannot be compared. */
export function compareValues(a: PropValue, b: PropValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'bigint' && typeof b === 'bigint') return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') {
    // Strings compare without regard to case, as table sorts and restrictions do for text.
    const x = a.toLocaleLowerCase('und');
    const y = b.toLocaleLowerCase('und');
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (a instanceof Uint8Array && b instanceof Uint8Array) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (a === null && b === null) return 0;
  return NaN;
}

function relopResult(cmp: number, relop: RelOpValue): boolean {
  if (Number.isNaN(cmp)) return false; // values of different kinds never compare
  switch (relop) {
    case RelOp.LT:
      return cmp < 0;
    case RelOp.LE:
      return cmp <= 0;
    case RelOp.GT:
      return cmp > 0;
    case RelOp.GE:
      return cmp >= 0;
    case RelOp.EQ:
      return cmp === 0;
    case RelOp.NE:
      return cmp !== 0;
    default:
      // RELOP_RE and MEMBER_OF_DL need more than the two values: handled by callers that can.
      return false;
  }
}

function compareWith(v: PropValue, against: PropValue, relop: RelOpValue): boolean {
  if (relop === RelOp.RE) {
    if (typeof v !== 'string' || typeof against !== 'string') return false;
    try {
      return new RegExp(against, 'iu').test(v);
    } catch {
      return false;
    }
  }
  return relopResult(compareValues(v, against), relop);
}

/** The size a Size restriction compares: bytes of the value as stored on the wire. */
function sizeOf(tag: number, v: PropValue): number {
  const t = propTypeOf(tag) & ~MV_FLAG;
  const one = (x: PropValue): number => {
    if (typeof x === 'string') return t === PropType.PtypString ? (x.length + 1) * 2 : Buffer.byteLength(x) + 1;
    if (x instanceof Uint8Array) return x.byteLength;
    if (typeof x === 'bigint') return 8;
    if (typeof x === 'boolean') return 1;
    if (typeof x === 'number') return t === PropType.PtypInteger16 ? 2 : t === PropType.PtypInteger32 || t === PropType.PtypFloating32 || t === PropType.PtypErrorCode ? 4 : 8;
    return 0;
  };
  return Array.isArray(v) ? v.reduce<number>((n, x) => n + one(x), 0) : one(v);
}

/**
 * Restrictions as they cross threads: the tree as plain data, each property value as a one-entry
 * property bag (exact for 64-bit values and binaries).
 */
export type WireRestriction =
  | { type: 'and' | 'or'; children: WireRestriction[] }
  | { type: 'not'; child: WireRestriction }
  | { type: 'content'; fuzzy: number; tag: number; value: Uint8Array }
  | { type: 'property'; relop: RelOpValue; tag: number; value: Uint8Array }
  | { type: 'compareProps'; relop: RelOpValue; tag1: number; tag2: number }
  | { type: 'bitmask'; op: 0 | 1; tag: number; mask: number }
  | { type: 'size'; relop: RelOpValue; tag: number; size: number }
  | { type: 'exist'; tag: number }
  | { type: 'sub'; subobject: number; child: WireRestriction }
  | { type: 'comment'; props: Uint8Array; child: WireRestriction | null }
  | { type: 'count'; count: number; child: WireRestriction };

export function toWireRestriction(r: Restriction): WireRestriction {
  switch (r.type) {
    case 'and':
    case 'or':
      return { type: r.type, children: r.children.map(toWireRestriction) };
    case 'not':
      return { type: 'not', child: toWireRestriction(r.child) };
    case 'content':
    case 'property':
      return { ...r, value: encodePropBag([[r.tag, r.value]]) } as WireRestriction;
    case 'sub':
      return { type: 'sub', subobject: r.subobject, child: toWireRestriction(r.child) };
    case 'comment':
      return { type: 'comment', props: encodePropBag(r.props), child: r.child === null ? null : toWireRestriction(r.child) };
    case 'count':
      return { type: 'count', count: r.count, child: toWireRestriction(r.child) };
    default:
      return r;
  }
}

export function fromWireRestriction(w: WireRestriction, depth = 0): Restriction {
  // Nesting deeper than this is refused rather than recursed into (bad input, not a crash).
  if (depth > 64) throw new RangeError('restriction nested too deeply');
  switch (w.type) {
    case 'and':
    case 'or':
      return { type: w.type, children: w.children.map((c) => fromWireRestriction(c, depth + 1)) };
    case 'not':
      return { type: 'not', child: fromWireRestriction(w.child, depth + 1) };
    case 'content':
    case 'property': {
      const v = decodePropBag(Buffer.from(w.value)).values().next().value;
      return { ...w, value: v ?? null } as Restriction;
    }
    case 'sub':
      return { type: 'sub', subobject: w.subobject, child: fromWireRestriction(w.child, depth + 1) };
    case 'comment':
      return { type: 'comment', props: [...decodePropBag(Buffer.from(w.props))], child: w.child === null ? null : fromWireRestriction(w.child, depth + 1) };
    case 'count':
      return { type: 'count', count: w.count, child: fromWireRestriction(w.child, depth + 1) };
    default:
      return w;
  }
}
