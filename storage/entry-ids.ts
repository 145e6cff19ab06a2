/**
 * Entry ids, source keys, change keys and predecessor change lists. These bytes are FROZEN once
 * written: Outlook keeps them in FAI messages and profiles. Layouts (see docs/specs/store-ids-facts.md):
 *
 * Folder EntryID (MS-OXCDATA 2.2.4.1), 46 bytes:
 *   Flags u32 = 0 | ProviderUID 16 (MailboxGuid) | FolderType u16 LE | DatabaseGuid 16 (ReplGuid)
 *   | GlobalCounter 6 (BE) | Pad 2 = 0
 * Message EntryID (MS-OXCDATA 2.2.4.2), 70 bytes:
 *   Flags | ProviderUID | MessageType u16 | FolderDatabaseGuid 16 | FolderGlobalCounter 6 | Pad 2
 *   | MessageDatabaseGuid 16 | MessageGlobalCounter 6 | Pad 2
 * Store Object EntryID (MS-OXCDATA 2.2.4.3):
 *   Flags u32 = 0 | ProviderUID 38A1BB1005E5101AA1BB08002B2A56C2 | Version 0 | Flag 0
 *   | DLLFileName "EMSMDB.DLL" + 4 NULs (14) | WrappedFlags u32 = 0 | WrappedProvider UID 16
 *   | WrappedType u32 (0x0C mailbox, 0x06 public) | ServerShortname + NUL | MailboxDN + NUL (mailbox only)
 * GID / source key (MS-OXCDATA 2.2.1.3): ReplGuid 16 + GlobalCounter 6 = 22 bytes.
 * XID / change key (MS-OXCFXICS 2.2.2.2): NamespaceGuid 16 + LocalId (6 bytes when server-made).
 * PCL (MS-OXCFXICS 2.2.2.3): SizedXid* sorted by NamespaceGuid, each u8 size + XID, no padding.
 */
import { globcntBytes, readGlobcnt } from './ids.js';

export const EntryIdType = {
  PrivateFolder: 0x0001,
  PublicFolder: 0x0003,
  MappedPublicFolder: 0x0005,
  PrivateMessage: 0x0007,
  PublicMessage: 0x0009,
  MappedPublicMessage: 0x000b,
  PublicNewsgroupFolder: 0x000c,
} as const;

export const FOLDER_ENTRYID_SIZE = 46;
export const MESSAGE_ENTRYID_SIZE = 70;
export const GID_SIZE = 22;

const STORE_PROVIDER_UID = Buffer.from('38a1bb1005e5101aa1bb08002b2a56c2', 'hex');
const EMSMDB_DLL = Buffer.from('454d534d44422e444c4c00000000', 'hex');
export const WRAPPED_PROVIDER_MAILBOX = Buffer.from('1b55fa20aa6611cd9bc800aa002fc45a', 'hex');
export const WRAPPED_PROVIDER_PUBLIC = Buffer.from('1c830210aa6611cd9bc800aa002fc45a', 'hex');
/** ProviderUID of public-store folder and message entry ids. */
export const PUBLIC_STORE_PROVIDER_UID = Buffer.from('1a447390aa6611cd9bc800aa002fc45a', 'hex');
const WRAPPED_TYPE_MAILBOX = 0x0c;
const WRAPPED_TYPE_PUBLIC = 0x06;

function guid16(g: Uint8Array, what: string): Buffer {
  if (g.byteLength !== 16) throw new TypeError(`${what} must be 16 bytes`);
  return Buffer.from(g.buffer, g.byteOffset, 16);
}

export function folderEntryId(providerUid: Uint8Array, replGuid: Uint8Array, globcnt: number, type: number = EntryIdType.PrivateFolder): Buffer {
  const b = Buffer.alloc(FOLDER_ENTRYID_SIZE);
  guid16(providerUid, 'ProviderUID').copy(b, 4);
  b.writeUInt16LE(type, 20);
  guid16(replGuid, 'DatabaseGuid').copy(b, 22);
  globcntBytes(globcnt).copy(b, 38);
  return b;
}

export function messageEntryId(
  providerUid: Uint8Array,
  folderReplGuid: Uint8Array,
  folderGlobcnt: number,
  messageReplGuid: Uint8Array,
  messageGlobcnt: number,
  type: number = EntryIdType.PrivateMessage,
): Buffer {
  const b = Buffer.alloc(MESSAGE_ENTRYID_SIZE);
  guid16(providerUid, 'ProviderUID').copy(b, 4);
  b.writeUInt16LE(type, 20);
  guid16(folderReplGuid, 'FolderDatabaseGuid').copy(b, 22);
  globcntBytes(folderGlobcnt).copy(b, 38);
  guid16(messageReplGuid, 'MessageDatabaseGuid').copy(b, 46);
  globcntBytes(messageGlobcnt).copy(b, 62);
  return b;
}

export function storeEntryId(opts: { serverShortname: string; mailboxDn?: string; public?: boolean }): Buffer {
  const ascii = (s: string, what: string) => {
    if (!/^[\x20-\x7e]*$/.test(s)) throw new TypeError(`${what} must be printable ASCII`);
    return Buffer.from(s + '\0', 'latin1');
  };
  const head = Buffer.alloc(4 + 16 + 1 + 1 + 14 + 4 + 16 + 4);
  STORE_PROVIDER_UID.copy(head, 4);
  EMSMDB_DLL.copy(head, 22);
  (opts.public === true ? WRAPPED_PROVIDER_PUBLIC : WRAPPED_PROVIDER_MAILBOX).copy(head, 40);
  head.writeUInt32LE(opts.public === true ? WRAPPED_TYPE_PUBLIC : WRAPPED_TYPE_MAILBOX, 56);
  const parts = [head, ascii(opts.serverShortname, 'ServerShortname')];
  if (opts.public !== true) parts.push(ascii(opts.mailboxDn ?? '', 'MailboxDN'));
  return Buffer.concat(parts);
}

export type ParsedEntryId =
  | { kind: 'folder'; providerUid: Buffer; type: number; replGuid: Buffer; globcnt: number }
  | { kind: 'message'; providerUid: Buffer; type: number; folderReplGuid: Buffer; folderGlobcnt: number; replGuid: Buffer; globcnt: number }
  | { kind: 'store'; public: boolean; serverShortname: string; mailboxDn: string };

/** Parses an entry id; null for anything that is not a well-formed folder, message or store entry id. */
export function parseEntryId(bytes: Uint8Array): ParsedEntryId | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 22 || b.readUInt32LE(0) !== 0) return null;
  if (b.subarray(4, 20).equals(STORE_PROVIDER_UID)) {
    if (b.length < 61 || !b.subarray(22, 36).equals(EMSMDB_DLL)) return null;
    const wrapped = b.subarray(40, 56);
    const isPublic = wrapped.equals(WRAPPED_PROVIDER_PUBLIC);
    if (!isPublic && !wrapped.equals(WRAPPED_PROVIDER_MAILBOX)) return null;
    const rest = b.subarray(60);
    const z1 = rest.indexOf(0);
    if (z1 < 0) return null;
    const serverShortname = rest.toString('latin1', 0, z1);
    let mailboxDn = '';
    if (!isPublic) {
      const z2 = rest.indexOf(0, z1 + 1);
      if (z2 < 0) return null;
      mailboxDn = rest.toString('latin1', z1 + 1, z2);
    }
    return { kind: 'store', public: isPublic, serverShortname, mailboxDn };
  }
  const type = b.readUInt16LE(20);
  const isFolderType = type === EntryIdType.PrivateFolder || type === EntryIdType.PublicFolder || type === EntryIdType.MappedPublicFolder;
  const isMessageType = type === EntryIdType.PrivateMessage || type === EntryIdType.PublicMessage || type === EntryIdType.MappedPublicMessage;
  if (isFolderType && b.length === FOLDER_ENTRYID_SIZE) {
    return { kind: 'folder', providerUid: Buffer.from(b.subarray(4, 20)), type, replGuid: Buffer.from(b.subarray(22, 38)), globcnt: readGlobcnt(b, 38) };
  }
  if (isMessageType && b.length === MESSAGE_ENTRYID_SIZE) {
    return {
      kind: 'message',
      providerUid: Buffer.from(b.subarray(4, 20)),
      type,
      folderReplGuid: Buffer.from(b.subarray(22, 38)),
      folderGlobcnt: readGlobcnt(b, 38),
      replGuid: Buffer.from(b.subarray(46, 62)),
      globcnt: readGlobcnt(b, 62),
    };
  }
  return null;
}

/** A GID (22 bytes): PidTagSourceKey of a folder or message, and the XID of a change key. */
export function gid(replGuid: Uint8Array, globcnt: number): Buffer {
  const b = Buffer.alloc(GID_SIZE);
  guid16(replGuid, 'ReplGuid').copy(b, 0);
  globcntBytes(globcnt).copy(b, 16);
  return b;
}

/** Parses a serialized PCL into its XIDs; null when malformed. */
export function parsePcl(bytes: Uint8Array): Buffer[] | null {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; ) {
    const size = b[at]!;
    if (size < 17 || size > 24 || at + 1 + size > b.length) return null;
    out.push(Buffer.from(b.subarray(at + 1, at + 1 + size)));
    at += 1 + size;
  }
  return out;
}

/**
 * Serializes a PCL: one XID per namespace GUID (the one with the greatest LocalId wins when a
 * namespace repeats; LocalIds of one namespace share a length), sorted by GUID bytes.
 */
export function serializePcl(xids: readonly Uint8Array[]): Buffer {
  const byNs = new Map<string, Buffer>();
  for (const x of xids) {
    if (x.byteLength < 17 || x.byteLength > 24) throw new RangeError(`an XID is 17 to 24 bytes, got ${x.byteLength}`);
    const xb = Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    const ns = xb.subarray(0, 16).toString('hex');
    const prev = byNs.get(ns);
    if (prev === undefined || Buffer.compare(xb.subarray(16), prev.subarray(16)) > 0) byNs.set(ns, xb);
  }
  const sorted = [...byNs.values()].sort((a, b) => Buffer.compare(a.subarray(0, 16), b.subarray(0, 16)));
  return Buffer.concat(sorted.flatMap((x) => [Buffer.from([x.length]), x]));
}

/** The PCL after a change with change key `changeKey` on top of predecessors `pcl`. */
export function pclWithChange(pcl: Uint8Array | undefined, changeKey: Uint8Array): Buffer {
  const prior = pcl === undefined ? [] : (parsePcl(pcl) ?? []);
  return serializePcl([...prior, changeKey]);
}
