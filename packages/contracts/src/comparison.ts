import { z } from 'zod';

/**
 * The result file of `pnpm compare` (`comparison.json`), written by both load engines and read
 * by the decision CLI and the frontend's report viewer. Bump COMPARISON_SCHEMA_VERSION on any
 * incompatible change; readers refuse other versions with a clear message.
 */
export const COMPARISON_SCHEMA_VERSION = 1;

export const TopologyName = z.enum(['monolith', 'microservices-http', 'microservices-amqp']);
export type TopologyName = z.infer<typeof TopologyName>;

export const LatencySummary = z.object({
  p50: z.number().nonnegative(),
  p90: z.number().nonnegative(),
  p95: z.number().nonnegative(),
  p99: z.number().nonnegative(),
  max: z.number().nonnegative(),
  mean: z.number().nonnegative().optional(),
});
export type LatencySummary = z.infer<typeof LatencySummary>;

export const ThresholdResult = z.object({
  /** The metric the threshold is on, k6 style: `http_req_duration`, `http_req_failed`. */
  metric: z.string(),
  /** The k6 expression, e.g. `p(95)<100` or `rate<0.01`. */
  expression: z.string(),
  passed: z.boolean(),
});
export type ThresholdResult = z.infer<typeof ThresholdResult>;

/** Client-side figures of one scenario against one topology (all rounds merged). */
export const ScenarioResult = z.object({
  scenario: z.string(),
  topology: TopologyName,
  durationSeconds: z.number().positive(),
  requests: z.number().int().nonnegative(),
  /** Completed requests per second. */
  throughputRps: z.number().nonnegative(),
  /** Milliseconds; for open-model runs measured from each request's scheduled send time. */
  latencyMs: LatencySummary,
  /** Share of requests that failed (transport error, 5xx, or an unexpected status), 0..1. */
  errorRate: z.number().min(0).max(1),
  statusCounts: z.record(z.string(), z.number().int().nonnegative()),
  /** Requests the open model wanted to send but could not (no free virtual user). */
  dropped: z.number().int().nonnegative().default(0),
  thresholds: z.array(ThresholdResult),
  thresholdsPassed: z.boolean(),
  /** `open` (arrival rate: throughput is the offered rate) or `closed` (fixed VUs: throughput is the maximum sustained). */
  loadModel: z.enum(['open', 'closed']).optional(),
  /** Throughput of each interleaved round, in round order (for paired ratios, see pairedThroughputRatio). */
  roundThroughputRps: z.array(z.number().nonnegative()).optional(),
});
export type ScenarioResult = z.infer<typeof ScenarioResult>;

/**
 * Throughput ratio of `candidate` to `baseline` (same scenario, two topologies): the median of
 * the per-round ratios, since round i of both ran back to back on the same machine state; a
 * round disturbed by other load on the machine then moves the result far less than it moves the
 * plain ratio of totals. Falls back to the ratio of totals when rounds are not recorded.
 * @example pairedThroughputRatio(microservicesCheckout, monolithCheckout) // 0.23
 */
export function pairedThroughputRatio(candidate: ScenarioResult, baseline: ScenarioResult): number | null {
  const a = candidate.roundThroughputRps;
  const b = baseline.roundThroughputRps;
  const ratios: number[] = [];
  if (a && b) for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i]! > 0) ratios.push(a[i]! / b[i]!);
  if (ratios.length === 0) return baseline.throughputRps > 0 ? candidate.throughputRps / baseline.throughputRps : null;
  ratios.sort((x, y) => x - y);
  const mid = Math.floor(ratios.length / 2);
  return ratios.length % 2 === 1 ? ratios[mid]! : (ratios[mid - 1]! + ratios[mid]!) / 2;
}

/** Server-side figures of one topology, scraped from /metrics of every process. */
export const TopologyResult = z.object({
  name: TopologyName,
  processCount: z.number().int().positive(),
  /** CPU seconds of all processes per 1,000 orders placed; null when no orders were placed. */
  cpuSecondsPer1kOrders: z.number().nonnegative().nullable(),
  cpuSeconds: z.number().nonnegative(),
  ordersPlaced: z.number().int().nonnegative(),
  /** Peak resident memory summed over processes, bytes. */
  peakRssBytes: z.number().int().nonnegative(),
  /** Resident memory summed over processes at rest (before the runs), bytes. */
  idleRssBytes: z.number().int().nonnegative().optional(),
  /** Internal requests per public request; 0 for the monolith. Null when unmeasured. */
  hopsPerRequest: z.number().nonnegative().nullable(),
  /** Consistency cost seen during the run; null fields are unmeasured. */
  consistency: z
    .object({
      compensations: z.number().int().nonnegative().nullable(),
      stuckOrders: z.number().int().nonnegative().nullable(),
      duplicateCharges: z.number().int().nonnegative().nullable(),
    })
    .optional(),
});
export type TopologyResult = z.infer<typeof TopologyResult>;

export const MachineInfo = z.object({
  cores: z.number().int().positive(),
  memoryBytes: z.number().int().positive(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string().optional(),
});
export type MachineInfo = z.infer<typeof MachineInfo>;

export const Comparison = z.object({
  schemaVersion: z.literal(COMPARISON_SCHEMA_VERSION),
  tool: z.literal('archbench'),
  profile: z.string(),
  engine: z.enum(['k6', 'embedded']),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  machine: MachineInfo,
  topologies: z.array(TopologyResult).min(1),
  scenarios: z.array(ScenarioResult).min(1),
  /** Interleaved rounds each scenario ran per topology. */
  rounds: z.number().int().positive().optional(),
  /** Topologies that were asked for (or defaulted) but could not run here, and why. */
  skippedTopologies: z.array(z.object({ name: TopologyName, reason: z.string() })).optional(),
});
export type Comparison = z.infer<typeof Comparison>;

export class ComparisonFormatError extends Error {
  override readonly name = 'ComparisonFormatError';
}

/**
 * Validates parsed JSON as a comparison file; throws ComparisonFormatError naming the problem.
 * @example parseComparison(JSON.parse(readFileSync('results/comparison.json', 'utf8')))
 */
export function parseComparison(data: unknown): Comparison {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (version !== COMPARISON_SCHEMA_VERSION) {
    throw new ComparisonFormatError(
      `comparison file has schemaVersion ${JSON.stringify(version)}; this version of archbench reads schemaVersion ${COMPARISON_SCHEMA_VERSION}`,
    );
  }
  const result = Comparison.safeParse(data);
  if (!result.success) {
    const first = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ComparisonFormatError(`comparison file is not valid: ${first.join('; ')}`);
  }
  return result.data;
}

/** JSON Schema of the comparison file, for users and other tools. */
export function comparisonJsonSchema() {
  return z.toJSONSchema(Comparison, { target: 'draft-2020-12' });
}
