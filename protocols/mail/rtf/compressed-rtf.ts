/**
 * MS-OXRTFCP: the compressed RTF of PidTagRtfCompressed, both ways.
 *
 * Layout (MS-OXRTFCP 2.1.3.1.1):
 *   Header   = COMPSIZE RAWSIZE COMPTYPE CRC        ; four little-endian DWORDs, 16 bytes
 *   CONTENTS = RAWDATA                              ; COMPTYPE "MELA", CRC MUST be 0
 *            / [*RUN] ENDRUN [PADDING]              ; COMPTYPE "LZFu", CRC over CONTENTS
 *   RUN      = CONTROL 8TOKEN, ENDRUN = CONTROL 1*8TOKEN; CONTROL bit i (low bit first) says
 *              whether token i is a 2-byte big-endian dictionary REFERENCE or a 1-byte LITERAL.
 *   REFERENCE = 12-bit offset into a 4096-byte circular dictionary, 4-bit length - 2
 *              (2.1.3.1.5); an offset equal to the dictionary's write position ends the data.
 *
 * Hot file: both directions run over whole message bodies; see perf/bench/rtf.ts. Neither
 * allocates per token: output buffers are sized once (decompression from a bound the input
 * itself implies), the compressor finds matches through hash chains over a 4096-entry ring.
 */

/** COMPTYPE of LZ-compressed content, "LZFu" read as a little-endian DWORD (2.1.3.1.1). */
export const COMPTYPE_COMPRESSED = 0x75465a4c;
/** COMPTYPE of stored content, "MELA" read as a little-endian DWORD (2.1.3.1.1). */
export const COMPTYPE_UNCOMPRESSED = 0x414c454d;
/** Header bytes: COMPSIZE, RAWSIZE, COMPTYPE, CRC. */
export const HEADER_SIZE = 16;
/**
 * Largest RTF we will produce when decompressing, whatever RAWSIZE claims: a message body
 * beyond this is hostile or broken, and stopping here bounds the memory one property can cost.
 */
export const MAX_RAW_SIZE = 64 * 1024 * 1024;

/** Size of the circular dictionary (2.1.2.1). */
const DICT_SIZE = 4096;
const DICT_MASK = DICT_SIZE - 1;
/** A reference stores length - 2 in 4 bits: lengths 2..17 (2.1.3.1.5). */
const MIN_MATCH = 2;
const MAX_MATCH = 17;
/**
 * How many earlier positions with the same two leading bytes the compressor tries per input
 * position. RTF repeats control words constantly, so chains get long; on encapsulated HTML mail
 * 16 gave the same size as 96 at ~10% more speed, 8 lost 5% of size (perf/bench/rtf.ts input).
 */
const MAX_CHAIN = 16;
/** The worst expansion of LZFu: one CONTROL byte and 8 references (17 bytes) give 8 * 17 bytes. */
const MAX_EXPANSION_PER_BYTE = 8;

/**
 * The dictionary's initial content (2.1.2.1), 207 bytes; the write position starts right after
 * it. "\r\n" is at offsets 168 and 169 (3.1.1.3).
 */
const INITIAL_DICTIONARY = new TextEncoder().encode(
  '{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern \\fscript \\fdecor ' +
    'MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0\\blue0\r\n' +
    '\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx',
);
/** Write position after initialization: 207 (3.1.1.3). */
export const INITIAL_WRITE_POSITION = INITIAL_DICTIONARY.length;

/**
 * The CRC of MS-OXRTFCP (its CRC and CRC lookup table sections): the reflected CRC-32 table (polynomial 0xEDB88320), but the
 * register starts at 0 and is not inverted at the end (unlike zlib's CRC-32).
 */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** The MS-OXRTFCP CRC over `bytes[start, end)`. */
export function rtfCrc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return crc >>> 0;
}

export interface DecompressedRtf {
  /** The RTF bytes decoded (possibly partial: see `problems`). */
  rtf: Uint8Array;
  /** What was wrong with the input, in words; empty when it was well-formed. Never thrown. */
  problems: string[];
}

const readU32 = (b: Uint8Array, at: number): number => (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;

function writeU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

const hex32 = (v: number): string => '0x' + v.toString(16).padStart(8, '0');

/**
 * Decodes PidTagRtfCompressed. Bad input never throws: whatever could be decoded is returned and
 * every deviation (truncation, size or CRC mismatch, unknown COMPTYPE) is listed in `problems`.
 * Output never exceeds min(RAWSIZE, MAX_RAW_SIZE), nor what the input could possibly expand to.
 */
export function decompressRtf(bytes: Uint8Array): DecompressedRtf {
  const problems: string[] = [];
  if (bytes.length < HEADER_SIZE) {
    problems.push(`input is ${bytes.length} bytes, shorter than the 16-byte header`);
    return { rtf: new Uint8Array(0), problems };
  }
  const compSize = readU32(bytes, 0);
  const rawSize = readU32(bytes, 4);
  const compType = readU32(bytes, 8);
  const crc = readU32(bytes, 12);

  // COMPSIZE counts CONTENTS plus the 12 header bytes after COMPSIZE itself (2.1.3.1.1).
  let end = bytes.length;
  if (compSize < HEADER_SIZE - 4) problems.push(`COMPSIZE ${compSize} is smaller than the rest of the header`);
  else if (compSize + 4 > bytes.length) problems.push(`truncated: COMPSIZE says ${compSize + 4} bytes, got ${bytes.length}`);
  else if (compSize + 4 < bytes.length) {
    end = compSize + 4;
    problems.push(`${bytes.length - end} bytes after the COMPSIZE end ignored`);
  }
  let limit = rawSize;
  if (rawSize > MAX_RAW_SIZE) {
    problems.push(`RAWSIZE ${rawSize} exceeds the ${MAX_RAW_SIZE}-byte limit; output capped`);
    limit = MAX_RAW_SIZE;
  }

  if (compType === COMPTYPE_UNCOMPRESSED) {
    const available = end - HEADER_SIZE;
    if (available < rawSize) problems.push(`RAWSIZE says ${rawSize} bytes, only ${available} present`);
    return { rtf: bytes.slice(HEADER_SIZE, HEADER_SIZE + Math.min(available, limit)), problems };
  }
  if (compType !== COMPTYPE_COMPRESSED) {
    problems.push(`unknown COMPTYPE ${hex32(compType)}`);
    return { rtf: new Uint8Array(0), problems };
  }

  const actualCrc = rtfCrc32(bytes, HEADER_SIZE, end);
  if (actualCrc !== crc) problems.push(`CRC mismatch: header ${hex32(crc)}, computed ${hex32(actualCrc)}`);

  const capacity = Math.min(limit, (end - HEADER_SIZE) * MAX_EXPANSION_PER_BYTE);
  // The output is its own dictionary: the initial string, then every byte written, in one line.
  // Dictionary slot `x` holds line position p with p & 4095 == x for the newest p written; a
  // slot never written (line position < 0) still holds its initial zero (2.1.2.1).
  const line = new Uint8Array(INITIAL_WRITE_POSITION + capacity);
  line.set(INITIAL_DICTIONARY);
  let p = INITIAL_WRITE_POSITION;
  const stop = line.length;
  let i = HEADER_SIZE;
  let ended = false;
  let overflow = false;

  // Decompression loop (worked through in 3.1.1): a CONTROL byte, then up to 8 tokens.
  decode: while (i < end) {
    const control = bytes[i++]!;
    for (let bit = 0; bit < 8; bit++) {
      if (i >= end) break decode;
      if ((control & (1 << bit)) === 0) {
        if (p >= stop) {
          overflow = true;
          break decode;
        }
        line[p++] = bytes[i++]!;
        continue;
      }
      if (i + 1 >= end) {
        i = end;
        break decode;
      }
      const ref = (bytes[i]! << 8) | bytes[i + 1]!;
      i += 2;
      const offset = ref >>> 4;
      // An offset at the write position marks the end of the data (2.1.3.1.5).
      const distance = (p - offset) & DICT_MASK;
      if (distance === 0) {
        ended = true;
        break decode;
      }
      const length = (ref & 0xf) + MIN_MATCH;
      const room = stop - p;
      // Byte by byte: the source may run into bytes this very reference writes (3.1.2.4).
      let from = p - distance;
      for (let k = Math.min(length, room); k > 0; k--, from++) line[p++] = from >= 0 ? line[from]! : 0;
      if (length > room) {
        overflow = true;
        break decode;
      }
    }
  }

  const o = p - INITIAL_WRITE_POSITION;
  if (overflow) {
    if (capacity === rawSize) problems.push(`data continues past RAWSIZE ${rawSize}; output stopped there`);
    else problems.push(`output stopped at ${capacity} bytes`);
  } else if (!ended) problems.push('compressed data ended without the end-of-data reference');
  if (!overflow && o !== rawSize) problems.push(`decoded ${o} bytes, RAWSIZE says ${rawSize}`);
  const rtf = line.subarray(INITIAL_WRITE_POSITION, p);
  return { rtf: o * 2 < capacity ? rtf.slice() : rtf, problems };
}

/**
 * Encodes RTF as PidTagRtfCompressed: LZFu (greedy longest match in the dictionary, lengths
 * 2..17) or, with `uncompressed`, MELA with a zero CRC. Any bytes are accepted.
 */
export function compressRtf(rtf: Uint8Array, opts?: { uncompressed?: boolean }): Uint8Array {
  if (opts?.uncompressed === true) {
    const out = new Uint8Array(HEADER_SIZE + rtf.length);
    writeU32(out, 0, rtf.length + 12);
    writeU32(out, 4, rtf.length);
    writeU32(out, 8, COMPTYPE_UNCOMPRESSED);
    writeU32(out, 12, 0); // MUST be 0 for MELA (2.1.3.1.1)
    out.set(rtf, HEADER_SIZE);
    return out;
  }

  const n = rtf.length;
  // The dictionary seen as one line: the initial string, then the input. Position p sits at
  // dictionary offset p & 4095 whenever the decoder reaches it, so a match at q < p with
  // p - q < 4096 is a valid reference (p - q == 4096 would be the end marker's offset).
  const buf = new Uint8Array(INITIAL_WRITE_POSITION + n);
  buf.set(INITIAL_DICTIONARY);
  buf.set(rtf, INITIAL_WRITE_POSITION);
  const total = buf.length;

  // Hash chains keyed by the two bytes at a position (the shortest match), newest first.
  const head = new Int32Array(65536).fill(-1);
  const prev = new Int32Array(DICT_SIZE);
  const insert = (p: number): void => {
    const key = (buf[p]! << 8) | buf[p + 1]!;
    prev[p & DICT_MASK] = head[key]!;
    head[key] = p;
  };
  for (let p = 0; p + 1 < INITIAL_WRITE_POSITION; p++) insert(p);

  // Worst case: all literals, 9 bytes per 8, plus the end reference and its CONTROL byte.
  const out = new Uint8Array(HEADER_SIZE + Math.ceil(n / 8) * 9 + 3);
  let o = HEADER_SIZE;
  let controlAt = o++;
  let control = 0;
  let bit = 0;
  const nextToken = (): void => {
    if (++bit === 8) {
      out[controlAt] = control;
      controlAt = o++;
      control = 0;
      bit = 0;
    }
  };

  let p = INITIAL_WRITE_POSITION;
  while (p < total) {
    let bestLen = 0;
    let bestPos = -1;
    const maxLen = Math.min(MAX_MATCH, total - p);
    if (maxLen >= MIN_MATCH) {
      let q = head[(buf[p]! << 8) | buf[p + 1]!]!;
      let chain = MAX_CHAIN;
      while (q >= 0 && p - q < DICT_SIZE && chain-- > 0) {
        // Only a match at least as long as the best can win: check its last byte first.
        if (bestLen === 0 || buf[q + bestLen - 1] === buf[p + bestLen - 1]) {
          let len = 0;
          while (len < maxLen && buf[q + len] === buf[p + len]) len++;
          // `>=`: among equal lengths keep the oldest position, as the spec's own examples do
          // (3.1.1.4 takes "ansi" from the initial dictionary, not from the copy just written).
          if (len >= bestLen && len >= MIN_MATCH) {
            bestLen = len;
            bestPos = q;
            if (len === maxLen) break; // nothing longer exists; older ties are not worth the walk
          }
        }
        const next = prev[q & DICT_MASK]!;
        if (next >= q) break;
        q = next;
      }
    }
    if (bestLen >= MIN_MATCH) {
      const ref = ((bestPos & DICT_MASK) << 4) | (bestLen - MIN_MATCH);
      out[o++] = ref >>> 8;
      out[o++] = ref & 0xff;
      control |= 1 << bit;
      for (const stop = p + bestLen; p < stop; p++) if (p + 1 < total) insert(p);
    } else {
      out[o++] = buf[p]!;
      if (p + 1 < total) insert(p);
      p++;
    }
    nextToken();
  }
  // The end: a reference to the write position, length 0 (2.1.3.1.5).
  const endRef = (p & DICT_MASK) << 4;
  out[o++] = endRef >>> 8;
  out[o++] = endRef & 0xff;
  control |= 1 << bit;
  out[controlAt] = control;

  writeU32(out, 0, o - 4);
  writeU32(out, 4, n);
  writeU32(out, 8, COMPTYPE_COMPRESSED);
  writeU32(out, 12, rtfCrc32(out, HEADER_SIZE, o));
  return out.slice(0, o);
}
