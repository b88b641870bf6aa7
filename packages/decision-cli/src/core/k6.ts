import { K6SummaryError, readK6Summary } from '@archbench/contracts/k6-summary';
import { InputError } from './errors';
import type { ScenarioEvidence } from './evidence';

/**
 * Reads a k6 summary (either format, parsed by `@archbench/contracts/k6-summary`, the parser the
 * load package uses too) as one scenario of client-side evidence.
 * Throws InputError naming the problem for truncated or foreign files.
 * @example parseK6Summary(readFileSync('summary.json', 'utf8'), 'summary.json', 'k6')
 */
export function parseK6Summary(text: string, source: string, scenario = 'k6'): ScenarioEvidence {
  let summary;
  try {
    summary = readK6Summary(text, source);
  } catch (error) {
    if (error instanceof K6SummaryError) throw new InputError(error.message);
    throw error;
  }
  const failedThresholds = summary.thresholds.filter((t) => !t.passed).map((t) => `${t.metric}: ${t.expression}`);
  return {
    scenario,
    source: 'k6',
    // Successful requests per second, as compare counts throughput (a failed request is none).
    throughputRps: Math.max(0, summary.requests - summary.failed) / summary.durationSeconds,
    durationSeconds: summary.durationSeconds,
    requests: summary.requests,
    p50Ms: summary.latencyMs.p50,
    p90Ms: summary.latencyMs.p90 ?? null,
    p95Ms: summary.latencyMs.p95,
    p99Ms: summary.latencyMs.p99 ?? null,
    maxMs: summary.latencyMs.max ?? null,
    errorRate: summary.errorRate,
    // No thresholds in the script: nothing passed or failed.
    thresholdsPassed: summary.thresholds.length > 0 ? failedThresholds.length === 0 : null,
    failedThresholds,
  };
}
