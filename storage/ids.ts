/**
 * Object ids (MS-OXCDATA 2.2.1.1 Folder ID, 2.2.1.2 Message ID; change numbers likewise):
 * a 2-byte ReplicaId (little-endian) followed by a 6-byte GlobalCounter (GLOBCNT, big-endian, so
 * that byte order is counter order). As a JS value an id is the bigint of those 8 bytes read as a
 * little-endian u64, which is how it sits in ROP buffers.
 *
 * GLOBCNTs come from one per-mailbox counter and are never reused: the counter's high-water
 * mark is written in the same transaction that uses the numbers.
 */
import type { Database, Key } from 'lmdb';

export type Eid = bigint;
/** The replica id of objects in this mailbox's own store (replid 1 ↔ the store's ReplGuid). */
export const REPLID_LOCAL = 1;
export const GLOBCNT_MAX = 2 ** 48 - 1;

export function makeEid(replid: number, globcnt: number): Eid {
  if (!Number.isInteger(globcnt) || globcnt < 0 || globcnt > GLOBCNT_MAX) throw new RangeError(`GLOBCNT out of range: ${globcnt}`);
  if (!Number.isInteger(replid) || replid < 0 || replid > 0xffff) throw new RangeError(`replica id out of range: ${replid}`);
  return readEid(eidBytes(replid, globcnt), 0);
}

/** The 8 wire bytes of an id. */
export function eidBytes(replid: number, globcnt: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt16LE(replid, 0);
  b.writeUIntBE(globcnt, 2, 6);
  return b;
}

export function eidToBytes(eid: Eid): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(eid, 0);
  return b;
}

export function readEid(b: Uint8Array, at: number): Eid {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readBigUInt64LE(at);
}

export function eidReplid(eid: Eid): number {
  return Number(eid & 0xffffn);
}

export function eidGlobcnt(eid: Eid): number {
  return eidToBytes(eid).readUIntBE(2, 6);
}

/** The 6 big-endian bytes of a GLOBCNT (as in entry ids, source keys and XIDs). */
export function globcntBytes(globcnt: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(globcnt, 0, 6);
  return b;
}

export function readGlobcnt(b: Uint8Array, at: number): number {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).readUIntBE(at, 6);
}

/** Meta key of the next unused GLOBCNT. */
export const GLOBCNT_NEXT_KEY = 'globcnt.next';
/** GLOBCNT 0 is never used; the first objects (provisioning) start at 1. */
const GLOBCNT_FIRST = 1;

/**
 * Takes `count` consecutive GLOBCNTs. Must run inside a write transaction; the new high-water
 * mark commits with the caller's writes, so numbers are never handed out twice.
 */
export function allocGlobcnt(meta: Database<unknown, Key>, count = 1): number {
  const next = (meta.get(GLOBCNT_NEXT_KEY) as number | undefined) ?? GLOBCNT_FIRST;
  if (next + count - 1 > GLOBCNT_MAX) throw new RangeError('GLOBCNT space exhausted');
  meta.putSync(GLOBCNT_NEXT_KEY, next + count);
  return next;
}
