/**
 * Folder ROPs (MS-OXCFOLD 3.2.5) on logon and folder objects: open, create, delete, move and copy
 * folders, empty them, move / copy / delete their messages, open their hierarchy and contents
 * tables, and search folder criteria. Folder and message ids on the wire are 64-bit ids of this
 * mailbox (replica 1); the actor's ops take GLOBCNTs.
 *
 * Nothing here runs asynchronously (WantAsynchronous is ignored: every operation completes
 * within its ROP). Messages shown by a search folder live in other folders: deleting or moving
 * them through the search folder acts on each in its own folder.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { actorError } from '../../../runtime/errors.js';
import { eidGlobcnt, eidReplid, makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { encodePropBag } from '../../../storage/prop-bag.js';
import { FolderType, Tag } from '../../../storage/prop-tags.js';
import { fromWireRestriction, toWireRestriction, type Restriction } from '../../../storage/restriction.js';
import { SearchState } from '../../../storage/search-folders.js';
import type { HandlerCtx, HandlerTable, RopHandler, RopOutcome } from './rop-run.js';
import type { FolderObject, TableObject } from './rop-session.js';
import { localRowCount, storeRestriction, TableFlags } from './table-rops.js';
import { deletable, hasAny, mustHave } from './perm-rops.js';
import { Rights } from './rop-session.js';
import { hasRulesIn } from './rule-rops.js';

/** ecDuplicateName (MS-OXCDATA 2.4: the value of ecCollision). */
const ecDuplicateName = Ec.ecCollision;
/** DeleteFolderFlags (MS-OXCFOLD 2.2.1.3.1). */
export const DeleteFolderFlags = { DEL_MESSAGES: 0x01, DEL_FOLDERS: 0x04, DELETE_HARD_DELETE: 0x10 } as const;
/** SearchFlags of RopSetSearchCriteria (MS-OXCFOLD 2.2.1.4.1). */
export const SearchFlags = { STOP_SEARCH: 0x01, RESTART_SEARCH: 0x02, RECURSIVE_SEARCH: 0x04, SHALLOW_SEARCH: 0x08 } as const;

/** A folder id of this mailbox as its GLOBCNT (another replica's id names nothing here). */
function localId(id: bigint): number {
  if (eidReplid(id) !== REPLID_LOCAL || eidGlobcnt(id) === 0) throw actorError('ecNotFound', `no folder or message 0x${id.toString(16)} here`);
  return eidGlobcnt(id);
}

/** The folder behind the input handle. */
const folderOf = (h: HandlerCtx): number => (h.input.obj as FolderObject).fid;

/** The folder record, or ecNotFound. */
async function mustFolder(h: HandlerCtx, fid: number): Promise<{ parent: number; type: number }> {
  const rec = await h.env.read(({ store }) => store.folder(fid));
  if (rec === undefined) throw actorError('ecNotFound', `no folder ${fid}`);
  return rec;
}

/** The folder at the request's DestHandleIndex (srcdst ROPs), or the ecDstNullObject answer. */
function destFolder(q: Record<string, unknown>, h: HandlerCtx): number | RopOutcome {
  const idx = q.destHandleIndex as number;
  const handle = h.handles[idx];
  const e = handle === undefined ? undefined : h.session.get(handle);
  if (e === undefined || e.logonId !== h.logonId || e.obj.kind !== 'folder') return { returnValue: Ec.ecDstNullObject, fail: { destHandleIndex: idx }, always: { partialCompletion: false } };
  return e.obj.fid;
}

/** Store errors with no value in ids.ts, as their ROP answers. */
function guarded(fn: RopHandler): RopHandler {
  return async (q, h) => {
    try {
      return await fn(q, h);
    } catch (err) {
      if ((err as { code?: string }).code === 'ecDuplicateName') return { returnValue: ecDuplicateName };
      throw err;
    }
  };
}

// ------------------------------------------------------------------------------ folders

const openFolder: RopHandler = async (q, h) => {
  const fid = localId(q.folderId as bigint);
  const hasRules = await h.env.read(({ store }) => (store.folder(fid) === undefined ? undefined : hasRulesIn(store, fid)));
  if (hasRules === undefined) throw actorError('ecNotFound', `no folder ${fid}`);
  await mustHave(h, fid, Rights.FolderVisible | Rights.ReadAny | Rights.FolderOwner);
  return { output: { kind: 'folder', fid }, ok: { hasRules, isGhosted: false } };
};

const createFolder: RopHandler = async (q, h) => {
  const parent = folderOf(h);
  await mustHave(h, parent, Rights.CreateSubFolder);
  const type = q.folderType as number;
  if (type !== FolderType.FOLDER_GENERIC && type !== FolderType.FOLDER_SEARCH) throw actorError('ecInvalidParam', `folder type ${type}`);
  const name = q.displayName as string;
  const r = await h.env.op('createFolder', { parent, name, openIfExists: q.openExisting as boolean, searchFolder: type === FolderType.FOLDER_SEARCH });
  const comment = q.comment as string;
  if (!r.existed && comment !== '') await h.env.op('setFolderProps', { folder: r.id, props: encodePropBag(new Map([[Tag.PidTagComment, comment]])) });
  return {
    output: { kind: 'folder', fid: r.id },
    ok: { folderId: makeEid(REPLID_LOCAL, r.id), isExistingFolder: r.existed, hasRules: false, isGhosted: false },
  };
};

const deleteFolder: RopHandler = async (q, h) => {
  const parent = folderOf(h);
  const fid = localId(q.folderId as bigint);
  const rec = await mustFolder(h, fid);
  if (rec.parent !== parent) throw actorError('ecNotFound', `folder ${fid} is not a subfolder of ${parent}`);
  await mustHave(h, fid, Rights.FolderOwner);
  const flags = q.deleteFolderFlags as number;
  try {
    await h.env.op('deleteFolder', {
      folder: fid,
      messages: (flags & DeleteFolderFlags.DEL_MESSAGES) !== 0,
      folders: (flags & DeleteFolderFlags.DEL_FOLDERS) !== 0,
      hard: (flags & DeleteFolderFlags.DELETE_HARD_DELETE) !== 0,
    });
  } catch (err) {
    // Not empty and not asked to delete what it holds: nothing deleted, said so (MS-OXCFOLD 2.2.1.3.2).
    const code = (err as { code?: string }).code;
    if (code === 'ecHasFolders' || code === 'ecHasMessages') return { ok: {}, always: { partialCompletion: true } };
    throw err;
  }
  return { ok: {}, always: { partialCompletion: false } };
};

const moveOrCopyFolder =
  (copy: boolean): RopHandler =>
  async (q, h) => {
    const src = folderOf(h);
    const dst = destFolder(q, h);
    if (typeof dst !== 'number') return dst;
    const fid = localId(q.folderId as bigint);
    const rec = await mustFolder(h, fid);
    if (rec.parent !== src) throw actorError('ecNotFound', `folder ${fid} is not a subfolder of ${src}`);
    await mustHave(h, dst, Rights.CreateSubFolder);
    await mustHave(h, fid, copy ? Rights.ReadAny : Rights.FolderOwner);
    const name = q.newFolderName as string;
    if (copy) await h.env.op('copyFolder', { folder: fid, parent: dst, name: name === '' ? undefined : name, recursive: q.wantRecursive as boolean });
    else await h.env.op('moveFolder', { folder: fid, parent: dst, name: name === '' ? undefined : name });
    return { ok: {}, always: { partialCompletion: false } };
  };

const emptyFolder =
  (hard: boolean): RopHandler =>
  async (q, h) => {
    const fid = folderOf(h);
    await mustHave(h, fid, Rights.DeleteAny);
    await h.env.op('emptyFolder', { folder: fid, associated: q.wantDeleteAssociated as boolean, hard });
    return { ok: {}, always: { partialCompletion: false } };
  };

// ------------------------------------------------------------------------------ messages

const hasReadAny = (h: HandlerCtx, fid: number): Promise<boolean> => hasAny(h, fid, Rights.ReadAny);

/**
 * The asked messages grouped by the folder that holds them: those of `folder` itself, or for a
 * search folder, its matches wherever they are. `missing` counts ids that name nothing there.
 */
async function messagesByFolder(h: HandlerCtx, folder: number, ids: readonly bigint[]): Promise<{ groups: Map<number, number[]>; missing: number }> {
  return h.env.read(({ store, msgs }) => {
    const search = store.folder(folder)?.type === FolderType.FOLDER_SEARCH;
    const matches = search ? new Set(msgs.searches.results(folder)) : null;
    const groups = new Map<number, number[]>();
    let missing = 0;
    for (const id of ids) {
      const mid = eidReplid(id) === REPLID_LOCAL ? eidGlobcnt(id) : 0;
      const rec = mid === 0 ? undefined : msgs.message(mid);
      if (rec === undefined || (matches === null ? rec.folder !== folder : !matches.has(mid))) {
        missing++;
        continue;
      }
      const g = groups.get(rec.folder);
      if (g === undefined) groups.set(rec.folder, [mid]);
      else g.push(mid);
    }
    return { groups, missing };
  });
}

const deleteMessages =
  (hard: boolean): RopHandler =>
  async (q, h) => {
    const folder = folderOf(h);
    await mustFolder(h, folder);
    const { groups, missing } = await messagesByFolder(h, folder, q.messageIds as bigint[]);
    let gone = missing;
    for (const [f, asked] of groups) {
      const mids = await deletable(h, f, asked);
      gone += asked.length - mids.length;
      if (mids.length > 0) gone += (await h.env.op('deleteMessages', { folder: f, mids, hard })).missing.length;
    }
    return { ok: {}, always: { partialCompletion: gone > 0 } };
  };

const moveCopyMessages: RopHandler = async (q, h) => {
  const src = folderOf(h);
  const dst = destFolder(q, h);
  if (typeof dst !== 'number') return dst;
  await mustFolder(h, src);
  await mustFolder(h, dst);
  await mustHave(h, dst, Rights.Create);
  const { groups, missing } = await messagesByFolder(h, src, q.messageIds as bigint[]);
  const move = !(q.wantCopy as boolean);
  let refused = 0;
  for (const [f, asked] of groups) {
    // Moving takes the right to delete there; copying, the right to read.
    const mids = move ? await deletable(h, f, asked) : (await hasReadAny(h, f)) ? asked : [];
    refused += asked.length - mids.length;
    if (mids.length > 0) await h.env.op('moveCopyMessages', { from: f, to: dst, mids, move });
  }
  return { ok: {}, always: { partialCompletion: missing + refused > 0 } };
};

// ------------------------------------------------------------------------------ tables

const table = (tableKind: TableObject['tableKind'], id: number, fid: number, flags: number, owner: number): TableObject => ({ kind: 'table', tableKind, table: id, fid, flags, columns: null, owner });

const getHierarchyTable: RopHandler = async (q, h) => {
  const fid = folderOf(h);
  await mustFolder(h, fid);
  const flags = q.tableFlags as number;
  // An ACL caller's hierarchy lists only the folders they may see: kept here, not a shared view.
  if ((flags & (TableFlags.Depth | TableFlags.SoftDeletes)) !== 0 || h.access === 'acl') {
    // Every level (PidTagDepth), or the soft-deleted subfolders: kept here over the engine.
    const o = table('hierarchy', 0, fid, flags, h.input.handle);
    return { output: o, ok: { rowCount: await localRowCount(h, o) } };
  }
  const r = await h.env.op('openTable', { session: h.session.id, folder: fid, kind: 'hierarchy' });
  return { output: table('hierarchy', r.table, fid, flags, h.input.handle), ok: { rowCount: r.rows } };
};

const getContentsTable: RopHandler = async (q, h) => {
  const fid = folderOf(h);
  await mustFolder(h, fid);
  const flags = q.tableFlags as number;
  if ((flags & TableFlags.ConversationMembers) !== 0) return { returnValue: Ec.ecNotSupported };
  await mustHave(h, fid, Rights.ReadAny);
  const kind = (flags & TableFlags.Associated) !== 0 ? 'associated' : 'contents';
  if ((flags & TableFlags.SoftDeletes) !== 0) {
    const o = table(kind, 0, fid, flags, h.input.handle);
    return { output: o, ok: { rowCount: await localRowCount(h, o) } };
  }
  const r = await h.env.op('openTable', { session: h.session.id, folder: fid, kind });
  return { output: table(kind, r.table, fid, flags, h.input.handle), ok: { rowCount: r.rows } };
};

// ------------------------------------------------------------------------------ search folders

async function mustSearchFolder(h: HandlerCtx): Promise<number> {
  const fid = folderOf(h);
  const rec = await mustFolder(h, fid);
  if (rec.type !== FolderType.FOLDER_SEARCH) throw actorError('ecNotSupported', 'not a search folder');
  return fid;
}

const setSearchCriteria: RopHandler = async (q, h) => {
  const fid = await mustSearchFolder(h);
  const flags = q.searchFlags as number;
  const prev = (await h.env.op('getSearchCriteria', { folder: fid })).criteria;
  const asked = q.restriction as Restriction | null;
  const ids = q.folderIds as bigint[];
  const scope = ids.length > 0 ? ids.map(localId) : (prev?.scope ?? []);
  // Without a restriction or folders, the search keeps the ones it had (MS-OXCFOLD 3.2.5.4).
  if (scope.length === 0) throw actorError('ecNotInitialized', 'a new search needs the folders to search');
  for (const f of scope) {
    await mustFolder(h, f);
    if (f === fid) throw actorError('ecInvalidParam', 'a search folder cannot search itself');
  }
  const restriction = asked !== null ? toWireRestriction(storeRestriction(asked)) : (prev?.restriction ?? null);
  const recursive =
    (flags & SearchFlags.RECURSIVE_SEARCH) !== 0 ? true : (flags & SearchFlags.SHALLOW_SEARCH) !== 0 ? false : (prev?.recursive ?? false);
  // STOP_SEARCH: results here are kept current by every write, so there is nothing running to stop.
  if ((flags & SearchFlags.STOP_SEARCH) !== 0 && prev !== undefined && prev !== null && asked === null && ids.length === 0) return { ok: {} };
  await h.env.op('setSearchCriteria', { folder: fid, restriction, scope, recursive });
  return { ok: {} };
};

const getSearchCriteria: RopHandler = async (q, h) => {
  const fid = await mustSearchFolder(h);
  const r = await h.env.op('getSearchCriteria', { folder: fid });
  const c = r.criteria;
  let restriction: Restriction | null = null;
  if (q.includeRestriction as boolean) restriction = c?.restriction == null ? null : fromWireRestriction(c.restriction);
  const folderIds = (q.includeFolders as boolean) && c !== null ? c.scope.map((f) => makeEid(REPLID_LOCAL, f)) : [];
  const searchFlags = c === null ? 0 : r.state | (c.recursive ? SearchState.SEARCH_RECURSIVE : 0);
  return { ok: { restriction, logonId: h.logonId, folderIds, searchFlags } };
};

export function registerFolderRops(t: HandlerTable): void {
  const on = (id: number, kinds: ('folder' | 'logon')[], fn: RopHandler) => {
    const g = guarded(fn);
    const entry = { ...(t.get(id) ?? {}) };
    for (const k of kinds) entry[k] = g;
    t.set(id, entry);
  };
  on(RopId.OpenFolder, ['logon', 'folder'], openFolder);
  on(RopId.CreateFolder, ['folder'], createFolder);
  on(RopId.DeleteFolder, ['folder'], deleteFolder);
  on(RopId.MoveFolder, ['folder'], moveOrCopyFolder(false));
  on(RopId.CopyFolder, ['folder'], moveOrCopyFolder(true));
  on(RopId.EmptyFolder, ['folder'], emptyFolder(false));
  on(RopId.HardDeleteMessagesAndSubfolders, ['folder'], emptyFolder(true));
  on(RopId.DeleteMessages, ['folder'], deleteMessages(false));
  on(RopId.HardDeleteMessages, ['folder'], deleteMessages(true));
  on(RopId.MoveCopyMessages, ['folder'], moveCopyMessages);
  on(RopId.GetHierarchyTable, ['folder'], getHierarchyTable);
  on(RopId.GetContentsTable, ['folder'], getContentsTable);
  on(RopId.SetSearchCriteria, ['folder'], setSearchCriteria);
  on(RopId.GetSearchCriteria, ['folder'], getSearchCriteria);
}
