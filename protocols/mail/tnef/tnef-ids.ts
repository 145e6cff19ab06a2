/**
 * Constants of the TNEF format (MS-OXTNEF 2.1.3) and the property tags the TNEF decoder maps
 * legacy attributes to (MS-OXPROPS). The tags belong in storage/prop-tags.ts, the one registry;
 * they live here until that file takes them (it is owned elsewhere), with the same names.
 */
import { PropType, propTag } from '../../../storage/prop-types.js';
import { guidFromString } from '../../../storage/guid.js';

/** The first four bytes of every TNEF stream, little-endian on the wire (MS-OXTNEF 2.1.3.1). */
export const TNEF_SIGNATURE = 0x223e9f78;

/** Attribute levels (MS-OXTNEF 2.1.3.1: attrLevelMessage, attrLevelAttachment). */
export const AttrLevel = { Message: 0x01, Attachment: 0x02 } as const;

/**
 * Attribute ids as the u32 on the wire: the attribute's legacy data type in the high 16 bits,
 * its id in the low 16 bits (attSubject is the bytes 04 80 01 00). Two attributes share the low
 * word 0x0006 (attOriginalMessageClass, attDateStart), so attributes are matched on all 32 bits.
 */
export const AttId = {
  attOwner: 0x00060000,
  attSentFor: 0x00060001,
  attDelegate: 0x00060002,
  attOriginalMessageClass: 0x00070006,
  attDateStart: 0x00030006,
  attDateEnd: 0x00030007,
  attAidOwner: 0x00050008,
  attRequestRes: 0x00040009,
  attFrom: 0x00008000,
  attSubject: 0x00018004,
  attDateSent: 0x00038005,
  attDateRecd: 0x00038006,
  attMessageStatus: 0x00068007,
  attMessageClass: 0x00078008,
  attMessageID: 0x00018009,
  attParentID: 0x0001800a,
  attConversationID: 0x0001800b,
  attBody: 0x0002800c,
  attPriority: 0x0004800d,
  attAttachData: 0x0006800f,
  attAttachTitle: 0x00018010,
  attAttachMetaFile: 0x00068011,
  attAttachCreateDate: 0x00038012,
  attAttachModifyDate: 0x00038013,
  attDateModified: 0x00038020,
  attAttachTransportFilename: 0x00069001,
  attAttachRenddata: 0x00069002,
  /** attMAPIProps in the MAPI documentation. */
  attMsgProps: 0x00069003,
  attRecipTable: 0x00069004,
  attAttachment: 0x00069005,
  attTnefVersion: 0x00089006,
  attOemCodepage: 0x00069007,
} as const;

/** The only TNEF version there is (attTnefVersion's value). */
export const TNEF_VERSION = 0x00010000;

/** attPriority values (MS-OXTNEF); they map to PidTagImportance 2, 1, 0. */
export const Prio = { High: 1, Normal: 2, Low: 3 } as const;

/** attMessageStatus bits (TNEF.H, "Mapping of TNEF attributes": fms* ↔ MSGFLAG_*). */
export const Fms = { Modified: 0x01, Local: 0x02, Submitted: 0x04, Read: 0x20, HasAttach: 0x80 } as const;

/** PidTagMessageFlags bits (MS-OXCMSG 2.2.1.6). */
export const MsgFlag = { Read: 0x01, Unmodified: 0x02, Submit: 0x04, Unsent: 0x08, HasAttach: 0x10 } as const;

/** RENDDATA.atyp values (TNEF.H). */
export const Atyp = { File: 1, Ole: 2, Picture: 3 } as const;

/** PidTagAttachMethod values (MS-OXCMSG 2.2.2.9). */
export const AttachMethod = { ByValue: 1, EmbeddedMessage: 5, Ole: 6 } as const;

/** The TRP id of a one-off address in attFrom. */
export const TRPID_ONE_OFF = 0x0004;

/** Interface ids that may precede a PtypObject value (MS-OXTNEF 2.1.3.4). */
export const IID_IMessage = guidFromString('00020307-0000-0000-c000-000000000046');

/** MS-OXCDATA 2.2.5.1: the provider UID of a one-off entry id. */
export const ONE_OFF_PROVIDER_UID = Uint8Array.from([0x81, 0x2b, 0x1f, 0xa4, 0xbe, 0xa3, 0x10, 0x19, 0x9d, 0x6e, 0x00, 0xdd, 0x01, 0x0f, 0x54, 0x02]);
/** One-off entry id flags (MAPIDEFS.H): strings in UTF-16LE, no rich content (TNEF) wanted. */
export const ONE_OFF_UNICODE = 0x8000;
export const ONE_OFF_NO_RICH_INFO = 0x0001;

const B = PropType.PtypBinary;
const I4 = PropType.PtypInteger32;
const S = PropType.PtypString;
const T = PropType.PtypTime;
const BOOL = PropType.PtypBoolean;

/**
 * Tags of the properties legacy attributes map to. Legacy string attributes carry 8-bit text in
 * the stream's code page; decoded, it is text like any other, so their tags use PtypString, as
 * storage/prop-tags.ts does. (Encapsulated PtypString8 properties keep their own tags.)
 */
export const TnefTag = {
  PidTagSubject: propTag(0x0037, S),
  PidTagMessageClass: propTag(0x001a, S),
  PidTagOriginalMessageClass: propTag(0x004b, S),
  PidTagClientSubmitTime: propTag(0x0039, T),
  PidTagMessageDeliveryTime: propTag(0x0e06, T),
  PidTagLastModificationTime: propTag(0x3008, T),
  PidTagCreationTime: propTag(0x3007, T),
  PidTagStartDate: propTag(0x0060, T),
  PidTagEndDate: propTag(0x0061, T),
  PidTagOwnerAppointmentId: propTag(0x0062, I4),
  PidTagResponseRequested: propTag(0x0063, BOOL),
  PidTagImportance: propTag(0x0017, I4),
  PidTagMessageFlags: propTag(0x0e07, I4),
  PidTagBody: propTag(0x1000, S),
  PidTagSearchKey: propTag(0x300b, B),
  PidTagParentKey: propTag(0x0025, B),
  PidTagConversationKey: propTag(0x000b, B),
  PidTagSenderEntryId: propTag(0x0c19, B),
  PidTagSenderName: propTag(0x0c1a, S),
  PidTagSenderAddressType: propTag(0x0c1e, S),
  PidTagSenderEmailAddress: propTag(0x0c1f, S),
  PidTagRtfCompressed: propTag(0x1009, B),
  PidTagMessageCodepage: propTag(0x3ffd, I4),
  PidTagInternetCodepage: propTag(0x3fde, I4),
  PidTagAttachDataBinary: propTag(0x3701, B),
  PidTagAttachDataObject: propTag(0x3701, PropType.PtypObject),
  PidTagAttachFilename: propTag(0x3704, S),
  PidTagAttachMethod: propTag(0x3705, I4),
  PidTagAttachLongFilename: propTag(0x3707, S),
  PidTagAttachRendering: propTag(0x3709, B),
  PidTagRenderingPosition: propTag(0x370b, I4),
  PidTagAttachTransportName: propTag(0x370c, S),
  PidTagAttachMimeTag: propTag(0x370e, S),
  PidTagAttachContentId: propTag(0x3712, S),
} as const;

/** Property id of PidTagAttachDataBinary / PidTagAttachDataObject. */
export const ATTACH_DATA_ID = 0x3701;
