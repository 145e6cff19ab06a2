/**
 * HOT PATH. The binary frames that carry actor calls, replies and events between threads.
 *
 * Frame layout (little-endian), after the ring's own u32 length prefix:
 *   0  u8   kind        FrameKind
 *   1  u8   flags       FrameFlag bits
 *   2  u16  keyLen      bytes of the UTF-8 actor key that follows the header
 *   4  u32  id          call id (correlates CALL with REPLY/ERROR); 0 for TELL and EVENT
 *   8  u32  seq         per-key message sequence (CALL/TELL/SYS), or the transfer sequence
 *                       when DETACHED is set on a REPLY/ERROR/EVENT
 *   12 u32  xfer        transfer sequence of the ArrayBuffers carried beside the ring (DETACHED)
 *   16 u8   opLen       bytes of the UTF-8 op name after the key
 *   17 ...  key, op, then the payload: MessagePack of the arguments or result
 *
 * Binary fields above the ring's frame budget do not travel inside the frame: top-level
 * Uint8Array fields of the payload object (and a Uint8Array payload itself) larger than
 * `DETACH_THRESHOLD` are replaced by a reference and their ArrayBuffers are *transferred*
 * (moved, not copied) over the worker's message port. The frame then carries DETACHED and the
 * transfer sequence number; the receiver holds it back until the buffers with that number have
 * arrived, so order is the ring's order on both channels.
 */
import { Packr, addExtension } from 'msgpackr';

export const FrameKind = {
  CALL: 1,
  TELL: 2,
  REPLY: 3,
  ERROR: 4,
  EVENT: 5,
  /** Runtime control that must stay ordered with data (passivate-for-move, shutdown). */
  SYS: 6,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

export const FrameFlag = {
  DETACHED: 1,
  /** The payload is a Uint8Array carried as-is, without MessagePack (ROP buffers, protocol bytes). */
  RAW: 2,
} as const;

export const FRAME_HEADER_BYTES = 17;
/** Binary fields at least this large leave the ring and move by ArrayBuffer transfer. */
export const DETACH_THRESHOLD = 16 * 1024;

/** A reference to the n-th transferred buffer of a frame, standing in for a detached field. */
class DetachedRef {
  constructor(readonly index: number) {}
}
addExtension({
  Class: DetachedRef,
  type: 0x42,
  write: (ref: DetachedRef) => ref.index,
  read: (index: number) => new DetachedRef(index),
});

export interface DecodedFrame {
  kind: FrameKind;
  flags: number;
  id: number;
  seq: number;
  xfer: number;
  key: string;
  op: string;
  /** The whole frame; the payload (still MessagePack) starts at `payloadAt`. Decode it with decodePayload once any transferred buffers are present. */
  raw: Buffer;
  payloadAt: number;
}

export interface EncodedPayload {
  bytes: Uint8Array;
  /** True when `bytes` is the caller's own Uint8Array, to be sent without MessagePack. */
  raw?: boolean;
  /** ArrayBuffers to move beside the frame, in DetachedRef index order; empty when none. */
  transfer: ArrayBuffer[];
}

/** Reused result of encodePayload on the hot path: valid until the next call. */
const encoded: EncodedPayload = { bytes: new Uint8Array(0), transfer: [] };

const packr = new Packr({ useRecords: false, moreTypes: false });
const utf8 = new TextEncoder();
const NO_TRANSFER: ArrayBuffer[] = [];

/** Hands over a view's memory as a whole ArrayBuffer we may transfer: moved when it owns its buffer, else copied once. */
function ownBuffer(view: Uint8Array): ArrayBuffer {
  const buf = view.buffer;
  if (buf instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buf.byteLength) return buf;
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy.buffer;
}

function isBig(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array && v.byteLength >= DETACH_THRESHOLD;
}

/** Deepest container level scanned for large binaries (messages with attachments with embedded messages...). */
const MAX_DETACH_DEPTH = 8;
/** Most containers scanned per payload; past that the rest is packed as it is (and may not fit the ring). */
const MAX_DETACH_NODES = 20_000;

/**
 * Replaces large binaries anywhere in plain objects and arrays (to MAX_DETACH_DEPTH) by
 * references, copying only the containers on the way to one; returns `v` itself when nothing
 * changed. A nested attachment of several MiB would otherwise not fit the ring.
 */
function detach(v: unknown, transfer: ArrayBuffer[], depth: number, budget: { nodes: number }): unknown {
  if (v instanceof Uint8Array) {
    if (v.byteLength < DETACH_THRESHOLD) return v;
    transfer.push(ownBuffer(v));
    return new DetachedRef(transfer.length - 1);
  }
  if (v === null || typeof v !== 'object' || depth >= MAX_DETACH_DEPTH || --budget.nodes < 0) return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (e === null || typeof e !== 'object') continue;
      const d = detach(e, transfer, depth + 1, budget);
      if (d !== e) (out ??= v.slice())[i] = d;
    }
    return out ?? v;
  }
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  const obj = v as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const k in obj) {
    const e = obj[k];
    if (e === null || typeof e !== 'object') continue;
    const d = detach(e, transfer, depth + 1, budget);
    if (d !== e) (out ??= { ...obj })[k] = d;
  }
  return out ?? v;
}

/** Puts transferred buffers back where their references stand (the inverse of detach). */
function reattach(v: unknown, transferred: ArrayBuffer[], depth: number): unknown {
  if (v instanceof DetachedRef) return asBuffer(transferred[v.index]);
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || depth >= MAX_DETACH_DEPTH) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const e: unknown = v[i];
      if (e !== null && typeof e === 'object') v[i] = reattach(e, transferred, depth + 1);
    }
    return v;
  }
  const obj = v as Record<string, unknown>;
  for (const k in obj) {
    const e = obj[k];
    if (e !== null && typeof e === 'object') obj[k] = reattach(e, transferred, depth + 1);
  }
  return v;
}

/**
 * Encodes a payload. Large binaries (at any depth of plain objects and arrays, to a bound) are
 * detached for transfer: the sender's buffers are moved and become unusable.
 */
export function encodePayload(value: unknown): EncodedPayload {
  if (isBig(value)) {
    return { bytes: packr.pack(new DetachedRef(0)), transfer: [ownBuffer(value)] };
  }
  const r = encodePayloadInto(value);
  return { bytes: r.bytes, transfer: r.transfer };
}

/**
 * encodePayload without the result allocation, for the hot path: the returned object (and its
 * bytes, which MessagePack may write into a reused buffer) are valid until the next call.
 */
export function encodePayloadInto(value: unknown): EncodedPayload {
  encoded.raw = false;
  if (value instanceof Uint8Array) {
    if (value.byteLength >= DETACH_THRESHOLD) {
      encoded.bytes = packr.pack(new DetachedRef(0));
      encoded.transfer = [ownBuffer(value)];
    } else {
      encoded.bytes = value;
      encoded.raw = true;
      encoded.transfer = NO_TRANSFER;
    }
    return encoded;
  }
  if (value !== null && typeof value === 'object') {
    const transfer: ArrayBuffer[] = [];
    const copy = detach(value, transfer, 0, { nodes: MAX_DETACH_NODES });
    if (copy !== value) {
      encoded.bytes = packr.pack(copy);
      encoded.transfer = transfer;
      return encoded;
    }
  }
  encoded.bytes = packr.pack(value);
  encoded.transfer = NO_TRANSFER;
  return encoded;
}

/** Decodes a received frame's payload (raw bytes, or MessagePack with any transferred buffers). */
export function decodeFramePayload(f: DecodedFrame, transferred: ArrayBuffer[] | undefined): unknown {
  if ((f.flags & FrameFlag.RAW) !== 0) return f.raw.subarray(f.payloadAt);
  return decodePayload(f.raw, transferred, f.payloadAt);
}

/** Decodes a payload, putting transferred buffers back where their references stand. */
const unpackRange = { start: 0, end: 0 };

export function decodePayload(bytes: Uint8Array, transferred?: ArrayBuffer[], start = 0): unknown {
  if (bytes.byteLength <= start) return undefined;
  unpackRange.start = start;
  unpackRange.end = bytes.byteLength;
  const value: unknown = packr.unpack(bytes, unpackRange);
  if (transferred === undefined || transferred.length === 0) return value;
  return reattach(value, transferred, 0);
}

function asBuffer(ab: ArrayBuffer | undefined): Buffer {
  if (ab === undefined) throw new Error('transferred buffer missing');
  return Buffer.from(ab);
}

let headerScratch = new Uint8Array(256);

/** Encoded actor keys and op names, reused: the same few recur on every call. */
const KEY_CACHE_MAX = 4096;
const keyBytes = new Map<string, Uint8Array>();
const opBytes = new Map<string, Uint8Array>();

let lastKey = '';
let lastKeyBytes: Uint8Array = new Uint8Array(0);
let lastOp = '';
let lastOpBytes: Uint8Array = new Uint8Array(0);

function encodedKey(key: string): Uint8Array {
  if (key === lastKey) return lastKeyBytes;
  let b = keyBytes.get(key);
  if (b === undefined) {
    b = utf8.encode(key);
    if (b.byteLength > 0xffff) throw new RangeError('actor key too long');
    if (keyBytes.size >= KEY_CACHE_MAX) keyBytes.clear();
    keyBytes.set(key, b);
  }
  lastKey = key;
  lastKeyBytes = b;
  return b;
}

function encodedOp(op: string): Uint8Array {
  if (op === lastOp) return lastOpBytes;
  let b = opBytes.get(op);
  if (b === undefined) {
    b = utf8.encode(op);
    if (b.byteLength > 0xff || b.some((c) => c > 0x7f)) throw new RangeError(`op name must be ASCII of at most 255 bytes: ${op}`);
    if (opBytes.size >= KEY_CACHE_MAX) opBytes.clear();
    opBytes.set(op, b);
  }
  lastOp = op;
  lastOpBytes = b;
  return b;
}

/**
 * Builds a frame header (with key and op) in a scratch buffer that is valid until the next
 * call: write it into the ring at once.
 */
export function encodeHeader(kind: FrameKind, flags: number, id: number, seq: number, xfer: number, key: string, op: string): Uint8Array {
  return headerScratch.subarray(0, encodeHeaderScratch(kind, flags, id, seq, xfer, key, op));
}

/** The header bytes written by encodeHeaderScratch; valid until the next call. */
export function headerBytes(): Uint8Array {
  return headerScratch;
}

/** Writes a header into the scratch buffer (see headerBytes) and returns its length: no allocation. */
export function encodeHeaderScratch(kind: FrameKind, flags: number, id: number, seq: number, xfer: number, key: string, op: string): number {
  const k = key.length === 0 ? EMPTY : encodedKey(key);
  const o = op.length === 0 ? EMPTY : encodedOp(op);
  const need = FRAME_HEADER_BYTES + k.byteLength + o.byteLength;
  if (need > headerScratch.byteLength) headerScratch = new Uint8Array(Math.max(need, headerScratch.byteLength * 2));
  const h = headerScratch;
  h[0] = kind;
  h[1] = flags;
  h[2] = k.byteLength & 0xff;
  h[3] = k.byteLength >>> 8;
  writeU32(h, 4, id);
  writeU32(h, 8, seq);
  writeU32(h, 12, xfer);
  h[16] = o.byteLength;
  let at = FRAME_HEADER_BYTES;
  if (k.byteLength > 24) {
    h.set(k, at);
    at += k.byteLength;
  } else {
    for (let i = 0; i < k.byteLength; i++) h[at++] = k[i]!;
  }
  for (let i = 0; i < o.byteLength; i++) h[at++] = o[i]!;
  return need;
}

const EMPTY = new Uint8Array(0);

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

function readU32(b: Uint8Array, at: number): number {
  return (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
}

/** Parses a frame read from a ring. Returns null for a frame too short to be one (a bug upstream). */
export function decodeFrame(f: Buffer): DecodedFrame | null {
  if (f.byteLength < FRAME_HEADER_BYTES) return null;
  const keyLen = f[2]! | (f[3]! << 8);
  const opLen = f[16]!;
  const keyEnd = FRAME_HEADER_BYTES + keyLen;
  const opEnd = keyEnd + opLen;
  if (opEnd > f.byteLength) return null;
  return {
    kind: f[0] as FrameKind,
    flags: f[1]!,
    id: readU32(f, 4),
    seq: readU32(f, 8),
    xfer: readU32(f, 12),
    key: keyLen === 0 ? '' : f.toString('utf8', FRAME_HEADER_BYTES, keyEnd),
    op: opLen === 0 ? '' : f.toString('latin1', keyEnd, opEnd),
    raw: f,
    payloadAt: opEnd,
  };
}
