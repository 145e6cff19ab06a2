/**
 * Folder permissions (MS-OXCPERM) through real sessions: Alice gives Bob Reviewer rights on her
 * Calendar with RopModifyPermissions; Bob logs on to her mailbox (no directory grant: 'acl'
 * access), reads the Calendar, cannot change or create messages there nor open her Inbox; without
 * any right his logon answers ecLoginPerm; the Default entry applies to everyone; the permissions
 * table lists Default, Bob and Anonymous; only who administers a folder changes its list.
 */
import test from 'ava';
import { pushConnectRequest, pushExecuteRequest } from '../../../../protocols/mapi/emsmdb/bodies.js';
import type { EmsmdbSession } from '../../../../protocols/mapi/emsmdb/emsmdb-service.js';
import { Ec, RopId } from '../../../../protocols/mapi/rops/ids.js';
import type { PropertyRow } from '../../../../protocols/mapi/wire/prop-values.js';
import { addressBookEntryId } from '../../../../storage/address-ids.js';
import { encodePropBag } from '../../../../storage/prop-bag.js';
import { Tag } from '../../../../storage/prop-tags.js';
import * as client from '../../../fixtures/mapi-client/emsmdb.js';
import type { AnyRopRequest, AnyRopResponse } from '../../../fixtures/mapi-client/emsmdb.js';
import { NO_HANDLE, startMapiSession, type MapiSession } from '../../../fixtures/mapi-session.js';

const MEMBER_ID = 0x66710014;
const MEMBER_NAME = 0x6672001f;
const MEMBER_RIGHTS = 0x66730003;
const ENTRY_ID = 0x0fff0102;
const REVIEWER = 0x401; // ReadAny | FolderVisible
const ANONYMOUS = 0xffff_ffff_ffff_ffffn;

type Exec = (rops: readonly object[], handles: readonly number[]) => Promise<{ responses: AnyRopResponse[]; handles: number[] }>;

/** Bob's own MAPI session (the fixture's sessions are Alice's). */
function bobSession(m: MapiSession, id: string): Exec {
  const r = m.svc.connect(pushConnectRequest({ userDn: m.bob.legacyDn, flags: 0, defaultCodePage: 1252, lcidSort: 1033, lcidString: 1033, aux: new Uint8Array(0) }), m.bob, id);
  if (r.session === null) throw new Error('connect failed');
  const s: EmsmdbSession = r.session;
  return async (rops, handles) => {
    const reqs = rops as AnyRopRequest[];
    const body = pushExecuteRequest({ flags: 0, ropBuffer: client.buildExecuteRopBuffer(reqs, handles), maxRopOut: 0x10008, aux: new Uint8Array(0) });
    const resp = client.decodeExecuteResponse(await m.svc.execute(body, s));
    if (!resp.ok || resp.errorCode !== 0) throw new Error(`Execute failed: ${JSON.stringify(resp)}`);
    const d = client.decodeExecuteRops(resp, reqs);
    return { responses: d.responses, handles: d.handles };
  };
}

const logonTo = (essdn: string) => ({ ropId: RopId.Logon, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 0, logonFlags: 1, openFlags: 0x01000000, storeState: 0, essdn });
const open = (folderId: bigint, out = 1, input = 0) => ({ ropId: RopId.OpenFolder, logonId: 0, inputHandleIndex: input, outputHandleIndex: out, folderId, openModeFlags: 0 });
const rowsOf = (r: AnyRopResponse): unknown[][] => ((r.ok as { rows: PropertyRow[] }).rows ?? []).map((x) => x.cells);

/** A delivered message moved into Alice's Calendar; returns the Calendar's folder id. */
async function calendarWithMessage(m: MapiSession): Promise<bigint> {
  await m.stack.sys.call(m.stack.mailbox('alice@example.test'), 'deliver', { props: encodePropBag([[Tag.PidTagMessageClass, 'IPM.Appointment'], [Tag.PidTagSubject, 'Planning']]) });
  const h = await m.exec(
    [
      open(m.logon.folders.ipmSubtree),
      { ropId: RopId.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagFolderId, Tag.PidTagDisplayName] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const cal = rowsOf(h.responses[3]!).find((c) => c[1] === 'Calendar');
  if (cal === undefined) throw new Error('no Calendar');
  const inbox = await m.exec(
    [
      open(m.logon.folders.inbox),
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 1 },
    ],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  const mid = rowsOf(inbox.responses[3]!)[0]![0] as bigint;
  const mv = await m.exec(
    [open(m.logon.folders.inbox), open(cal[0] as bigint, 2), { ropId: RopId.MoveCopyMessages, logonId: 0, inputHandleIndex: 1, destHandleIndex: 2, messageIds: [mid], wantAsynchronous: false, wantCopy: false }],
    [m.logon.handle, NO_HANDLE, NO_HANDLE],
  );
  if (mv.responses[2]!.returnValue !== 0) throw new Error('move failed');
  return cal[0] as bigint;
}

/** Alice's RopModifyPermissions on a folder. */
async function modifyPerms(m: MapiSession, folderId: bigint, modifyFlags: number, permissionsData: { dataFlags: number; propertyValues: { tag: number; value: unknown }[] }[]) {
  const r = await m.exec([open(folderId), { ropId: RopId.ModifyPermissions, logonId: 0, inputHandleIndex: 1, modifyFlags, permissionsData }], [m.logon.handle, NO_HANDLE]);
  return r.responses[1]!.returnValue;
}

async function permissionsTable(exec: Exec, logon: number, folderId: bigint, tableFlags = 0): Promise<unknown[][]> {
  const r = await exec(
    [
      open(folderId),
      { ropId: RopId.GetPermissionsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [MEMBER_ID, MEMBER_NAME, MEMBER_RIGHTS, ENTRY_ID] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ],
    [logon, NO_HANDLE, NO_HANDLE],
  );
  for (const x of r.responses) if (x.returnValue !== 0) throw new Error(`permissions table: 0x${x.returnValue.toString(16)}`);
  return rowsOf(r.responses[3]!);
}

test('a Reviewer on the Calendar logs on, reads the Calendar, changes and creates nothing there, and cannot open the Inbox', async (t) => {
  const m = await startMapiSession(t);
  const calendar = await calendarWithMessage(m);
  const bob = bobSession(m, 'bob-1');

  const before = await bob([logonTo(m.alice.legacyDn)], [NO_HANDLE]);
  t.is(before.responses[0]!.returnValue, Ec.ecLoginPerm, 'no folder grants Bob anything yet');

  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: addressBookEntryId(m.bob.legacyDn) }, { tag: MEMBER_RIGHTS, value: REVIEWER }] }]), 0);
  const rows = await permissionsTable(m.exec, m.logon.handle, calendar);
  t.is(rows.length, 3, 'Default, Bob, Anonymous');
  t.deepEqual(rows[0]!.slice(0, 3), [0n, '', 0]);
  t.true(typeof rows[1]![0] === 'bigint' && (rows[1]![0] as bigint) > 0n);
  t.is(rows[1]![2], REVIEWER);
  t.true(typeof rows[1]![1] === 'string' && (rows[1]![1] as string).length > 0, 'a member name');
  t.deepEqual(Buffer.from(rows[1]![3] as Uint8Array), addressBookEntryId(m.bob.legacyDn), 'the member as an address-book entry id');
  t.is(BigInt.asUintN(64, rows[2]![0] as bigint), ANONYMOUS);
  t.deepEqual(rows[2]!.slice(1, 3), ['Anonymous', 0]);

  const lr = await bob([logonTo(m.alice.legacyDn)], [NO_HANDLE]);
  t.is(lr.responses[0]!.returnValue, 0, 'rights on the Calendar alone are enough to log on');
  t.is((lr.responses[0]!.ok as { responseFlags: number }).responseFlags & 0x02, 0, 'not the owner');
  const logon = lr.handles[0]!;

  const read = await bob(
    [
      open(calendar),
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagMid, Tag.PidTagSubject] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 10 },
    ],
    [logon, NO_HANDLE, NO_HANDLE],
  );
  for (const x of read.responses) t.is(x.returnValue, 0);
  const cells = rowsOf(read.responses[3]!);
  t.deepEqual(cells.map((c) => c[1]), ['Planning']);
  const mid = cells[0]![0] as bigint;

  const msg = await bob(
    [
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 1, codePageId: 0x0fff, folderId: calendar, openModeFlags: 0x03, messageId: mid },
      { ropId: RopId.GetPropertiesSpecific, logonId: 0, inputHandleIndex: 1, propertySizeLimit: 0, wantUnicode: 1, propertyTags: [Tag.PidTagSubject] },
      { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: [{ tag: Tag.PidTagSubject, value: 'Changed' }] },
      { ropId: RopId.SaveChangesMessage, logonId: 0, inputHandleIndex: 1, responseHandleIndex: 1, saveFlags: 0x02 },
      { ropId: RopId.OpenMessage, logonId: 0, inputHandleIndex: 0, outputHandleIndex: 2, codePageId: 0x0fff, folderId: calendar, openModeFlags: 0x01, messageId: mid },
    ],
    [logon, NO_HANDLE, NO_HANDLE],
  );
  t.is(msg.responses[0]!.returnValue, 0, 'BestAccess opens read-only');
  t.is(msg.responses[1]!.returnValue, 0);
  t.is(msg.responses[2]!.returnValue, Ec.ecAccessDenied, 'a Reviewer changes nothing');
  t.is(msg.responses[3]!.returnValue, Ec.ecAccessDenied);
  t.is(msg.responses[4]!.returnValue, Ec.ecAccessDenied, 'nor opens it read-write');

  const create = await bob([open(calendar), { ropId: RopId.CreateMessage, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, codePageId: 0x0fff, folderId: calendar, associatedFlag: false }], [logon, NO_HANDLE, NO_HANDLE]);
  t.not(create.responses[1]!.returnValue, 0, 'nor creates a message');

  const del = await bob([open(calendar), { ropId: RopId.DeleteMessages, logonId: 0, inputHandleIndex: 1, wantAsynchronous: false, notifyNonRead: false, messageIds: [mid] }], [logon, NO_HANDLE]);
  t.like(del.responses[1], { returnValue: 0, always: { partialCompletion: true } }, 'nor deletes one');

  const inbox = await bob([open(m.logon.folders.inbox)], [logon, NO_HANDLE]);
  t.is(inbox.responses[0]!.returnValue, Ec.ecAccessDenied, 'the Inbox stays closed');

  const admin = await bob(
    [open(calendar), { ropId: RopId.ModifyPermissions, logonId: 0, inputHandleIndex: 1, modifyFlags: 0, permissionsData: [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: 0x7fb }] }] }],
    [logon, NO_HANDLE],
  );
  t.is(admin.responses[1]!.returnValue, Ec.ecAccessDenied, 'only who administers the folder changes its permissions');

  const props = await bob(
    [open(calendar), { ropId: RopId.SetProperties, logonId: 0, inputHandleIndex: 1, propertyValues: [{ tag: Tag.PidTagDisplayName, value: 'Mine' }] }],
    [logon, NO_HANDLE],
  );
  t.is(props.responses[1]!.returnValue, Ec.ecAccessDenied, 'folder properties need FolderOwner');

  const tree = await bob(
    [
      open(m.logon.folders.ipmSubtree),
      { ropId: RopId.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagDisplayName] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
    ],
    [logon, NO_HANDLE, NO_HANDLE],
  );
  t.is(tree.responses[0]!.returnValue, Ec.ecAccessDenied, 'the IPM subtree is not visible to him either');

  // Alice changes nothing of what she can do: she still has every right.
  const own = await m.exec([open(m.logon.folders.inbox)], [m.logon.handle, NO_HANDLE]);
  t.is(own.responses[0]!.returnValue, 0);
});

test('hierarchy tables list only the folders an ACL caller may see', async (t) => {
  const m = await startMapiSession(t);
  const calendar = await calendarWithMessage(m);
  const bob = bobSession(m, 'bob-h');
  t.is(await modifyPerms(m, m.logon.folders.ipmSubtree, 0, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: addressBookEntryId(m.bob.legacyDn) }, { tag: MEMBER_RIGHTS, value: 0x400 }] }]), 0);
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: addressBookEntryId(m.bob.legacyDn) }, { tag: MEMBER_RIGHTS, value: REVIEWER }] }]), 0);
  const lr = await bob([logonTo(m.alice.legacyDn)], [NO_HANDLE]);
  t.is(lr.responses[0]!.returnValue, 0);
  const tree = await bob(
    [
      open(m.logon.folders.ipmSubtree),
      { ropId: RopId.GetHierarchyTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
      { ropId: RopId.SetColumns, logonId: 0, inputHandleIndex: 2, setColumnsFlags: 0, propertyTags: [Tag.PidTagDisplayName] },
      { ropId: RopId.QueryRows, logonId: 0, inputHandleIndex: 2, queryRowsFlags: 0, forwardRead: true, rowCount: 50 },
      { ropId: RopId.GetContentsTable, logonId: 0, inputHandleIndex: 1, outputHandleIndex: 2, tableFlags: 0 },
    ],
    [lr.handles[0]!, NO_HANDLE, NO_HANDLE],
  );
  t.is(tree.responses[0]!.returnValue, 0, 'FolderVisible opens the folder');
  t.deepEqual(rowsOf(tree.responses[3]!).map((c) => c[0]), ['Calendar']);
  t.is(tree.responses[4]!.returnValue, Ec.ecAccessDenied, 'FolderVisible alone does not list contents');
});

test('the Default entry applies to everyone without their own; removing entries takes the logon away again', async (t) => {
  const m = await startMapiSession(t);
  const calendar = await calendarWithMessage(m);
  const bob = bobSession(m, 'bob-2');
  // Default: Reviewer on the Inbox; Bob: an entry of his own on the Calendar with no rights.
  t.is(await modifyPerms(m, m.logon.folders.inbox, 0, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: REVIEWER }] }]), 0);
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: addressBookEntryId(m.bob.legacyDn) }, { tag: MEMBER_RIGHTS, value: 0 }] }]), 0);
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: REVIEWER }] }]), 0);
  const lr = await bob([logonTo(m.alice.legacyDn)], [NO_HANDLE]);
  t.is(lr.responses[0]!.returnValue, 0, 'the Default entry lets him log on');
  const logon = lr.handles[0]!;
  const r = await bob([open(m.logon.folders.inbox), open(calendar, 2)], [logon, NO_HANDLE, NO_HANDLE]);
  t.is(r.responses[0]!.returnValue, 0, 'Default rights on the Inbox');
  t.is(r.responses[1]!.returnValue, Ec.ecAccessDenied, 'his own entry (no rights) wins over Default on the Calendar');

  const rows = await permissionsTable(m.exec, m.logon.handle, calendar);
  t.deepEqual(rows.map((c) => c[2]), [REVIEWER, 0, 0]);
  const bobId = rows[1]![0] as bigint;

  // Remove Bob's entry and reset Default on both folders: no right anywhere, no logon.
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x04, propertyValues: [{ tag: MEMBER_ID, value: bobId }] }, { dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: 0 }] }]), 0);
  t.is(await modifyPerms(m, m.logon.folders.inbox, 0, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: 0 }] }]), 0);
  t.is((await permissionsTable(m.exec, m.logon.handle, calendar)).length, 2, 'Default and Anonymous only');
  const again = await bobSession(m, 'bob-3')([logonTo(m.alice.legacyDn)], [NO_HANDLE]);
  t.is(again.responses[0]!.returnValue, Ec.ecLoginPerm);
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x04, propertyValues: [{ tag: MEMBER_ID, value: 12345n }] }]), Ec.ecNotFound, 'an unknown member');
});

test('free/busy bits show and change only with IncludeFreeBusy; ReplaceRows keeps Default', async (t) => {
  const m = await startMapiSession(t);
  const calendar = await calendarWithMessage(m);
  const bobEid = addressBookEntryId(m.bob.legacyDn);
  t.is(await modifyPerms(m, calendar, 0x02, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: bobEid }, { tag: MEMBER_RIGHTS, value: REVIEWER | 0x1800 }] }]), 0);
  t.is(await modifyPerms(m, calendar, 0x02, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: 0x800 }] }]), 0);
  t.deepEqual((await permissionsTable(m.exec, m.logon.handle, calendar, 0x02)).map((c) => c[2]), [0x800, REVIEWER | 0x1800, 0]);
  t.deepEqual((await permissionsTable(m.exec, m.logon.handle, calendar)).map((c) => c[2]), [0, REVIEWER, 0], 'without IncludeFreeBusy the bits are hidden');
  // A change without IncludeFreeBusy leaves the stored free/busy bits alone.
  const bobId = (await permissionsTable(m.exec, m.logon.handle, calendar))[1]![0] as bigint;
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: bobId }, { tag: MEMBER_RIGHTS, value: 0x1 }] }]), 0);
  t.deepEqual((await permissionsTable(m.exec, m.logon.handle, calendar, 0x02)).map((c) => c[2]), [0x800, 0x1 | 0x1800, 0]);
  // Free/busy alone does not let Bob log on.
  t.is(await modifyPerms(m, calendar, 0x02, [{ dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: bobId }, { tag: MEMBER_RIGHTS, value: 0x1800 }] }, { dataFlags: 0x02, propertyValues: [{ tag: MEMBER_ID, value: 0n }, { tag: MEMBER_RIGHTS, value: 0x800 }] }]), 0);
  t.is((await bobSession(m, 'bob-fb')([logonTo(m.alice.legacyDn)], [NO_HANDLE])).responses[0]!.returnValue, Ec.ecLoginPerm);
  // ReplaceRows: the list becomes the rows given, Default kept.
  const carol = await m.stack.addUser('carol@example.test', 'pw', 'Carol');
  t.is(await modifyPerms(m, calendar, 0x01, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: addressBookEntryId(carol.legacyDn) }, { tag: MEMBER_RIGHTS, value: REVIEWER }] }]), 0);
  const rows = await permissionsTable(m.exec, m.logon.handle, calendar, 0x02);
  t.is(rows.length, 3);
  t.deepEqual(Buffer.from(rows[1]![3] as Uint8Array), addressBookEntryId(carol.legacyDn), 'Carol replaced Bob');
  t.is(rows[0]![2], 0x800, 'Default kept');
  t.is(await modifyPerms(m, calendar, 0, [{ dataFlags: 0x01, propertyValues: [{ tag: ENTRY_ID, value: new Uint8Array([1, 2, 3]) }, { tag: MEMBER_RIGHTS, value: 1 }] }]), Ec.ecInvalidParam, 'not an address-book entry id');
});
