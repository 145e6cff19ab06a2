/**
 * Message ROPs, write side (MS-OXCMSG 2.2.3, 3.2.5): creating messages on the actor's message
 * instances (RopCreateMessage), changing their recipients (RopModifyRecipients with
 * RecipientRows, MS-OXCDATA 2.8.3; RopRemoveAllRecipients) and attachments (RopCreateAttachment,
 * RopDeleteAttachment, RopSaveChangesAttachment). Nothing reaches the store before
 * RopSaveChangesMessage (save-rops.ts); a created attachment joins its message only when saved,
 * and goes when its object is released unsaved (MS-OXCMSG 3.2.5.13).
 */
import { randomBytes } from 'node:crypto';
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { TypedValue } from '../../../protocols/mapi/wire/prop-values.js';
import { RecipientFlag, RecipientType, type RecipientRow } from '../../../protocols/mapi/wire/recipient-row.js';
import { addressBookEntryId, DT_DISTLIST, DT_MAILUSER, oneOffEntryId, searchKey } from '../../../storage/address-ids.js';
import { eidGlobcnt, eidReplid, REPLID_LOCAL } from '../../../storage/ids.js';
import { encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { MsgTag, MSGFLAG_READ, MSGFLAG_UNSENT } from '../../../storage/message-store.js';
import { Tag } from '../../../storage/prop-tags.js';
import { dateToFiletime, PropType, propId, propTag, type PropValue } from '../../../storage/prop-types.js';
import type { HandlerCtx, HandlerTable, RopHandler } from './rop-run.js';
import { Rights, type AttachmentObject, type MessageObject, type ServerObject } from './rop-session.js';

const T = {
  PidTagTransmittableDisplayName: propTag(0x3a20, PropType.PtypString),
  PidTagAddressBookDisplayNamePrintable: propTag(0x39ff, PropType.PtypString),
  PidTagResponsibility: propTag(0x0e0f, PropType.PtypBoolean),
  PidTagTrustSender: propTag(0x0e79, PropType.PtypInteger32),
} as const;

/** PidTagAddressType of the RecipientRow types that imply one (MS-OXCDATA 2.8.3.1). */
const ADDRESS_TYPE_OF: Readonly<Record<number, string>> = {
  [RecipientType.X500DN]: 'EX',
  [RecipientType.MsMail]: 'MSMAIL',
  [RecipientType.SMTP]: 'SMTP',
  [RecipientType.Fax]: 'FAX',
  [RecipientType.ProfessionalOfficeSystem]: 'PROFS',
  [RecipientType.PersonalDistributionList1]: 'MAPIPDL',
  [RecipientType.PersonalDistributionList2]: 'MAPIPDL',
};

/** The distinguished name prefix RopConnect gave the session (what AddressPrefixUsed counts into). */
export const dnPrefixOf = (legacyDn: string): string => legacyDn.replace(/\/cn=Recipients\/.*$/i, '');

const isCell = (c: unknown): boolean => !(typeof c === 'object' && c !== null && !(c instanceof Uint8Array) && !Array.isArray(c) && !(c instanceof TypedValue));

/**
 * A recipient's properties from a RecipientRow of RopModifyRecipients: its columns, then the
 * standard values the flags bring (they win over a column of the same property), then the
 * recipient type. Entry id and search key are made from the address when the row gives none.
 */
export function recipientPropsOf(row: RecipientRow, columns: readonly number[], recipientType: number, dnPrefix: string): PropMap {
  const p: PropMap = new Map();
  row.properties.cells.forEach((c, i) => {
    const tag = columns[i];
    if (tag === undefined) return;
    if (c instanceof TypedValue) p.set(propTag(propId(tag), c.type), c.value);
    else if (isCell(c)) p.set(tag, c as PropValue);
  });
  // The row id is the server's (the request's RowId), never a stored property.
  p.delete(MsgTag.PidTagRowid);
  const flags = row.flags;
  const type = flags & RecipientFlag.TypeMask;
  let addressType = ADDRESS_TYPE_OF[type];
  if ((flags & RecipientFlag.O) !== 0 && row.addressType !== undefined) addressType = row.addressType;
  let email = row.emailAddress;
  if (type === RecipientType.X500DN && row.x500dn !== undefined) {
    // AddressPrefixUsed: that many characters of the session's DN prefix were left out.
    email = dnPrefix.slice(0, row.addressPrefixUsed ?? 0) + row.x500dn;
    p.set(Tag.PidTagDisplayType, row.displayType ?? DT_MAILUSER);
  }
  if (row.entryId !== undefined) p.set(Tag.PidTagEntryId, Uint8Array.from(row.entryId));
  if (row.searchKey !== undefined) p.set(Tag.PidTagSearchKey, Uint8Array.from(row.searchKey));
  if (addressType !== undefined) p.set(Tag.PidTagAddressType, addressType);
  if (email !== undefined) p.set(Tag.PidTagEmailAddress, email);
  if (row.displayName !== undefined) p.set(Tag.PidTagDisplayName, row.displayName);
  if (row.simpleDisplayName !== undefined) p.set(T.PidTagAddressBookDisplayNamePrintable, row.simpleDisplayName);
  if ((flags & RecipientFlag.T) !== 0 && row.transmittableDisplayName !== undefined) p.set(T.PidTagTransmittableDisplayName, row.transmittableDisplayName);
  else if ((flags & RecipientFlag.S) !== 0 && row.displayName !== undefined) p.set(T.PidTagTransmittableDisplayName, row.displayName);
  p.set(Tag.PidTagSendRichInfo, (flags & RecipientFlag.N) === 0);
  if ((flags & RecipientFlag.R) !== 0) p.set(T.PidTagResponsibility, true);
  p.set(Tag.PidTagRecipientType, recipientType);
  // A resolved recipient has an entry id and a search key (MS-OXCDATA 2.2.5, MS-OXCPRPT).
  if (addressType !== undefined && email !== undefined && email !== '') {
    if (!p.has(Tag.PidTagEntryId)) {
      const dt = p.get(Tag.PidTagDisplayType);
      p.set(
        Tag.PidTagEntryId,
        Uint8Array.from(addressType.toUpperCase() === 'EX' ? addressBookEntryId(email, dt === DT_DISTLIST ? DT_DISTLIST : DT_MAILUSER) : oneOffEntryId(row.displayName ?? email, addressType, email)),
      );
    }
    if (!p.has(Tag.PidTagSearchKey)) p.set(Tag.PidTagSearchKey, Uint8Array.from(searchKey(addressType, email)));
    if (addressType.toUpperCase() === 'SMTP' && !p.has(Tag.PidTagSmtpAddress)) p.set(Tag.PidTagSmtpAddress, email);
  }
  return p;
}

function messageOf(h: HandlerCtx): MessageObject {
  const obj = h.input.obj;
  if (obj.kind !== 'message') throw new TypeError('not a message');
  return obj;
}

function attachmentOf(h: HandlerCtx): AttachmentObject {
  const obj = h.input.obj;
  if (obj.kind !== 'attachment') throw new TypeError('not an attachment');
  return obj;
}

const filetimeNow = (): bigint => dateToFiletime(new Date());

const createMessage: RopHandler = async (q, h) => {
  const id = q.folderId as bigint;
  if (eidReplid(id) !== REPLID_LOCAL) return { returnValue: Ec.ecNotFound };
  const fid = eidGlobcnt(id);
  const assoc = (q.associatedFlag as boolean) === true;
  if (((await h.rights(fid)) & Rights.Create) === 0) return { returnValue: Ec.ecAccessDenied };
  // ecNotFound when the folder does not exist.
  const { instance } = await h.env.op('newMessage', { session: h.session.id, folder: fid, assoc });
  // The initial properties of MS-OXCMSG 3.2.5.2 the instance does not have (the store makes
  // the times, sizes and ids when it is saved; PidTagDisplayTo/Cc/Bcc come from the recipients).
  const init: PropMap = new Map<number, PropValue>([
    [Tag.PidTagImportance, 1],
    [Tag.PidTagSensitivity, 0],
    [Tag.PidTagMessageFlags, MSGFLAG_READ | MSGFLAG_UNSENT],
    [T.PidTagTrustSender, 1],
    [Tag.PidTagSearchKey, Uint8Array.from(randomBytes(16))],
    // Who made it (MS-OXCPRPT PidTagCreatorEntryId): "own messages" for EditOwned / DeleteOwned rights.
    [propTag(0x3ff9, PropType.PtypBinary), addressBookEntryId(h.session.caller.legacyDn)],
    [propTag(0x3ff8, PropType.PtypString), h.session.caller.displayName],
  ]);
  await h.env.op('instanceSetProps', { instance, props: encodePropBag(init) });
  // No message id before the save: HasMessageId false (the save's response carries it).
  return { output: { kind: 'message', instance, mid: null, fid, readOnly: false }, ok: { hasMessageId: false } };
};

const removeAllRecipients: RopHandler = async (_q, h) => {
  const m = messageOf(h);
  if (m.readOnly) return { returnValue: Ec.ecAccessDenied };
  await h.env.op('instanceRemoveAllRecipients', { instance: m.instance });
  return {};
};

interface ModifyRow {
  rowId: number;
  recipientType: number;
  recipientRow: RecipientRow | null;
}

const modifyRecipients: RopHandler = async (q, h) => {
  const m = messageOf(h);
  if (m.readOnly) return { returnValue: Ec.ecAccessDenied };
  const columns = q.recipientColumns as number[];
  const prefix = dnPrefixOf(h.session.caller.legacyDn);
  const rows = (q.recipientRows as ModifyRow[]).map((r) => ({
    rowid: r.rowId,
    // A row without a RecipientRow removes the recipient with that row id.
    props: r.recipientRow === null ? null : encodePropBag(recipientPropsOf(r.recipientRow, columns, r.recipientType, prefix)),
  }));
  await h.env.op('instanceModifyRecipients', { instance: m.instance, rows });
  return {};
};

const createAttachment: RopHandler = async (_q, h) => {
  const m = messageOf(h);
  if (m.readOnly) return { returnValue: Ec.ecAccessDenied };
  const { num } = await h.env.op('instanceCreateAttachment', { instance: m.instance, pending: true });
  const now = filetimeNow();
  // Initial properties (MS-OXCMSG 3.2.5.13); PidTagAttachNumber and PidTagAttachSize are computed.
  const init: PropMap = new Map<number, PropValue>([
    [Tag.PidTagRenderingPosition, -1],
    [Tag.PidTagCreationTime, now],
    [Tag.PidTagLastModificationTime, now],
  ]);
  await h.env.op('instanceSetAttachment', { instance: m.instance, num, props: encodePropBag(init) });
  return { output: { kind: 'attachment', instance: m.instance, num, readOnly: false }, ok: { attachmentId: num } };
};

const deleteAttachment: RopHandler = async (q, h) => {
  const m = messageOf(h);
  if (m.readOnly) return { returnValue: Ec.ecAccessDenied };
  await h.env.op('instanceDeleteAttachment', { instance: m.instance, num: q.attachmentId as number });
  return {};
};

const saveChangesAttachment: RopHandler = async (_q, h) => {
  const a = attachmentOf(h);
  if (a.readOnly) return { returnValue: Ec.ecAccessDenied };
  // Properties and data went into the instance as they were set; saving makes a created
  // attachment part of the message (the message itself is saved by RopSaveChangesMessage).
  await h.env.op('instanceSetAttachment', { instance: a.instance, num: a.num, props: encodePropBag([[Tag.PidTagLastModificationTime, filetimeNow()]]) });
  await h.env.op('instanceSaveAttachment', { instance: a.instance, num: a.num });
  return {};
};

type Kind = ServerObject['kind'];

export function registerComposeRops(t: HandlerTable): void {
  const on = (id: number, kinds: readonly Kind[], fn: RopHandler) => {
    const byKind = { ...(t.get(id) ?? {}) };
    for (const k of kinds) byKind[k] = fn;
    t.set(id, byKind);
  };
  on(RopId.CreateMessage, ['logon', 'folder'], createMessage);
  on(RopId.RemoveAllRecipients, ['message'], removeAllRecipients);
  on(RopId.ModifyRecipients, ['message'], modifyRecipients);
  on(RopId.CreateAttachment, ['message'], createAttachment);
  on(RopId.DeleteAttachment, ['message'], deleteAttachment);
  on(RopId.SaveChangesAttachment, ['attachment'], saveChangesAttachment);
}
