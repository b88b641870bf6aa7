import type { LatencySummary, ScenarioResult, ThresholdResult } from '@archbench/contracts/comparison';
import { LatencyHistogram } from '../engine/histogram';
import type { SegmentResult } from '../engine/run-scenario';
import { evaluateThreshold } from '../scenarios/thresholds.ts';
import type { ScenarioDefinition } from '../scenarios/types.ts';

/**
 * Merges the rounds of one scenario against one topology. With histograms (embedded engine)
 * percentiles are exact over all rounds; k6 only reports percentiles per run, so those are
 * averaged weighted by request count (max stays exact) and a threshold passes only if it passed
 * in every round. Throughput counts the requests that succeeded.
 * @example mergeSegments(browse(80, 6), 'monolith', [round1, round2])
 */
export function mergeSegments(scenario: ScenarioDefinition, topology: string, segments: SegmentResult[]): ScenarioResult {
  if (segments.length === 0) throw new Error(`no rounds of ${scenario.name} on ${topology}`);
  const requests = segments.reduce((s, x) => s + x.requests, 0);
  const failed = segments.reduce((s, x) => s + x.failed, 0);
  const durationSeconds = segments.reduce((s, x) => s + x.durationSeconds, 0);
  const statusCounts: Record<string, number> = {};
  for (const seg of segments) for (const [status, count] of Object.entries(seg.statusCounts)) statusCounts[status] = (statusCounts[status] ?? 0) + count;
  const errorRate = requests === 0 ? 0 : failed / requests;

  let latencyMs: LatencySummary;
  let thresholds: ThresholdResult[];
  if (segments.every((s) => s.histogram !== undefined)) {
    const merged = new LatencyHistogram();
    for (const seg of segments) merged.add(LatencyHistogram.decode(seg.histogram!));
    latencyMs = merged.summary();
    thresholds = scenario.thresholds.map((t) => ({
      metric: t.metric,
      expression: t.expression,
      passed: evaluateThreshold(t, {
        latencyPercentile: (p) => merged.percentileMs(p),
        latency: { avg: latencyMs.mean ?? 0, min: merged.minMs, med: latencyMs.p50, max: latencyMs.max },
        requests,
        failedRate: errorRate,
      }),
    }));
  } else {
    const weight = (pick: (l: LatencySummary) => number) => (requests === 0 ? 0 : segments.reduce((s, x) => s + pick(x.latencyMs) * x.requests, 0) / requests);
    latencyMs = {
      p50: weight((l) => l.p50),
      p90: weight((l) => l.p90),
      p95: weight((l) => l.p95),
      p99: weight((l) => l.p99),
      max: Math.max(...segments.map((s) => s.latencyMs.max)),
      mean: weight((l) => l.mean ?? 0),
    };
    const byKey = new Map<string, ThresholdResult>();
    for (const seg of segments) {
      for (const t of seg.thresholds ?? []) {
        const key = `${t.metric} ${t.expression}`;
        const prev = byKey.get(key);
        byKey.set(key, { ...t, passed: (prev?.passed ?? true) && t.passed });
      }
    }
    thresholds = [...byKey.values()];
  }

  return {
    scenario: scenario.name,
    topology,
    durationSeconds,
    requests,
    // Successful requests only: a request that failed (a 401, a rejected order) is no throughput,
    // and a topology that fails fast would otherwise out-run one that works.
    throughputRps: (requests - failed) / durationSeconds,
    latencyMs,
    errorRate,
    statusCounts,
    dropped: segments.reduce((s, x) => s + x.dropped, 0),
    thresholds,
    thresholdsPassed: thresholds.every((t) => t.passed),
    loadModel: segments[0]!.loadModel,
    roundThroughputRps: segments.map((s) => (s.requests - s.failed) / s.durationSeconds),
  };
}
