/**
 * Property tags the store sets or computes, by their MS-OXPROPS names (tag = id << 16 | type).
 * Sources and confidence: docs/specs/store-ids-facts.md. One registry; stable values only.
 */
import { PropType, propTag } from './prop-types.js';

const B = PropType.PtypBinary;
const I4 = PropType.PtypInteger32;
const I8 = PropType.PtypInteger64;
const S = PropType.PtypString;
const T = PropType.PtypTime;
const BOOL = PropType.PtypBoolean;
const MVB = PropType.PtypMultipleBinary;

export const Tag = {
  PidTagEntryId: propTag(0x0fff, B),
  PidTagRecordKey: propTag(0x0ff9, B),
  PidTagInstanceKey: propTag(0x0ff6, B),
  PidTagStoreRecordKey: propTag(0x0ffa, B),
  PidTagStoreEntryId: propTag(0x0ffb, B),
  PidTagParentEntryId: propTag(0x0e09, B),
  PidTagSourceKey: propTag(0x65e0, B),
  PidTagParentSourceKey: propTag(0x65e1, B),
  PidTagChangeKey: propTag(0x65e2, B),
  PidTagPredecessorChangeList: propTag(0x65e3, B),
  PidTagChangeNumber: propTag(0x67a4, I8),
  PidTagFolderId: propTag(0x6748, I8),
  PidTagMid: propTag(0x674a, I8),
  PidTagDisplayName: propTag(0x3001, S),
  PidTagComment: propTag(0x3004, S),
  PidTagContainerClass: propTag(0x3613, S),
  PidTagFolderType: propTag(0x3601, I4),
  PidTagContentCount: propTag(0x3602, I4),
  PidTagContentUnreadCount: propTag(0x3603, I4),
  PidTagAssociatedContentCount: propTag(0x3617, I4),
  PidTagSubfolders: propTag(0x360a, BOOL),
  /** Exchange's PR_FOLDER_CHILD_COUNT (not in MS-OXPROPS, which gives 0x6638 a binary meaning). */
  PidTagFolderChildCount: propTag(0x6638, I4),
  PidTagMessageSize: propTag(0x0e08, I4),
  PidTagMessageSizeExtended: propTag(0x0e08, I8),
  PidTagCreationTime: propTag(0x3007, T),
  PidTagLastModificationTime: propTag(0x3008, T),
  PidTagMessageClass: propTag(0x001a, S),
  PidTagMessageFlags: propTag(0x0e07, I4),
  PidTagSubject: propTag(0x0037, S),
  PidTagStoreSupportMask: propTag(0x340d, I4),
  PidTagMailboxOwnerName: propTag(0x661c, S),
  PidTagMailboxOwnerEntryId: propTag(0x661b, B),
  PidTagIpmSubtreeEntryId: propTag(0x35e0, B),
  PidTagIpmOutboxEntryId: propTag(0x35e2, B),
  PidTagIpmWastebasketEntryId: propTag(0x35e3, B),
  PidTagIpmSentMailEntryId: propTag(0x35e4, B),
  PidTagViewsEntryId: propTag(0x35e5, B),
  PidTagCommonViewsEntryId: propTag(0x35e6, B),
  PidTagFinderEntryId: propTag(0x35e7, B),
  PidTagIpmAppointmentEntryId: propTag(0x36d0, B),
  PidTagIpmContactEntryId: propTag(0x36d1, B),
  PidTagIpmJournalEntryId: propTag(0x36d2, B),
  PidTagIpmNoteEntryId: propTag(0x36d3, B),
  PidTagIpmTaskEntryId: propTag(0x36d4, B),
  PidTagRemindersOnlineEntryId: propTag(0x36d5, B),
  PidTagIpmDraftsEntryId: propTag(0x36d7, B),
  PidTagAdditionalRenEntryIds: propTag(0x36d8, MVB),
  PidTagAdditionalRenEntryIdsEx: propTag(0x36d9, B),
  PidTagFreeBusyEntryIds: propTag(0x36e4, MVB),
  // Messages as mail (MS-OXCMAIL, MS-OXOMSG, MS-OXBBODY)
  PidTagSubjectPrefix: propTag(0x003d, S),
  PidTagNormalizedSubject: propTag(0x0e1d, S),
  PidTagSenderName: propTag(0x0c1a, S),
  PidTagSenderEntryId: propTag(0x0c19, B),
  PidTagSenderAddressType: propTag(0x0c1e, S),
  PidTagSenderEmailAddress: propTag(0x0c1f, S),
  PidTagSenderSearchKey: propTag(0x0c1d, B),
  PidTagSenderSmtpAddress: propTag(0x5d01, S),
  PidTagSentRepresentingName: propTag(0x0042, S),
  PidTagSentRepresentingEntryId: propTag(0x0041, B),
  PidTagSentRepresentingAddressType: propTag(0x0064, S),
  PidTagSentRepresentingEmailAddress: propTag(0x0065, S),
  PidTagSentRepresentingSearchKey: propTag(0x003b, B),
  PidTagSentRepresentingSmtpAddress: propTag(0x5d02, S),
  PidTagReplyRecipientEntries: propTag(0x004f, B),
  PidTagReplyRecipientNames: propTag(0x0050, S),
  PidTagDisplayTo: propTag(0x0e04, S),
  PidTagDisplayCc: propTag(0x0e03, S),
  PidTagDisplayBcc: propTag(0x0e02, S),
  PidTagClientSubmitTime: propTag(0x0039, T),
  PidTagMessageDeliveryTime: propTag(0x0e06, T),
  PidTagInternetMessageId: propTag(0x1035, S),
  PidTagInReplyToId: propTag(0x1042, S),
  PidTagInternetReferences: propTag(0x1039, S),
  PidTagImportance: propTag(0x0017, I4),
  PidTagPriority: propTag(0x0026, I4),
  PidTagSensitivity: propTag(0x0036, I4),
  PidTagReadReceiptRequested: propTag(0x0029, BOOL),
  PidTagOriginatorDeliveryReportRequested: propTag(0x0023, BOOL),
  PidTagTransportMessageHeaders: propTag(0x007d, S),
  PidTagInternetCodepage: propTag(0x3fde, I4),
  PidTagMessageCodepage: propTag(0x3ffd, I4),
  PidTagConversationIndex: propTag(0x0071, B),
  PidTagConversationTopic: propTag(0x0070, S),
  PidTagBody: propTag(0x1000, S),
  PidTagHtml: propTag(0x1013, B),
  PidTagRtfCompressed: propTag(0x1009, B),
  PidTagNativeBody: propTag(0x1016, I4),
  PidTagRtfInSync: propTag(0x0e1f, BOOL),
  PidTagLastVerbExecuted: propTag(0x1081, I4),
  PidTagIconIndex: propTag(0x1080, I4),
  PidTagFlagStatus: propTag(0x1090, I4),
  // Recipients (MS-OXCMSG 2.2.1.x, MS-OXOMSG)
  PidTagRecipientType: propTag(0x0c15, I4),
  PidTagEmailAddress: propTag(0x3003, S),
  PidTagAddressType: propTag(0x3002, S),
  PidTagSmtpAddress: propTag(0x39fe, S),
  PidTagSearchKey: propTag(0x300b, B),
  PidTagRecipientDisplayName: propTag(0x5ff6, S),
  PidTagRecipientEntryId: propTag(0x5ff7, B),
  PidTagRecipientFlags: propTag(0x5ffd, I4),
  PidTagObjectType: propTag(0x0ffe, I4),
  PidTagDisplayType: propTag(0x3900, I4),
  PidTagSendRichInfo: propTag(0x3a40, BOOL),
  // Attachments (MS-OXCMSG 2.2.2.x)
  PidTagAttachMethod: propTag(0x3705, I4),
  PidTagAttachFilename: propTag(0x3704, S),
  PidTagAttachLongFilename: propTag(0x3707, S),
  PidTagAttachExtension: propTag(0x3703, S),
  PidTagAttachMimeTag: propTag(0x370e, S),
  PidTagAttachContentId: propTag(0x3712, S),
  PidTagAttachContentLocation: propTag(0x3713, S),
  PidTagAttachContentBase: propTag(0x3711, S),
  PidTagAttachFlags: propTag(0x3714, I4),
  PidTagAttachmentHidden: propTag(0x7ffe, BOOL),
  PidTagRenderingPosition: propTag(0x370b, I4),
  PidTagTextAttachmentCharset: propTag(0x371b, S),
} as const;
export type TagName = keyof typeof Tag;

/**
 * The identity and change-tracking properties the store computes for every folder and message
 * (and a client can never set): entry ids, keys, change key, PCL, change number, times.
 */
export const COMPUTED_OBJECT_TAGS: readonly number[] = [
  Tag.PidTagEntryId,
  Tag.PidTagRecordKey,
  Tag.PidTagParentEntryId,
  Tag.PidTagSourceKey,
  Tag.PidTagParentSourceKey,
  Tag.PidTagChangeKey,
  Tag.PidTagPredecessorChangeList,
  Tag.PidTagChangeNumber,
  Tag.PidTagMessageSizeExtended,
  Tag.PidTagCreationTime,
  Tag.PidTagLastModificationTime,
];

/** PidTagFolderType values. */
/** PidTagNativeBody values (MS-OXCMSG 2.2.1.49). */
export const NativeBody = { Undefined: 0, PlainText: 1, Rtf: 2, Html: 3, ClearSigned: 4 } as const;
/** PidTagAttachMethod values (MS-OXCMSG 2.2.2.9). */
export const AttachMethod = { NoAttachment: 0, ByValue: 1, ByReference: 2, ByReferenceOnly: 4, EmbeddedMessage: 5, Storage: 6, ByWebReference: 7 } as const;
/** PidTagAttachFlags: the attachment is referenced by the HTML body (MS-OXCMSG 2.2.2.18). */
export const ATT_MHTML_REF = 0x4;
/** PidTagRecipientType values (MS-OXOMSG 2.2.3.1). */
export const RecipientType = { Originator: 0, To: 1, Cc: 2, Bcc: 3 } as const;

export const FolderType = { FOLDER_ROOT: 0, FOLDER_GENERIC: 1, FOLDER_SEARCH: 2 } as const;

/** PidTagStoreSupportMask flags a private mailbox announces. */
export const StoreSupport = {
  ENTRYID_UNIQUE: 0x1,
  MODIFY_OK: 0x8,
  CREATE_OK: 0x10,
  ATTACH_OK: 0x20,
  OLE_OK: 0x40,
  NOTIFY_OK: 0x100,
  MV_PROPS_OK: 0x200,
  CATEGORIZE_OK: 0x400,
  RTF_OK: 0x800,
  RESTRICTION_OK: 0x1000,
  SORT_OK: 0x2000,
  HTML_OK: 0x10000,
  ANSI_OK: 0x20000,
  UNICODE_OK: 0x40000,
} as const;
