/**
 * IMAP message flags as one bitmask plus keywords (pure; shared by the door and the mailbox
 * actor's IMAP view). The system flags of RFC 3501 §2.3.2 and the well-known keywords that map
 * to MAPI state or to the IMAP-only property each have a bit; every other keyword is a category
 * (PidNameKeywords) kept verbatim.
 */

export const Flag = {
  Seen: 1 << 0,
  Answered: 1 << 1,
  Flagged: 1 << 2,
  Deleted: 1 << 3,
  Draft: 1 << 4,
  /** $Forwarded (RFC 5550 §5.9). */
  Forwarded: 1 << 5,
  /** $MDNSent (RFC 3503): never a category. */
  MdnSent: 1 << 6,
  /** $Junk / $NotJunk (RFC 5788 registry): never categories. */
  Junk: 1 << 7,
  NotJunk: 1 << 8,
  /** Session flag (RFC 3501 §2.3.2); never stored. */
  Recent: 1 << 9,
} as const;

/** Bits with their IMAP spelling, in the order FLAGS lists them. */
export const FLAG_NAMES: readonly [number, string][] = [
  [Flag.Seen, '\\Seen'],
  [Flag.Answered, '\\Answered'],
  [Flag.Flagged, '\\Flagged'],
  [Flag.Deleted, '\\Deleted'],
  [Flag.Draft, '\\Draft'],
  [Flag.Recent, '\\Recent'],
  [Flag.Forwarded, '$Forwarded'],
  [Flag.MdnSent, '$MDNSent'],
  [Flag.Junk, '$Junk'],
  [Flag.NotJunk, '$NotJunk'],
];

/** Bits a client may store (\Recent is the server's). */
export const STORABLE = Flag.Seen | Flag.Answered | Flag.Flagged | Flag.Deleted | Flag.Draft | Flag.Forwarded | Flag.MdnSent | Flag.Junk | Flag.NotJunk;

/** The bits kept in the IMAP-only property (not MAPI state), by their stored spelling. */
export const PRIVATE_FLAGS: readonly [number, string][] = [
  [Flag.Deleted, '\\Deleted'],
  [Flag.MdnSent, '$MDNSent'],
  [Flag.Junk, '$Junk'],
  [Flag.NotJunk, '$NotJunk'],
];

const BY_NAME = new Map<string, number>(FLAG_NAMES.map(([bit, name]) => [name.toLowerCase(), bit]));

/** The bit of a flag name (case-insensitive, RFC 3501 §2.3.2), or 0 for a keyword. */
export function flagBit(name: string): number {
  return BY_NAME.get(name.toLowerCase()) ?? 0;
}

/**
 * A keyword is an atom (RFC 3501 §9: atom = 1*ATOM-CHAR, no "\" and none of "(){ %*\"]" or
 * controls). Categories that are not atoms (spaces, non-ASCII) are not shown to IMAP.
 */
export function isKeywordAtom(s: string): boolean {
  if (s.length === 0 || s.length > 250) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x28 || c === 0x29 || c === 0x7b || c === 0x25 || c === 0x2a || c === 0x22 || c === 0x5c || c === 0x5d) return false;
  }
  return true;
}

/** The flag list as IMAP text: "\Seen \Flagged work". */
export function flagsText(bits: number, keywords: readonly string[] | undefined): string {
  let out = '';
  for (const [bit, name] of FLAG_NAMES) if ((bits & bit) !== 0) out += out === '' ? name : ` ${name}`;
  if (keywords !== undefined) for (const k of keywords) out += out === '' ? k : ` ${k}`;
  return out;
}

/** Whether two keyword lists hold the same keywords (case-insensitively). */
export function sameKeywords(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  if (x.length !== y.length) return false;
  const set = new Set(x.map((k) => k.toLowerCase()));
  return y.every((k) => set.has(k.toLowerCase()));
}
