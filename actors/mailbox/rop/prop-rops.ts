/**
 * Property ROPs (MS-OXCPRPT) on folder, message and attachment objects, and the named property
 * ROPs on those and the logon (the logon's own properties are in store-rops.ts).
 *
 * Folders read and write the store directly; messages and attachments their message instance
 * (actors/mailbox/objects/message-instances.ts), saved by RopSaveChangesMessage. A stored
 * message's computed properties (entry ids, keys, size...) come from the store beside its
 * instance. Body forms the message does not store are synthesized when asked (MS-OXBBODY);
 * values over the size limit are ecMAPIOOM cells, read through streams (stream-rops.ts).
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { actorError } from '../../../runtime/errors.js';
import { NameKind, type PropertyName, type PropertyProblem, type TaggedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { BODY_TAGS } from '../../../protocols/mail/body.js';
import { guidFromString, guidToString } from '../../../storage/guid.js';
import { FIRST_NAMED_ID, LAST_NAMED_ID } from '../../../storage/named-props.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { COMPUTED_OBJECT_TAGS, Tag } from '../../../storage/prop-tags.js';
import { MsgTag } from '../../../storage/message-store.js';
import { PropType, propId, propTag } from '../../../storage/prop-types.js';
import type { WireName } from '../wire-message.js';
import { allValues, bagOfValues, problemsAt, specificRow, tagsToFetch } from './prop-rows.js';
import type { HandlerCtx, HandlerTable, RopHandler, RopOutcome } from './rop-run.js';
import { mustHave } from './perm-rops.js';
import { Rights, type ObjectEntry, type ServerObject } from './rop-session.js';
import type { StreamTarget } from './stream-state.js';

/** Computed message properties a stored message's instance does not carry (the store makes them). */
const MESSAGE_COMPUTED: readonly number[] = [...COMPUTED_OBJECT_TAGS, Tag.PidTagMid, MsgTag.PidTagParentFolderId, Tag.PidTagMessageSize, MsgTag.PidTagAssociated];
const MESSAGE_COMPUTED_SET: ReadonlySet<number> = new Set(MESSAGE_COMPUTED);
const BODY_IDS: ReadonlySet<number> = new Set(BODY_TAGS.map(propId));
/** Attachment properties the instance computes. */
const ATTACHMENT_READ_ONLY: ReadonlySet<number> = new Set([MsgTag.PidTagAttachNumber, MsgTag.PidTagAttachSize]);

const bagOf = (bytes: Uint8Array): PropMap => decodePropBag(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

/** The properties of a folder, message or attachment object, read and written the same way. */
export interface PropTarget {
  readOnly: boolean;
  stream: StreamTarget;
  /** Properties (all when tags is undefined; asked body forms synthesized on messages). */
  get(tags?: readonly number[]): Promise<PropMap>;
  set(bag: PropMap): Promise<{ tag: number; error: string }[]>;
  del(tags: readonly number[]): Promise<{ tag: number; error: string }[]>;
}

/** The message an attachment belongs to (its parent object), for a stored message's data. */
function storedMidOf(h: HandlerCtx, entry: ObjectEntry): number | null {
  const parent = entry.parent === null ? undefined : h.session.get(entry.parent);
  return parent?.obj.kind === 'message' ? parent.obj.mid : null;
}

export function targetOf(h: HandlerCtx, entry: ObjectEntry): PropTarget | null {
  const obj = entry.obj;
  const op = h.env.op.bind(h.env);
  switch (obj.kind) {
    case 'folder':
      return {
        readOnly: false,
        stream: { kind: 'folder', fid: obj.fid },
        get: async (tags) => bagOf(await op('getFolderProps', { folder: obj.fid, ...(tags === undefined ? {} : { tags: [...tags] }) })),
        set: (bag) => op('setFolderProps', { folder: obj.fid, props: encodePropBag(bag) }),
        del: (tags) => op('deleteFolderProps', { folder: obj.fid, tags: [...tags] }),
      };
    case 'message':
      return {
        readOnly: obj.readOnly,
        stream: { kind: 'message', instance: obj.instance },
        get: (tags) => messageProps(h, obj.instance, obj.mid, tags),
        set: (bag) => op('instanceSetProps', { instance: obj.instance, props: encodePropBag(bag) }),
        del: (tags) => op('instanceDeleteProps', { instance: obj.instance, tags: [...tags] }),
      };
    case 'attachment':
      return {
        readOnly: obj.readOnly,
        stream: { kind: 'attachment', instance: obj.instance, num: obj.num },
        get: (tags) => attachmentProps(h, obj.instance, obj.num, storedMidOf(h, entry), tags),
        set: async (bag) => {
          const errs: { tag: number; error: string }[] = [];
          const props: PropMap = new Map();
          let data: Uint8Array | undefined;
          for (const [t, v] of bag) {
            if (ATTACHMENT_READ_ONLY.has(t)) errs.push({ tag: t, error: 'ecAccessDenied' });
            else if (t === MsgTag.PidTagAttachDataBinary && v instanceof Uint8Array) data = v;
            else props.set(t, v);
          }
          await op('instanceSetAttachment', { instance: obj.instance, num: obj.num, props: encodePropBag(props), ...(data === undefined ? {} : { data }) });
          return errs;
        },
        // The instance keeps attachment properties until saved and has no removal of one.
        del: async (tags) => {
          const errs: { tag: number; error: string }[] = [];
          for (const t of tags) {
            if (t === MsgTag.PidTagAttachDataBinary) await op('instanceSetAttachment', { instance: obj.instance, num: obj.num, data: new Uint8Array(0) });
            else errs.push({ tag: t, error: ATTACHMENT_READ_ONLY.has(t) ? 'ecAccessDenied' : 'ecNotSupported' });
          }
          return errs;
        },
      };
    default:
      return null;
  }
}

async function messageProps(h: HandlerCtx, instance: number, mid: number | null, tags: readonly number[] | undefined): Promise<PropMap> {
  let fetch = tags === undefined ? undefined : tagsToFetch(tags);
  // A body form is made from the one the message stores: that one has to be fetched too.
  if (fetch !== undefined && fetch.some((t) => BODY_IDS.has(propId(t)))) fetch = [...new Set([...fetch, ...BODY_TAGS, Tag.PidTagInternetCodepage])];
  const props = bagOf(await h.env.op('instanceGetProps', { instance, ...(fetch === undefined ? {} : { tags: fetch }) }));
  if (fetch === undefined) {
    // Every property: the body forms the message lacks are listed too (as ecMAPIOOM when large).
    const bodies = bagOf(await h.env.op('instanceGetProps', { instance, tags: [...BODY_TAGS] }));
    for (const [t, v] of bodies) if (!props.has(t)) props.set(t, v);
  }
  if (mid !== null) {
    const want = (fetch ?? MESSAGE_COMPUTED).filter((t) => MESSAGE_COMPUTED_SET.has(t) && !props.has(t));
    if (want.length > 0) {
      const stored = await h.env.op('getMessage', { mid, tags: want });
      for (const [t, v] of bagOf(stored.props)) props.set(t, v);
    }
  }
  return props;
}

async function attachmentProps(h: HandlerCtx, instance: number, num: number, mid: number | null, tags: readonly number[] | undefined): Promise<PropMap> {
  const list = await h.env.op('instanceAttachments', { instance });
  const a = list.find((x) => x.num === num);
  if (a === undefined) throw actorError('ecNotFound', `no attachment ${num}`);
  const props = bagOf(a.props);
  if (!props.has(MsgTag.PidTagAttachSize)) props.set(MsgTag.PidTagAttachSize, a.size);
  const wantData = tags === undefined || tags.some((t) => propId(t) === propId(MsgTag.PidTagAttachDataBinary));
  if (wantData && !props.has(MsgTag.PidTagAttachDataBinary)) {
    // The bytes are read from the stored message while the instance has the same attachment.
    if (a.size === 0 && !a.embedded) props.set(MsgTag.PidTagAttachDataBinary, new Uint8Array(0));
    else if (mid !== null && !a.embedded) {
      const data = await h.env.op('getAttachmentData', { mid, num });
      if (data !== null && data.byteLength === a.size) props.set(MsgTag.PidTagAttachDataBinary, data);
    }
  }
  if (tags === undefined) return props;
  const fetch = tagsToFetch(tags);
  if (fetch === undefined) return props;
  const keep = new Set(fetch);
  for (const t of [...props.keys()]) if (!keep.has(t)) props.delete(t);
  return props;
}

const rowOptions = (q: Record<string, unknown>) => ({ wantUnicode: (q.wantUnicode as number) !== 0, sizeLimit: q.propertySizeLimit as number });

function mustTarget(h: HandlerCtx, entry: ObjectEntry = h.input): PropTarget {
  const t = targetOf(h, entry);
  if (t === null) throw new TypeError(`no properties on a ${entry.obj.kind} object`);
  return t;
}

const getPropsSpecific: RopHandler = async (q, h) => {
  const tags = q.propertyTags as number[];
  const props = await mustTarget(h).get(tags);
  return { ok: { rowData: specificRow(props, tags, rowOptions(q)) }, ctx: { propTags: tags } };
};

const getPropsAll: RopHandler = async (q, h) => {
  const props = await mustTarget(h).get();
  return { ok: { propertyValues: allValues(props, rowOptions(q)) } };
};

const getPropsList: RopHandler = async (_q, h) => {
  const props = await mustTarget(h).get();
  return { ok: { propertyTags: [...props.keys()] } };
};

/** Folder properties change only for who administers the folder (MS-OXCPERM FolderOwner). */
const mustOwnFolder = async (h: HandlerCtx, e: ObjectEntry): Promise<void> => {
  if (e.obj.kind === 'folder') await mustHave(h, e.obj.fid, Rights.FolderOwner);
};

const setProps: RopHandler = async (q, h) => {
  const target = mustTarget(h);
  if (target.readOnly) return { returnValue: Ec.ecAccessDenied };
  await mustOwnFolder(h, h.input);
  const values = q.propertyValues as TaggedValue[];
  const { bag, refused } = bagOfValues(values);
  const errs = bag.size === 0 ? [] : await target.set(bag);
  return { ok: { propertyProblems: [...refused, ...problemsAt(values.map((v) => v.tag), errs)] } };
};

const deleteProps: RopHandler = async (q, h) => {
  const target = mustTarget(h);
  if (target.readOnly) return { returnValue: Ec.ecAccessDenied };
  await mustOwnFolder(h, h.input);
  const tags = q.propertyTags as number[];
  return { ok: { propertyProblems: problemsAt(tags, await target.del(tags)) } };
};

// ---- named properties (MS-OXCPRPT 3.2.5.9, 3.2.5.10, 3.2.5.11)

/** RopGetPropertyIdsFromNames Flags: create ids for unknown names. */
const CREATE_NAMES = 0x02;
/** RopQueryNamedProperties QueryFlags. */
const QueryFlag = { NoStrings: 0x01, NoIds: 0x02 } as const;
const ZERO_GUID = new Uint8Array(16);

function toWire(n: PropertyName): WireName | null {
  if (n.kind === NameKind.MNID_ID) return { guid: guidToString(n.guid), lid: n.lid };
  if (n.kind === NameKind.MNID_STRING) return { guid: guidToString(n.guid), name: n.name };
  return null;
}

function fromWire(n: WireName | null): PropertyName {
  if (n === null) return { kind: NameKind.None, guid: ZERO_GUID };
  const guid = guidFromString(n.guid);
  return 'lid' in n ? { kind: NameKind.MNID_ID, guid, lid: n.lid } : { kind: NameKind.MNID_STRING, guid, name: n.name };
}

/** Every registered named property of the mailbox (ids are handed out in order from 0x8000). */
async function allNamed(h: HandlerCtx): Promise<{ id: number; name: WireName }[]> {
  const out: { id: number; name: WireName }[] = [];
  const CHUNK = 512;
  for (let start = FIRST_NAMED_ID; start <= LAST_NAMED_ID; start += CHUNK) {
    const ids = Array.from({ length: Math.min(CHUNK, LAST_NAMED_ID - start + 1) }, (_, i) => start + i);
    const names = await h.env.op('namesFromIds', { ids });
    for (let i = 0; i < ids.length; i++) {
      const n = names[i];
      if (n === null || n === undefined) return out;
      out.push({ id: ids[i]!, name: n });
    }
  }
  return out;
}

const getIdsFromNames: RopHandler = async (q, h) => {
  const names = q.propertyNames as PropertyName[];
  if (names.length === 0) return { ok: { propertyIds: (await allNamed(h)).map((n) => n.id) } };
  const wire = names.map(toWire);
  const valid = wire.filter((n): n is WireName => n !== null);
  const create = ((q.flags as number) & CREATE_NAMES) !== 0;
  const ids = valid.length === 0 ? [] : await h.env.op('idsFromNames', { names: valid, create });
  let k = 0;
  return { ok: { propertyIds: wire.map((n) => (n === null ? 0 : ids[k++]!)) } };
};

const getNamesFromIds: RopHandler = async (q, h) => {
  const ids = q.propertyIds as number[];
  const names = ids.length === 0 ? [] : await h.env.op('namesFromIds', { ids });
  return { ok: { propertyNames: names.map((n) => fromWire(n ?? null)) } };
};

const queryNamed: RopHandler = async (q, h) => {
  const flags = q.queryFlags as number;
  const guid = q.hasGuid === true ? guidToString(q.propertyGuid as Uint8Array) : null;
  const hits = (await allNamed(h)).filter(({ name }) => {
    if (guid !== null && name.guid.toLowerCase() !== guid.toLowerCase()) return false;
    if ('lid' in name) return (flags & QueryFlag.NoIds) === 0;
    return (flags & QueryFlag.NoStrings) === 0;
  });
  return { ok: { named: { propertyIds: hits.map((x) => x.id), propertyNames: hits.map((x) => fromWire(x.name)) } } };
};

// ---- copies between two objects (MS-OXCPRPT 3.2.5.6, 3.2.5.7)

/** CopyFlags of RopCopyProperties / RopCopyTo. */
const CopyFlag = { Move: 0x01, NoOverwrite: 0x02 } as const;

/** The destination object of a srcdst ROP, or the outcome that refuses the ROP. */
export function destinationOf(q: Record<string, unknown>, h: HandlerCtx): ObjectEntry | RopOutcome {
  const handles = (h as Partial<HandlerCtx>).handles;
  if (handles === undefined) return { returnValue: Ec.ecNotSupported };
  const index = (q.destHandleIndex as number | undefined) ?? 0;
  const handle = handles[index];
  const dst = handle === undefined ? undefined : h.session.get(handle);
  if (dst === undefined || dst.logonId !== h.logonId) return { returnValue: Ec.ecDstNullObject, fail: { destHandleIndex: index } };
  return dst;
}

const isOutcome = (x: ObjectEntry | RopOutcome): x is RopOutcome => !('obj' in x);

/** Copies (or moves) the given properties; absent ones are ecNotFound problems. */
async function copyProps(src: PropTarget, dst: PropTarget, tags: readonly number[] | null, flags: number): Promise<PropertyProblem[]> {
  const props = await src.get(tags ?? undefined);
  const problems: PropertyProblem[] = [];
  const asked = tags ?? [...props.keys()];
  const existing = (flags & CopyFlag.NoOverwrite) !== 0 ? await dst.get(asked) : new Map();
  const bag: PropMap = new Map();
  asked.forEach((tag, index) => {
    const v = props.get(tag);
    if (v === undefined) problems.push({ index, tag, errorCode: Ec.ecNotFound });
    else if (!existing.has(tag)) bag.set(tag, v);
  });
  if (bag.size > 0) problems.push(...problemsAt(asked, await dst.set(bag)));
  if ((flags & CopyFlag.Move) !== 0 && bag.size > 0) await src.del([...bag.keys()]);
  return problems;
}

async function copyBetween(q: Record<string, unknown>, h: HandlerCtx, tags: readonly number[] | null): Promise<RopOutcome> {
  const d = destinationOf(q, h);
  if (isOutcome(d)) return d;
  const flags = q.copyFlags as number;
  if ((flags & ~(CopyFlag.Move | CopyFlag.NoOverwrite)) !== 0) return { returnValue: Ec.ecInvalidParam };
  if (d.obj.kind !== h.input.obj.kind) return { returnValue: Ec.ecNotSupported };
  if (d.handle === h.input.handle) return { returnValue: Ec.ecInvalidParam };
  const src = mustTarget(h);
  const dst = mustTarget(h, d);
  if (dst.readOnly || ((flags & CopyFlag.Move) !== 0 && src.readOnly)) return { returnValue: Ec.ecAccessDenied };
  await mustOwnFolder(h, d);
  if ((flags & CopyFlag.Move) !== 0) await mustOwnFolder(h, h.input);
  return { ok: { propertyProblems: await copyProps(src, dst, tags, flags) } };
}

const copyProperties: RopHandler = (q, h) => copyBetween(q, h, q.propertyTags as number[]);

const copyTo: RopHandler = async (q, h) => {
  // Sub-objects (recipients, attachments, subfolders and contents) are not copied here.
  if (q.wantSubObjects === true) return { returnValue: Ec.ecNotSupported };
  const excluded = new Set(q.excludedTags as number[]);
  const all = [...(await mustTarget(h).get()).keys()];
  const computed = h.input.obj.kind === 'message' ? MESSAGE_COMPUTED_SET : new Set(COMPUTED_OBJECT_TAGS);
  return copyBetween(q, h, all.filter((t) => !excluded.has(t) && !computed.has(t) && !excludedById(excluded, t)));
};

/** An excluded tag of type PtypUnspecified excludes the id whatever its type. */
const excludedById = (excluded: ReadonlySet<number>, tag: number): boolean => excluded.has(propTag(propId(tag), PropType.PtypUnspecified));

type Kind = ServerObject['kind'];

export function registerPropRops(t: HandlerTable): void {
  const on = (id: number, kinds: readonly Kind[], fn: RopHandler) => {
    const byKind = { ...(t.get(id) ?? {}) };
    for (const k of kinds) byKind[k] = fn;
    t.set(id, byKind);
  };
  const objects: Kind[] = ['folder', 'message', 'attachment'];
  on(RopId.GetPropertiesSpecific, objects, getPropsSpecific);
  on(RopId.GetPropertiesAll, objects, getPropsAll);
  on(RopId.GetPropertiesList, objects, getPropsList);
  on(RopId.SetProperties, objects, setProps);
  on(RopId.SetPropertiesNoReplicate, objects, setProps);
  on(RopId.DeleteProperties, objects, deleteProps);
  on(RopId.DeletePropertiesNoReplicate, objects, deleteProps);
  on(RopId.CopyProperties, objects, copyProperties);
  on(RopId.CopyTo, objects, copyTo);
  const named: Kind[] = ['logon', ...objects];
  on(RopId.GetPropertyIdsFromNames, named, getIdsFromNames);
  on(RopId.GetNamesFromPropertyIds, named, getNamesFromIds);
  on(RopId.QueryNamedProperties, named, queryNamed);
}
