/**
 * Request and response bodies of the mailbox server endpoint (MS-OXCMAPIHTTP 2.2.4): Connect,
 * Execute, Disconnect, NotificationWait. Every body ends with AuxiliaryBufferSize (u32) and the
 * auxiliary buffer (MS-OXCRPC 3.1.4.1.2 blocks; read and ignored: none asks for an answer).
 * Pulls throw InvalidRequestBody (X-ResponseCode 12); both directions exist so the codecs
 * round-trip in tests.
 */
import { WireReader } from '../wire/reader.js';
import { WireWriter } from '../wire/writer.js';
import { InvalidRequestBody } from '../http/response-codes.js';

/** Longest UserDn accepted (legacy DNs are short). */
const MAX_DN = 1024;

export interface ConnectRequest {
  userDn: string;
  flags: number;
  defaultCodePage: number;
  lcidSort: number;
  lcidString: number;
  aux: Uint8Array;
}

export interface ConnectResponse {
  statusCode: number;
  errorCode: number;
  /** ms between polls (MS-OXCRPC pcmsPollsMax). */
  maxPollingInterval: number;
  retryCount: number;
  /** ms (pcmsRetryDelay). */
  retryDelay: number;
  dnPrefix: string;
  displayName: string;
}

/** Execute request Flags (MS-OXCMAPIHTTP 2.2.4.2.1). */
export const ExecuteFlags = { NoCompression: 0x01, NoXorMagic: 0x02, Chain: 0x04 } as const;

export interface ExecuteRequest {
  flags: number;
  ropBuffer: Uint8Array;
  maxRopOut: number;
  aux: Uint8Array;
}

export interface ExecuteResponse {
  statusCode: number;
  errorCode: number;
  flags: number;
  ropBuffer: Uint8Array;
}

export interface NotificationWaitResponse {
  statusCode: number;
  errorCode: number;
  /** 0x00000001: an event is pending (NotificationWait 2.2.4.4.2). */
  eventPending: number;
}

function done<T>(r: WireReader, v: T): T {
  if (!r.ok) throw new InvalidRequestBody(r.error!.detail);
  if (r.remaining !== 0) throw new InvalidRequestBody(`${r.remaining} bytes after the body`);
  return v;
}

function aux(r: WireReader): Uint8Array {
  const n = r.u32();
  return r.ok ? r.bytes(n, 'auxiliary buffer') : new Uint8Array(0);
}

function str8z(r: WireReader, max: number): string {
  const start = r.pos;
  const s = r.str8z();
  if (r.pos - start > max) r.fail('too-many', 'string too long');
  return s;
}

export function pullConnectRequest(body: Uint8Array): ConnectRequest {
  const r = new WireReader(body);
  const userDn = str8z(r, MAX_DN);
  const q: ConnectRequest = { userDn, flags: r.u32(), defaultCodePage: r.u32(), lcidSort: r.u32(), lcidString: r.u32(), aux: new Uint8Array(0) };
  q.aux = aux(r);
  return done(r, q);
}

export function pushConnectRequest(q: ConnectRequest): Uint8Array {
  const w = new WireWriter();
  w.str8z(q.userDn);
  w.u32(q.flags);
  w.u32(q.defaultCodePage);
  w.u32(q.lcidSort);
  w.u32(q.lcidString);
  w.u32(q.aux.byteLength);
  w.bytes(q.aux);
  return w.toBytes();
}

/** A failure body (StatusCode not 0) is StatusCode + aux only (2.2.4.1.3 and likewise for every type). */
export function pushFailure(statusCode: number): Uint8Array {
  const w = new WireWriter(8);
  w.u32(statusCode);
  w.u32(0);
  return w.toBytes();
}

export function pushConnectResponse(p: ConnectResponse): Uint8Array {
  const w = new WireWriter();
  w.u32(p.statusCode);
  w.u32(p.errorCode);
  w.u32(p.maxPollingInterval);
  w.u32(p.retryCount);
  w.u32(p.retryDelay);
  w.str8z(p.dnPrefix);
  w.utf16z(p.displayName);
  w.u32(0);
  return w.toBytes();
}

export function pullConnectResponse(body: Uint8Array): ConnectResponse {
  const r = new WireReader(body);
  const p: ConnectResponse = { statusCode: r.u32(), errorCode: r.u32(), maxPollingInterval: r.u32(), retryCount: r.u32(), retryDelay: r.u32(), dnPrefix: r.str8z(), displayName: r.utf16z() };
  aux(r);
  return done(r, p);
}

export function pullExecuteRequest(body: Uint8Array): ExecuteRequest {
  const r = new WireReader(body);
  const flags = r.u32();
  const size = r.u32();
  const ropBuffer = r.ok ? r.bytes(size, 'RopBuffer') : new Uint8Array(0);
  const q: ExecuteRequest = { flags, ropBuffer, maxRopOut: r.u32(), aux: new Uint8Array(0) };
  q.aux = aux(r);
  return done(r, q);
}

export function pushExecuteRequest(q: ExecuteRequest): Uint8Array {
  const w = new WireWriter(q.ropBuffer.byteLength + 32);
  w.u32(q.flags);
  w.u32(q.ropBuffer.byteLength);
  w.bytes(q.ropBuffer);
  w.u32(q.maxRopOut);
  w.u32(q.aux.byteLength);
  w.bytes(q.aux);
  return w.toBytes();
}

export function pushExecuteResponse(p: ExecuteResponse): Uint8Array {
  const w = new WireWriter(p.ropBuffer.byteLength + 24);
  w.u32(p.statusCode);
  w.u32(p.errorCode);
  w.u32(p.flags);
  w.u32(p.ropBuffer.byteLength);
  w.bytes(p.ropBuffer);
  w.u32(0);
  return w.toBytes();
}

export function pullExecuteResponse(body: Uint8Array): ExecuteResponse {
  const r = new WireReader(body);
  const statusCode = r.u32();
  const errorCode = r.u32();
  const flags = r.u32();
  const size = r.u32();
  const p: ExecuteResponse = { statusCode, errorCode, flags, ropBuffer: r.ok ? r.copy(size, 'RopBuffer') : new Uint8Array(0) };
  aux(r);
  return done(r, p);
}

/** Disconnect's request is the auxiliary buffer alone. */
export function pullDisconnectRequest(body: Uint8Array): { aux: Uint8Array } {
  const r = new WireReader(body);
  return done(r, { aux: aux(r) });
}

/** NotificationWait: Flags (reserved, 0) + aux. */
export function pullNotificationWaitRequest(body: Uint8Array): { flags: number; aux: Uint8Array } {
  const r = new WireReader(body);
  const flags = r.u32();
  return done(r, { flags, aux: aux(r) });
}

/** StatusCode, ErrorCode, aux: the response of Disconnect (and of Unbind-like requests). */
export function pushStatusResponse(errorCode: number): Uint8Array {
  const w = new WireWriter(12);
  w.u32(0);
  w.u32(errorCode);
  w.u32(0);
  return w.toBytes();
}

export function pushNotificationWaitResponse(p: NotificationWaitResponse): Uint8Array {
  const w = new WireWriter(16);
  w.u32(p.statusCode);
  w.u32(p.errorCode);
  w.u32(p.eventPending);
  w.u32(0);
  return w.toBytes();
}

export function pullNotificationWaitResponse(body: Uint8Array): NotificationWaitResponse {
  const r = new WireReader(body);
  const p = { statusCode: r.u32(), errorCode: r.u32(), eventPending: r.u32() };
  aux(r);
  return done(r, p);
}
