/**
 * Message ROPs, read side (MS-OXCMSG 2.2.3, 3.2.5): opening messages, attachments and embedded
 * messages on the actor's message instances, recipients as RecipientRows (MS-OXCDATA 2.8.3),
 * read flags and message status. Fast transfer sources answer ecNotSupported for now.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { TypedStringType, type TypedString } from '../../../protocols/mapi/rops/codec/fields.js';
import { rowOf, type RowCell } from '../../../protocols/mapi/wire/prop-values.js';
import { RecipientFlag, RecipientType, type RecipientRow } from '../../../protocols/mapi/wire/recipient-row.js';
import { eidGlobcnt, eidReplid, makeEid, REPLID_LOCAL } from '../../../storage/ids.js';
import { decodePropBag, encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { MsgTag, MSGFLAG_READ } from '../../../storage/message-store.js';
import { FIRST_NAMED_ID } from '../../../storage/named-props.js';
import { Tag } from '../../../storage/prop-tags.js';
import { PropType, propId, propTag, type PropValue } from '../../../storage/prop-types.js';
import { specificRow } from './prop-rows.js';
import { messageAccess, mustHave } from './perm-rops.js';
import type { HandlerCtx, HandlerTable, RopHandler, RopOutcome } from './rop-run.js';
import { Rights, type MessageObject, type ServerObject } from './rop-session.js';

const bagOf = (bytes: Uint8Array): PropMap => decodePropBag(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));

const T = {
  PidTagMessageStatus: propTag(0x0e17, PropType.PtypInteger32),
  PidTagTransmittableDisplayName: propTag(0x3a20, PropType.PtypString),
  PidTagAddressBookDisplayNamePrintable: propTag(0x39ff, PropType.PtypString),
  PidTagRecipientFlags: propTag(0x5ffd, PropType.PtypInteger32),
  PidTagRecipientTrackStatus: propTag(0x5fff, PropType.PtypInteger32),
  PidTagRecipientOrder: propTag(0x5fdf, PropType.PtypInteger32),
  PidTagRecipientEntryId: propTag(0x5ff7, PropType.PtypBinary),
  PidTagRecipientDisplayName: propTag(0x5ff6, PropType.PtypString),
} as const;

/**
 * The recipient columns this server sends with RecipientRows (beyond the row's own address
 * fields): what Outlook reads back when it shows and resolves recipients.
 */
export const RECIPIENT_COLUMNS: readonly number[] = [
  Tag.PidTagObjectType,
  Tag.PidTagDisplayType,
  Tag.PidTagSmtpAddress,
  Tag.PidTagEntryId,
  Tag.PidTagSearchKey,
  T.PidTagRecipientEntryId,
  T.PidTagRecipientDisplayName,
  T.PidTagRecipientFlags,
  T.PidTagRecipientTrackStatus,
  T.PidTagRecipientOrder,
];

/** OpenModeFlags of RopOpenMessage / RopOpenAttachment / RopOpenEmbeddedMessage. */
export const OpenMode = { ReadOnly: 0x00, ReadWrite: 0x01, Create: 0x02, BestAccess: 0x03, OpenSoftDeleted: 0x04 } as const;

/** ReadFlags of RopSetReadFlags / RopSetMessageReadFlag (MS-OXCMSG 2.2.3.10.1). */
export const ReadFlag = { SuppressReceipt: 0x01, ClearReadFlag: 0x04, GenerateReceiptOnly: 0x10, ClearNotifyRead: 0x20, ClearNotifyUnread: 0x40 } as const;

/** Unicode RecipientRows carry this code page (UTF-16LE). */
const CP_UNICODE = 1200;
/** Bytes of RecipientRows RopOpenMessage carries at most; the rest are read with RopReadRecipients. */
const RECIPIENT_ROWS_BUDGET = 0x3000;

/** A string property whichever flavour it is stored in. */
function strOf(p: PropMap, tag: number): string | undefined {
  for (const t of [propTag(propId(tag), PropType.PtypString), propTag(propId(tag), PropType.PtypString8)]) {
    const v = p.get(t);
    if (typeof v === 'string') return v;
  }
  return undefined;
}

const typed = (s: string | undefined): TypedString =>
  s === undefined ? { stringType: TypedStringType.None, value: '' } : s === '' ? { stringType: TypedStringType.Empty, value: '' } : { stringType: TypedStringType.Unicode, value: s };

/** A recipient's properties as a RecipientRow over RECIPIENT_COLUMNS. */
export function recipientRowOf(p: PropMap): { recipientType: number; row: RecipientRow; size: number } {
  const addrType = strOf(p, Tag.PidTagAddressType) ?? '';
  const email = strOf(p, Tag.PidTagEmailAddress);
  const display = strOf(p, Tag.PidTagDisplayName) ?? strOf(p, T.PidTagRecipientDisplayName);
  const transmittable = strOf(p, T.PidTagTransmittableDisplayName);
  const printable = strOf(p, T.PidTagAddressBookDisplayNamePrintable);
  const cells: RowCell[] = specificRow(p, RECIPIENT_COLUMNS, { wantUnicode: true, sizeLimit: 0 }).cells.map((c) =>
    typeof c === 'object' && c !== null && 'error' in c && c.error === Ec.ecNotFound ? { absent: true } : c,
  );
  const row: RecipientRow = { flags: 0, columnCount: RECIPIENT_COLUMNS.length, properties: rowOf(cells) };
  let flags: number = RecipientFlag.U;
  let size = 64;
  const upper = addrType.toUpperCase();
  if (upper === 'EX' && email !== undefined && /^[\x20-\x7e]*$/.test(email)) {
    flags |= RecipientType.X500DN;
    row.addressPrefixUsed = 0;
    const dt = p.get(Tag.PidTagDisplayType);
    row.displayType = typeof dt === 'number' ? dt & 0xff : 0;
    row.x500dn = email;
    size += email.length;
  } else {
    if (upper === 'SMTP') flags |= RecipientType.SMTP;
    else if (addrType !== '') {
      flags |= RecipientFlag.O;
      row.addressType = addrType;
    }
    if (email !== undefined) {
      flags |= RecipientFlag.E;
      row.emailAddress = email;
      size += email.length * 2;
    }
  }
  if (display !== undefined) {
    flags |= RecipientFlag.D;
    row.displayName = display;
    size += display.length * 2;
  }
  if (printable !== undefined) {
    flags |= RecipientFlag.I;
    row.simpleDisplayName = printable;
  }
  if (transmittable !== undefined) {
    if (transmittable === display) flags |= RecipientFlag.S;
    else {
      flags |= RecipientFlag.T;
      row.transmittableDisplayName = transmittable;
    }
  }
  if (p.get(Tag.PidTagSendRichInfo) === false) flags |= RecipientFlag.N;
  row.flags = flags;
  for (const c of cells) size += c instanceof Uint8Array ? c.byteLength : typeof c === 'string' ? c.length * 2 : 8;
  const rt = p.get(Tag.PidTagRecipientType);
  return { recipientType: typeof rt === 'number' ? rt & 0xff : 1, row, size };
}

/** The first recipients as RecipientRows, at most 255 and within RECIPIENT_ROWS_BUDGET bytes (at least one). */
function rowsWithin(recips: readonly { rowid: number; props: Uint8Array }[]): { rowid: number; recipientType: number; row: RecipientRow }[] {
  const out: { rowid: number; recipientType: number; row: RecipientRow }[] = [];
  let bytes = 0;
  for (const r of recips) {
    if (out.length === 0xff) break;
    const { recipientType, row, size } = recipientRowOf(bagOf(r.props));
    if (out.length > 0 && bytes + size > RECIPIENT_ROWS_BUDGET) break;
    bytes += size;
    out.push({ rowid: r.rowid, recipientType, row });
  }
  return out;
}

/** The message header of RopOpenMessage / RopReloadCachedInformation / RopOpenEmbeddedMessage. */
async function messageInfo(h: HandlerCtx, instance: number): Promise<Record<string, unknown>> {
  const props = bagOf(await h.env.op('instanceGetProps', { instance }));
  const recips = await h.env.op('instanceRecipients', { instance });
  const prefix = strOf(props, Tag.PidTagSubjectPrefix);
  let normalized = strOf(props, Tag.PidTagNormalizedSubject);
  if (normalized === undefined) {
    const subject = strOf(props, Tag.PidTagSubject);
    if (subject !== undefined) normalized = prefix !== undefined && subject.startsWith(prefix) ? subject.slice(prefix.length) : subject;
  }
  const rows = rowsWithin(recips).map(({ recipientType, row }) => ({ recipientType, codePageId: CP_UNICODE, reserved: 0, recipientRow: row }));
  return {
    hasNamedProperties: [...props.keys()].some((t) => propId(t) >= FIRST_NAMED_ID),
    subjectPrefix: typed(prefix),
    normalizedSubject: typed(normalized),
    recipientCount: Math.min(recips.length, 0xffff),
    recipientColumns: [...RECIPIENT_COLUMNS],
    recipientRows: rows,
  };
}

function messageOf(h: HandlerCtx): MessageObject {
  const obj = h.input.obj;
  if (obj.kind !== 'message') throw new TypeError('not a message');
  return obj;
}

/** A message id of this mailbox's replica, as a GLOBCNT (null for another replica's). */
const localId = (id: bigint): number | null => (eidReplid(id) === REPLID_LOCAL ? eidGlobcnt(id) : null);

const openMessage: RopHandler = async (q, h) => {
  const fid = localId(q.folderId as bigint);
  const mid = localId(q.messageId as bigint);
  if (fid === null || mid === null) return { returnValue: Ec.ecNotFound };
  // The message has to be in the folder named (soft-deleted messages are not found).
  const where = bagOf((await h.env.op('getMessage', { mid, tags: [MsgTag.PidTagParentFolderId] })).props).get(MsgTag.PidTagParentFolderId);
  if (where !== makeEid(REPLID_LOCAL, fid)) return { returnValue: Ec.ecNotFound };
  const mode = (q.openModeFlags as number) & 0x03;
  // MS-OXCPERM: reading takes ReadAny (or the caller's own message), changing EditAny (or EditOwned).
  const may = await messageAccess(h, fid, mid);
  if (!may.read || (mode === OpenMode.ReadWrite && !may.write)) return { returnValue: Ec.ecAccessDenied };
  const readOnly = (mode !== OpenMode.ReadWrite && mode !== OpenMode.BestAccess) || !may.write;
  const { instance } = await h.env.op('openMessage', { session: h.session.id, mid });
  try {
    const ok = await messageInfo(h, instance);
    return { output: { kind: 'message', instance, mid, fid, readOnly }, ok, ctx: { recipientColumns: RECIPIENT_COLUMNS } };
  } catch (err) {
    await h.env.op('releaseInstance', { instance });
    throw err;
  }
};

const reloadCachedInformation: RopHandler = async (_q, h) => ({ ok: await messageInfo(h, messageOf(h).instance), ctx: { recipientColumns: RECIPIENT_COLUMNS } });

const readRecipients: RopHandler = async (q, h) => {
  const from = q.rowId as number;
  const recips = (await h.env.op('instanceRecipients', { instance: messageOf(h).instance })).filter((r) => r.rowid >= from);
  if (recips.length === 0) return { returnValue: Ec.ecNotFound };
  const rows = rowsWithin(recips).map(({ rowid, recipientType, row }) => ({ rowId: rowid, recipientType, codePageId: CP_UNICODE, reserved: 0, recipientRow: row }));
  return { ok: { recipientRows: rows }, ctx: { recipientColumns: RECIPIENT_COLUMNS } };
};

const getAttachmentTable: RopHandler = (q, h) => {
  messageOf(h);
  return { output: { kind: 'table', tableKind: 'attachments', table: 0, fid: 0, flags: q.tableFlags as number, columns: null, owner: h.input.handle } };
};

const getValidAttachments: RopHandler = async (_q, h) => {
  const list = await h.env.op('instanceAttachments', { instance: messageOf(h).instance });
  return { ok: { attachmentIds: list.map((a) => a.num) } };
};

const openAttachment: RopHandler = async (q, h) => {
  const m = messageOf(h);
  const mode = (q.openAttachmentFlags as number) & 0x03;
  if (mode === OpenMode.ReadWrite && m.readOnly) return { returnValue: Ec.ecAccessDenied };
  const num = q.attachmentId as number;
  const list = await h.env.op('instanceAttachments', { instance: m.instance });
  if (!list.some((a) => a.num === num)) return { returnValue: Ec.ecNotFound };
  const readOnly = m.readOnly || (mode !== OpenMode.ReadWrite && mode !== OpenMode.BestAccess);
  return { output: { kind: 'attachment', instance: m.instance, num, readOnly } };
};

const openEmbeddedMessage: RopHandler = async (q, h) => {
  const a = h.input.obj;
  if (a.kind !== 'attachment') throw new TypeError('not an attachment');
  const mode = q.openModeFlags as number;
  // Create: a new embedded message unless the attachment has one; opened read-write.
  const create = mode === OpenMode.Create;
  if ((mode === OpenMode.ReadWrite || create) && a.readOnly) return { returnValue: Ec.ecAccessDenied };
  const parent = h.input.parent === null ? undefined : h.session.get(h.input.parent)?.obj;
  const fid = parent?.kind === 'message' ? parent.fid : 0;
  const { instance } = await h.env.op('instanceOpenEmbedded', { instance: a.instance, num: a.num, create });
  try {
    const info = await messageInfo(h, instance);
    const readOnly = a.readOnly || (mode !== OpenMode.ReadWrite && mode !== OpenMode.BestAccess && !create);
    // An embedded message has no id of its own in this store.
    return { output: { kind: 'message', instance, mid: null, fid, readOnly }, ok: { reserved: 0, messageId: 0n, ...info }, ctx: { recipientColumns: RECIPIENT_COLUMNS } };
  } catch (err) {
    await h.env.op('releaseInstance', { instance });
    throw err;
  }
};

/** The read state a ReadFlags value asks for; null when it leaves the read flag alone. */
function readWanted(flags: number): boolean | null {
  if ((flags & (ReadFlag.GenerateReceiptOnly | ReadFlag.ClearNotifyRead | ReadFlag.ClearNotifyUnread)) !== 0) return null;
  return (flags & ReadFlag.ClearReadFlag) === 0;
}

const setReadFlags: RopHandler = async (q, h) => {
  const f = h.input.obj;
  if (f.kind !== 'folder') throw new TypeError('not a folder');
  await mustHave(h, f.fid, Rights.ReadAny);
  const ids = q.messageIds as bigint[];
  const read = readWanted(q.readFlags as number);
  const inFolder = new Set([...(await h.env.op('listContents', { folder: f.fid })), ...(await h.env.op('listContents', { folder: f.fid, assoc: true }))]);
  // No ids: every (normal) message of the folder, as IMAPIFolder::SetReadFlags with no list.
  const wanted = ids.length === 0 ? await h.env.op('listContents', { folder: f.fid }) : ids.map(localId);
  const mids = wanted.filter((m): m is number => m !== null && inFolder.has(m));
  const partial = mids.length < wanted.length;
  if (read !== null && mids.length > 0) await h.env.op('setRead', { mids: [...new Set(mids)], read, suppressReceipt: ((q.readFlags as number) & ReadFlag.SuppressReceipt) !== 0 });
  return { always: { partialCompletion: partial } };
};

const setMessageReadFlag: RopHandler = async (q, h) => {
  const m = messageOf(h);
  const read = readWanted(q.readFlags as number);
  if (read !== null) {
    if (m.mid !== null) await h.env.op('setRead', { mids: [m.mid], read, suppressReceipt: ((q.readFlags as number) & ReadFlag.SuppressReceipt) !== 0 });
    // The open instance keeps the same flags, so a later save does not undo this.
    const cur = bagOf(await h.env.op('instanceGetProps', { instance: m.instance, tags: [Tag.PidTagMessageFlags] })).get(Tag.PidTagMessageFlags);
    const flags = typeof cur === 'number' ? cur : 0;
    const next = read ? flags | MSGFLAG_READ : flags & ~MSGFLAG_READ;
    if (next !== flags) await h.env.op('instanceSetProps', { instance: m.instance, props: encodePropBag([[Tag.PidTagMessageFlags, next]]) });
  }
  // ReadStatusChanged concerns public folder mode (per-user read state); a mailbox answers false.
  return { ok: { readStatusChanged: false } };
};

/** A message of the input folder (ecNotFound otherwise) and its stored properties among `tags`. */
async function folderMessage(q: Record<string, unknown>, h: HandlerCtx, tags: number[]): Promise<{ mid: number; props: PropMap } | RopOutcome> {
  const f = h.input.obj;
  if (f.kind !== 'folder') throw new TypeError('not a folder');
  const mid = localId(q.messageId as bigint);
  if (mid === null) return { returnValue: Ec.ecNotFound };
  const props = bagOf((await h.env.op('getMessage', { mid, tags: [MsgTag.PidTagParentFolderId, ...tags] })).props);
  if (props.get(MsgTag.PidTagParentFolderId) !== makeEid(REPLID_LOCAL, f.fid)) return { returnValue: Ec.ecNotFound };
  return { mid, props };
}

const statusOf = (v: PropValue | undefined): number => (typeof v === 'number' ? v >>> 0 : 0);

const getMessageStatus: RopHandler = async (q, h) => {
  const r = await folderMessage(q, h, [T.PidTagMessageStatus]);
  if (!('mid' in r)) return r;
  return { ok: { messageStatusFlags: statusOf(r.props.get(T.PidTagMessageStatus)) } };
};

const setMessageStatus: RopHandler = async (q, h) => {
  const r = await folderMessage(q, h, [T.PidTagMessageStatus]);
  if (!('mid' in r)) return r;
  if (!(await messageAccess(h, (h.input.obj as { fid: number }).fid, r.mid)).write) return { returnValue: Ec.ecAccessDenied };
  const old = statusOf(r.props.get(T.PidTagMessageStatus));
  const mask = (q.messageStatusMask as number) >>> 0;
  const next = ((old & ~mask) | ((q.messageStatusFlags as number) & mask)) >>> 0;
  if (next !== old) await h.env.op('setFlagProps', { mid: r.mid, set: encodePropBag([[T.PidTagMessageStatus, next | 0]]) });
  return { ok: { messageStatusFlags: old } };
};

const notSupported: RopHandler = () => ({ returnValue: Ec.ecNotSupported });

type Kind = ServerObject['kind'];

export function registerMessageRops(t: HandlerTable): void {
  const on = (id: number, kinds: readonly Kind[], fn: RopHandler) => {
    const byKind = { ...(t.get(id) ?? {}) };
    for (const k of kinds) byKind[k] = fn;
    t.set(id, byKind);
  };
  on(RopId.OpenMessage, ['logon', 'folder'], openMessage);
  on(RopId.ReloadCachedInformation, ['message'], reloadCachedInformation);
  on(RopId.ReadRecipients, ['message'], readRecipients);
  on(RopId.GetAttachmentTable, ['message'], getAttachmentTable);
  on(RopId.GetValidAttachments, ['message'], getValidAttachments);
  on(RopId.OpenAttachment, ['message'], openAttachment);
  on(RopId.OpenEmbeddedMessage, ['attachment'], openEmbeddedMessage);
  on(RopId.SetReadFlags, ['folder'], setReadFlags);
  on(RopId.SetMessageReadFlag, ['message'], setMessageReadFlag);
  on(RopId.GetMessageStatus, ['folder'], getMessageStatus);
  on(RopId.SetMessageStatus, ['folder'], setMessageStatus);
  // Fast transfer (MS-OXCFXICS) is not served yet: a clean refusal, never "unknown".
  on(RopId.FastTransferSourceCopyTo, ['folder', 'message', 'attachment'], notSupported);
  on(RopId.FastTransferSourceCopyProperties, ['folder', 'message', 'attachment'], notSupported);
  on(RopId.FastTransferSourceGetBuffer, ['logon', 'folder', 'message', 'attachment', 'table', 'stream', 'notify'], notSupported);
}
