/**
 * A log-linear (HDR-style) histogram of non-negative integers, e.g. latencies in microseconds.
 *
 * Values below 256 are counted exactly. Above that, each power-of-two range [2^k, 2^(k+1)) is split
 * into 128 equal buckets, so a bucket is at most 1/128 of its lower bound wide; reporting the
 * bucket's midpoint keeps every percentile within 0.4% of the exact value (the brief allows 1%).
 * Memory is fixed (~5k counters up to 2^43), recording is O(1) and allocation-free.
 */
const SUB_BITS = 7; // 128 linear sub-buckets per power of two
const HALF = 1 << SUB_BITS;
const MAX_EXPONENT = 36; // top bucket covers values up to 2^(36+8) ≈ 1.7e13

export class Histogram {
  private readonly counts = new Float64Array((MAX_EXPONENT + 2) * HALF);
  private total = 0;
  private sum = 0;
  private minValue = Number.POSITIVE_INFINITY;
  private maxValue = 0;

  /** Records `value` (rounded to an integer, clamped to >= 0). */
  record(value: number): void {
    const v = Math.max(0, Math.round(value));
    this.counts[indexOf(v)]!++;
    this.total++;
    this.sum += v;
    this.minValue = Math.min(this.minValue, v);
    this.maxValue = Math.max(this.maxValue, v);
  }

  get count(): number {
    return this.total;
  }

  /** The exact largest value recorded. */
  get max(): number {
    return this.maxValue;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total;
  }

  /**
   * The nearest-rank percentile: the value below or at which `p`% of recordings fall
   * (bucket midpoint, clamped to the exact min and max). 0 when empty.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.maxValue, Math.max(this.minValue, midpointOf(i)));
    }
    return this.maxValue;
  }
}

function indexOf(v: number): number {
  if (v < 2 * HALF) return v;
  // exponent = floor(log2(v)) - SUB_BITS, so (v >> exponent) lands in [HALF, 2*HALF)
  const exponent = Math.min(MAX_EXPONENT, highestBit(v) - SUB_BITS);
  const shifted = Math.min(2 * HALF - 1, Math.floor(v / 2 ** exponent));
  return exponent * HALF + shifted;
}

/** floor(log2(v)) computed exactly (Math.log2 can round up just below a power of two). */
function highestBit(v: number): number {
  if (v < 2 ** 32) return 31 - Math.clz32(v);
  return 63 - Math.clz32(Math.floor(v / 2 ** 32));
}

function midpointOf(index: number): number {
  if (index < 2 * HALF) return index;
  const exponent = Math.floor(index / HALF) - 1;
  const shifted = index - exponent * HALF;
  const width = 2 ** exponent;
  return shifted * width + (width - 1) / 2;
}
