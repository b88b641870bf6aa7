/**
 * `value / baseline`, or null when either is missing or the baseline is zero.
 * @example ratio(30, 20) // 1.5
 */
export function ratio(value: number | null | undefined, baseline: number | null | undefined): number | null {
  if (value === null || value === undefined || baseline === null || baseline === undefined || baseline === 0) return null;
  return value / baseline;
}

/**
 * A ratio as people read it: "1.50× monolith", "same as monolith", or "–".
 * @example formatRatio(1.5, 'monolith') // '1.50× monolith'
 */
export function formatRatio(value: number | null, baselineName: string): string {
  if (value === null || !Number.isFinite(value)) return '–';
  if (Math.abs(value - 1) < 0.005) return `same as ${baselineName}`;
  return `${value.toFixed(2)}× ${baselineName}`;
}
