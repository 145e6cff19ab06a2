/**
 * Entry ids and keys of addresses (senders, recipients): FROZEN layouts, Outlook keeps them.
 *
 * One-Off EntryID (MS-OXCDATA 2.2.5.1): Flags u32 = 0 | ProviderUID 812B1FA4BEA310199D6E00DD010F5402
 *   | Version u16 = 0 | flags u16 (MAPI_ONE_OFF_UNICODE 0x8000, MAPI_ONE_OFF_NO_RICH_INFO 0x0001,
 *   format bits 0x1000 as Outlook writes for Internet recipients) | DisplayName, AddressType,
 *   EmailAddress: NUL-terminated, UTF-16LE when Unicode (else 8-bit).
 * Address Book EntryID (MS-OXCDATA 2.2.5.2): Flags u32 = 0 | ProviderUID DCA740C8C042101AB4B908002B2FE182
 *   | Version u32 = 1 | Type u32 (0 = DT_MAILUSER, 1 = DT_DISTLIST) | X500DN ASCII + NUL.
 * Search key (MS-OXCPRPT, PidTagSearchKey): "ADDRTYPE:ADDRESS" upper case, ASCII, NUL-terminated.
 * FlatEntryList (MS-OXCDATA 2.3.3): Count u32 | Size u32 | Count × (Size u32 | EntryID | pad to 4).
 */
export const ONE_OFF_PROVIDER_UID = Buffer.from('812b1fa4bea310199d6e00dd010f5402', 'hex');
export const ADDRESS_BOOK_PROVIDER_UID = Buffer.from('dca740c8c042101ab4b908002b2fe182', 'hex');
export const MAPI_ONE_OFF_UNICODE = 0x8000;
export const MAPI_ONE_OFF_NO_RICH_INFO = 0x0001;
const ONE_OFF_FORMAT_MIME = 0x1000;
export const DT_MAILUSER = 0;
export const DT_DISTLIST = 1;

export function oneOffEntryId(displayName: string, addressType: string, address: string): Buffer {
  const head = Buffer.alloc(24);
  ONE_OFF_PROVIDER_UID.copy(head, 4);
  head.writeUInt16LE(0, 20);
  head.writeUInt16LE(MAPI_ONE_OFF_UNICODE | ONE_OFF_FORMAT_MIME | MAPI_ONE_OFF_NO_RICH_INFO, 22);
  const z = (s: string) => Buffer.from(`${s}\0`, 'utf16le');
  return Buffer.concat([head, z(displayName), z(addressType), z(address)]);
}

export function addressBookEntryId(x500dn: string, type = DT_MAILUSER): Buffer {
  const head = Buffer.alloc(28);
  ADDRESS_BOOK_PROVIDER_UID.copy(head, 4);
  head.writeUInt32LE(1, 20);
  head.writeUInt32LE(type, 24);
  return Buffer.concat([head, Buffer.from(`${x500dn}\0`, 'latin1')]);
}

export function searchKey(addressType: string, address: string): Buffer {
  return Buffer.from(`${addressType}:${address}`.toUpperCase() + '\0', 'latin1');
}

export type ParsedAddressId =
  | { kind: 'one-off'; displayName: string; addressType: string; address: string }
  | { kind: 'address-book'; x500dn: string; type: number };

/** Parses a one-off or address-book entry id; null for anything else or anything malformed. */
export function parseAddressId(bytes: Uint8Array): ParsedAddressId | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 28 || b.readUInt32LE(0) !== 0) return null;
  const uid = b.subarray(4, 20);
  if (uid.equals(ONE_OFF_PROVIDER_UID)) {
    const flags = b.readUInt16LE(22);
    const fields: string[] = [];
    let pos = 24;
    for (let i = 0; i < 3; i++) {
      if ((flags & MAPI_ONE_OFF_UNICODE) !== 0) {
        let end = pos;
        while (end + 1 < b.length && (b[end] !== 0 || b[end + 1] !== 0)) end += 2;
        if (end + 1 >= b.length) return null;
        fields.push(b.toString('utf16le', pos, end));
        pos = end + 2;
      } else {
        const end = b.indexOf(0, pos);
        if (end < 0) return null;
        fields.push(b.toString('latin1', pos, end));
        pos = end + 1;
      }
    }
    return { kind: 'one-off', displayName: fields[0]!, addressType: fields[1]!, address: fields[2]! };
  }
  if (uid.equals(ADDRESS_BOOK_PROVIDER_UID)) {
    const end = b.indexOf(0, 28);
    if (end < 0) return null;
    return { kind: 'address-book', x500dn: b.toString('latin1', 28, end), type: b.readUInt32LE(24) };
  }
  return null;
}

export function flatEntryList(entryIds: readonly Uint8Array[]): Buffer {
  const parts: Buffer[] = [];
  for (const id of entryIds) {
    const size = Buffer.alloc(4);
    size.writeUInt32LE(id.byteLength);
    const pad = (4 - (id.byteLength % 4)) % 4;
    parts.push(size, Buffer.from(id), Buffer.alloc(pad));
  }
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(entryIds.length, 0);
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

export function parseFlatEntryList(bytes: Uint8Array): Buffer[] | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 8) return null;
  const count = b.readUInt32LE(0);
  const out: Buffer[] = [];
  let pos = 8;
  for (let i = 0; i < count; i++) {
    if (pos + 4 > b.length) return null;
    const size = b.readUInt32LE(pos);
    pos += 4;
    if (pos + size > b.length) return null;
    out.push(Buffer.from(b.subarray(pos, pos + size)));
    pos += size + ((4 - (size % 4)) % 4);
  }
  return out;
}
