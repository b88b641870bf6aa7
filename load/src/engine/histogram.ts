import * as hdr from 'hdr-histogram-js';
import type { LatencySummary } from '@archbench/contracts/comparison';

/** Latencies are kept in microseconds: 1 µs resolution up to 10 minutes, 3 significant digits. */
const HIGHEST_US = 600_000_000;

/**
 * A latency histogram (HdrHistogram) that can cross a process boundary as a compact string and
 * be merged across rounds, so percentiles of merged rounds are exact rather than averaged.
 * @example const h = new LatencyHistogram(); h.recordMs(12.5); h.summary().p95 // 12.5
 */
export class LatencyHistogram {
  private readonly histogram: hdr.Histogram;

  constructor(histogram?: hdr.Histogram) {
    this.histogram =
      histogram ??
      hdr.build({ bitBucketSize: 32, lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, autoResize: true });
  }

  static decode(encoded: string): LatencyHistogram {
    return new LatencyHistogram(hdr.decodeFromCompressedBase64(encoded, 32, false));
  }

  recordMs(ms: number): void {
    this.histogram.recordValue(Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000))));
  }

  add(other: LatencyHistogram): void {
    this.histogram.add(other.histogram);
  }

  get count(): number {
    return this.histogram.totalCount;
  }

  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.histogram);
  }

  /** One percentile (0..100) in milliseconds. */
  percentileMs(percentile: number): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  get minMs(): number {
    return this.histogram.totalCount === 0 ? 0 : this.histogram.minNonZeroValue / 1000;
  }

  /** Percentiles in milliseconds; all zero when nothing was recorded. */
  summary(): LatencySummary {
    if (this.histogram.totalCount === 0) return { p50: 0, p90: 0, p95: 0, p99: 0, max: 0, mean: 0 };
    const at = (p: number) => this.histogram.getValueAtPercentile(p) / 1000;
    return { p50: at(50), p90: at(90), p95: at(95), p99: at(99), max: this.histogram.maxValue / 1000, mean: this.histogram.mean / 1000 };
  }
}
