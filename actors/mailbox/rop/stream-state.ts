/**
 * State of an open property stream (RopOpenStream, MS-OXCPRPT 3.2.5.13): the property's bytes in
 * memory, the seek pointer, the open mode, and where a commit writes them back. A clone
 * (RopCloneStream) shares the bytes and has its own seek pointer.
 */

/** The object a stream's property belongs to (what RopCommitStream writes back to). */
export type StreamTarget = { kind: 'folder'; fid: number } | { kind: 'message'; instance: number } | { kind: 'attachment'; instance: number; num: number };

/** The bytes of a stream, shared by its clones. */
export interface StreamBuffer {
  data: Uint8Array;
  /** Bytes of `data` in use (the stream's size). */
  size: number;
  /** Written since the last commit. */
  dirty: boolean;
}

export interface StreamState {
  /** The property the stream reads or writes (its type as opened). */
  tag: number;
  /** The handle of the object the stream was opened on. */
  owner: number;
  target: StreamTarget;
  /** OpenModeFlags of RopOpenStream (ReadOnly 0, ReadWrite 1, Create 2, BestAccess 3). */
  mode: number;
  readOnly: boolean;
  buf: StreamBuffer;
  position: number;
}

/** OpenModeFlags of RopOpenStream (MS-OXCPRPT 2.2.14.1). */
export const StreamMode = { ReadOnly: 0x00, ReadWrite: 0x01, Create: 0x02, BestAccess: 0x03 } as const;

/** Positions past 2^31 are refused (MS-OXCPRPT 3.2.5.18). */
export const MAX_SEEK = 0x80000000;

/** What one stream may hold in the actor's memory; past it writes answer StreamSizeError. */
export const MAX_STREAM_BYTES = 64 * 1024 * 1024;

export function newStreamBuffer(bytes: Uint8Array): StreamBuffer {
  return { data: bytes, size: bytes.byteLength, dirty: false };
}

/** The stream's bytes in use. */
export function contents(s: StreamState): Uint8Array {
  return s.buf.data.subarray(0, s.buf.size);
}

/** Sets the size (zeros added when growing); false past MAX_STREAM_BYTES. */
export function resize(b: StreamBuffer, size: number): boolean {
  if (size > MAX_STREAM_BYTES) return false;
  if (size > b.data.byteLength) {
    const grown = new Uint8Array(Math.min(MAX_STREAM_BYTES, Math.max(size, b.data.byteLength * 2, 256)));
    grown.set(b.data.subarray(0, b.size));
    b.data = grown;
  } else if (size > b.size) {
    b.data.fill(0, b.size, size);
  }
  b.size = size;
  return true;
}

/** Reads up to `count` bytes at the seek pointer and moves it. */
export function readAt(s: StreamState, count: number): Uint8Array {
  const start = Math.min(s.position, s.buf.size);
  const end = Math.min(s.buf.size, start + count);
  s.position = Math.max(s.position, end);
  return s.buf.data.slice(start, end);
}

/** Writes at the seek pointer (the stream grows as needed); false past MAX_STREAM_BYTES. */
export function writeAt(s: StreamState, bytes: Uint8Array): boolean {
  const end = s.position + bytes.byteLength;
  if (end > s.buf.size && !resize(s.buf, end)) return false;
  s.buf.data.set(bytes, s.position);
  s.position = end;
  if (bytes.byteLength > 0) s.buf.dirty = true;
  return true;
}
