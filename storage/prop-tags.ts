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
