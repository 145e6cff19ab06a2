/**
 * A stored message as POP3 sends it (pure; hot: every RETR byte passes here).
 *
 * RFC 1939 §3: a multi-line response is lines ending in CRLF, each line starting with "." gets
 * one more "." in front (byte-stuffing), and the response ends with ".". The octet counts of
 * STAT and LIST (RFC 1939 §5) are those of the message as sent, before byte-stuffing: the door
 * makes every line end CRLF (stored Internet mail should already have them; a bare LF or CR is
 * made CRLF) and ends a non-empty message with a line end, and `wireSize` counts exactly that.
 *
 * `stuffedSegments` yields the output as views into the stored bytes plus a few constant inserts
 * (CRLF, "."), never copying the message; one batch covers about `chunk` source bytes so the
 * session can wait for the socket between batches.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF_BYTES = Buffer.from('\r\n', 'latin1');
const DOT_BYTES = Buffer.from('.', 'latin1');

/** Positions of the next CR and LF at or after a point, each found once (memchr) and reused. */
class Scanner {
  private cr = -1;
  private lf = -1;
  constructor(
    private readonly src: Buffer,
    private readonly end: number,
  ) {}
  private find(byte: number, from: number): number {
    const at = this.src.indexOf(byte, from);
    return at < 0 || at >= this.end ? this.end : at;
  }
  /** The first CR or LF at or after `from` (or `end`). */
  next(from: number): number {
    if (this.cr < from) this.cr = this.find(CR, from);
    if (this.lf < from) this.lf = this.find(LF, from);
    return Math.min(this.cr, this.lf);
  }
  /** Past the line end starting at `at` (a CR or LF): CRLF, LF or a lone CR. */
  after(at: number): number {
    return this.src[at] === CR && at + 1 < this.end && this.src[at + 1] === LF ? at + 2 : at + 1;
  }
}

/** Octets of src[0, end) as sent: CRLF line ends and a final line end; before byte-stuffing. */
export function wireSize(src: Buffer, end = src.length): number {
  let n = end;
  let at = -1;
  while ((at = src.indexOf(LF, at + 1)) >= 0 && at < end) if (at === 0 || src[at - 1] !== CR) n++;
  at = -1;
  while ((at = src.indexOf(CR, at + 1)) >= 0 && at < end) if (at + 1 >= end || src[at + 1] !== LF) n++;
  if (end > 0 && src[end - 1] !== LF && src[end - 1] !== CR) n += 2;
  return n;
}

/**
 * TOP (RFC 1939 §7): where the header, the empty line after it, and then `lines` lines of the
 * body end. A message without an empty line is all header.
 */
export function topEnd(src: Buffer, lines: number): number {
  const end = src.length;
  const scan = new Scanner(src, end);
  let p = 0;
  while (p < end) {
    const e = scan.next(p);
    if (e >= end) return end;
    const empty = e === p;
    p = scan.after(e);
    if (empty) break;
  }
  for (let k = 0; k < lines && p < end; k++) {
    const e = scan.next(p);
    p = e >= end ? end : scan.after(e);
  }
  return p;
}

/** src[0, end) as sent (CRLF line ends, byte-stuffed, final line end), in batches of views. */
export function* stuffedSegments(src: Buffer, end: number, chunk: number): Generator<Buffer[]> {
  const scan = new Scanner(src, end);
  let out: Buffer[] = [];
  let from = 0; // start of the source bytes not yet in `out`
  let batchStart = 0;
  if (end > 0 && src[0] === DOT) out.push(DOT_BYTES);
  let p = 0;
  for (;;) {
    const e = scan.next(p);
    if (e >= end) break;
    const next = scan.after(e);
    if (next - e !== 2) {
      // A bare LF or lone CR: the bytes before it, then CRLF in its place.
      if (e > from) out.push(src.subarray(from, e));
      out.push(CRLF_BYTES);
      from = next;
    }
    p = next;
    if (p < end && src[p] === DOT) {
      if (p > from) out.push(src.subarray(from, p));
      out.push(DOT_BYTES);
      from = p;
    }
    if (p - batchStart >= chunk) {
      if (p > from) out.push(src.subarray(from, p));
      from = batchStart = p;
      yield out;
      out = [];
    }
  }
  if (end > from) out.push(src.subarray(from, end));
  if (end > 0 && src[end - 1] !== LF && src[end - 1] !== CR) out.push(CRLF_BYTES);
  if (out.length > 0) yield out;
}
