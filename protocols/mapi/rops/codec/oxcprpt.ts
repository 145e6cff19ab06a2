/** MS-OXCPRPT ROPs (MS-OXCROPS 2.2.8, 2.2.9): properties and streams on any object. */
import { defineRop } from './rop.js';
import { RopId, Ec } from '../ids.js';
import { u8, u16, u32, u64, bool, guid, when, arr, propTags, taggedValues, sizedTaggedValues, problems, propertyName, row, requestedTags, tag, sized, ids16, type Field } from './fields.js';

const DOC = 'MS-OXCPRPT';

/** The response row's columns are the request's PropertyTags: pass them as ctx.propTags. */
export const GetPropertiesSpecific = defineRop({
  id: RopId.GetPropertiesSpecific,
  doc: DOC,
  handles: 'in',
  req: { propertySizeLimit: u16, wantUnicode: u16, propertyTags: propTags },
  ok: { rowData: row(requestedTags) },
});

export const GetPropertiesAll = defineRop({
  id: RopId.GetPropertiesAll,
  doc: DOC,
  handles: 'in',
  req: { propertySizeLimit: u16, wantUnicode: u16 },
  ok: { propertyValues: taggedValues },
});

export const GetPropertiesList = defineRop({ id: RopId.GetPropertiesList, doc: DOC, handles: 'in', ok: { propertyTags: propTags } });

export const SetProperties = defineRop({ id: RopId.SetProperties, doc: DOC, handles: 'in', req: { propertyValues: sizedTaggedValues }, ok: { propertyProblems: problems } });

export const SetPropertiesNoReplicate = defineRop({
  id: RopId.SetPropertiesNoReplicate,
  doc: DOC,
  handles: 'in',
  req: { propertyValues: sizedTaggedValues },
  ok: { propertyProblems: problems },
});

export const DeleteProperties = defineRop({ id: RopId.DeleteProperties, doc: DOC, handles: 'in', req: { propertyTags: propTags }, ok: { propertyProblems: problems } });

export const DeletePropertiesNoReplicate = defineRop({
  id: RopId.DeletePropertiesNoReplicate,
  doc: DOC,
  handles: 'in',
  req: { propertyTags: propTags },
  ok: { propertyProblems: problems },
});

/** IdCount (u16), then IdCount PropertyIds, then IdCount PropertyNames. */
const idsAndNames: Field<{ propertyIds: number[]; propertyNames: ReturnType<typeof propertyName.pull>[] }> = {
  pull: (r, ctx, so) => {
    const n = r.count(r.u16(), 2 + 17, 'named properties');
    const propertyIds: number[] = [];
    for (let i = 0; i < n && r.ok; i++) propertyIds.push(r.u16());
    const propertyNames = [];
    for (let i = 0; i < n && r.ok; i++) propertyNames.push(propertyName.pull(r, ctx, so));
    return { propertyIds, propertyNames };
  },
  push: (w, v, ctx, so) => {
    if (v.propertyIds.length !== v.propertyNames.length) throw new RangeError('ids and names differ in number');
    w.u16(v.propertyIds.length);
    for (const id of v.propertyIds) w.u16(id);
    for (const n of v.propertyNames) propertyName.push(w, n, ctx, so);
  },
  gen: (g, ctx, so) => {
    const n = Math.floor(g() * 3);
    return { propertyIds: Array.from({ length: n }, () => 0x8000 + Math.floor(g() * 100)), propertyNames: Array.from({ length: n }, () => propertyName.gen(g, ctx, so)) };
  },
};

export const QueryNamedProperties = defineRop({
  id: RopId.QueryNamedProperties,
  doc: DOC,
  handles: 'in',
  req: { queryFlags: u8, hasGuid: bool, propertyGuid: when((so) => so.hasGuid === true, guid) },
  ok: { named: idsAndNames },
});

const dst = { code: Ec.ecDstNullObject, fields: { destHandleIndex: u32 } };

export const CopyProperties = defineRop({
  id: RopId.CopyProperties,
  doc: DOC,
  handles: 'srcdst',
  req: { wantAsynchronous: bool, copyFlags: u8, propertyTags: propTags },
  fail: dst,
  ok: { propertyProblems: problems },
});

export const CopyTo = defineRop({
  id: RopId.CopyTo,
  doc: DOC,
  handles: 'srcdst',
  req: { wantAsynchronous: bool, wantSubObjects: bool, copyFlags: u8, excludedTags: propTags },
  fail: dst,
  ok: { propertyProblems: problems },
});

export const GetPropertyIdsFromNames = defineRop({
  id: RopId.GetPropertyIdsFromNames,
  doc: DOC,
  handles: 'in',
  req: { flags: u8, propertyNames: arr(2, propertyName, 17) },
  ok: { propertyIds: ids16 },
});

export const GetNamesFromPropertyIds = defineRop({
  id: RopId.GetNamesFromPropertyIds,
  doc: DOC,
  handles: 'in',
  req: { propertyIds: ids16 },
  ok: { propertyNames: arr(2, propertyName, 17) },
});

export const OpenStream = defineRop({ id: RopId.OpenStream, doc: DOC, handles: 'io', req: { propertyTag: tag, openModeFlags: u8 }, ok: { streamSize: u32 } });

/** ByteCount 0xBABE means "MaximumByteCount follows" (MS-OXCROPS 2.2.9.2.1). */
export const READ_STREAM_USE_MAXIMUM = 0xbabe;

export const ReadStream = defineRop({
  id: RopId.ReadStream,
  doc: DOC,
  handles: 'in',
  req: { byteCount: u16, maximumByteCount: when((so) => so.byteCount === READ_STREAM_USE_MAXIMUM, u32) },
  always: { data: sized(2) },
});

export const WriteStream = defineRop({ id: RopId.WriteStream, doc: DOC, handles: 'in', req: { data: sized(2) }, always: { writtenSize: u16 } });

/**
 * DataSize is 2 bytes (MS-OXCPRPT 2.2.17.1, checked). WrittenSize is kept at 4 bytes, unlike
 * RopWriteStream's 2: MS-OXCROPS 2.2.9.4.2 could not be read from the reference corpus, so this
 * width is still unverified.
 */
export const WriteStreamExtended = defineRop({ id: RopId.WriteStreamExtended, doc: DOC, handles: 'in', req: { data: sized(2) }, always: { writtenSize: u32 } });

export const WriteAndCommitStream = defineRop({ id: RopId.WriteAndCommitStream, doc: DOC, handles: 'in', req: { data: sized(2) }, always: { writtenSize: u16 } });

export const CommitStream = defineRop({ id: RopId.CommitStream, doc: DOC, handles: 'in' });

export const GetStreamSize = defineRop({ id: RopId.GetStreamSize, doc: DOC, handles: 'in', ok: { streamSize: u32 } });

export const SetStreamSize = defineRop({ id: RopId.SetStreamSize, doc: DOC, handles: 'in', req: { streamSize: u64 } });

export const SeekStream = defineRop({ id: RopId.SeekStream, doc: DOC, handles: 'in', req: { origin: u8, offset: u64 }, ok: { newPosition: u64 } });

export const CopyToStream = defineRop({
  id: RopId.CopyToStream,
  doc: DOC,
  handles: 'srcdst',
  req: { byteCount: u64 },
  fail: dst,
  always: { readByteCount: u64, writtenByteCount: u64 },
});

export const LockRegionStream = defineRop({ id: RopId.LockRegionStream, doc: DOC, handles: 'in', req: { regionOffset: u64, regionSize: u64, lockFlags: u32 } });

export const UnlockRegionStream = defineRop({ id: RopId.UnlockRegionStream, doc: DOC, handles: 'in', req: { regionOffset: u64, regionSize: u64, lockFlags: u32 } });

export const CloneStream = defineRop({ id: RopId.CloneStream, doc: DOC, handles: 'io' });

export const Progress = defineRop({
  id: RopId.Progress,
  doc: DOC,
  handles: 'in',
  req: { wantCancel: bool },
  ok: { logonId: u8, completedTaskCount: u32, totalTaskCount: u32 },
});

export const ROPS = [
  GetPropertiesSpecific, GetPropertiesAll, GetPropertiesList, SetProperties, SetPropertiesNoReplicate, DeleteProperties, DeletePropertiesNoReplicate,
  QueryNamedProperties, CopyProperties, CopyTo, GetPropertyIdsFromNames, GetNamesFromPropertyIds, OpenStream, ReadStream, WriteStream,
  WriteStreamExtended, WriteAndCommitStream, CommitStream, GetStreamSize, SetStreamSize, SeekStream, CopyToStream, LockRegionStream,
  UnlockRegionStream, CloneStream, Progress,
] as const;
