/**
 * Stream ROPs (MS-OXCPRPT 2.2.14-2.2.26, 3.2.5.13-3.2.5.25): a property of a folder, message or
 * attachment opened as a byte stream. The bytes live in the stream object (stream-state.ts);
 * RopCommitStream writes them back to the owner (the message instance, the folder, the
 * attachment's data). Strings stream as UTF-16LE (PtypString) or 8-bit (PtypString8) without a
 * terminator; a terminator written by the client is dropped on commit. Body streams read the
 * synthesized forms of MS-OXBBODY like RopGetPropertiesSpecific does.
 */
import { Ec, RopId } from '../../../protocols/mapi/rops/ids.js';
import { READ_STREAM_USE_MAXIMUM } from '../../../protocols/mapi/rops/codec/oxcprpt.js';
import { actorError } from '../../../runtime/errors.js';
import { encodePropBag, type PropMap } from '../../../storage/prop-bag.js';
import { MsgTag } from '../../../storage/message-store.js';
import { PropType, propId, propTag, propTypeOf, type PropValue } from '../../../storage/prop-types.js';
import { hasAny } from './perm-rops.js';
import { destinationOf, targetOf } from './prop-rops.js';
import { Rights } from './rop-session.js';
import type { HandlerCtx, HandlerTable, RopHandler, RopOutcome } from './rop-run.js';
import { MAX_SEEK, StreamMode, contents, newStreamBuffer, readAt, resize, writeAt, type StreamState, type StreamTarget } from './stream-state.js';

/** Stream error codes (MS-OXCDATA 2.4.1). */
export const StreamEc = {
  StreamAccessDenied: 0x80030005,
  StreamSeekError: 0x80030019,
  StreamInvalidParam: 0x80030057,
  StreamSizeError: 0x80030070,
} as const;

/**
 * Bytes one RopReadStream returns at most: the response's DataSize is 16 bits, and a read keeps
 * well inside one 64 KiB ROP output buffer beside other responses (a response that does not fit
 * would have moved the seek pointer before the client sends the ROP again).
 */
export const MAX_READ_CHUNK = 0x8000;

/** SeekStream Origin (MS-OXCPRPT 2.2.21.1). */
const Origin = { Beginning: 0, Current: 1, End: 2 } as const;

const STREAMABLE: ReadonlySet<number> = new Set([PropType.PtypBinary, PropType.PtypString, PropType.PtypString8]);

function stringAlt(type: number): number | null {
  if (type === PropType.PtypString) return PropType.PtypString8;
  if (type === PropType.PtypString8) return PropType.PtypString;
  return null;
}

/** A property value as the stream's bytes, in the type the stream was opened with. */
export function valueToBytes(v: PropValue, type: number): Uint8Array | null {
  if (v instanceof Uint8Array) return type === PropType.PtypBinary ? v : null;
  if (typeof v !== 'string') return null;
  if (type === PropType.PtypString) return Buffer.from(v, 'utf16le');
  if (type === PropType.PtypString8) return Buffer.from(v.replace(/[^\x00-\xff]/g, '?'), 'latin1');
  return null;
}

/** The stream's bytes as a value of its property's type (trailing terminators dropped from strings). */
export function bytesToValue(b: Uint8Array, type: number): PropValue {
  if (type === PropType.PtypBinary) return Uint8Array.from(b);
  const buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const s = type === PropType.PtypString ? buf.subarray(0, buf.length & ~1).toString('utf16le') : buf.toString('latin1');
  return s.replace(/\0+$/, '');
}

function stateOf(h: HandlerCtx): StreamState {
  const obj = h.input.obj;
  if (obj.kind !== 'stream') throw actorError('ecNotSupported', 'not a stream');
  return obj.state;
}

const openStream: RopHandler = async (q, h) => {
  const tag = q.propertyTag as number;
  const mode = q.openModeFlags as number;
  if (mode > StreamMode.BestAccess) return { returnValue: Ec.ecInvalidParam };
  const type = propTypeOf(tag);
  if (!STREAMABLE.has(type)) return { returnValue: Ec.ecNotSupported };
  const target = targetOf(h, h.input);
  if (target === null) return { returnValue: Ec.ecNotSupported };
  const wantsWrite = mode === StreamMode.ReadWrite || mode === StreamMode.Create;
  if (wantsWrite && target.readOnly) return { returnValue: Ec.ecAccessDenied };
  // A folder's properties are written only by who administers it (MS-OXCPERM FolderOwner).
  const folderLocked = h.input.obj.kind === 'folder' && !(await hasAny(h, h.input.obj.fid, Rights.FolderOwner));
  if (wantsWrite && folderLocked) return { returnValue: Ec.ecAccessDenied };
  const readOnly = mode === StreamMode.ReadOnly || (mode === StreamMode.BestAccess && (target.readOnly || folderLocked));
  let bytes: Uint8Array = new Uint8Array(0);
  if (mode !== StreamMode.Create) {
    const alt = stringAlt(type);
    const tags = alt === null ? [tag] : [tag, propTag(propId(tag), alt)];
    const props = await target.get(tags);
    const v = tags.map((t) => props.get(t)).find((x) => x !== undefined);
    if (v === undefined) return { returnValue: Ec.ecNotFound };
    const b = valueToBytes(v, type);
    if (b === null) return { returnValue: Ec.ecNotSupported };
    bytes = b;
  }
  const buf = newStreamBuffer(Uint8Array.from(bytes));
  // Create replaces the value: committing an untouched created stream stores it empty.
  if (mode === StreamMode.Create) buf.dirty = true;
  const state: StreamState = { tag, owner: h.input.handle, target: target.stream, mode, readOnly, buf, position: 0 };
  return { output: { kind: 'stream', state }, ok: { streamSize: buf.size } };
};

/** Writes the stream's bytes back to the object it was opened on. */
async function commit(h: HandlerCtx, s: StreamState): Promise<void> {
  if (s.readOnly || !s.buf.dirty) return;
  const type = propTypeOf(s.tag);
  const value = bytesToValue(contents(s), type);
  const t: StreamTarget = s.target;
  const bag: PropMap = new Map([[s.tag, value]]);
  const alt = stringAlt(type);
  const other = alt === null ? null : propTag(propId(s.tag), alt);
  let errs: { tag: number; error: string }[] = [];
  if (t.kind === 'folder') {
    errs = await h.env.op('setFolderProps', { folder: t.fid, props: encodePropBag(bag) });
    if (other !== null && errs.length === 0) await h.env.op('deleteFolderProps', { folder: t.fid, tags: [other] });
  } else if (t.kind === 'message') {
    errs = await h.env.op('instanceSetProps', { instance: t.instance, props: encodePropBag(bag) });
    if (other !== null && errs.length === 0) await h.env.op('instanceDeleteProps', { instance: t.instance, tags: [other] });
  } else if (s.tag === MsgTag.PidTagAttachDataBinary) {
    await h.env.op('instanceSetAttachment', { instance: t.instance, num: t.num, data: value as Uint8Array });
  } else {
    await h.env.op('instanceSetAttachment', { instance: t.instance, num: t.num, props: encodePropBag(bag) });
  }
  if (errs.length > 0) throw actorError(errs[0]!.error, `cannot write property 0x${s.tag.toString(16)}`);
  s.buf.dirty = false;
}

const readStream: RopHandler = (q, h) => {
  const s = stateOf(h);
  const asked = (q.byteCount as number) === READ_STREAM_USE_MAXIMUM ? (q.maximumByteCount as number) : (q.byteCount as number);
  return { always: { data: readAt(s, Math.min(asked, MAX_READ_CHUNK)) } };
};

function write(q: Record<string, unknown>, h: HandlerCtx): { s: StreamState; out: RopOutcome | null } {
  const s = stateOf(h);
  const data = q.data as Uint8Array;
  if (s.readOnly) return { s, out: { returnValue: StreamEc.StreamAccessDenied, always: { writtenSize: 0 } } };
  if (!writeAt(s, data)) return { s, out: { returnValue: StreamEc.StreamSizeError, always: { writtenSize: 0 } } };
  return { s, out: null };
}

const writeStream: RopHandler = (q, h) => write(q, h).out ?? { always: { writtenSize: (q.data as Uint8Array).byteLength } };

const writeAndCommitStream: RopHandler = async (q, h) => {
  const s = stateOf(h);
  // MS-OXCPRPT 2.2.26: never on a folder's property.
  if (s.target.kind === 'folder') return { returnValue: Ec.ecNotSupported, always: { writtenSize: 0 } };
  const { out } = write(q, h);
  if (out !== null) return out;
  await commit(h, s);
  return { always: { writtenSize: (q.data as Uint8Array).byteLength } };
};

const commitStream: RopHandler = async (_q, h) => {
  await commit(h, stateOf(h));
  return {};
};

/** RopRelease of a stream commits what was written and not committed (MS-OXCPRPT 3.2.5.x: release implies commit). */
const releaseStream: RopHandler = async (_q, h) => {
  const s = stateOf(h);
  if (!s.readOnly && s.buf.dirty) await commit(h, s);
  return {};
};

const getStreamSize: RopHandler = (_q, h) => ({ ok: { streamSize: stateOf(h).buf.size } });

const setStreamSize: RopHandler = (q, h) => {
  const s = stateOf(h);
  if (s.readOnly) return { returnValue: StreamEc.StreamAccessDenied };
  const size = q.streamSize as bigint;
  if (size >= BigInt(MAX_SEEK) || !resize(s.buf, Number(size))) return { returnValue: StreamEc.StreamSizeError };
  s.buf.dirty = true;
  return {};
};

const seekStream: RopHandler = (q, h) => {
  const s = stateOf(h);
  const origin = q.origin as number;
  const offset = BigInt.asIntN(64, q.offset as bigint);
  let base: bigint;
  if (origin === Origin.Beginning) base = 0n;
  else if (origin === Origin.Current) base = BigInt(s.position);
  else if (origin === Origin.End) base = BigInt(s.buf.size);
  else return { returnValue: StreamEc.StreamInvalidParam };
  const pos = base + offset;
  if (pos < 0n || pos > BigInt(MAX_SEEK)) return { returnValue: StreamEc.StreamSeekError };
  const p = Number(pos);
  // Seeking past the end extends a writable stream with zeros (MS-OXCPRPT 3.2.5.18).
  if (p > s.buf.size && !s.readOnly) {
    if (!resize(s.buf, p)) return { returnValue: StreamEc.StreamSizeError };
    s.buf.dirty = true;
  }
  s.position = p;
  return { ok: { newPosition: pos } };
};

const copyToStream: RopHandler = (q, h) => {
  const src = stateOf(h);
  const d = destinationOf(q, h);
  const zero = { readByteCount: 0n, writtenByteCount: 0n };
  if (!('obj' in d)) return { ...d, always: zero };
  if (d.obj.kind !== 'stream') return { returnValue: Ec.ecDstNullObject, fail: { destHandleIndex: (q.destHandleIndex as number) ?? 0 }, always: zero };
  const dst = d.obj.state;
  if (dst.readOnly) return { returnValue: StreamEc.StreamAccessDenied, always: zero };
  const want = q.byteCount as bigint;
  const n = Number(want > BigInt(src.buf.size) ? BigInt(src.buf.size) : want);
  const bytes = readAt(src, n);
  if (!writeAt(dst, bytes)) return { returnValue: StreamEc.StreamSizeError, always: { readByteCount: BigInt(bytes.byteLength), writtenByteCount: 0n } };
  return { always: { readByteCount: BigInt(bytes.byteLength), writtenByteCount: BigInt(bytes.byteLength) } };
};

/** Region locks are accepted: a stream belongs to one session's object and is never shared. */
const lockRegion: RopHandler = (_q, h) => (stateOf(h), {});

const cloneStream: RopHandler = (_q, h) => {
  const s = stateOf(h);
  return { output: { kind: 'stream', state: { ...s, target: { ...s.target } } } };
};

export function registerStreamRops(t: HandlerTable): void {
  const on = (id: number, fn: RopHandler) => t.set(id, { ...(t.get(id) ?? {}), stream: fn });
  t.set(RopId.OpenStream, { ...(t.get(RopId.OpenStream) ?? {}), folder: openStream, message: openStream, attachment: openStream });
  on(RopId.ReadStream, readStream);
  on(RopId.WriteStream, writeStream);
  on(RopId.WriteStreamExtended, writeStream);
  on(RopId.WriteAndCommitStream, writeAndCommitStream);
  on(RopId.CommitStream, commitStream);
  on(RopId.Release, releaseStream);
  on(RopId.GetStreamSize, getStreamSize);
  on(RopId.SetStreamSize, setStreamSize);
  on(RopId.SeekStream, seekStream);
  on(RopId.CopyToStream, copyToStream);
  on(RopId.LockRegionStream, lockRegion);
  on(RopId.UnlockRegionStream, lockRegion);
  on(RopId.CloneStream, cloneStream);
}
