/**
 * The address book (NSPI) constants by their MS-OXNSPI / MS-OXOABK / MS-OXPROPS names: error
 * codes, special MIds, flags, sort types, display and object types, and the property tags the
 * address book serves. One registry for the nspi module.
 */
import { PropType, propTag } from '../../../storage/prop-types.js';
import { Tag } from '../../../storage/prop-tags.js';

/** NSPI return values (MS-OXNSPI 2.2.1.2). */
export const NspiError = {
  Success: 0x00000000,
  UnbindSuccess: 0x00000001,
  ErrorsReturned: 0x00040380,
  GeneralFailure: 0x80004005,
  NotSupported: 0x80040102,
  InvalidObject: 0x80040108,
  OutOfResources: 0x8004010e,
  NotFound: 0x8004010f,
  LogonFailed: 0x80040111,
  TooComplex: 0x80040117,
  InvalidCodepage: 0x8004011e,
  InvalidLocale: 0x8004011f,
  TableTooBig: 0x80040403,
  InvalidBookmark: 0x80040405,
  AccessDenied: 0x80070005,
  NotEnoughMemory: 0x8007000e,
  InvalidParameter: 0x80070057,
} as const;

/** Position MIds (MS-OXNSPI 2.2.1.8). */
export const MID_BEGINNING_OF_TABLE = 0x0;
export const MID_CURRENT = 0x1;
export const MID_END_OF_TABLE = 0x2;
/** ResolveNames results (MS-OXNSPI 2.2.1.9). */
export const MID_UNRESOLVED = 0x0;
export const MID_AMBIGUOUS = 0x1;
export const MID_RESOLVED = 0x2;
/** The first MId given to an object: values below are reserved for the special MIds above. */
export const FIRST_OBJECT_MID = 0x10;

/** STAT SortType values (MS-OXNSPI 2.2.1.11). */
export const SortType = {
  DisplayName: 0x00000000,
  PhoneticDisplayName: 0x00000003,
  DisplayName_RO: 0x000003e8,
  DisplayName_W: 0x000003e9,
} as const;

/** Code pages with a meaning of their own (MS-OXNSPI 2.2.1.3). */
export const CP_TELETEX = 0x00004f25;
export const CP_WINUNICODE = 0x000004b0;

/** Flags of the request types (MS-OXNSPI 2.2.1.5 and 2.2.1.6, MS-OXCMAPIHTTP 2.2.5). */
export const NspiFlag = {
  fSkipObjects: 0x00000001,
  fEphID: 0x00000002,
  /** GetSpecialTable: the address creation templates table instead of the hierarchy. */
  NspiAddressCreationTemplates: 0x00000002,
  /** GetSpecialTable: strings in Unicode. */
  NspiUnicodeStrings: 0x00000004,
  /** QueryColumns: string columns with the Unicode type. */
  NspiUnicodeProptypes: 0x80000000,
} as const;

/** PidTagDisplayType values (MS-OXOABK 2.2.3.11). */
export const DisplayType = {
  DT_MAILUSER: 0x00000000,
  DT_DISTLIST: 0x00000001,
  DT_CONTAINER: 0x00000100,
  DT_TEMPLATE: 0x00000101,
} as const;

/** PidTagDisplayTypeEx flag: the object can appear in an access control list (MS-OXOABK 2.2.3.12). */
export const DTE_FLAG_ACL_CAPABLE = 0x40000000;

/** PidTagObjectType values (MS-OXCPRPT 2.2.1.7). */
export const ObjectType = { MAPI_ABCONT: 0x4, MAPI_MAILUSER: 0x6, MAPI_DISTLIST: 0x8 } as const;

/** PidTagContainerFlags values (MS-OXOABK 2.2.2.1). */
export const ContainerFlag = { AB_RECIPIENTS: 0x1, AB_SUBCONTAINERS: 0x2, AB_UNMODIFIABLE: 0x8 } as const;

/** Permanent and ephemeral entry id IDType values (MS-OXNSPI 2.2.9.2, 2.2.9.3). */
export const ENTRYID_PERMANENT = 0x00;
export const ENTRYID_EPHEMERAL = 0x87;

const I4 = PropType.PtypInteger32;
const S = PropType.PtypString;
const BOOL = PropType.PtypBoolean;

/**
 * Address book property tags (MS-OXOABK, MS-OXPROPS), strings with the Unicode type. Those the
 * store knows come from its registry (storage/prop-tags.ts); the rest are the address book's own.
 */
export const AbTag = {
  PidTagEntryId: Tag.PidTagEntryId,
  PidTagInstanceKey: Tag.PidTagInstanceKey,
  PidTagRecordKey: Tag.PidTagRecordKey,
  PidTagSearchKey: Tag.PidTagSearchKey,
  PidTagObjectType: Tag.PidTagObjectType,
  PidTagDisplayType: Tag.PidTagDisplayType,
  PidTagDisplayTypeEx: propTag(0x3905, I4),
  PidTagDisplayName: Tag.PidTagDisplayName,
  PidTagAddressType: Tag.PidTagAddressType,
  PidTagEmailAddress: Tag.PidTagEmailAddress,
  PidTagSmtpAddress: Tag.PidTagSmtpAddress,
  PidTagAddressBookProxyAddresses: propTag(0x800f, PropType.PtypMultipleString),
  PidTagAccount: propTag(0x3a00, S),
  PidTagTitle: propTag(0x3a17, S),
  PidTagDepartmentName: propTag(0x3a18, S),
  PidTagOfficeLocation: propTag(0x3a19, S),
  PidTagBusinessTelephoneNumber: propTag(0x3a08, S),
  PidTagPrimaryTelephoneNumber: propTag(0x3a1a, S),
  PidTagCompanyName: propTag(0x3a16, S),
  PidTagGivenName: propTag(0x3a06, S),
  PidTagSurname: propTag(0x3a11, S),
  PidTagMobileTelephoneNumber: propTag(0x3a1c, S),
  PidTagAddressBookHomeMessageDatabase: propTag(0x8006, S),
  PidTagAddressBookMember: propTag(0x8009, PropType.PtypObject),
  PidTagAddressBookDisplayNamePrintable: propTag(0x39ff, S),
  PidTagTransmittableDisplayName: propTag(0x3a20, S),
  PidTagSendRichInfo: Tag.PidTagSendRichInfo,
  // Containers (MS-OXOABK 2.2.2)
  PidTagContainerFlags: propTag(0x3600, I4),
  PidTagDepth: propTag(0x3005, I4),
  PidTagAddressBookContainerId: propTag(0xfffd, I4),
  PidTagAddressBookIsMaster: propTag(0xfffb, BOOL),
  PidTagAddressBookParentEntryId: propTag(0xfffc, PropType.PtypBinary),
  // Resolution (MS-OXNSPI 3.1.4.7: ambiguous name resolution)
  PidTagAnr: propTag(0x360c, S),
} as const;

/** The tags a string property answers to: the same id with PtypString or PtypString8. */
export function isStringType(type: number): boolean {
  return type === PropType.PtypString || type === PropType.PtypString8;
}
