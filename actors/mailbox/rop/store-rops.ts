/**
 * Logon and store ROPs (MS-OXCSTOR 3.2.5) and the property ROPs on the logon object (MS-OXCPRPT
 * on the store: the properties Outlook reads at start). Per-user information concerns public
 * folders: a private mailbox answers it empty, as the spec allows.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { rowOf, type LongTermId, type PropertyProblem, type TaggedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { actorError } from '../../../runtime/errors.js';
import { addressBookEntryId } from '../../../storage/address-ids.js';
import { FolderAcl } from '../../../storage/folder-acl.js';
import { eidGlobcnt, eidReplid, globcntBytes, makeEid, readGlobcnt, REPLID_LOCAL } from '../../../storage/ids.js';
import type { MailboxStore } from '../../../storage/mailbox-store.js';
import type { PropMap } from '../../../storage/prop-bag.js';
import { Tag } from '../../../storage/prop-tags.js';
import { dateToFiletime, PropType, propTag, propTypeOf } from '../../../storage/prop-types.js';
import { allValues, specificRow } from './prop-rows.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';
import type { Caller } from './rop-session.js';

/** RopLogon ResponseFlags (MS-OXCROPS 2.2.3.1.2). */
export const ResponseFlags = { Reserved: 0x01, OwnerRight: 0x02, SendAsRight: 0x04, OOF: 0x10 } as const;

// Store properties of MS-OXCSTOR 2.2.2.1 that are not stored (computed per logon).
const T = {
  PidTagUserEntryId: propTag(0x6619, PropType.PtypBinary),
  PidTagProhibitReceiveQuota: propTag(0x666a, PropType.PtypInteger32),
  PidTagProhibitSendQuota: propTag(0x666e, PropType.PtypInteger32),
  PidTagStorageQuotaLimit: propTag(0x3ff5, PropType.PtypInteger32),
  PidTagOutOfOfficeState: propTag(0x661d, PropType.PtypBoolean),
  PidTagMessageSize: propTag(0x0e08, PropType.PtypInteger32),
} as const;

/** Every property of the logon object: the store's, plus those that depend on who logged on. */
export function logonProps(store: MailboxStore, caller: Caller): PropMap {
  const props = store.storeProps();
  const id = store.identity()!;
  props.set(Tag.PidTagMailboxOwnerEntryId, addressBookEntryId(id.legacyDn));
  props.set(T.PidTagUserEntryId, addressBookEntryId(caller.legacyDn));
  const q = store.quota();
  const kb = (b: number) => Math.min(0x7fffffff, Math.ceil(b / 1024));
  if (q.receiveBytes > 0) props.set(T.PidTagProhibitReceiveQuota, kb(q.receiveBytes));
  if (q.sendBytes > 0) props.set(T.PidTagProhibitSendQuota, kb(q.sendBytes));
  if (q.warnBytes > 0) props.set(T.PidTagStorageQuotaLimit, kb(q.warnBytes));
  if (!props.has(T.PidTagOutOfOfficeState)) props.set(T.PidTagOutOfOfficeState, false);
  const size = props.get(Tag.PidTagMessageSizeExtended);
  if (typeof size === 'bigint') props.set(T.PidTagMessageSize, Number(size > 0x7fffffffn ? 0x7fffffffn : size));
  return props;
}

/** An 8-bit message class as MS-OXCSTOR 2.2.1.2 allows: printable ASCII, at most 255 characters, no "..", no leading or trailing '.'. */
function checkMessageClass(c: string, allowEmpty: boolean): void {
  if (c === '' && allowEmpty) return;
  if (c.length === 0 || c.length > 255 || /[^\x20-\x7e]/.test(c) || c.startsWith('.') || c.endsWith('.') || c.includes('..')) throw actorError('ecInvalidParam', `bad message class "${c}"`);
}

const logon: RopHandler = async (q, h) => {
  const logonFlags = q.logonFlags as number;
  if ((logonFlags & 0x01) === 0) return { returnValue: Ec.ecLoginFailure }; // no public folders here
  const info = await h.env.read(({ store }) => ({ id: store.identity()!, folders: store.logonFolderIds() }));
  // Someone without the owner's or a delegate's access logs on only when a folder grants them something (MS-OXCPERM).
  if (h.access === 'acl' && !(await canSeeAnything(h))) return { returnValue: Ec.ecLoginPerm };
  const owner = h.access === 'owner';
  const now = new Date();
  return {
    output: { kind: 'logon', logonFlags, openFlags: q.openFlags as number, owner, access: h.access },
    ok: {
      logonFlags: logonFlags & 0x07,
      folderIds: info.folders,
      responseFlags: owner ? ResponseFlags.Reserved | ResponseFlags.OwnerRight | ResponseFlags.SendAsRight : ResponseFlags.Reserved,
      mailboxGuid: info.id.mailboxGuid,
      replId: REPLID_LOCAL,
      replGuid: info.id.replGuid,
      logonTime: {
        seconds: now.getUTCSeconds(),
        minutes: now.getUTCMinutes(),
        hour: now.getUTCHours(),
        dayOfWeek: now.getUTCDay(),
        day: now.getUTCDate(),
        month: now.getUTCMonth() + 1,
        year: now.getUTCFullYear(),
      },
      gwartTime: dateToFiletime(now),
      storeState: 0,
    },
  };
};

/**
 * Whether some folder grants an ACL caller something beyond free/busy, through their own entry or
 * the Default entry (MS-OXCPERM): a user with rights on the Calendar alone still logs on. One
 * range read over the permissions' member index (storage/folder-acl.ts).
 */
async function canSeeAnything(h: HandlerCtx): Promise<boolean> {
  return h.env.read(({ store }) => new FolderAcl(store.env).grantsAnything(h.session.caller.legacyDn, (fid) => store.folder(fid) !== undefined));
}

const getReceiveFolder: RopHandler = async (q, h) => {
  const cls = q.messageClass as string;
  checkMessageClass(cls, true);
  const r = await h.env.read(({ store }) => store.receiveFolder(cls));
  return { ok: { folderId: makeEid(REPLID_LOCAL, r.folder), explicitMessageClass: r.explicitClass } };
};

const setReceiveFolder: RopHandler = async (q, h) => {
  const cls = q.messageClass as string;
  checkMessageClass(cls, true);
  const lower = cls.toLowerCase();
  // MS-OXCSTOR 3.2.5.2: the IPM and Report.IPM classes keep their receive folders.
  if (lower === 'ipm' || lower === 'report.ipm') return { returnValue: Ec.ecAccessDenied };
  const fid = q.folderId as bigint;
  if (fid === 0n && cls === '') return { returnValue: Ec.ecError };
  if (fid !== 0n && eidReplid(fid) !== REPLID_LOCAL) return { returnValue: Ec.ecNotFound };
  await h.env.write(({ store }) => store.setReceiveFolder(cls, fid === 0n ? null : eidGlobcnt(fid)));
  return {};
};

const getReceiveFolderTable: RopHandler = async (_q, h) => {
  const entries = await h.env.read(({ store }) => store.receiveFolderTable());
  const rows = entries.map((e) => rowOf([makeEid(REPLID_LOCAL, e.folder), e.messageClass, e.modified]));
  return { ok: { rows } };
};

const getStoreState: RopHandler = () => ({ ok: { storeState: 0 } });

const longTermIdFromId: RopHandler = async (q, h) => {
  const id = q.objectId as bigint;
  if (eidReplid(id) !== REPLID_LOCAL) return { returnValue: Ec.ecNotFound };
  const replGuid = await h.env.read(({ store }) => store.identity()!.replGuid);
  const lt: LongTermId = { databaseGuid: replGuid, globalCounter: globcntBytes(eidGlobcnt(id)), pad: 0 };
  return { ok: { longTermId: lt } };
};

const idFromLongTermId: RopHandler = async (q, h) => {
  const lt = q.longTermId as LongTermId;
  const replGuid = await h.env.read(({ store }) => store.identity()!.replGuid);
  if (Buffer.compare(Buffer.from(lt.databaseGuid), Buffer.from(replGuid)) !== 0) return { returnValue: Ec.ecNotFound };
  return { ok: { objectId: makeEid(REPLID_LOCAL, readGlobcnt(lt.globalCounter, 0)) } };
};

// Per-user information (MS-OXCSTOR 3.2.5.5-3.2.5.9) belongs to public folders.
const getPerUserLongTermIds: RopHandler = () => ({ ok: { longTermIds: [] } });
const getPerUserGuid: RopHandler = () => ({ returnValue: Ec.ecNotFound });
const readPerUserInformation: RopHandler = () => ({ ok: { hasFinished: true, data: new Uint8Array(0) } });
const writePerUserInformation: RopHandler = () => ({});
const getOwningServers: RopHandler = () => ({ returnValue: Ec.ecNotSupported });
const publicFolderIsGhosted: RopHandler = () => ({ ok: { isGhosted: false } });

// ---- properties of the logon object

const getPropsSpecific: RopHandler = async (q, h) => {
  const tags = q.propertyTags as number[];
  const props = await h.env.read(({ store }) => logonProps(store, h.session.caller));
  return {
    ok: { rowData: specificRow(props, tags, { wantUnicode: (q.wantUnicode as number) !== 0, sizeLimit: q.propertySizeLimit as number }) },
    ctx: { propTags: tags },
  };
};

const getPropsAll: RopHandler = async (q, h) => {
  const props = await h.env.read(({ store }) => logonProps(store, h.session.caller));
  return { ok: { propertyValues: allValues(props, { wantUnicode: (q.wantUnicode as number) !== 0, sizeLimit: q.propertySizeLimit as number }) } };
};

const getPropsList: RopHandler = async (_q, h) => {
  const props = await h.env.read(({ store }) => logonProps(store, h.session.caller));
  return { ok: { propertyTags: [...props.keys()] } };
};

const problemsOf = (asked: readonly number[], errs: { tag: number; error: string }[]): PropertyProblem[] =>
  errs.map((e) => ({ index: Math.max(0, asked.indexOf(e.tag)), tag: e.tag, errorCode: (Ec as Record<string, number>)[e.error] ?? Ec.ecError }));

const setProps: RopHandler = async (q, h) => {
  if (h.input.obj.kind !== 'logon' || !h.input.obj.owner) return { returnValue: Ec.ecAccessDenied };
  const values = q.propertyValues as TaggedValue[];
  const bag: PropMap = new Map();
  const bad: PropertyProblem[] = [];
  values.forEach((v, i) => {
    if (propTypeOf(v.tag) === PropType.PtypErrorCode || propTypeOf(v.tag) === PropType.PtypUnspecified) bad.push({ index: i, tag: v.tag, errorCode: Ec.ecInvalidParam });
    else bag.set(v.tag, v.value);
  });
  const errs = await h.env.write(({ store }) => store.setStoreProps(bag));
  return { ok: { propertyProblems: [...bad, ...problemsOf(values.map((v) => v.tag), errs)] } };
};

const deleteProps: RopHandler = async (q, h) => {
  if (h.input.obj.kind !== 'logon' || !h.input.obj.owner) return { returnValue: Ec.ecAccessDenied };
  const tags = q.propertyTags as number[];
  const errs = await h.env.write(({ store }) => store.deleteStoreProps(tags));
  return { ok: { propertyProblems: problemsOf(tags, errs) } };
};

export function registerStoreRops(t: HandlerTable): void {
  const on = (id: number, fn: RopHandler) => t.set(id, { ...(t.get(id) ?? {}), logon: fn });
  on(RopId.Logon, logon);
  on(RopId.GetReceiveFolder, getReceiveFolder);
  on(RopId.SetReceiveFolder, setReceiveFolder);
  on(RopId.GetReceiveFolderTable, getReceiveFolderTable);
  on(RopId.GetStoreState, getStoreState);
  on(RopId.LongTermIdFromId, longTermIdFromId);
  on(RopId.IdFromLongTermId, idFromLongTermId);
  on(RopId.GetPerUserLongTermIds, getPerUserLongTermIds);
  on(RopId.GetPerUserGuid, getPerUserGuid);
  on(RopId.ReadPerUserInformation, readPerUserInformation);
  on(RopId.WritePerUserInformation, writePerUserInformation);
  on(RopId.GetOwningServers, getOwningServers);
  on(RopId.PublicFolderIsGhosted, publicFolderIsGhosted);
  on(RopId.GetPropertiesSpecific, getPropsSpecific);
  on(RopId.GetPropertiesAll, getPropsAll);
  on(RopId.GetPropertiesList, getPropsList);
  on(RopId.SetProperties, setProps);
  on(RopId.SetPropertiesNoReplicate, setProps);
  on(RopId.DeleteProperties, deleteProps);
  on(RopId.DeletePropertiesNoReplicate, deleteProps);
}

