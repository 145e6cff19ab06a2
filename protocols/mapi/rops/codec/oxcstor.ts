/** MS-OXCSTOR ROPs (MS-OXCROPS 2.2.3): logon and store-level operations. */
import { defineRop } from './rop.js';
import { RopId, Ec } from '../ids.js';
import { u8, u16, u32, u64, guid, bool, str8z, arr, struct, when, longTermId, serverList, sized, row, type Field } from './fields.js';

const DOC = 'MS-OXCSTOR';

/** RopLogon LogonFlags (MS-OXCSTOR 2.2.1.1.1). */
export const LogonFlags = { Private: 0x01, Undercover: 0x02, Ghosted: 0x04, SplProcess: 0x08 } as const;

/** EssdnSize (u16, the null included) + Essdn (8-bit, null-terminated); size 0: no string. */
const essdn: Field<string> = {
  pull: (r) => {
    const n = r.u16();
    return n === 0 ? '' : r.str8n(n);
  },
  push: (w, v) => {
    if (v === '') return w.u16(0);
    w.u16(v.length + 1);
    w.str8z(v);
  },
  gen: (g) => (g() < 0.2 ? '' : '/o=Stoa/ou=Exchange Administrative Group/cn=Recipients/cn=u' + Math.floor(g() * 1000)),
};

/** LogonTime in the private RopLogon response (MS-OXCROPS 2.2.3.1.2). */
const logonTime = struct({ seconds: u8, minutes: u8, hour: u8, dayOfWeek: u8, day: u8, month: u8, year: u16 });

/** The 13 special folder ids of a logon response. */
const folderIds = {
  pull: (r: Parameters<typeof u64.pull>[0]) => Array.from({ length: 13 }, () => r.u64()),
  push: (w: Parameters<typeof u64.push>[0], v: bigint[]) => {
    for (let i = 0; i < 13; i++) w.u64(v[i] ?? 0n);
  },
  gen: (g: () => number) => Array.from({ length: 13 }, (_, i) => BigInt(i + 1) << 48n | BigInt(Math.floor(g() * 1000))),
} satisfies Field<bigint[]>;

const priv = (_: unknown, ctx: { privateLogon?: boolean }): boolean => ctx.privateLogon !== false;
const pub = (_: unknown, ctx: { privateLogon?: boolean }): boolean => ctx.privateLogon === false;

/**
 * RopLogon (0xFE), checked against MS-OXCROPS 2.2.3.1.1-2.2.3.1.4: request EssdnSize (2 bytes,
 * characters with the null); private response LogonFlags, 13 FolderIds, ResponseFlags,
 * MailboxGuid, ReplId, ReplGuid, LogonTime (2.2.3.1.2.1: Seconds, Minutes, Hour, DayOfWeek, Day,
 * Month, 2-byte Year), GwartTime, StoreState; public response LogonFlags, FolderIds, ReplId,
 * ReplGuid, PerUserGuid; redirect LogonFlags, ServerNameSize (1 byte, with the null), ServerName.
 * The response has the private-mailbox shape or the public-folders shape
 * (ctx.privateLogon, from the request's LogonFlags), and on ecWrongServer the redirect shape.
 */
export const Logon = defineRop({
  id: RopId.Logon,
  doc: DOC,
  handles: 'logon',
  req: { logonFlags: u8, openFlags: u32, storeState: u32, essdn },
  fail: { code: Ec.ecWrongServer, fields: { logonFlags: u8, serverName: sizedStr8() } },
  ok: {
    logonFlags: u8,
    folderIds,
    responseFlags: when(priv, u8),
    mailboxGuid: when(priv, guid),
    replId: u16,
    replGuid: guid,
    logonTime: when(priv, logonTime),
    gwartTime: when(priv, u64),
    storeState: when(priv, u32),
    perUserGuid: when(pub, guid),
  },
});

/** ServerNameSize (u8, the null included) + ServerName (8-bit, null-terminated). */
function sizedStr8(): Field<string> {
  return {
    pull: (r) => r.str8n(r.u8()),
    push: (w, v) => {
      w.u8(v.length + 1);
      w.str8z(v);
    },
    gen: () => 'mail.example.org',
  };
}

export const GetReceiveFolder = defineRop({
  id: RopId.GetReceiveFolder,
  doc: DOC,
  handles: 'in',
  req: { messageClass: str8z },
  ok: { folderId: u64, explicitMessageClass: str8z },
});

export const SetReceiveFolder = defineRop({ id: RopId.SetReceiveFolder, doc: DOC, handles: 'in', req: { folderId: u64, messageClass: str8z } });

/**
 * Columns of RopGetReceiveFolderTable rows, in this order (MS-OXCSTOR 2.2.1.4.2): PidTagFolderId,
 * PidTagMessageClass as PtypString8 (both checked), PidTagLastModificationTime (the third item
 * was cut off in the reference text: unverified). RowCount is kept at 4 bytes (unverified).
 */
export const RECEIVE_FOLDER_TABLE_COLUMNS: readonly number[] = [0x67480014, 0x001a001e, 0x30080040];

export const GetReceiveFolderTable = defineRop({
  id: RopId.GetReceiveFolderTable,
  doc: DOC,
  handles: 'in',
  ok: { rows: arr(4, row(() => RECEIVE_FOLDER_TABLE_COLUMNS), 2) },
});

export const GetStoreState = defineRop({ id: RopId.GetStoreState, doc: DOC, handles: 'in', ok: { storeState: u32 } });

export const GetOwningServers = defineRop({ id: RopId.GetOwningServers, doc: DOC, handles: 'in', req: { folderId: u64 }, ok: { owningServers: serverList } });

export const PublicFolderIsGhosted = defineRop({
  id: RopId.PublicFolderIsGhosted,
  doc: DOC,
  handles: 'in',
  req: { folderId: u64 },
  ok: { isGhosted: bool, servers: when((so) => so.isGhosted === true, serverList) },
});

export const LongTermIdFromId = defineRop({ id: RopId.LongTermIdFromId, doc: DOC, handles: 'in', req: { objectId: u64 }, ok: { longTermId } });

export const IdFromLongTermId = defineRop({ id: RopId.IdFromLongTermId, doc: DOC, handles: 'in', req: { longTermId }, ok: { objectId: u64 } });

export const GetPerUserLongTermIds = defineRop({
  id: RopId.GetPerUserLongTermIds,
  doc: DOC,
  handles: 'in',
  req: { databaseGuid: guid },
  ok: { longTermIds: arr(2, longTermId, 24) },
});

export const GetPerUserGuid = defineRop({ id: RopId.GetPerUserGuid, doc: DOC, handles: 'in', req: { longTermId }, ok: { databaseGuid: guid } });

export const ReadPerUserInformation = defineRop({
  id: RopId.ReadPerUserInformation,
  doc: DOC,
  handles: 'in',
  req: { folderId: longTermId, reserved: u8, dataOffset: u32, maxDataSize: u16 },
  ok: { hasFinished: bool, data: sized(2) },
});

/** ReplGuid is present when DataOffset is 0 on a private-mailbox logon (MS-OXCROPS 2.2.3.13.1). */
export const WritePerUserInformation = defineRop({
  id: RopId.WritePerUserInformation,
  doc: DOC,
  handles: 'in',
  req: {
    folderId: longTermId,
    hasFinished: bool,
    dataOffset: u32,
    data: sized(2),
    replGuid: when((so, ctx) => so.dataOffset === 0 && ctx.privateLogon !== false, guid),
  },
});

export const ROPS = [
  Logon, GetReceiveFolder, SetReceiveFolder, GetReceiveFolderTable, GetStoreState, GetOwningServers, PublicFolderIsGhosted,
  LongTermIdFromId, IdFromLongTermId, GetPerUserLongTermIds, GetPerUserGuid, ReadPerUserInformation, WritePerUserInformation,
] as const;

