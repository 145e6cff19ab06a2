/**
 * Folder ROPs (MS-OXCFOLD) through a real MAPI session: open, create (Unicode and 8-bit names,
 * open-if-exists, duplicates, search folders), delete with and without its flags, move / copy with
 * a good and a bad destination handle, empty, message move / copy / delete, hierarchy tables with
 * and without Depth, contents tables, and search criteria.
 */
import test from 'ava';
import { startMapiSession, NO_HANDLE, type MapiSession } from '../../../fixtures/mapi-session.js';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import { eidGlobcnt, makeEid } from '../../../../storage/ids.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';

const L = 0;
const open = (folderId: bigint, input = 0, output = 1) => ({ ropId: RopId.OpenFolder, logonId: L, inputHandleIndex: input, outputHandleIndex: output, folderId, openModeFlags: 0 });
const create = (name: string, input: number, output: number, o: { type?: number; unicode?: boolean; openExisting?: boolean; comment?: string } = {}) => ({
  ropId: RopId.CreateFolder,
  logonId: L,
  inputHandleIndex: input,
  outputHandleIndex: output,
  folderType: o.type ?? 1,
  useUnicodeStrings: o.unicode ?? true,
  openExisting: o.openExisting ?? false,
  reserved: 0,
  displayName: name,
  comment: o.comment ?? '',
});
const hierarchy = (input: number, output: number, tableFlags = 0) => ({ ropId: RopId.GetHierarchyTable, logonId: L, inputHandleIndex: input, outputHandleIndex: output, tableFlags });
const contents = (input: number, output: number, tableFlags = 0) => ({ ropId: RopId.GetContentsTable, logonId: L, inputHandleIndex: input, outputHandleIndex: output, tableFlags });
const setColumns = (input: number, propertyTags: number[]) => ({ ropId: RopId.SetColumns, logonId: L, inputHandleIndex: input, setColumnsFlags: 0, propertyTags });
const queryRows = (input: number, rowCount = 100) => ({ ropId: RopId.QueryRows, logonId: L, inputHandleIndex: input, queryRowsFlags: 0, forwardRead: true, rowCount });

type Resp = { returnValue: number; ok?: Record<string, unknown>; always?: Record<string, unknown>; fail?: Record<string, unknown> };
const H = (n: number) => Array.from({ length: n }, () => NO_HANDLE);

async function run(s: MapiSession, rops: object[], handles: number[]) {
  const r = await s.exec(rops, handles);
  return { responses: r.responses as unknown as Resp[], handles: r.handles };
}

/** Opens a folder into handle slot 1 (slot 0: the logon). */
async function openInto(s: MapiSession, id: bigint): Promise<number[]> {
  const r = await run(s, [open(id)], [s.logon.handle, NO_HANDLE]);
  if (r.responses[0]!.returnValue !== 0) throw new Error(`open failed 0x${r.responses[0]!.returnValue.toString(16)}`);
  return r.handles;
}

/** Names of the rows of a folder's hierarchy table (optionally with Depth). */
async function subfolders(s: MapiSession, id: bigint, flags = 0): Promise<{ count: number; rows: unknown[][] }> {
  const h = await openInto(s, id);
  const r = await run(s, [hierarchy(1, 2, flags), setColumns(2, [Tag.PidTagDisplayName, 0x30050003, Tag.PidTagComment]), queryRows(2)], [...h, NO_HANDLE]);
  const rows = (r.responses[2]!.ok!.rows as PropertyRow[]).map((x) => x.cells.map((c) => (typeof c === 'object' && c !== null && 'error' in c ? `err:${(c as { error: number }).error.toString(16)}` : c)));
  return { count: r.responses[0]!.ok!.rowCount as number, rows };
}

test('RopOpenFolder opens from the logon and from a folder; a missing folder, another replica and a bad handle are refused', async (t) => {
  const s = await startMapiSession(t);
  const f = s.logon.folders;
  const r = await run(s, [open(f.inbox), open(f.root, 1, 2), open(makeEid(1, 0xfffff)), open(makeEid(7, eidGlobcnt(f.inbox)), 0, 3), open(f.inbox, 5, 4)], [s.logon.handle, ...H(5)]);
  t.is(r.responses[0]!.returnValue, 0);
  t.like(r.responses[0]!.ok!, { hasRules: false, isGhosted: false });
  t.not(r.handles[1], NO_HANDLE);
  t.is(r.responses[1]!.returnValue, 0, 'a folder opens through another folder object');
  t.not(r.handles[2], NO_HANDLE);
  t.is(r.responses[2]!.returnValue, Ec.ecNotFound);
  t.is(r.responses[3]!.returnValue, Ec.ecNotFound, 'a folder id of another replica');
  t.is(r.responses[4]!.returnValue, Ec.ecNullObject, 'an empty handle slot');
  t.is(r.handles[3], NO_HANDLE);
});

test('RopCreateFolder: Unicode and 8-bit names, comment, open-if-exists, duplicate names, search folders, bad types and input kinds', async (t) => {
  const s = await startMapiSession(t);
  const h = await openInto(s, s.logon.folders.inbox);
  const r = await run(
    s,
    [
      create('Projets été', 1, 2, { comment: 'Ünïcode comment' }),
      create('Plain', 1, 3, { unicode: false, comment: 'ascii' }),
      create('projets été', 1, 4),
      create('Projets été', 1, 4, { openExisting: true }),
      create('Bad', 1, 5, { type: 3 }),
      create('On logon', 0, 5),
      create('', 1, 5),
    ],
    [...h, ...H(4)],
  );
  const [made, plain, dup, existing, badType, onLogon, empty] = r.responses;
  t.is(made!.returnValue, 0);
  t.is(made!.ok!.isExistingFolder, false);
  t.not(r.handles[2], NO_HANDLE);
  t.is(plain!.returnValue, 0);
  t.is(dup!.returnValue, 0x80040604, 'ecDuplicateName (names compare without case)');
  t.is(existing!.returnValue, 0);
  t.like(existing!.ok!, { isExistingFolder: true, folderId: made!.ok!.folderId, hasRules: false, isGhosted: false });
  t.is(badType!.returnValue, Ec.ecInvalidParam);
  t.is(onLogon!.returnValue, Ec.ecNotSupported, 'RopCreateFolder takes a folder, not the logon');
  t.is(empty!.returnValue, Ec.ecInvalidParam);
  const sub = await subfolders(s, s.logon.folders.inbox);
  t.is(sub.count, 2);
  t.deepEqual(sub.rows, [
    ['Plain', 0, 'ascii'],
    ['Projets été', 0, 'Ünïcode comment'],
  ]);
  // A search folder, under the search root.
  const f = await openInto(s, s.logon.folders.finder);
  const sr = await run(s, [create('Unread', 1, 2, { type: 2 })], [...f, NO_HANDLE]);
  t.is(sr.responses[0]!.returnValue, 0);
  const g = await run(s, [{ ropId: RopId.GetSearchCriteria, logonId: L, inputHandleIndex: 2, useUnicode: true, includeRestriction: true, includeFolders: true }], sr.handles);
  t.is(g.responses[0]!.returnValue, 0, 'a search folder answers its (empty) criteria');
  t.deepEqual(g.responses[0]!.ok!.folderIds, []);
});

test('RopDeleteFolder: refused while not empty without its flags (PartialCompletion), deletes with them; special folders and strangers refused', async (t) => {
  const s = await startMapiSession(t);
  const h = await openInto(s, s.logon.folders.inbox);
  const c = await run(s, [create('Parent', 1, 2), create('Child', 2, 3)], [...h, NO_HANDLE, NO_HANDLE]);
  const parent = c.responses[0]!.ok!.folderId as bigint;
  const del = (folderId: bigint, flags: number, input = 1) => ({ ropId: RopId.DeleteFolder, logonId: L, inputHandleIndex: input, deleteFolderFlags: flags, folderId });
  const r = await run(s, [del(parent, 0), del(parent, 0x01), del(s.logon.folders.sentItems, 0x05), del(s.logon.folders.sentItems, 0x05, 0), del(makeEid(1, 0xfffff), 0x05)], c.handles);
  t.is(r.responses[0]!.returnValue, 0);
  t.is(r.responses[0]!.always!.partialCompletion, true, 'has a subfolder and DEL_FOLDERS was not set');
  t.is(r.responses[1]!.always!.partialCompletion, true);
  t.is(r.responses[2]!.returnValue, Ec.ecNotFound, 'Sent Items is not a subfolder of the Inbox');
  t.is(r.responses[3]!.returnValue, Ec.ecNotSupported, 'RopDeleteFolder takes the parent folder');
  t.is(r.responses[4]!.returnValue, Ec.ecNotFound);
  t.is((await subfolders(s, s.logon.folders.inbox)).count, 1);
  const d = await run(s, [del(parent, 0x01 | 0x04 | 0x10)], c.handles);
  t.is(d.responses[0]!.returnValue, 0);
  t.is(d.responses[0]!.always!.partialCompletion, false);
  t.is((await subfolders(s, s.logon.folders.inbox)).count, 0);
  t.is((await run(s, [open(parent)], [s.logon.handle, NO_HANDLE])).responses[0]!.returnValue, Ec.ecNotFound, 'gone');
  // Special folders stay.
  const root = await openInto(s, s.logon.folders.ipmSubtree);
  t.is((await run(s, [del(s.logon.folders.inbox, 0x05)], root)).responses[0]!.returnValue, Ec.ecAccessDenied);
});

test('RopMoveFolder / RopCopyFolder: renamed, recursive copies, a bad destination handle answers ecDstNullObject with its index', async (t) => {
  const s = await startMapiSession(t);
  const h = await openInto(s, s.logon.folders.inbox);
  const c = await run(s, [create('Box', 1, 2), create('Inner', 2, 3), open(s.logon.folders.ipmSubtree, 0, 4)], [...h, NO_HANDLE, NO_HANDLE, NO_HANDLE]);
  const box = c.responses[0]!.ok!.folderId as bigint;
  const mv = (ropId: number, dest: number, name: string, extra: object = {}) => ({ ropId, logonId: L, inputHandleIndex: 1, destHandleIndex: dest, wantAsynchronous: false, useUnicode: true, folderId: box, newFolderName: name, ...extra });
  const r = await run(
    s,
    [mv(RopId.CopyFolder, 4, 'Box copy', { wantRecursive: true }), mv(RopId.CopyFolder, 7, 'x', { wantRecursive: false }), mv(RopId.MoveFolder, 3, 'Loop'), mv(RopId.MoveFolder, 0, 'x'), mv(RopId.MoveFolder, 4, 'Moved box')],
    [...c.handles, NO_HANDLE, NO_HANDLE, NO_HANDLE],
  );
  t.is(r.responses[0]!.returnValue, 0);
  t.is(r.responses[0]!.always!.partialCompletion, false);
  t.is(r.responses[1]!.returnValue, Ec.ecDstNullObject);
  t.is(r.responses[1]!.fail!.destHandleIndex, 7);
  t.is(r.responses[2]!.returnValue, Ec.ecInvalidParam, 'into its own subfolder');
  t.is(r.responses[3]!.returnValue, Ec.ecDstNullObject, 'the logon is not a folder');
  t.is(r.responses[4]!.returnValue, 0);
  t.is((await subfolders(s, s.logon.folders.inbox)).count, 0, 'moved away');
  const top = await subfolders(s, s.logon.folders.ipmSubtree, 0x04);
  const names = top.rows.map((x) => `${x[1]}:${x[0]}`);
  t.true(names.includes('0:Box copy') && names.includes('1:Inner') && names.includes('0:Moved box'), names.join(', '));
  t.is(names.filter((n) => n === '1:Inner').length, 2, 'the copy is recursive; the move kept its subfolder');
  t.is(top.count, top.rows.length);
});

async function seed(s: MapiSession, folder: bigint, subjects: string[]): Promise<bigint[]> {
  const a = s.stack.mailbox(s.alice.address);
  const out: bigint[] = [];
  for (const subject of subjects) out.push(makeEid(1, (await s.stack.sys.call(a, 'createMessage', { folder: eidGlobcnt(folder), props: encodePropBag([[Tag.PidTagSubject, subject]]) })).mid));
  return out;
}

async function subjects(s: MapiSession, folder: bigint, flags = 0): Promise<{ count: number; names: string[] }> {
  const h = await openInto(s, folder);
  const r = await run(s, [contents(1, 2, flags), setColumns(2, [Tag.PidTagSubject]), queryRows(2)], [...h, NO_HANDLE]);
  t0(r.responses[0]!.returnValue);
  return { count: r.responses[0]!.ok!.rowCount as number, names: (r.responses[2]!.ok!.rows as PropertyRow[]).map((x) => x.cells[0] as string).sort() };
}
const t0 = (rv: number) => {
  if (rv !== 0) throw new Error(`ROP failed 0x${rv.toString(16)}`);
};

test('RopMoveCopyMessages, RopDeleteMessages, RopHardDeleteMessages, RopEmptyFolder: PartialCompletion for ids that name nothing', async (t) => {
  const s = await startMapiSession(t);
  const f = s.logon.folders;
  const ids = await seed(s, f.inbox, ['a', 'b', 'c', 'd']);
  const h = await openInto(s, f.inbox);
  const r = await run(
    s,
    [
      open(f.deletedItems, 0, 2),
      { ropId: RopId.MoveCopyMessages, logonId: L, inputHandleIndex: 1, destHandleIndex: 2, messageIds: [ids[0]!], wantAsynchronous: false, wantCopy: true },
      { ropId: RopId.MoveCopyMessages, logonId: L, inputHandleIndex: 1, destHandleIndex: 2, messageIds: [ids[1]!, makeEid(1, 0xfffff)], wantAsynchronous: false, wantCopy: false },
      { ropId: RopId.MoveCopyMessages, logonId: L, inputHandleIndex: 1, destHandleIndex: 9, messageIds: [ids[2]!], wantAsynchronous: false, wantCopy: false },
      { ropId: RopId.DeleteMessages, logonId: L, inputHandleIndex: 1, wantAsynchronous: false, notifyNonRead: true, messageIds: [ids[2]!] },
      { ropId: RopId.HardDeleteMessages, logonId: L, inputHandleIndex: 1, wantAsynchronous: false, notifyNonRead: false, messageIds: [ids[3]!, ids[2]!] },
    ],
    [...h, NO_HANDLE],
  );
  t.deepEqual(r.responses.map((x) => x.returnValue), [0, 0, 0, Ec.ecDstNullObject, 0, 0]);
  t.deepEqual(r.responses.slice(1).map((x) => x.always?.partialCompletion ?? null), [false, true, false, false, true]);
  t.is(r.responses[3]!.fail!.destHandleIndex, 9);
  t.deepEqual(await subjects(s, f.inbox), { count: 1, names: ['a'] });
  t.deepEqual(await subjects(s, f.deletedItems), { count: 2, names: ['a', 'b'] });
  // Soft-deleted messages show in a SoftDeletes contents table.
  t.deepEqual((await subjects(s, f.inbox, 0x20)).names, ['c']);
  // RopEmptyFolder: messages and subfolders go, the folder stays.
  const e = await openInto(s, f.deletedItems);
  const c = await run(s, [create('Sub', 1, 2), { ropId: RopId.EmptyFolder, logonId: L, inputHandleIndex: 1, wantAsynchronous: false, wantDeleteAssociated: false }], [...e, NO_HANDLE]);
  t.is(c.responses[1]!.returnValue, 0);
  t.is(c.responses[1]!.always!.partialCompletion, false);
  t.deepEqual(await subjects(s, f.deletedItems), { count: 0, names: [] });
  t.is((await subfolders(s, f.deletedItems)).count, 0);
  await seed(s, f.inbox, ['z']);
  const hd = await run(s, [{ ropId: RopId.HardDeleteMessagesAndSubfolders, logonId: L, inputHandleIndex: 1, wantAsynchronous: false, wantDeleteAssociated: true }], h);
  t.is(hd.responses[0]!.returnValue, 0);
  t.deepEqual(await subjects(s, f.inbox), { count: 0, names: [] });
  t.deepEqual((await subjects(s, f.inbox, 0x20)).names, ['c'], 'hard deletes are not recoverable');
});

test('RopGetHierarchyTable / RopGetContentsTable: row counts, Depth, associated tables, unsupported flags and input kinds', async (t) => {
  const s = await startMapiSession(t);
  const f = s.logon.folders;
  const h = await openInto(s, f.inbox);
  await run(s, [create('One', 1, 2), create('Two', 2, 3)], [...h, NO_HANDLE, NO_HANDLE]);
  const flat = await subfolders(s, f.inbox);
  t.deepEqual(flat.rows, [['One', 0, `err:${Ec.ecNotFound.toString(16)}`]]);
  const deep = await subfolders(s, f.inbox, 0x04);
  t.is(deep.count, 2);
  t.deepEqual(deep.rows.map((x) => [x[0], x[1]]), [['One', 0], ['Two', 1]]);
  await seed(s, f.inbox, ['m1', 'm2']);
  const a = s.stack.mailbox(s.alice.address);
  await s.stack.sys.call(a, 'createMessage', { folder: eidGlobcnt(f.inbox), assoc: true, props: encodePropBag([[Tag.PidTagSubject, 'fai']]) });
  t.deepEqual(await subjects(s, f.inbox), { count: 2, names: ['m1', 'm2'] });
  t.deepEqual(await subjects(s, f.inbox, 0x02), { count: 1, names: ['fai'] });
  const r = await run(s, [contents(1, 2, 0x80), hierarchy(0, 2), contents(0, 2)], [...h, NO_HANDLE]);
  t.deepEqual(r.responses.map((x) => x.returnValue), [Ec.ecNotSupported, Ec.ecNotSupported, Ec.ecNotSupported]);
  t.is(r.handles[2], NO_HANDLE);
});

test('RopSetSearchCriteria / RopGetSearchCriteria: restriction, scope, recursion; not on generic folders', async (t) => {
  const s = await startMapiSession(t);
  const f = s.logon.folders;
  await seed(s, f.inbox, ['report Q1', 'lunch']);
  await seed(s, f.sentItems, ['report Q2']);
  const h = await openInto(s, f.finder);
  const c = await run(s, [create('Reports', 1, 2, { type: 2 }), open(f.inbox, 0, 3)], [...h, NO_HANDLE, NO_HANDLE]);
  const restriction = { type: 'content', fuzzy: 0x00010001, tag: 0x0037001e, value: 'report' };
  const r = await run(
    s,
    [
      { ropId: RopId.SetSearchCriteria, logonId: L, inputHandleIndex: 2, restriction, folderIds: [f.ipmSubtree], searchFlags: 0x04 },
      { ropId: RopId.GetSearchCriteria, logonId: L, inputHandleIndex: 2, useUnicode: true, includeRestriction: true, includeFolders: true },
      { ropId: RopId.SetSearchCriteria, logonId: L, inputHandleIndex: 3, restriction, folderIds: [f.inbox], searchFlags: 0 },
      { ropId: RopId.SetSearchCriteria, logonId: L, inputHandleIndex: 2, restriction: null, folderIds: [makeEid(1, 0xfffff)], searchFlags: 0 },
      contents(2, 4),
      setColumns(4, [Tag.PidTagSubject]),
      queryRows(4),
    ],
    [...c.handles, NO_HANDLE],
  );
  t.deepEqual(r.responses.map((x) => x.returnValue), [0, 0, Ec.ecNotSupported, Ec.ecNotFound, 0, 0, 0]);
  const g = r.responses[1]!.ok!;
  t.deepEqual(g.folderIds, [f.ipmSubtree]);
  t.is(g.logonId, 0);
  t.truthy((g.searchFlags as number) & 0x04, 'recursive');
  t.like(g.restriction as object, { type: 'content', value: 'report' });
  t.is(r.responses[4]!.ok!.rowCount, 2);
  t.deepEqual((r.responses[6]!.ok!.rows as PropertyRow[]).map((x) => x.cells[0]).sort(), ['report Q1', 'report Q2'], 'an 8-bit restriction matches the stored Unicode subject');
  // Messages shown by the search folder are deleted in their own folders.
  const rows = await run(s, [contents(2, 4), setColumns(4, [Tag.PidTagMid]), queryRows(4)], [...c.handles, NO_HANDLE]);
  const mids = (rows.responses[2]!.ok!.rows as PropertyRow[]).map((x) => x.cells[0] as bigint);
  const d = await run(s, [{ ropId: RopId.DeleteMessages, logonId: L, inputHandleIndex: 2, wantAsynchronous: false, notifyNonRead: false, messageIds: mids }], c.handles);
  t.is(d.responses[0]!.always!.partialCompletion, false);
  t.deepEqual((await subjects(s, f.inbox)).names, ['lunch']);
  t.deepEqual((await subjects(s, f.sentItems)).names, []);
});
