/**
 * Folder permissions (MS-OXCPERM): RopGetPermissionsTable and RopModifyPermissions on folder
 * objects, the permissions table's rows, and the rights checks the other handlers call.
 *
 * The list names members by their address-book entry id (PidTagEntryId); the mailbox keeps the
 * legacy DN inside it (storage/folder-acl.ts) and matches the caller of a session by the legacy DN
 * the door authenticated. Default (member id 0) and Anonymous (0xFFFFFFFFFFFFFFFF) are always in
 * the table. Only who may administer the folder changes it: the owner, a full-access delegate, or
 * a member with FolderOwner. Free/busy bits appear and change only when the ROP's flags ask.
 *
 * Rights apply to logons with 'acl' access (someone else's mailbox without a directory grant);
 * owners and full-access delegates pass every check without a read.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import type { TaggedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { actorError } from '../../../runtime/errors.js';
import { addressBookEntryId, parseAddressId } from '../../../storage/address-ids.js';
import { ANONYMOUS_MEMBER, DEFAULT_MEMBER, FolderAcl, FREE_BUSY_RIGHTS, type AclEntry } from '../../../storage/folder-acl.js';
import type { MailboxStore } from '../../../storage/mailbox-store.js';
import { decodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { PropType, propId, propTag } from '../../../storage/prop-types.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';
import { Rights, type FolderObject, type LogonAccess, type TableObject } from './rop-session.js';

export const PermTag = {
  PidTagEntryId: propTag(0x0fff, PropType.PtypBinary),
  PidTagMemberId: propTag(0x6671, PropType.PtypInteger64),
  PidTagMemberName: propTag(0x6672, PropType.PtypString),
  PidTagMemberRights: propTag(0x6673, PropType.PtypInteger32),
} as const;
/** PidTagCreatorEntryId (MS-OXPROPS 2.644): who created a message ("owned" messages of MS-OXCPERM). */
export const PidTagCreatorEntryId = propTag(0x3ff9, PropType.PtypBinary);

/** TableFlags of RopGetPermissionsTable (MS-OXCPERM 2.2.1.1). */
export const PermTableFlags = { IncludeFreeBusy: 0x02 } as const;
/** ModifyFlags of RopModifyPermissions (MS-OXCPERM 2.2.2.1). */
export const ModifyPermFlags = { ReplaceRows: 0x01, IncludeFreeBusy: 0x02 } as const;
/** PermissionData DataFlags (MS-OXCROPS 2.2.10.1.1.1). */
export const PermDataFlags = { AddRow: 0x01, ModifyRow: 0x02, RemoveRow: 0x04 } as const;
/** Every defined PidTagMemberRights bit. */
const RIGHTS_MASK = 0x00001ffb;
/** Anonymous's PidTagMemberId on the wire. */
export const ANONYMOUS_WIRE_ID = 0xffff_ffff_ffff_ffffn;

// ------------------------------------------------------------------------------ checks

/** Whether the caller has at least one of `bits` on a folder (owners and full-access delegates: always). */
export async function hasAny(h: HandlerCtx, fid: number, bits: number): Promise<boolean> {
  if (h.access !== 'acl') return true;
  return ((await h.rights(fid)) & bits) !== 0;
}

/** Throws ecAccessDenied unless the caller has at least one of `bits` on the folder. */
export async function mustHave(h: HandlerCtx, fid: number, bits: number): Promise<void> {
  if (!(await hasAny(h, fid, bits))) throw actorError('ecAccessDenied', `no right 0x${bits.toString(16)} on folder ${fid}`);
}

/** A caller's rights on a folder, read inside a store read (for lists of folders). */
export function rightsIn(store: MailboxStore, access: LogonAccess, legacyDn: string, fid: number): number {
  if (access !== 'acl') return RIGHTS_MASK;
  return new FolderAcl(store.env).rightsOf(fid, legacyDn);
}

/** Whether a folder shows to the caller in hierarchy tables (FolderVisible, or anything to read). */
export function visibleIn(store: MailboxStore, access: LogonAccess, legacyDn: string, fid: number): boolean {
  return access !== 'acl' || (rightsIn(store, access, legacyDn, fid) & (Rights.FolderVisible | Rights.ReadAny | Rights.FolderOwner)) !== 0;
}

const sameDn = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();

/** Whether the caller created a stored message (its PidTagCreatorEntryId names them). */
export async function ownsMessage(h: HandlerCtx, mid: number): Promise<boolean> {
  const r = await h.env.op('getMessage', { mid, tags: [PidTagCreatorEntryId] });
  const v = decodePropBag(Buffer.from(r.props.buffer, r.props.byteOffset, r.props.byteLength)).get(PidTagCreatorEntryId);
  if (!(v instanceof Uint8Array)) return false;
  const p = parseAddressId(v);
  return p !== null && p.kind === 'address-book' && sameDn(p.x500dn, h.session.caller.legacyDn);
}

/**
 * What the caller may do with a stored message of a folder (MS-OXCPERM 2.2.7): read it (ReadAny,
 * or their own), change it (EditAny, or EditOwned on their own).
 */
export async function messageAccess(h: HandlerCtx, fid: number, mid: number): Promise<{ read: boolean; write: boolean }> {
  if (h.access !== 'acl') return { read: true, write: true };
  const r = await h.rights(fid);
  const anyRead = (r & Rights.ReadAny) !== 0;
  const anyEdit = (r & Rights.EditAny) !== 0;
  if (anyRead && anyEdit) return { read: true, write: true };
  const own = (!anyRead || !anyEdit) && (r & (Rights.EditOwned | Rights.DeleteOwned | Rights.Create)) !== 0 ? await ownsMessage(h, mid) : false;
  return { read: anyRead || own, write: anyEdit || ((r & Rights.EditOwned) !== 0 && own) };
}

/** The messages of a folder the caller may delete (DeleteAny: all; DeleteOwned: their own). */
export async function deletable(h: HandlerCtx, fid: number, mids: readonly number[]): Promise<number[]> {
  if (h.access !== 'acl') return [...mids];
  const r = await h.rights(fid);
  if ((r & Rights.DeleteAny) !== 0) return [...mids];
  if ((r & Rights.DeleteOwned) === 0) return [];
  const out: number[] = [];
  for (const mid of mids) if (await ownsMessage(h, mid)) out.push(mid);
  return out;
}

// ------------------------------------------------------------------------------ the table

/** The name shown for a member added without one: the last part of its legacy DN. */
function nameOfDn(dn: string): string {
  const m = /\/cn=([^/]*)$/i.exec(dn);
  return m === null ? dn : m[1]!;
}

/** The permissions table's rows: Default, the members, Anonymous (row ids from 1). */
export async function permissionRows(h: HandlerCtx, o: TableObject): Promise<{ order: number[]; rows: Map<number, PropMap> }> {
  const stored = await h.env.read(({ store }) => new FolderAcl(store.env).list(o.fid));
  const withFreeBusy = (o.flags & PermTableFlags.IncludeFreeBusy) !== 0;
  const find = (id: number) => stored.find((e) => e.id === id);
  const list: AclEntry[] = [
    find(DEFAULT_MEMBER) ?? { id: DEFAULT_MEMBER, dn: '', name: '', rights: 0 },
    ...stored.filter((e) => e.id > 0),
    find(ANONYMOUS_MEMBER) ?? { id: ANONYMOUS_MEMBER, dn: '', name: 'Anonymous', rights: 0 },
  ];
  const order: number[] = [];
  const rows = new Map<number, PropMap>();
  list.forEach((e, i) => {
    const p: PropMap = new Map();
    p.set(PermTag.PidTagMemberId, e.id === ANONYMOUS_MEMBER ? ANONYMOUS_WIRE_ID : BigInt(e.id));
    p.set(PermTag.PidTagMemberName, e.id === DEFAULT_MEMBER ? '' : e.id === ANONYMOUS_MEMBER ? 'Anonymous' : e.name);
    p.set(PermTag.PidTagMemberRights, withFreeBusy ? e.rights : e.rights & ~FREE_BUSY_RIGHTS);
    p.set(PermTag.PidTagEntryId, e.id > 0 ? addressBookEntryId(e.dn) : new Uint8Array(0));
    order.push(i + 1);
    rows.set(i + 1, p);
  });
  return { order, rows };
}

// ------------------------------------------------------------------------------ handlers

const folderOf = (h: HandlerCtx): number => (h.input.obj as FolderObject).fid;

/**
 * RopGetPermissionsTable / RopGetRulesTable: a table of the folder kept here (its rows read again
 * for every table ROP), for whoever may see the folder.
 */
export const folderListTable =
  (tableKind: 'permissions' | 'rules'): RopHandler =>
  async (q, h) => {
    const fid = folderOf(h);
    await mustHave(h, fid, Rights.FolderVisible | Rights.ReadAny | Rights.FolderOwner);
    const o: TableObject = { kind: 'table', tableKind, table: 0, fid, flags: q.tableFlags as number, columns: null, owner: h.input.handle };
    return { output: o };
  };

/** One change of a RopModifyPermissions request, checked before anything is written. */
type PermChange = { op: 'add'; dn: string; name: string; rights: number } | { op: 'modify'; id: number; rights: number } | { op: 'remove'; id: number };

const valueOf = (values: readonly TaggedValue[], tag: number): unknown => {
  // Strings may come as PtypString8: match the property id for PidTagMemberName.
  const v = values.find((x) => x.tag === tag || (tag === PermTag.PidTagMemberName && propId(x.tag) === propId(tag)));
  return v?.value;
};

const memberIdOf = (v: unknown): number => {
  if (typeof v !== 'bigint') throw actorError('ecInvalidParam', 'PidTagMemberId missing');
  const signed = BigInt.asIntN(64, v);
  if (signed < -1n || signed > BigInt(Number.MAX_SAFE_INTEGER)) throw actorError('ecNotFound', `member ${v}`);
  return Number(signed);
};

const rightsOf = (v: unknown): number => {
  if (typeof v !== 'number') throw actorError('ecInvalidParam', 'PidTagMemberRights missing');
  return (v >>> 0) & RIGHTS_MASK;
};

function parseChange(d: { dataFlags: number; propertyValues: TaggedValue[] }, h: HandlerCtx): PermChange {
  const vals = d.propertyValues;
  switch (d.dataFlags) {
    case PermDataFlags.AddRow: {
      const eid = valueOf(vals, PermTag.PidTagEntryId);
      const rights = rightsOf(valueOf(vals, PermTag.PidTagMemberRights));
      // The reserved entries have no entry id: an AddRow naming one by id changes it.
      if (!(eid instanceof Uint8Array) || eid.byteLength === 0) return { op: 'modify', id: memberIdOf(valueOf(vals, PermTag.PidTagMemberId)), rights };
      const p = parseAddressId(eid);
      if (p === null || p.kind !== 'address-book' || p.x500dn === '') throw actorError('ecInvalidParam', 'PidTagEntryId is not an address-book entry id');
      const given = valueOf(vals, PermTag.PidTagMemberName);
      const name = typeof given === 'string' && given !== '' ? given : sameDn(p.x500dn, h.session.caller.legacyDn) ? h.session.caller.displayName : nameOfDn(p.x500dn);
      return { op: 'add', dn: p.x500dn, name, rights };
    }
    case PermDataFlags.ModifyRow:
      return { op: 'modify', id: memberIdOf(valueOf(vals, PermTag.PidTagMemberId)), rights: rightsOf(valueOf(vals, PermTag.PidTagMemberRights)) };
    case PermDataFlags.RemoveRow:
      return { op: 'remove', id: memberIdOf(valueOf(vals, PermTag.PidTagMemberId)) };
    default:
      throw actorError('ecInvalidParam', `DataFlags 0x${d.dataFlags.toString(16)}`);
  }
}

const modifyPermissions: RopHandler = async (q, h) => {
  const fid = folderOf(h);
  await mustHave(h, fid, Rights.FolderOwner);
  const flags = q.modifyFlags as number;
  if ((flags & ~(ModifyPermFlags.ReplaceRows | ModifyPermFlags.IncludeFreeBusy)) !== 0) return { returnValue: Ec.ecInvalidParam };
  const replace = (flags & ModifyPermFlags.ReplaceRows) !== 0;
  const withFreeBusy = (flags & ModifyPermFlags.IncludeFreeBusy) !== 0;
  const data = q.permissionsData as { dataFlags: number; propertyValues: TaggedValue[] }[];
  const changes = data.map((d) => parseChange(d, h));
  if (replace && data.some((d) => d.dataFlags !== PermDataFlags.AddRow)) return { returnValue: Ec.ecInvalidParam };
  await h.env.write(({ store }) => {
    if (store.folder(fid) === undefined) throw actorError('ecNotFound', `no folder ${fid}`);
    const acl = new FolderAcl(store.env);
    if (replace) acl.clear(fid, (e) => e.id === DEFAULT_MEMBER);
    // Without IncludeFreeBusy the free/busy bits keep their stored values.
    const merge = (asked: number, old: number): number => (withFreeBusy ? asked : (asked & ~FREE_BUSY_RIGHTS) | (old & FREE_BUSY_RIGHTS));
    for (const c of changes) {
      if (c.op === 'add') {
        const old = acl.byDn(fid, c.dn);
        acl.put(fid, { id: old?.id ?? acl.nextId(), dn: c.dn, name: old?.name ?? c.name, rights: merge(c.rights, old?.rights ?? 0) });
      } else if (c.op === 'modify') {
        const old = acl.get(fid, c.id);
        if (old === undefined && c.id !== DEFAULT_MEMBER && c.id !== ANONYMOUS_MEMBER) throw actorError('ecNotFound', `no member ${c.id}`);
        acl.put(fid, { id: c.id, dn: old?.dn ?? '', name: old?.name ?? '', rights: merge(c.rights, old?.rights ?? 0) });
      } else if (!acl.remove(fid, c.id) && c.id !== DEFAULT_MEMBER && c.id !== ANONYMOUS_MEMBER) {
        throw actorError('ecNotFound', `no member ${c.id}`);
      }
    }
  });
  return { ok: {} };
};

export function registerPermRops(t: HandlerTable): void {
  t.set(RopId.GetPermissionsTable, { ...(t.get(RopId.GetPermissionsTable) ?? {}), folder: folderListTable('permissions') });
  t.set(RopId.ModifyPermissions, { ...(t.get(RopId.ModifyPermissions) ?? {}), folder: modifyPermissions });
}
