/** MS-OXCFOLD ROPs (MS-OXCROPS 2.2.4): folders and their contents. */
import { defineRop } from './rop.js';
import { RopId, Ec } from '../ids.js';
import { u8, u32, u64, bool, when, strBy, serverList, ids64, sizedRestriction } from './fields.js';

const DOC = 'MS-OXCFOLD';

export const OpenFolder = defineRop({
  id: RopId.OpenFolder,
  doc: DOC,
  handles: 'io',
  req: { folderId: u64, openModeFlags: u8 },
  ok: { hasRules: bool, isGhosted: bool, servers: when((so) => so.isGhosted === true, serverList) },
});

export const CreateFolder = defineRop({
  id: RopId.CreateFolder,
  doc: DOC,
  handles: 'io',
  req: { folderType: u8, useUnicodeStrings: bool, openExisting: bool, reserved: u8, displayName: strBy('useUnicodeStrings'), comment: strBy('useUnicodeStrings') },
  ok: {
    folderId: u64,
    isExistingFolder: bool,
    hasRules: when((so) => so.isExistingFolder === true, bool),
    isGhosted: when((so) => so.isExistingFolder === true, bool),
    servers: when((so) => so.isExistingFolder === true && so.isGhosted === true, serverList),
  },
});

export const DeleteFolder = defineRop({ id: RopId.DeleteFolder, doc: DOC, handles: 'in', req: { deleteFolderFlags: u8, folderId: u64 }, always: { partialCompletion: bool } });

export const SetSearchCriteria = defineRop({
  id: RopId.SetSearchCriteria,
  doc: DOC,
  handles: 'in',
  req: { restriction: sizedRestriction, folderIds: ids64, searchFlags: u32 },
});

export const GetSearchCriteria = defineRop({
  id: RopId.GetSearchCriteria,
  doc: DOC,
  handles: 'in',
  req: { useUnicode: bool, includeRestriction: bool, includeFolders: bool },
  ok: { restriction: sizedRestriction, logonId: u8, folderIds: ids64, searchFlags: u32 },
});

const partial = { partialCompletion: bool };
const dst = { code: Ec.ecDstNullObject, fields: { destHandleIndex: u32 } };

export const MoveCopyMessages = defineRop({
  id: RopId.MoveCopyMessages,
  doc: DOC,
  handles: 'srcdst',
  req: { messageIds: ids64, wantAsynchronous: bool, wantCopy: bool },
  fail: dst,
  always: partial,
});

export const MoveFolder = defineRop({
  id: RopId.MoveFolder,
  doc: DOC,
  handles: 'srcdst',
  req: { wantAsynchronous: bool, useUnicode: bool, folderId: u64, newFolderName: strBy('useUnicode') },
  fail: dst,
  always: partial,
});

export const CopyFolder = defineRop({
  id: RopId.CopyFolder,
  doc: DOC,
  handles: 'srcdst',
  req: { wantAsynchronous: bool, wantRecursive: bool, useUnicode: bool, folderId: u64, newFolderName: strBy('useUnicode') },
  fail: dst,
  always: partial,
});

export const EmptyFolder = defineRop({ id: RopId.EmptyFolder, doc: DOC, handles: 'in', req: { wantAsynchronous: bool, wantDeleteAssociated: bool }, always: partial });

export const HardDeleteMessagesAndSubfolders = defineRop({
  id: RopId.HardDeleteMessagesAndSubfolders,
  doc: DOC,
  handles: 'in',
  req: { wantAsynchronous: bool, wantDeleteAssociated: bool },
  always: partial,
});

export const DeleteMessages = defineRop({
  id: RopId.DeleteMessages,
  doc: DOC,
  handles: 'in',
  req: { wantAsynchronous: bool, notifyNonRead: bool, messageIds: ids64 },
  always: partial,
});

export const HardDeleteMessages = defineRop({
  id: RopId.HardDeleteMessages,
  doc: DOC,
  handles: 'in',
  req: { wantAsynchronous: bool, notifyNonRead: bool, messageIds: ids64 },
  always: partial,
});

export const GetHierarchyTable = defineRop({ id: RopId.GetHierarchyTable, doc: DOC, handles: 'io', req: { tableFlags: u8 }, ok: { rowCount: u32 } });

export const GetContentsTable = defineRop({ id: RopId.GetContentsTable, doc: DOC, handles: 'io', req: { tableFlags: u8 }, ok: { rowCount: u32 } });

export const ROPS = [
  OpenFolder, CreateFolder, DeleteFolder, SetSearchCriteria, GetSearchCriteria, MoveCopyMessages, MoveFolder, CopyFolder, EmptyFolder,
  HardDeleteMessagesAndSubfolders, DeleteMessages, HardDeleteMessages, GetHierarchyTable, GetContentsTable,
] as const;

