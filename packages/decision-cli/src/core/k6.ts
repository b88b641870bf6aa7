import { K6SummaryError, readK6Summary } from '@archbench/contracts/k6-summary';
import { InputError } from './errors';
import type { ScenarioEvidence } from './evidence';

/** A k6 summary read as evidence, with what the reader should be told about it. */
export interface K6Evidence {
  evidence: ScenarioEvidence;
  /** Sentences naming the file: e.g. that its load model is unknown (no `archbench` block). */
  warnings: string[];
}

/**
 * Reads a k6 summary (either format, parsed by `@archbench/contracts/k6-summary`, the parser the
 * load package uses too) as one scenario of client-side evidence. The scenario is `scenario` when
 * given, else the one named by the summary's `archbench` block (load/k6's handleSummary writes
 * it), else `k6`; the load model comes from that block, so a closed-model run (checkout, reads:
 * constant VUs, as fast as the target serves them) is judged as one. A summary without the block
 * (another script, or a k6 summary export) has no load model, as before, and a warning says so.
 * Thresholds the scripts set on `archbench_req_failed` read as `http_req_failed`, as `pnpm compare` shows them.
 * Throws InputError naming the problem for truncated or foreign files.
 * @example readK6Evidence(readFileSync('summary.json', 'utf8'), 'summary.json').evidence.loadModel // 'closed' for checkout
 */
export function readK6Evidence(text: string, source: string, scenario?: string): K6Evidence {
  let summary;
  try {
    summary = readK6Summary(text, source);
  } catch (error) {
    if (error instanceof K6SummaryError) throw new InputError(error.message);
    throw error;
  }
  const failedThresholds = summary.thresholds.filter((t) => !t.passed).map((t) => `${t.metric}: ${t.expression}`);
  const run = summary.archbench;
  const evidence: ScenarioEvidence = {
    scenario: scenario ?? run?.scenario ?? 'k6',
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
    ...(run ? { loadModel: run.loadModel } : {}),
  };
  const warnings = run ? [] : [missingRunWarning(source, evidence.scenario, scenario !== undefined)];
  return { evidence, warnings };
}

/**
 * The warning for a k6 summary without the `archbench` block.
 * @example missingRunWarning('k6.json', 'k6', false)
 */
export function missingRunWarning(source: string, scenario: string, named: boolean): string {
  return (
    `${source}: no "archbench" block (a summary not written by load/k6's handleSummary, or by an older one), so its load model is unknown: ` +
    `a closed-model run (constant VUs, e.g. checkout or reads) is judged as if it ran at the expected rate` +
    (named ? '' : `, and the scenario is named ${JSON.stringify(scenario)} (name it with --k6 TOPOLOGY=FILE:SCENARIO)`)
  );
}

/**
 * Reads a k6 summary as one scenario of client-side evidence (readK6Evidence without its warnings).
 * Throws InputError naming the problem for truncated or foreign files.
 * @example parseK6Summary(readFileSync('summary.json', 'utf8'), 'summary.json', 'k6')
 */
export function parseK6Summary(text: string, source: string, scenario?: string): ScenarioEvidence {
  return readK6Evidence(text, source, scenario).evidence;
}
