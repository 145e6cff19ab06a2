/**
 * A small log-linear latency histogram (HDR-style: 16 linear sub-buckets per power of two,
 * so any recorded value is within ~6% of its bucket). Values are non-negative numbers in any
 * unit (the runtime uses microseconds). Recording is O(1) and allocation-free.
 */
const SUB_BITS = 4;
const SUB = 1 << SUB_BITS;
const MAX_EXP = 40;

export class Histogram {
  private readonly counts = new Float64Array((MAX_EXP + 1) * SUB);
  count = 0;
  sum = 0;
  max = 0;
  min = Infinity;

  record(value: number): void {
    const v = value < 0 ? 0 : value;
    this.counts[Histogram.bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v > this.max) this.max = v;
    if (v < this.min) this.min = v;
  }

  private static bucketOf(v: number): number {
    if (v < SUB) return Math.floor(v);
    const shift = Math.min(MAX_EXP - 1, Math.floor(Math.log2(v)) - SUB_BITS);
    const sub = Math.min(2 * SUB - 1, Math.floor(v / 2 ** shift));
    return (shift + 1) * SUB + (sub - SUB);
  }

  /** The lower edge of a bucket and its width. */
  private static bucketRange(b: number): [number, number] {
    if (b < SUB) return [b, 1];
    const shift = Math.floor(b / SUB) - 1;
    const width = 2 ** shift;
    return [((b % SUB) + SUB) * width, width];
  }

  /** The value at quantile q (0..1), as the middle of its bucket, clamped to the seen range. */
  percentile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < this.counts.length; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) {
        const [lo, width] = Histogram.bucketRange(b);
        return Math.min(this.max, Math.max(this.min, lo + width / 2));
      }
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.sum = 0;
    this.max = 0;
    this.min = Infinity;
  }

  merge(other: Histogram): void {
    for (let i = 0; i < this.counts.length; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
    this.min = Math.min(this.min, other.min);
  }
}
