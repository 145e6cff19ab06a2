/**
 * RecipientRow (MS-OXCDATA 2.8.3): RecipientFlags (2.8.3.1), the standard recipient values the
 * flags bring, then RecipientColumnCount and a PropertyRow over the first RecipientColumnCount
 * recipient columns (the columns are those of the ROP: RecipientColumns of RopModifyRecipients,
 * RopOpenMessage, RopReloadCachedInformation, RopOpenEmbeddedMessage; the message's recipient
 * columns for RopReadRecipients).
 *
 * Field presence, in wire order:
 *   AddressPrefixUsed, DisplayType, X500DN   Type = X500DN (0x1)
 *   EntryIdSize + EntryID,
 *   SearchKeySize + SearchKey                Type = PersonalDistributionList1 or 2 (0x6, 0x7)
 *   AddressType                              O flag (0x8000; Type is then NoType)
 *   EmailAddress                             E flag (0x0008)
 *   DisplayName                              D flag (0x0010)
 *   SimpleDisplayName                        I flag (0x0400)
 *   TransmittableDisplayName                 T flag (0x0020)
 * X500DN is an 8-bit string; the other strings are UTF-16 with a 2-byte null when the U flag
 * (0x0200) is set and 8-bit with a 1-byte null otherwise.
 */
import { WireReader } from './reader.js';
import { WireWriter } from './writer.js';
import { pullPropertyRow, pushPropertyRow, type PropertyRow } from './prop-values.js';

/** RecipientFlags bits and the Type enumeration (MS-OXCDATA 2.8.3.1). */
export const RecipientFlag = {
  /** Different transport responsible for delivery. */
  R: 0x0080,
  /** TransmittableDisplayName equals DisplayName. */
  S: 0x0040,
  /** TransmittableDisplayName present. */
  T: 0x0020,
  /** DisplayName present. */
  D: 0x0010,
  /** EmailAddress present. */
  E: 0x0008,
  TypeMask: 0x0007,
  /** Non-standard address type: AddressType present. */
  O: 0x8000,
  ReservedMask: 0x7800,
  /** SimpleDisplayName present. */
  I: 0x0400,
  /** Strings in UTF-16. */
  U: 0x0200,
  /** No rich text. */
  N: 0x0100,
} as const;

export const RecipientType = {
  NoType: 0x0,
  X500DN: 0x1,
  MsMail: 0x2,
  SMTP: 0x3,
  Fax: 0x4,
  ProfessionalOfficeSystem: 0x5,
  PersonalDistributionList1: 0x6,
  PersonalDistributionList2: 0x7,
} as const;

export interface RecipientRow {
  /** RecipientFlags as sent (Type in the low 3 bits). */
  flags: number;
  addressPrefixUsed?: number;
  displayType?: number;
  x500dn?: string;
  entryId?: Uint8Array;
  searchKey?: Uint8Array;
  addressType?: string;
  emailAddress?: string;
  displayName?: string;
  simpleDisplayName?: string;
  transmittableDisplayName?: string;
  /** RecipientColumnCount: how many of the recipient columns the row carries. */
  columnCount: number;
  properties: PropertyRow;
}

const typeOf = (flags: number): number => flags & RecipientFlag.TypeMask;
const isX500 = (flags: number): boolean => typeOf(flags) === RecipientType.X500DN;
const isPdl = (flags: number): boolean => typeOf(flags) === RecipientType.PersonalDistributionList1 || typeOf(flags) === RecipientType.PersonalDistributionList2;

/** Pulls one RecipientRow (no size prefix) against the ROP's recipient columns. */
export function pullRecipientRow(r: WireReader, columns: readonly number[]): RecipientRow {
  const flags = r.u16();
  const row: RecipientRow = { flags, columnCount: 0, properties: { flagged: false, cells: [] } };
  const str = (): string => ((flags & RecipientFlag.U) !== 0 ? r.utf16z() : r.str8z());
  if (isX500(flags)) {
    row.addressPrefixUsed = r.u8();
    row.displayType = r.u8();
    row.x500dn = r.str8z();
  }
  if (isPdl(flags)) {
    row.entryId = r.copy(r.u16(), 'EntryID');
    row.searchKey = r.copy(r.u16(), 'SearchKey');
  }
  if ((flags & RecipientFlag.O) !== 0) row.addressType = str();
  if ((flags & RecipientFlag.E) !== 0) row.emailAddress = str();
  if ((flags & RecipientFlag.D) !== 0) row.displayName = str();
  if ((flags & RecipientFlag.I) !== 0) row.simpleDisplayName = str();
  if ((flags & RecipientFlag.T) !== 0) row.transmittableDisplayName = str();
  row.columnCount = r.u16();
  if (!r.ok) return row;
  if (row.columnCount > columns.length) {
    r.fail('bad-value', `RecipientColumnCount ${row.columnCount} over the ${columns.length} recipient columns`);
    return row;
  }
  row.properties = pullPropertyRow(r, columns.slice(0, row.columnCount));
  return row;
}

/** Pushes one RecipientRow; the fields its flags call for must be set. */
export function pushRecipientRow(w: WireWriter, row: RecipientRow, columns: readonly number[]): void {
  const flags = row.flags;
  const need = <T>(v: T | undefined, name: string): T => {
    if (v === undefined) throw new TypeError(`RecipientRow flags 0x${flags.toString(16)} call for ${name}`);
    return v;
  };
  const str = (s: string): void => ((flags & RecipientFlag.U) !== 0 ? w.utf16z(s) : w.str8z(s));
  w.u16(flags);
  if (isX500(flags)) {
    w.u8(need(row.addressPrefixUsed, 'AddressPrefixUsed'));
    w.u8(need(row.displayType, 'DisplayType'));
    w.str8z(need(row.x500dn, 'X500DN'));
  }
  if (isPdl(flags)) {
    for (const [b, name] of [[row.entryId, 'EntryID'], [row.searchKey, 'SearchKey']] as const) {
      const v = need(b, name);
      if (v.byteLength > 0xffff) throw new RangeError(`${name} over 65535 bytes`);
      w.u16(v.byteLength);
      w.bytes(v);
    }
  }
  if ((flags & RecipientFlag.O) !== 0) str(need(row.addressType, 'AddressType'));
  if ((flags & RecipientFlag.E) !== 0) str(need(row.emailAddress, 'EmailAddress'));
  if ((flags & RecipientFlag.D) !== 0) str(need(row.displayName, 'DisplayName'));
  if ((flags & RecipientFlag.I) !== 0) str(need(row.simpleDisplayName, 'SimpleDisplayName'));
  if ((flags & RecipientFlag.T) !== 0) str(need(row.transmittableDisplayName, 'TransmittableDisplayName'));
  if (row.columnCount > columns.length) throw new RangeError('RecipientColumnCount over the recipient columns');
  w.u16(row.columnCount);
  pushPropertyRow(w, row.properties, columns.slice(0, row.columnCount));
}
