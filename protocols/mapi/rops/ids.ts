/**
 * Registries of MAPI constants, by the specifications' names: RopIds (MS-OXCROPS 2.2.2) and
 * the error codes ROPs return (MS-OXCDATA 2.4, alternate ec* names). Stable values only.
 */

/** MS-OXCROPS 2.2.2 "The Table of RopIds". Members drop the "Rop" prefix: RopId.OpenFolder. */
export const RopId = {
  Release: 0x01,
  OpenFolder: 0x02,
  OpenMessage: 0x03,
  GetHierarchyTable: 0x04,
  GetContentsTable: 0x05,
  CreateMessage: 0x06,
  GetPropertiesSpecific: 0x07,
  GetPropertiesAll: 0x08,
  GetPropertiesList: 0x09,
  SetProperties: 0x0a,
  DeleteProperties: 0x0b,
  SaveChangesMessage: 0x0c,
  RemoveAllRecipients: 0x0d,
  ModifyRecipients: 0x0e,
  ReadRecipients: 0x0f,
  ReloadCachedInformation: 0x10,
  SetMessageReadFlag: 0x11,
  SetColumns: 0x12,
  SortTable: 0x13,
  Restrict: 0x14,
  QueryRows: 0x15,
  GetStatus: 0x16,
  QueryPosition: 0x17,
  SeekRow: 0x18,
  SeekRowBookmark: 0x19,
  SeekRowFractional: 0x1a,
  CreateBookmark: 0x1b,
  CreateFolder: 0x1c,
  DeleteFolder: 0x1d,
  DeleteMessages: 0x1e,
  GetMessageStatus: 0x1f,
  SetMessageStatus: 0x20,
  GetAttachmentTable: 0x21,
  OpenAttachment: 0x22,
  CreateAttachment: 0x23,
  DeleteAttachment: 0x24,
  SaveChangesAttachment: 0x25,
  SetReceiveFolder: 0x26,
  GetReceiveFolder: 0x27,
  RegisterNotification: 0x29,
  Notify: 0x2a,
  OpenStream: 0x2b,
  ReadStream: 0x2c,
  WriteStream: 0x2d,
  SeekStream: 0x2e,
  SetStreamSize: 0x2f,
  SetSearchCriteria: 0x30,
  GetSearchCriteria: 0x31,
  SubmitMessage: 0x32,
  MoveCopyMessages: 0x33,
  AbortSubmit: 0x34,
  MoveFolder: 0x35,
  CopyFolder: 0x36,
  QueryColumnsAll: 0x37,
  Abort: 0x38,
  CopyTo: 0x39,
  CopyToStream: 0x3a,
  CloneStream: 0x3b,
  GetPermissionsTable: 0x3e,
  GetRulesTable: 0x3f,
  ModifyPermissions: 0x40,
  ModifyRules: 0x41,
  GetOwningServers: 0x42,
  LongTermIdFromId: 0x43,
  IdFromLongTermId: 0x44,
  PublicFolderIsGhosted: 0x45,
  OpenEmbeddedMessage: 0x46,
  SetSpooler: 0x47,
  SpoolerLockMessage: 0x48,
  GetAddressTypes: 0x49,
  TransportSend: 0x4a,
  FastTransferSourceCopyMessages: 0x4b,
  FastTransferSourceCopyFolder: 0x4c,
  FastTransferSourceCopyTo: 0x4d,
  FastTransferSourceGetBuffer: 0x4e,
  FindRow: 0x4f,
  Progress: 0x50,
  TransportNewMail: 0x51,
  GetValidAttachments: 0x52,
  FastTransferDestinationConfigure: 0x53,
  FastTransferDestinationPutBuffer: 0x54,
  GetNamesFromPropertyIds: 0x55,
  GetPropertyIdsFromNames: 0x56,
  UpdateDeferredActionMessages: 0x57,
  EmptyFolder: 0x58,
  ExpandRow: 0x59,
  CollapseRow: 0x5a,
  LockRegionStream: 0x5b,
  UnlockRegionStream: 0x5c,
  CommitStream: 0x5d,
  GetStreamSize: 0x5e,
  QueryNamedProperties: 0x5f,
  GetPerUserLongTermIds: 0x60,
  GetPerUserGuid: 0x61,
  ReadPerUserInformation: 0x63,
  WritePerUserInformation: 0x64,
  SetReadFlags: 0x66,
  CopyProperties: 0x67,
  GetReceiveFolderTable: 0x68,
  FastTransferSourceCopyProperties: 0x69,
  GetCollapseState: 0x6b,
  SetCollapseState: 0x6c,
  GetTransportFolder: 0x6d,
  Pending: 0x6e,
  OptionsData: 0x6f,
  SynchronizationConfigure: 0x70,
  SynchronizationImportMessageChange: 0x72,
  SynchronizationImportHierarchyChange: 0x73,
  SynchronizationImportDeletes: 0x74,
  SynchronizationUploadStateStreamBegin: 0x75,
  SynchronizationUploadStateStreamContinue: 0x76,
  SynchronizationUploadStateStreamEnd: 0x77,
  SynchronizationImportMessageMove: 0x78,
  SetPropertiesNoReplicate: 0x79,
  DeletePropertiesNoReplicate: 0x7a,
  GetStoreState: 0x7b,
  SynchronizationOpenCollector: 0x7e,
  GetLocalReplicaIds: 0x7f,
  SynchronizationImportReadStateChanges: 0x80,
  ResetTable: 0x81,
  SynchronizationGetTransferState: 0x82,
  TellVersion: 0x86,
  FreeBookmark: 0x89,
  WriteAndCommitStream: 0x90,
  HardDeleteMessages: 0x91,
  HardDeleteMessagesAndSubfolders: 0x92,
  SetLocalReplicaMidsetDeleted: 0x93,
  FastTransferDestinationPutBufferExtended: 0x9d,
  WriteStreamExtended: 0xa3,
  Backoff: 0xf9,
  Logon: 0xfe,
  BufferTooSmall: 0xff,
} as const;
export type RopIdValue = (typeof RopId)[keyof typeof RopId];

const NAMES = new Map<number, string>(Object.entries(RopId).map(([k, v]) => [v, `Rop${k}`]));

/** The spec's name of a RopId ("RopOpenFolder"), or "Reserved(0x28)". */
export function ropName(id: number): string {
  return NAMES.get(id) ?? `Reserved(0x${id.toString(16).padStart(2, '0')})`;
}

/** True for the RopIds the table marks Reserved (every byte value not listed above). */
export function isReservedRopId(id: number): boolean {
  return !NAMES.has(id);
}

/** RopIds that only ever appear in ROP output buffers (server to client). */
export const RESPONSE_ONLY_ROPS: ReadonlySet<number> = new Set([RopId.Notify, RopId.Pending, RopId.Backoff, RopId.BufferTooSmall]);

/**
 * Error codes (MS-OXCDATA 2.4.1 common, 2.4.2 additional, 2.4.3 warnings): the ec* names the ROP
 * documents use. Values are unsigned 32-bit.
 */
export const Ec = {
  ecSuccess: 0x00000000,
  ecError: 0x80004005, // GeneralFailure, MAPI_E_CALL_FAILED
  ecMAPIOOM: 0x8007000e, // OutOfMemory
  ecInvalidParam: 0x80070057, // InvalidParameter
  ecInterfaceNotSupported: 0x80004002, // NoInterface
  ecAccessDenied: 0x80070005, // AccessDenied
  ecNotSupported: 0x80040102, // NotImplemented, MAPI_E_NO_SUPPORT
  // The same code: MS-OXCPERM 4.1's server answers 0x80040102 and names it ecNotImplemented
  // (was 0x80040FFF, which no ROP document uses).
  ecNotImplemented: 0x80040102,
  ecUnknownFlags: 0x80040106,
  ecInvalidEntryId: 0x80040107,
  ecInvalidObject: 0x80040108,
  ecObjectModified: 0x80040109,
  ecObjectDeleted: 0x8004010a,
  ecNotFound: 0x8004010f,
  ecLoginFailure: 0x80040111,
  ecUnableToAbort: 0x80040114,
  ecNotInQueue: 0x80040601, // MAPI_E_NOT_IN_QUEUE (RopAbortSubmit)
  ecNoRecipients: 0x80040607, // MAPI_E_NO_RECIPIENTS (RopSubmitMessage)
  ecNetwork: 0x80040115, // NetworkError, MAPI_E_NETWORK_ERROR
  ecTooComplex: 0x80040117,
  ecCorruptData: 0x8004011b,
  ecTooBig: 0x80040305,
  ecTimeout: 0x80040401,
  ecTableTooBig: 0x80040403,
  ecInvalidBookmark: 0x80040405,
  ecCollision: 0x80040604,
  ecNotInitialized: 0x80040605,
  ecUnknownUser: 0x000003eb,
  ecLoginPerm: 0x000003f2,
  ecWrongServer: 0x00000478,
  ecBufferTooSmall: 0x0000047d,
  ecServerBusy: 0x00000480,
  ecRpcFormat: 0x000004b6,
  ecNullObject: 0x000004b9,
  ecQuotaExceeded: 0x000004d9,
  ecDstNullObject: 0x00000503,
  ecWarnWithErrors: 0x00040380,
  ecWarnPositionChanged: 0x00040481,
  ecWarnApproxCount: 0x00040482,
  ecPartialCompletion: 0x00040680,
} as const;
export type EcValue = (typeof Ec)[keyof typeof Ec];

// The first name listed wins where two names share a value (ecNotSupported / ecNotImplemented).
const EC_NAMES = new Map<number, string>();
for (const [k, v] of Object.entries(Ec)) if (!EC_NAMES.has(v)) EC_NAMES.set(v, k);

export function ecName(code: number): string {
  return EC_NAMES.get(code >>> 0) ?? `0x${(code >>> 0).toString(16).padStart(8, '0')}`;
}
