/**
 * Extended buffers (MS-OXCRPC 2.2.2.1, 3.1.4.2.1): RPC_HEADER_EXT + payload, chained until the
 * Last flag; the payload optionally compressed (MS-OXCRPC 3.1.4.1.1.2: LZ77 with the DIRECT2
 * encoding) and/or obfuscated (3.1.4.1.1.3: every byte XOR 0xA5). The client compresses then
 * obfuscates; the server reverts then decompresses.
 *
 * Parsing never throws and never allocates more than the limits allow: a decompressed size is
 * taken from SizeActual only after it is checked against `maxPayload`, and decompression stops
 * at that size.
 */
import { WireReader, type WireError } from './reader.js';
import { WireWriter } from './writer.js';

export const RPC_HEADER_EXT_SIZE = 8;

export const ExtFlags = {
  Compressed: 0x0001,
  XorMagic: 0x0002,
  Last: 0x0004,
} as const;

export interface RpcHeaderExt {
  version: number;
  flags: number;
  /** Bytes of payload following the header, as sent (compressed size when Compressed). */
  size: number;
  /** Bytes of payload once decompressed. */
  sizeActual: number;
}

/** The obfuscation byte of MS-OXCRPC 3.1.4.1.1.3. */
export const XOR_MAGIC = 0xa5;

/** MS-OXCRPC 3.1.4.2.1: "A single payload MUST NOT exceed 32 KB" (EMSMDB over RPC). */
export const RPC_MAX_PAYLOAD = 0x8000;

/** Default limits for parsing untrusted chains (MAPI over HTTP allows larger ROP buffers). */
export const EXT_LIMITS = {
  /** Largest payload, compressed or not, after decompression (bytes). */
  maxPayload: 0x40000,
  /** Largest sum of payloads in one chain (bytes). */
  maxTotal: 0x100000,
  /** Most extended buffers in one chain. */
  maxBuffers: 64,
} as const;

export type ExtLimits = { maxPayload: number; maxTotal: number; maxBuffers: number };

export function pullRpcHeaderExt(r: WireReader): RpcHeaderExt {
  return { version: r.u16(), flags: r.u16(), size: r.u16(), sizeActual: r.u16() };
}

export function pushRpcHeaderExt(w: WireWriter, h: RpcHeaderExt): void {
  w.u16(h.version);
  w.u16(h.flags);
  w.u16(h.size);
  w.u16(h.sizeActual);
}

/** XOR 0xA5 over a copy (inputs are often views of the request). */
export function xorObfuscate(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.byteLength);
  for (let i = 0; i < data.byteLength; i++) out[i] = data[i] ^ XOR_MAGIC;
  return out;
}

// ---------------------------------------------------------------------------------------------
// LZ77 + DIRECT2 (MS-OXCRPC 3.1.4.1.1.2)
//
// Stream: a 32-bit little-endian bitmask, most significant bit first, one bit per item (0: a
// literal byte, 1: a 2-byte match metadata), then the items; a new bitmask after 32 items.
// Metadata: high 13 bits offset - 1, low 3 bits length - 3; length bits 0b111 extend the length
// into a nibble shared by two consecutive long matches (low nibble first), nibble 15 into a
// following byte, byte 255 into a 2-byte length - 3. The unused bits of the final bitmask are 1s,
// so the decoder stops at a match bit with no input left.

export type DecompressResult = { ok: true; data: Uint8Array } | { ok: false; detail: string };

/** Decompresses to exactly `expected` bytes (SizeActual); anything else is an error. */
export function decompress(input: Uint8Array, expected: number): DecompressResult {
  const out = new Uint8Array(expected);
  let op = 0;
  let ip = 0;
  const n = input.byteLength;
  let mask = 0;
  let bits = 0;
  let nibblePos = -1;
  for (;;) {
    if (bits === 0) {
      if (ip + 4 > n) break;
      mask = (input[ip] | (input[ip + 1] << 8) | (input[ip + 2] << 16) | (input[ip + 3] << 24)) >>> 0;
      ip += 4;
      bits = 32;
    }
    const bit = mask & 0x80000000;
    mask = (mask << 1) >>> 0;
    bits--;
    if (bit === 0) {
      if (ip >= n) break;
      if (op >= expected) return { ok: false, detail: 'output longer than SizeActual' };
      out[op++] = input[ip++];
      continue;
    }
    if (ip >= n) break; // padding bits of the last bitmask
    if (ip + 2 > n) return { ok: false, detail: 'truncated match' };
    const meta = input[ip] | (input[ip + 1] << 8);
    ip += 2;
    const offset = (meta >>> 3) + 1;
    let length = meta & 7;
    if (length === 7) {
      let nib: number;
      if (nibblePos < 0) {
        if (ip >= n) return { ok: false, detail: 'truncated length' };
        nibblePos = ip;
        nib = input[ip++] & 0x0f;
      } else {
        nib = input[nibblePos] >>> 4;
        nibblePos = -1;
      }
      length = nib;
      if (length === 15) {
        if (ip >= n) return { ok: false, detail: 'truncated length' };
        length = input[ip++];
        if (length === 255) {
          if (ip + 2 > n) return { ok: false, detail: 'truncated length' };
          length = input[ip] | (input[ip + 1] << 8);
          ip += 2;
          if (length < 15 + 7) return { ok: false, detail: 'bad long length' };
          length -= 15 + 7;
        }
        length += 15;
      }
      length += 7;
    }
    length += 3;
    if (offset > op) return { ok: false, detail: 'match before start of output' };
    if (op + length > expected) return { ok: false, detail: 'output longer than SizeActual' };
    // Byte by byte: a match may overlap the bytes it produces (offset < length).
    for (let i = 0; i < length; i++, op++) out[op] = out[op - offset];
  }
  if (op !== expected) return { ok: false, detail: `output ${op} bytes, SizeActual ${expected}` };
  return { ok: true, data: out };
}

const HASH_BITS = 14;
const WINDOW = 8192; // 13-bit offsets
const MAX_CHAIN = 24; // candidates tried per position: speed over ratio
const MAX_MATCH = 0xffff + 3; // the 2-byte length form holds length - 3

/** Compresses with greedy hash-chain matching. Output may be larger than the input. */
export function compress(input: Uint8Array): Uint8Array {
  const n = input.byteLength;
  const w = new WireWriter(n + (n >>> 3) + 16);
  const head = new Int32Array(1 << HASH_BITS).fill(-1);
  const prev = new Int32Array(Math.max(1, n));
  let maskPos = w.pos;
  w.u32(0);
  let mask = 0;
  let count = 0;
  let nibblePos = -1;
  const hash = (i: number): number => (((input[i] << 16) | (input[i + 1] << 8) | input[i + 2]) * 2654435761) >>> (32 - HASH_BITS);
  const insert = (i: number): void => {
    if (i + 2 >= n) return;
    const h = hash(i);
    prev[i] = head[h];
    head[h] = i;
  };
  const flag = (bit: number): void => {
    mask = ((mask << 1) | bit) >>> 0;
    if (++count === 32) {
      w.patchU32(maskPos, mask);
      maskPos = w.pos;
      w.u32(0);
      mask = 0;
      count = 0;
    }
  };
  let i = 0;
  while (i < n) {
    let bestLen = 0;
    let bestOff = 0;
    if (i + 2 < n) {
      let cand = head[hash(i)];
      let tries = MAX_CHAIN;
      const limit = Math.min(n - i, MAX_MATCH);
      while (cand >= 0 && i - cand <= WINDOW && tries-- > 0) {
        let l = 0;
        while (l < limit && input[cand + l] === input[i + l]) l++;
        if (l > bestLen) {
          bestLen = l;
          bestOff = i - cand;
          if (l === limit) break;
        }
        cand = prev[cand];
      }
    }
    if (bestLen >= 3) {
      // Items go in the order the decoder reads them: the mask bit is recorded first, so the
      // item bytes of this 32-item group follow the group's bitmask.
      let l = bestLen - 3;
      const off = (bestOff - 1) << 3;
      if (l < 7) w.u16(off | l);
      else {
        w.u16(off | 7);
        l -= 7;
        const nib = Math.min(l, 15);
        if (nibblePos < 0) {
          nibblePos = w.pos;
          w.u8(nib);
        } else {
          const at = w.finish();
          at[nibblePos] |= nib << 4;
          nibblePos = -1;
        }
        if (l >= 15) {
          l -= 15;
          if (l < 255) w.u8(l);
          else {
            w.u8(255);
            w.u16(bestLen - 3);
          }
        }
      }
      flag(1);
      for (let k = 0; k < bestLen; k++) insert(i + k);
      i += bestLen;
    } else {
      w.u8(input[i]);
      flag(0);
      insert(i);
      i++;
    }
  }
  // Fill the unused bits of the last bitmask with 1s (the decoder's end marker).
  const rest = 32 - count;
  const last = rest === 32 ? 0xffffffff : ((mask << rest) | ((1 << rest) - 1)) >>> 0;
  w.patchU32(maskPos, last);
  return w.toBytes();
}

// ---------------------------------------------------------------------------------------------
// Chains

export type ExtChainResult = { ok: true; payloads: Uint8Array[] } | { ok: false; error: WireError };

/** Parses a chain of extended buffers until Last, reverting obfuscation and compression. */
export function pullExtendedBuffers(buf: Uint8Array, limits: ExtLimits = EXT_LIMITS): ExtChainResult {
  const r = new WireReader(buf);
  const payloads: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    if (payloads.length >= limits.maxBuffers) return fail(r, 'too-many', 'too many extended buffers');
    const h = pullRpcHeaderExt(r);
    if (!r.ok) return { ok: false, error: r.error! };
    if (h.version !== 0) return fail(r, 'bad-value', `RPC_HEADER_EXT version ${h.version}`);
    if ((h.flags & ~0x7) !== 0) return fail(r, 'bad-value', `RPC_HEADER_EXT flags 0x${h.flags.toString(16)}`);
    const raw = r.bytes(h.size, 'extended buffer payload');
    if (!r.ok) return { ok: false, error: r.error! };
    let data = (h.flags & ExtFlags.XorMagic) !== 0 ? xorObfuscate(raw) : raw.slice();
    if ((h.flags & ExtFlags.Compressed) !== 0) {
      if (h.sizeActual > limits.maxPayload) return fail(r, 'too-many', `SizeActual ${h.sizeActual} over the limit`);
      const d = decompress(data, h.sizeActual);
      if (!d.ok) return fail(r, 'bad-value', `decompression: ${d.detail}`);
      data = d.data;
    } else if (h.size !== h.sizeActual) {
      return fail(r, 'bad-size', 'Size and SizeActual differ on an uncompressed buffer');
    }
    total += data.byteLength;
    if (total > limits.maxTotal) return fail(r, 'too-many', 'extended buffers over the total limit');
    payloads.push(data);
    if ((h.flags & ExtFlags.Last) !== 0) break;
    if (r.remaining === 0) return fail(r, 'short', 'chain ends without the Last flag');
  }
  if (r.remaining !== 0) return fail(r, 'trailing', `${r.remaining} bytes after the Last buffer`);
  return { ok: true, payloads };
}

function fail(r: WireReader, code: WireError['code'], detail: string): ExtChainResult {
  r.fail(code, detail);
  return { ok: false, error: r.error! };
}

export interface ExtPushOptions {
  /** Compress when it makes the payload smaller (MS-OXCRPC: Size < SizeActual when Compressed). */
  compress?: boolean;
  xor?: boolean;
}

/** Appends one extended buffer. Payloads above 0xFFFF bytes cannot be described and throw. */
export function pushExtendedBuffer(w: WireWriter, payload: Uint8Array, last: boolean, opts: ExtPushOptions = {}): void {
  if (payload.byteLength > 0xffff) throw new RangeError('extended buffer payload over 65535 bytes');
  let flags = last ? ExtFlags.Last : 0;
  let data = payload;
  if (opts.compress && payload.byteLength > 0) {
    const c = compress(payload);
    if (c.byteLength < payload.byteLength) {
      data = c;
      flags |= ExtFlags.Compressed;
    }
  }
  if (opts.xor) {
    data = xorObfuscate(data);
    flags |= ExtFlags.XorMagic;
  }
  pushRpcHeaderExt(w, { version: 0, flags, size: data.byteLength, sizeActual: payload.byteLength });
  w.bytes(data);
}

/** A chain of extended buffers, the Last flag on the final one. */
export function pushExtendedBuffers(payloads: readonly Uint8Array[], opts: ExtPushOptions = {}): Uint8Array {
  const w = new WireWriter();
  payloads.forEach((p, i) => pushExtendedBuffer(w, p, i === payloads.length - 1, opts));
  return w.toBytes();
}
