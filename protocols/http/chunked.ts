/**
 * A resumable decoder for the chunked transfer coding (RFC 9112 §7.1):
 *
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *
 * Feed it bytes as they arrive, split anywhere; it hands out chunk data as views of the input
 * (no copy) and says how many bytes it used, so what follows the body (a pipelined request) stays
 * with the caller. Chunk extensions and trailer fields are read and dropped (§7.1.1, §7.1.2).
 * Bare LF is accepted as a line end (§2.2). Errors are values, never exceptions.
 */
import { MAX_CHUNK_LINE_BYTES, MAX_TRAILER_BYTES } from './limits.js';

/** 13 hex digits = 2^52: beyond any body a route accepts, still an exact Number. */
const MAX_SIZE_DIGITS = 13;

const enum State {
  Size,
  Ext,
  Data,
  DataEnd,
  Trailer,
  Done,
}

export type ChunkedResult = { used: number; done: boolean; error?: undefined } | { error: string; used?: undefined; done?: undefined };

export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private lineBytes = 0;
  private remaining = 0;
  private trailerBytes = 0;
  private trailerLineEmpty = true;
  private sawCr = false;

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Decodes from `buf`; `onData` receives views of `buf` valid during the call. */
  feed(buf: Uint8Array, onData: (data: Uint8Array) => void): ChunkedResult {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case State.Size: {
          const b = buf[i]!;
          const v = hexValue(b);
          if (v >= 0) {
            if (this.sawCr) return { error: 'CR inside a chunk-size line' };
            if (++this.digits > MAX_SIZE_DIGITS) return { error: 'chunk size too large' };
            this.size = this.size * 16 + v;
            i++;
          } else if (this.digits === 0) {
            return { error: 'chunk size expected' };
          } else if (b === 0x3b || b === 0x20 || b === 0x09) {
            this.state = State.Ext; // chunk-ext (BWS ";" name [ "=" value ]): skipped
          } else if (b === 0x0d && !this.sawCr) {
            this.sawCr = true;
            i++;
          } else if (b === 0x0a) {
            i++;
            this.endSizeLine();
          } else {
            return { error: 'bad byte in a chunk-size line' };
          }
          break;
        }
        case State.Ext: {
          const b = buf[i++]!;
          if (++this.lineBytes > MAX_CHUNK_LINE_BYTES) return { error: 'chunk extension too long' };
          if (b === 0x0a) this.endSizeLine();
          else if (b < 0x20 && b !== 0x09 && b !== 0x0d) return { error: 'control byte in a chunk extension' };
          break;
        }
        case State.Data: {
          const n = Math.min(this.remaining, buf.length - i);
          onData(buf.subarray(i, i + n));
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.DataEnd;
          break;
        }
        case State.DataEnd: {
          const b = buf[i++]!;
          if (b === 0x0d && !this.sawCr) this.sawCr = true;
          else if (b === 0x0a) {
            this.sawCr = false;
            this.state = State.Size;
          } else return { error: 'chunk data not followed by CRLF' };
          break;
        }
        case State.Trailer: {
          const b = buf[i++]!;
          if (++this.trailerBytes > MAX_TRAILER_BYTES) return { error: 'trailer section too long' };
          if (b === 0x0a) {
            if (this.trailerLineEmpty) {
              this.state = State.Done;
              return { used: i, done: true };
            }
            this.trailerLineEmpty = true;
          } else if (b !== 0x0d) this.trailerLineEmpty = false;
          break;
        }
        case State.Done:
          return { used: i, done: true };
      }
    }
    return { used: i, done: this.state === State.Done };
  }

  private endSizeLine(): void {
    this.sawCr = false;
    this.lineBytes = 0;
    if (this.size === 0) {
      this.state = State.Trailer;
      this.trailerLineEmpty = true;
    } else {
      this.remaining = this.size;
      this.state = State.Data;
    }
    this.size = 0;
    this.digits = 0;
  }
}

function hexValue(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/** Encodes one chunk's framing around `size` bytes of data: the size line. */
export function chunkHeader(size: number): string {
  return `${size.toString(16)}\r\n`;
}
