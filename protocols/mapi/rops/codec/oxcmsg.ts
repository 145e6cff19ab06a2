/** MS-OXCMSG ROPs (MS-OXCROPS 2.2.6): messages, recipients and attachments. */
import { defineRop } from './rop.js';
import { RopId } from '../ids.js';
import { u8, u16, u32, u64, bool, when, arr, struct, fixed, propTags, typedString, recipientRow, ids64 } from './fields.js';

const DOC = 'MS-OXCMSG';

/** OpenRecipientRow (MS-OXCROPS 2.2.6.1.2.1): RecipientType, CodePageId, Reserved, RecipientRowSize, RecipientRow. */
const openRecipientRow = struct({ recipientType: u8, codePageId: u16, reserved: u16, recipientRow });

/** The message header of RopOpenMessage / RopReloadCachedInformation / RopOpenEmbeddedMessage. */
const messageInfo = {
  hasNamedProperties: bool,
  subjectPrefix: typedString,
  normalizedSubject: typedString,
  recipientCount: u16,
  recipientColumns: propTags,
  recipientRows: arr(1, openRecipientRow, 7),
};

export const OpenMessage = defineRop({
  id: RopId.OpenMessage,
  doc: DOC,
  handles: 'io',
  req: { codePageId: u16, folderId: u64, openModeFlags: u8, messageId: u64 },
  ok: messageInfo,
});

export const CreateMessage = defineRop({
  id: RopId.CreateMessage,
  doc: DOC,
  handles: 'io',
  req: { codePageId: u16, folderId: u64, associatedFlag: bool },
  ok: { hasMessageId: bool, messageId: when((so) => so.hasMessageId === true, u64) },
});

/** The response's handle index is the request's ResponseHandleIndex. */
export const SaveChangesMessage = defineRop({
  id: RopId.SaveChangesMessage,
  doc: DOC,
  handles: 'respin',
  req: { saveFlags: u8 },
  ok: { inputHandleIndex: u8, messageId: u64 },
});

export const RemoveAllRecipients = defineRop({ id: RopId.RemoveAllRecipients, doc: DOC, handles: 'in', req: { reserved: u32 } });

const modifyRecipientRow = struct({ rowId: u32, recipientType: u8, recipientRow });

export const ModifyRecipients = defineRop({
  id: RopId.ModifyRecipients,
  doc: DOC,
  handles: 'in',
  req: { recipientColumns: propTags, recipientRows: arr(2, modifyRecipientRow, 7) },
});

const readRecipientRow = struct({ rowId: u32, recipientType: u8, codePageId: u16, reserved: u16, recipientRow });

export const ReadRecipients = defineRop({
  id: RopId.ReadRecipients,
  doc: DOC,
  handles: 'in',
  req: { rowId: u32, reserved: u16 },
  ok: { recipientRows: arr(1, readRecipientRow, 11) },
});

export const ReloadCachedInformation = defineRop({ id: RopId.ReloadCachedInformation, doc: DOC, handles: 'in', req: { reserved: u16 }, ok: messageInfo });

export const SetMessageStatus = defineRop({
  id: RopId.SetMessageStatus,
  doc: DOC,
  handles: 'in',
  req: { messageId: u64, messageStatusFlags: u32, messageStatusMask: u32 },
  ok: { messageStatusFlags: u32 },
});

export const GetMessageStatus = defineRop({ id: RopId.GetMessageStatus, doc: DOC, handles: 'in', req: { messageId: u64 }, ok: { messageStatusFlags: u32 } });

/**
 * ClientData (24 bytes) is present on a public-folders logon. The response's handle index is the
 * request's ResponseHandleIndex.
 */
export const SetMessageReadFlag = defineRop({
  id: RopId.SetMessageReadFlag,
  doc: DOC,
  handles: 'respin',
  req: { readFlags: u8, clientData: when((_, ctx) => ctx.privateLogon === false, fixed(24)) },
  ok: {
    readStatusChanged: bool,
    logonId: when((so) => so.readStatusChanged === true, u8),
    clientData: when((so) => so.readStatusChanged === true, fixed(24)),
  },
});

export const SetReadFlags = defineRop({
  id: RopId.SetReadFlags,
  doc: DOC,
  handles: 'in',
  req: { wantAsynchronous: bool, readFlags: u8, messageIds: ids64 },
  always: { partialCompletion: bool },
});

export const OpenAttachment = defineRop({ id: RopId.OpenAttachment, doc: DOC, handles: 'io', req: { openAttachmentFlags: u8, attachmentId: u32 } });

export const CreateAttachment = defineRop({ id: RopId.CreateAttachment, doc: DOC, handles: 'io', ok: { attachmentId: u32 } });

export const DeleteAttachment = defineRop({ id: RopId.DeleteAttachment, doc: DOC, handles: 'in', req: { attachmentId: u32 } });

/** The response's handle index is the request's ResponseHandleIndex. */
export const SaveChangesAttachment = defineRop({ id: RopId.SaveChangesAttachment, doc: DOC, handles: 'respin', req: { saveFlags: u8 } });

export const OpenEmbeddedMessage = defineRop({
  id: RopId.OpenEmbeddedMessage,
  doc: DOC,
  handles: 'io',
  req: { reserved: u8, codePageId: u16, openModeFlags: u8 },
  ok: { reserved: u8, messageId: u64, ...messageInfo },
});

export const GetAttachmentTable = defineRop({ id: RopId.GetAttachmentTable, doc: DOC, handles: 'io', req: { tableFlags: u8 } });

export const GetValidAttachments = defineRop({ id: RopId.GetValidAttachments, doc: DOC, handles: 'in', ok: { attachmentIds: arr(2, u32, 4) } });

export const ROPS = [
  OpenMessage, CreateMessage, SaveChangesMessage, RemoveAllRecipients, ModifyRecipients, ReadRecipients, ReloadCachedInformation,
  SetMessageStatus, GetMessageStatus, SetMessageReadFlag, SetReadFlags, OpenAttachment, CreateAttachment, DeleteAttachment,
  SaveChangesAttachment, OpenEmbeddedMessage, GetAttachmentTable, GetValidAttachments,
] as const;

