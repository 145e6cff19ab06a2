/**
 * Named properties (MS-OXCPRPT 3.1.4.2, 3.2.5.x): a name (property set GUID plus a numeric LID or
 * a string) maps to a property id of 0x8000..0xFFFE, per mailbox, created on request and never
 * reused. Names in PS_MAPI map straight to the property id equal to their LID.
 * Internet header names (PS_INTERNET_HEADERS) compare case-insensitively, as RFC 5322 header
 * field names do; other string names compare exactly.
 */
import type { Database, Key } from 'lmdb';
import { guidFromString, guidToString } from './guid.js';

export type PropertyName = { guid: Uint8Array; lid: number } | { guid: Uint8Array; name: string };

export const PS_MAPI = guidFromString('00020328-0000-0000-c000-000000000046');
export const PS_PUBLIC_STRINGS = guidFromString('00020329-0000-0000-c000-000000000046');
export const PS_INTERNET_HEADERS = guidFromString('00020386-0000-0000-c000-000000000046');

export const FIRST_NAMED_ID = 0x8000;
export const LAST_NAMED_ID = 0xfffe;
const NEXT_KEY = 'named.next';

/** Longest string name accepted (characters); longer names are refused rather than stored. */
export const MAX_NAME_LENGTH = 1024;

function nameKey(n: PropertyName): Key {
  const g = guidToString(n.guid);
  if ('lid' in n) return ['g', g, 0, n.lid >>> 0];
  const name = g === guidToString(PS_INTERNET_HEADERS) ? n.name.toLowerCase() : n.name;
  return ['g', g, 1, name];
}

interface Stored {
  g: string;
  lid?: number;
  name?: string;
}

function isValid(n: PropertyName): boolean {
  if (!(n.guid instanceof Uint8Array) || n.guid.byteLength !== 16) return false;
  if ('lid' in n) return Number.isInteger(n.lid) && n.lid >= 0 && n.lid <= 0xffffffff;
  return typeof n.name === 'string' && n.name.length > 0 && n.name.length <= MAX_NAME_LENGTH;
}

/**
 * Property ids for names, 0 where a name is unknown (and `create` is false) or invalid, as
 * RopGetPropertyIdsFromNames answers. With `create`, unknown names get new ids; this must then run
 * in a write transaction. Returns null for an id space that is full.
 */
export function idsFromNames(named: Database<unknown, Key>, meta: Database<unknown, Key>, names: readonly PropertyName[], create: boolean): number[] {
  const mapi = guidToString(PS_MAPI);
  return names.map((n) => {
    if (!isValid(n)) return 0;
    if (guidToString(n.guid) === mapi) return 'lid' in n && n.lid > 0 && n.lid < FIRST_NAMED_ID ? n.lid : 0;
    const key = nameKey(n);
    const known = named.get(key) as number | undefined;
    if (known !== undefined) return known;
    if (!create) return 0;
    const next = (meta.get(NEXT_KEY) as number | undefined) ?? FIRST_NAMED_ID;
    if (next > LAST_NAMED_ID) throw new NamedIdsExhausted();
    meta.putSync(NEXT_KEY, next + 1);
    named.putSync(key, next);
    const stored: Stored = 'lid' in n ? { g: guidToString(n.guid), lid: n.lid >>> 0 } : { g: guidToString(n.guid), name: n.name };
    named.putSync(['i', next], stored);
    return next;
  });
}

/** Names for property ids (null where unknown), as RopGetNamesFromPropertyIds answers. */
export function namesFromIds(named: Database<unknown, Key>, ids: readonly number[]): (PropertyName | null)[] {
  return ids.map((id) => {
    if (id > 0 && id < FIRST_NAMED_ID) return { guid: PS_MAPI, lid: id };
    const s = named.get(['i', id]) as Stored | undefined;
    if (s === undefined) return null;
    const guid = guidFromString(s.g);
    return s.lid !== undefined ? { guid, lid: s.lid } : { guid, name: s.name! };
  });
}

/** The mailbox has used every id from 0x8000 to 0xFFFE. */
export class NamedIdsExhausted extends Error {
  readonly code = 'ecNPQuotaExceeded';
  constructor() {
    super('no named property ids left in this mailbox');
  }
}
