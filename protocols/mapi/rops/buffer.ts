/**
 * ROP input and output buffers (MS-OXCROPS 2.2.1): RopSize (u16, counting itself and the
 * RopsList), the RopsList, then the ServerObjectHandleTable (u32 handles to the end).
 *
 * Pulling stops at the first ROP it cannot parse: a ROP that cannot be parsed ends the list
 * (nothing after it can be located). A reserved RopId fails the whole request (MS-OXCROPS 2.2.2:
 * the server SHOULD return an error for the RPC / Execute request); `reserved` says so.
 */
import { WireReader, type WireError } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';
import { RopId, isReservedRopId, RESPONSE_ONLY_ROPS, ropName } from './ids.js';
import { codecFor } from './codec/registry.js';
import type { RopRequest } from './codec/rop.js';
import type { RopCtx, Schema } from './codec/fields.js';

/** The handle table is indexed by a byte: at most 256 entries. */
export const MAX_HANDLES = 256;

export interface PulledRop {
  request: RopRequest<Schema>;
  /** The request's bytes (RopBufferTooSmall returns the unprocessed ones). */
  start: number;
  end: number;
}

export interface RopRequestBuffer {
  rops: PulledRop[];
  handles: number[];
  /** Why the list ended early (the ROPs before it are valid). */
  error: WireError | null;
  /** A reserved RopId was met: the whole request fails. */
  reserved: boolean;
  /** The RopsList bytes (for RopBufferTooSmall's RequestBuffers). */
  ropsList: Uint8Array;
}

/** Context per logon (logon kind for optional fields); default: private mailbox. */
export type CtxForLogon = (logonId: number) => RopCtx;

export function pullRopRequestBuffer(buf: Uint8Array, ctxFor: CtxForLogon = () => ({})): RopRequestBuffer {
  const out: RopRequestBuffer = { rops: [], handles: [], error: null, reserved: false, ropsList: new Uint8Array(0) };
  const r = new WireReader(buf);
  const ropSize = r.u16();
  if (!r.ok || ropSize < 2 || ropSize > buf.byteLength) {
    r.fail('bad-size', `RopSize ${ropSize} for a ${buf.byteLength}-byte buffer`);
    out.error = r.error;
    return out;
  }
  out.ropsList = buf.subarray(2, ropSize);
  // The handle table first: ROPs refer to it, and a malformed one fails the whole buffer.
  const tableBytes = buf.byteLength - ropSize;
  if (tableBytes % 4 !== 0 || tableBytes / 4 > MAX_HANDLES) {
    r.fail('bad-size', `handle table of ${tableBytes} bytes`);
    out.error = r.error;
    return out;
  }
  const t = new WireReader(buf, ropSize);
  for (let i = 0; i < tableBytes / 4; i++) out.handles.push(t.u32());

  r.end = ropSize;
  while (r.remaining > 0) {
    const start = r.pos;
    const id = buf[start];
    if (isReservedRopId(id)) {
      r.fail('reserved-rop', `reserved RopId 0x${id.toString(16)}`);
      out.reserved = true;
      break;
    }
    const codec = codecFor(id);
    if (codec === undefined || RESPONSE_ONLY_ROPS.has(id)) {
      r.fail('unknown-rop', `${ropName(id)} is not a request`);
      break;
    }
    const logonId = start + 1 < ropSize ? buf[start + 1] : 0;
    const request = codec.pullRequest(r, ctxFor(logonId));
    if (!r.ok) break;
    out.rops.push({ request, start, end: r.pos });
  }
  out.error = r.error;
  return out;
}

/** Builds a ROP input buffer (the client side; tests). */
export function pushRopRequestBuffer(requests: readonly RopRequest<Schema>[], handles: readonly number[], ctxFor: CtxForLogon = () => ({})): Uint8Array {
  const w = new WireWriter();
  w.u16(0);
  for (const q of requests) {
    const codec = codecFor(q.ropId);
    if (codec === undefined) throw new TypeError(`no codec for RopId 0x${q.ropId.toString(16)}`);
    codec.pushRequest(w, q, ctxFor(q.logonId));
  }
  if (w.pos > 0xffff) throw new RangeError('RopsList over 65535 bytes');
  w.patchU16(0, w.pos);
  for (const h of handles) w.u32(h);
  return w.toBytes();
}

export interface ResponsePlan {
  /** How many responses go out whole. */
  fit: number;
  /** The next response does not fit: answer RopBufferTooSmall for it and what follows. */
  bufferTooSmall: boolean;
  /** SizeNeeded for RopBufferTooSmall: the RopSize the first response left out needs on its own. */
  sizeNeeded: number;
}

/**
 * Which responses fit in the client's maximum output size (MS-OXCROPS 2.2.15.1): responses are
 * kept in order while RopSize + the handle table stays within `maxSize`; the first that does not
 * fit is answered with RopBufferTooSmall (when even that does not fit, it is dropped and the
 * caller fails the request). Pure: the processor runs it on encoded responses.
 */
export function planResponseBuffer(responseSizes: readonly number[], handleCount: number, remainingRequestBytes: (index: number) => number, maxSize: number): ResponsePlan {
  let size = 2 + handleCount * 4;
  for (let i = 0; i < responseSizes.length; i++) {
    if (size + responseSizes[i] <= maxSize) {
      size += responseSizes[i];
      continue;
    }
    const tooSmall = 3 + remainingRequestBytes(i);
    return { fit: i, bufferTooSmall: size + tooSmall <= maxSize, sizeNeeded: 2 + responseSizes[i] };
  }
  return { fit: responseSizes.length, bufferTooSmall: false, sizeNeeded: 0 };
}

export interface EncodedResponse {
  bytes: Uint8Array;
}

/**
 * Builds a ROP output buffer within `maxSize`: the responses that fit, then RopBufferTooSmall
 * with the unprocessed request bytes (from `requestStarts[fit]` to the end of the RopsList) when
 * one does not, then the handle table.
 */
export function pushRopResponseBuffer(
  responses: readonly Uint8Array[],
  handles: readonly number[],
  maxSize: number,
  request?: { ropsList: Uint8Array; starts: readonly number[] },
): { buffer: Uint8Array; responded: number; bufferTooSmall: boolean } {
  // starts are offsets in the whole input buffer; the RopsList begins after RopSize (2 bytes).
  const rest = (i: number): Uint8Array => (request ? request.ropsList.subarray(Math.max(0, (request.starts[i] ?? 0) - 2)) : new Uint8Array(0));
  const plan = planResponseBuffer(
    responses.map((b) => b.byteLength),
    handles.length,
    (i) => rest(i).byteLength,
    maxSize,
  );
  const w = new WireWriter();
  w.u16(0);
  for (let i = 0; i < plan.fit; i++) w.bytes(responses[i]);
  if (plan.bufferTooSmall) {
    w.u8(RopId.BufferTooSmall);
    w.u16(plan.sizeNeeded);
    w.bytes(rest(plan.fit));
  }
  w.patchU16(0, w.pos);
  for (const h of handles) w.u32(h);
  return { buffer: w.toBytes(), responded: plan.fit, bufferTooSmall: plan.bufferTooSmall };
}

/** Backoff decision for RopBackoff (MS-OXCROPS 2.2.15.2): a logon is throttled until `until`. */
export function backoffFor(now: number, until: number): number | null {
  return until > now ? Math.ceil(until - now) : null;
}
