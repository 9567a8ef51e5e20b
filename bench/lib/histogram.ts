/**
 * A latency histogram of non-negative integers (µs): Node's HdrHistogram, 3 significant digits, so every percentile is
 * within 0.1% of the exact nearest-rank value; the max and the mean are exact. Fixed memory, O(1) recording.
 */
import { createHistogram } from 'node:perf_hooks';

export class Histogram {
  private readonly h = createHistogram();
  private sum = 0;
  max = 0;

  record(value: number): void {
    const v = Math.max(0, Math.round(value));
    this.h.record(v + 1); // it records values >= 1
    this.sum += v;
    this.max = Math.max(this.max, v);
  }

  get count(): number {
    return this.h.count;
  }

  get mean(): number {
    return this.h.count === 0 ? 0 : this.sum / this.h.count;
  }

  /** The nearest-rank percentile (0 when empty). */
  percentile(p: number): number {
    return this.h.count === 0 ? 0 : Math.min(this.max, this.h.percentile(Math.min(100, Math.max(1e-9, p))) - 1);
  }
}
