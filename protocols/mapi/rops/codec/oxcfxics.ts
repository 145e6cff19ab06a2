/** MS-OXCFXICS ROPs (MS-OXCROPS 2.2.12, 2.2.13): fast transfer and incremental change sync. */
import { defineRop } from './rop.js';
import { RopId, Ec } from '../ids.js';
import { u8, u16, u32, bool, when, arr, struct, fixed, guid, propTags, taggedValues, sizedRestriction, sized, ids64, longTermId, type Field } from './fields.js';

const DOC = 'MS-OXCFXICS';

export const FastTransferSourceCopyMessages = defineRop({
  id: RopId.FastTransferSourceCopyMessages,
  doc: DOC,
  handles: 'io',
  req: { messageIds: ids64, copyFlags: u8, sendOptions: u8 },
});

export const FastTransferSourceCopyFolder = defineRop({ id: RopId.FastTransferSourceCopyFolder, doc: DOC, handles: 'io', req: { copyFlags: u8, sendOptions: u8 } });

export const FastTransferSourceCopyTo = defineRop({
  id: RopId.FastTransferSourceCopyTo,
  doc: DOC,
  handles: 'io',
  req: { level: u8, copyFlags: u32, sendOptions: u8, propertyTags: propTags },
});

export const FastTransferSourceCopyProperties = defineRop({
  id: RopId.FastTransferSourceCopyProperties,
  doc: DOC,
  handles: 'io',
  req: { level: u8, copyFlags: u8, sendOptions: u8, propertyTags: propTags },
});

/** BufferSize 0xBABE means "MaximumBufferSize follows" (MS-OXCROPS 2.2.12.3.1). */
export const GET_BUFFER_USE_MAXIMUM = 0xbabe;

export const FastTransferSourceGetBuffer = defineRop({
  id: RopId.FastTransferSourceGetBuffer,
  doc: DOC,
  handles: 'in',
  req: { bufferSize: u16, maximumBufferSize: when((so) => so.bufferSize === GET_BUFFER_USE_MAXIMUM, u16) },
  fail: { code: Ec.ecServerBusy, fields: { backoffTime: u32 } },
  ok: { transferStatus: u16, inProgressCount: u16, totalStepCount: u16, reserved: u8, transferBuffer: sized(2) },
});

export const FastTransferDestinationConfigure = defineRop({
  id: RopId.FastTransferDestinationConfigure,
  doc: DOC,
  handles: 'io',
  req: { sourceOperation: u8, copyFlags: u8 },
});

export const FastTransferDestinationPutBuffer = defineRop({
  id: RopId.FastTransferDestinationPutBuffer,
  doc: DOC,
  handles: 'in',
  req: { transferData: sized(2) },
  // Present on failure too: BufferUsedSize tells how much was consumed (MS-OXCFXICS 2.2.3.1.2.2.2).
  always: { transferStatus: u16, inProgressCount: u16, totalStepCount: u16, reserved: u8, bufferUsedSize: u16 },
});

export const FastTransferDestinationPutBufferExtended = defineRop({
  id: RopId.FastTransferDestinationPutBufferExtended,
  doc: DOC,
  handles: 'in',
  req: { transferData: sized(2) },
  // MS-OXCFXICS 2.2.3.1.2.3.2: 4-byte progress counts, 2-byte BufferUsedSize, present on failure too.
  always: { transferStatus: u16, inProgressCount: u32, totalStepCount: u32, reserved: u8, bufferUsedSize: u16 },
});

export const TellVersion = defineRop({ id: RopId.TellVersion, doc: DOC, handles: 'in', req: { version: fixed(6) } });

export const SynchronizationConfigure = defineRop({
  id: RopId.SynchronizationConfigure,
  doc: DOC,
  handles: 'io',
  req: { synchronizationType: u8, sendOptions: u8, synchronizationFlags: u16, restriction: sizedRestriction, synchronizationExtraFlags: u32, propertyTags: propTags },
});

export const SynchronizationImportMessageChange = defineRop({
  id: RopId.SynchronizationImportMessageChange,
  doc: DOC,
  handles: 'io',
  req: { importFlag: u8, propertyValues: taggedValues },
  ok: { messageId: fixed(8) },
});

export const SynchronizationImportHierarchyChange = defineRop({
  id: RopId.SynchronizationImportHierarchyChange,
  doc: DOC,
  handles: 'in',
  req: { hierarchyValues: taggedValues, propertyValues: taggedValues },
  ok: { folderId: fixed(8) },
});

export const SynchronizationImportDeletes = defineRop({
  id: RopId.SynchronizationImportDeletes,
  doc: DOC,
  handles: 'in',
  req: { importDeleteFlags: u8, propertyValues: taggedValues },
});

export const SynchronizationUploadStateStreamBegin = defineRop({
  id: RopId.SynchronizationUploadStateStreamBegin,
  doc: DOC,
  handles: 'in',
  req: { stateProperty: u32, transferBufferSize: u32 },
});

export const SynchronizationUploadStateStreamContinue = defineRop({
  id: RopId.SynchronizationUploadStateStreamContinue,
  doc: DOC,
  handles: 'in',
  req: { streamData: sized(4) },
});

export const SynchronizationUploadStateStreamEnd = defineRop({ id: RopId.SynchronizationUploadStateStreamEnd, doc: DOC, handles: 'in' });

export const SynchronizationImportMessageMove = defineRop({
  id: RopId.SynchronizationImportMessageMove,
  doc: DOC,
  handles: 'in',
  req: { sourceFolderId: sized(4), sourceMessageId: sized(4), predecessorChangeList: sized(4), destinationMessageId: sized(4), changeNumber: sized(4) },
  ok: { messageId: fixed(8) },
});

export const SynchronizationOpenCollector = defineRop({ id: RopId.SynchronizationOpenCollector, doc: DOC, handles: 'io', req: { isContentsCollector: bool } });

export const GetLocalReplicaIds = defineRop({ id: RopId.GetLocalReplicaIds, doc: DOC, handles: 'in', req: { idCount: u32 }, ok: { replGuid: guid, globalCount: fixed(6) } });

/** MessageReadStateSize (u16) + MessageReadState structures, kept as bytes. */
export const SynchronizationImportReadStateChanges = defineRop({
  id: RopId.SynchronizationImportReadStateChanges,
  doc: DOC,
  handles: 'in',
  req: { messageReadStates: sized(2) },
});

export const SynchronizationGetTransferState = defineRop({ id: RopId.SynchronizationGetTransferState, doc: DOC, handles: 'io' });

/** DataSize (u16, bytes of what follows), LongTermIdRangeCount (u32), ranges of two LongTermIds. */
const ltidRange = struct({ minLongTermId: longTermId, maxLongTermId: longTermId });
const ranges = arr(4, ltidRange, 48, 2);
const sizedRanges: Field<ReturnType<typeof ranges.pull>> = {
  pull: (r, ctx, so) => {
    const size = r.u16();
    if (!r.has(size, 'ranges')) return [];
    const end = r.pos + size;
    const saved = r.end;
    r.end = end;
    const v = ranges.pull(r, ctx, so);
    if (r.ok && r.pos !== end) r.fail('bad-size', 'DataSize does not match the ranges');
    r.end = saved;
    return v;
  },
  push: (w, v, ctx, so) => {
    const at = w.pos;
    w.u16(0);
    ranges.push(w, v, ctx, so);
    w.patchU16(at, w.pos - at - 2);
  },
  gen: (g, ctx, so) => ranges.gen(g, ctx, so),
};

export const SetLocalReplicaMidsetDeleted = defineRop({ id: RopId.SetLocalReplicaMidsetDeleted, doc: DOC, handles: 'in', req: { longTermIdRanges: sizedRanges } });

export const ROPS = [
  FastTransferSourceCopyMessages, FastTransferSourceCopyFolder, FastTransferSourceCopyTo, FastTransferSourceCopyProperties, FastTransferSourceGetBuffer,
  FastTransferDestinationConfigure, FastTransferDestinationPutBuffer, FastTransferDestinationPutBufferExtended, TellVersion, SynchronizationConfigure,
  SynchronizationImportMessageChange, SynchronizationImportHierarchyChange, SynchronizationImportDeletes, SynchronizationUploadStateStreamBegin,
  SynchronizationUploadStateStreamContinue, SynchronizationUploadStateStreamEnd, SynchronizationImportMessageMove, SynchronizationOpenCollector,
  GetLocalReplicaIds, SynchronizationImportReadStateChanges, SynchronizationGetTransferState, SetLocalReplicaMidsetDeleted,
] as const;
