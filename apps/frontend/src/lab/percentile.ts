/**
 * Percentile by linear interpolation between closest ranks (the "R-7" / NumPy default method),
 * so p50 of [10, 20] is 15 and p95 of a handful of samples leans on the largest ones.
 * Returns NaN for no samples. `p` is 0..100.
 * @example percentile([10, 20, 30, 40], 50) // 25
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const lowValue = sorted[low]!;
  return lowValue + (sorted[high]! - lowValue) * (rank - low);
}

export interface DelaySummary {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

/**
 * Summarises delays (ms) for display; NaN fields when there are none.
 * @example summarize([16, 24, 300]) // { count: 3, p50: 24, p95: 272.4, max: 300 }
 */
export function summarize(values: readonly number[]): DelaySummary {
  const finite = values.filter((v) => Number.isFinite(v));
  return {
    count: finite.length,
    p50: percentile(finite, 50),
    p95: percentile(finite, 95),
    max: finite.length === 0 ? Number.NaN : Math.max(...finite),
  };
}
