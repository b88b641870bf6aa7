import { z } from 'zod';

/**
 * The result file of `pnpm compare` (`comparison.json`), written by both load engines and read
 * by the decision CLI and the frontend's report viewer. Bump COMPARISON_SCHEMA_VERSION on any
 * incompatible change; readers accept every version in READABLE_COMPARISON_SCHEMA_VERSIONS and
 * refuse others with a clear message.
 *
 * Version 3 (this one) changes meanings, not fields: `throughputRps` and `roundThroughputRps`
 * count successful requests only, and an order answered 201 but not CONFIRMED is a failed request
 * and no placed order. parseComparison reads older files as version 3 (see ComparisonConversion:
 * their throughput is converted, and `convertedFrom` says what could not be).
 *
 * Version 2 added: `hybrid` and `serverless`; free topology names for `--target` runs;
 * `faults[]` (fault experiments); `cost` (monthly estimates at load profiles, every price a
 * stated assumption); per topology `idle`, `perRequest` and `coldStart`; and server-side figures
 * that may be `null` ("not measured", e.g. a target without a metrics URL).
 * Version 1 files still parse: they simply have none of the version 2 sections.
 */
export const COMPARISON_SCHEMA_VERSION = 3;
/** Versions readers accept (version 1 files lack the version 2 sections; 1 and 2 are converted to 3's meanings). */
export const READABLE_COMPARISON_SCHEMA_VERSIONS = [1, 2, 3] as const;

/** The topologies archbench ships and starts itself. */
export const TopologyName = z.enum(['monolith', 'microservices-http', 'microservices-amqp', 'hybrid', 'serverless']);
export type TopologyName = z.infer<typeof TopologyName>;

/**
 * The name of a measured topology in a result: one of TopologyName for what compare started, or
 * the NAME of `--target NAME=URL` (kebab-case) for a deployment that already runs elsewhere.
 * Readers that map results to options (the decision CLI) match on the TopologyName values.
 */
export const TopologyId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'a topology name is kebab-case: lowercase letters, digits and dashes');
export type TopologyId = z.infer<typeof TopologyId>;

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

/**
 * The scenario that measures read capacity: the browse mix as a closed model (load's `reads`). It
 * shows how many reads a second a topology serves and what a read costs in CPU; it sends no
 * orders, so it is no evidence of latency at a request rate of the whole API, and latency
 * verdicts (the decision CLI's) leave it out unless asked for by name.
 */
export const READS_AT_CAPACITY_SCENARIO = 'reads';

/** Client-side figures of one scenario against one topology (all rounds merged). */
export const ScenarioResult = z.object({
  scenario: z.string(),
  topology: TopologyId,
  durationSeconds: z.number().positive(),
  requests: z.number().int().nonnegative(),
  /**
   * Successful requests per second: a failed request is no throughput. `requests /
   * durationSeconds` is the rate the run offered. Files before version 3 counted every request
   * (until 5 December 2026); parseComparison converts them (see ComparisonConversion).
   */
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
  /** Successful requests/s of each interleaved round, in round order (for paired ratios, see pairedThroughputRatio). */
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

/** A small sample distribution in milliseconds (cold starts): every value, its median and maximum. */
export const MsDistribution = z.object({
  samples: z.number().int().positive(),
  p50Ms: z.number().nonnegative(),
  maxMs: z.number().nonnegative(),
  valuesMs: z.array(z.number().nonnegative()),
});
export type MsDistribution = z.infer<typeof MsDistribution>;

/** What the topology costs while nobody uses it (measured after start, before any load). */
export const IdleFigures = z.object({
  /** CPU in use at rest, in cores (0.01 = 1 % of one core), summed over processes. */
  cpuCores: z.number().nonnegative(),
  /** Resident memory at rest, summed over processes, bytes. */
  rssBytes: z.number().int().nonnegative(),
  /** How long the rest was measured, seconds. */
  measuredSeconds: z.number().positive(),
  /**
   * Whether a deployment of this topology pays for compute at rest. false for serverless
   * (scale to zero: the local runtime's idle figures are shown but cost nothing on the platform).
   */
  billedAtRest: z.boolean(),
});
export type IdleFigures = z.infer<typeof IdleFigures>;

/**
 * The share of orders among public requests at which the per-request figures of a result are
 * given (`perRequest.cpuMs`, `perRequest.wallMs`, `hopsPerRequest`): the mixed scenario's 80 %
 * reads, 20 % orders. Every topology is then described at the same mix. Taken over the runs as
 * they came, the figures would mix reads and orders in whatever proportion each topology's
 * closed-model runs reached (a fast topology's requests mostly orders, a slow one's mostly reads),
 * and could not be compared across topologies.
 */
export const REFERENCE_ORDER_SHARE = 0.2;

/**
 * The per-request figures a pay-per-use cost model needs. Each kind of request is measured on its
 * own: reads in the reads run (or browse), orders in checkout; the figures "per public request"
 * are the two mixed at REFERENCE_ORDER_SHARE. Files written before the per-kind figures existed
 * hold the figures over all runs but the reads run, as they came.
 */
export const PerRequestFigures = z.object({
  /**
   * Server CPU per public request, ms, summed over processes, at REFERENCE_ORDER_SHARE. 0 where
   * the topology's `serverSide` is `not-measured` (a target without metrics): readers take it as
   * unknown there, not as free.
   */
  cpuMs: z.number().nonnegative(),
  /**
   * Server CPU per catalog read, ms: from the reads run at capacity (closed model), the regime a
   * deployment sized for its peak runs in; from browse at its fixed rate in files without one.
   */
  cpuMsPerRead: z.number().nonnegative().nullable().optional(),
  /** Server CPU per order (checkout only), ms. */
  cpuMsPerOrder: z.number().nonnegative().nullable(),
  /** Mean wall time of a public request as the client saw it, ms, at REFERENCE_ORDER_SHARE. */
  wallMs: z.number().nonnegative(),
  /**
   * Mean wall time of a read, ms: from browse, an open-model run at a moderate fixed rate, so
   * without the queueing of a run at capacity (what a platform that scales out bills); from the
   * reads run when there is no browse.
   */
  wallMsPerRead: z.number().nonnegative().nullable().optional(),
  /**
   * Mean wall time of an order, ms (checkout: closed model, so at capacity, with the queueing of
   * a saturated server: an upper bound of what a platform that scales out bills).
   */
  wallMsPerOrder: z.number().nonnegative().nullable().optional(),
  /** Internal requests per read (in the run that gives the CPU per read); null when unmeasured. */
  hopsPerRead: z.number().nonnegative().nullable().optional(),
  /** Internal requests per order (checkout, asynchronous work included); null when unmeasured. */
  hopsPerOrder: z.number().nonnegative().nullable().optional(),
  /** Invocations one order costs: the public request plus every internal request or consumer call. Null when unmeasured. */
  requestsPerOrder: z.number().nonnegative().nullable(),
  /** Queue/broker messages one order sends. 0 where there is no queue; null when unmeasured. */
  queueMessagesPerOrder: z.number().nonnegative().nullable(),
  /** Resident memory per process at peak, bytes (what one replica needs). */
  rssBytesPerProcess: z.number().nonnegative().nullable(),
  /** Database rows one order writes (from `archbench_db_rows_written_total` where a server counts them; D1 bills per row). */
  rowsWrittenPerOrder: z.number().nonnegative().nullable().optional(),
});
export type PerRequestFigures = z.infer<typeof PerRequestFigures>;

/** Cold start: how long a user waits when the topology has just started or has been idle. */
export const ColdStartFigures = z.object({
  /** Process spawn to the first successful public answer, over several starts. */
  startToFirstResponse: MsDistribution,
  /** Latency of the first public request once the topology reported ready, over several starts. */
  firstRequest: MsDistribution,
  /** Latency of the first request after `idleSeconds` without traffic. */
  afterIdle: MsDistribution.extend({ idleSeconds: z.number().nonnegative() }),
  /** Median latency of the same request once warm, for comparison, ms. */
  warmMs: z.number().nonnegative(),
});
export type ColdStartFigures = z.infer<typeof ColdStartFigures>;

/** Server-side figures of one topology, scraped from /metrics of every process. */
export const TopologyResult = z.object({
  name: TopologyId,
  /** Server processes; null when not measured (a target without a metrics URL). */
  processCount: z.number().int().positive().nullable(),
  /** CPU seconds of all processes per 1,000 orders placed; null when no orders were placed or not measured. */
  cpuSecondsPer1kOrders: z.number().nonnegative().nullable(),
  /** Null when not measured. */
  cpuSeconds: z.number().nonnegative().nullable(),
  ordersPlaced: z.number().int().nonnegative(),
  /** Peak resident memory summed over processes, bytes; null when not measured. */
  peakRssBytes: z.number().int().nonnegative().nullable(),
  /** Resident memory summed over processes at rest (before the runs), bytes. */
  idleRssBytes: z.number().int().nonnegative().nullable().optional(),
  /** Internal requests per public request at REFERENCE_ORDER_SHARE (see PerRequestFigures); 0 for the monolith. Null when unmeasured. */
  hopsPerRequest: z.number().nonnegative().nullable(),
  /** Consistency cost seen during the run; null fields are unmeasured. */
  consistency: z
    .object({
      compensations: z.number().int().nonnegative().nullable(),
      stuckOrders: z.number().int().nonnegative().nullable(),
      duplicateCharges: z.number().int().nonnegative().nullable(),
    })
    .optional(),
  /** v2: `started` (compare started it) or `target` (already running at `baseUrl`). */
  source: z.enum(['started', 'target']).optional(),
  /** v2: public URL measured (targets only; started topologies run on ephemeral ports). */
  baseUrl: z.string().optional(),
  /** v2: where the server-side figures come from: /proc of the process tree, the given metrics URLs, or nowhere. */
  serverSide: z.enum(['proc', 'metrics-url', 'not-measured']).optional(),
  /** v2: CPU and memory at rest. */
  idle: IdleFigures.nullable().optional(),
  /** v2: per-request inputs of the cost model. */
  perRequest: PerRequestFigures.nullable().optional(),
  /** v2: cold start; null when not measured (targets, or a profile without it). */
  coldStart: ColdStartFigures.nullable().optional(),
});
export type TopologyResult = z.infer<typeof TopologyResult>;

/**
 * Whether a topology's figures come from a local emulator of its platform rather than from the
 * platform: serverless that `pnpm compare` started runs as one workerd process with the workers,
 * D1 and the queues, on the cores that also generate the load; a `--target` deployment is the
 * platform. Files from before `source` existed were all started locally. Its latency under load
 * and its fault figures are the emulator's; its CPU, hops, queue messages and rows per order are
 * the app's own (decision model v3 scores the former from its prior, ADR 0013).
 * @example comparison.topologies.some(ranOnLocalEmulator) // show the emulator note
 */
export function ranOnLocalEmulator(topology: { readonly name: string; readonly source?: 'started' | 'target' | undefined }): boolean {
  return topology.name === 'serverless' && topology.source !== 'target';
}

/** The faults `pnpm compare --experiments faults` injects. */
export const FaultName = z.enum(['dependency-crash', 'provider-outage', 'broker-loss']);
export type FaultName = z.infer<typeof FaultName>;

/**
 * One fault experiment on one topology, under a steady mixed open-model load: inject at a fixed
 * time, keep the load going, lift the fault, keep measuring until quiet, then read the real state.
 */
export const FaultResult = z.object({
  topology: TopologyId,
  fault: FaultName,
  /** Share of browse requests (catalog reads) answered successfully during the fault window, 0..1. */
  browseAvailability: z.number().min(0).max(1),
  /** Share of orders sent during the fault window that were accepted and ended CONFIRMED, 0..1. */
  checkoutSuccess: z.number().min(0).max(1),
  /** Accepted orders (the client got an id) that are missing or not terminal at the deadline. */
  ordersLost: z.number().int().nonnegative(),
  /** Orders the client got no id for that sit non-terminal at the deadline, plus CONFIRMED orders without a shipment. */
  ordersStuck: z.number().int().nonnegative(),
  /** Orders with more than one captured payment. */
  duplicateCharges: z.number().int().nonnegative(),
  /** Units of stock taken but not accounted for by a live order (or returned twice), summed over SKUs. */
  stockDrift: z.number().int().nonnegative(),
  /** From the fault being lifted to the start of the first `recoveryWindowSeconds` of normal success, s. */
  recoverySeconds: z.number().nonnegative(),
  /** p95 latency of requests scheduled during the fault window, ms (from the scheduled time). */
  p95DuringFaultMs: z.number().nonnegative(),
  /** false when normal success never returned before the deadline (recoverySeconds is then the time observed). */
  recovered: z.boolean().optional(),
  /** Fault window length, s (crash: from the kill; outage and broker loss: until lifted). */
  faultSeconds: z.number().nonnegative().optional(),
  recoveryWindowSeconds: z.number().nonnegative().optional(),
  /**
   * Iterations due during the fault window that were never sent because every virtual user was
   * waiting on an earlier request (a system that hangs rather than refuses): counted as failed in
   * the availability and success shares, and in recovery. Absent in files written before.
   */
  droppedDuringFault: z.number().int().nonnegative().optional(),
  /** Orders sent / accepted / confirmed over the whole experiment. */
  orders: z.object({ sent: z.number().int().nonnegative(), accepted: z.number().int().nonnegative(), confirmed: z.number().int().nonnegative() }).optional(),
  /** What was done and the proof it happened (e.g. pid before/after and restart count, provider failures seen). */
  injection: z.object({ method: z.string(), verified: z.boolean(), detail: z.string() }).optional(),
});
export type FaultResult = z.infer<typeof FaultResult>;

/** One price the cost model uses: a stated, overridable assumption with its source and date. */
export const PriceAssumption = z.object({
  id: z.string(),
  description: z.string(),
  value: z.number().nonnegative(),
  /** e.g. `USD per vCPU-hour`. */
  unit: z.string(),
  /** The provider price list it came from. */
  source: z.string(),
  /** Date of that price list (YYYY-MM-DD). */
  date: z.string(),
  /** Set when the user overrode the default (the flag or answer that did). */
  overriddenBy: z.string().optional(),
});
export type PriceAssumption = z.infer<typeof PriceAssumption>;

/** A team's traffic: the rate of a busy hour, the peak to provision for, and hours of traffic a day. */
export const LoadProfile = z.object({
  name: z.string(),
  description: z.string().optional(),
  /** Requests per second during the busy hours. */
  busyRps: z.number().nonnegative(),
  /** The highest rate to serve without degrading (provisioned topologies size for it). */
  peakRps: z.number().nonnegative(),
  /** Hours per day at the busy rate; the rest of the day is at `quietRps`. */
  hoursPerDay: z.number().min(0).max(24),
  /** Requests per second outside the busy hours (default 0). */
  quietRps: z.number().nonnegative().default(0),
  /** Share of requests that are orders (POST /orders), 0..1. */
  orderShare: z.number().min(0).max(1),
});
export type LoadProfile = z.infer<typeof LoadProfile>;

/** One line of a cost estimate: quantity × unit price. */
export const CostLine = z.object({
  item: z.string(),
  quantity: z.number().nonnegative(),
  unit: z.string(),
  /** Id of the PriceAssumption used. */
  priceId: z.string(),
  usd: z.number().nonnegative(),
});
export type CostLine = z.infer<typeof CostLine>;

/** The monthly estimate of one topology at one load profile. */
export const CostEstimate = z.object({
  topology: TopologyId,
  profile: z.string(),
  /** `provisioned`: replicas sized for the peak, paid all month; `per-request`: pay per request and CPU time. */
  model: z.enum(['provisioned', 'per-request']),
  /** Null when an input was not measured (see notes). */
  monthlyUsd: z.number().nonnegative().nullable(),
  /** Of that, what the topology costs with no traffic at all (provisioned: the minimum replicas; serverless: the plan fee). */
  idleMonthlyUsd: z.number().nonnegative().nullable(),
  lines: z.array(CostLine),
  /** Provisioned only: vCPUs and memory provisioned for the peak. */
  provisioned: z.object({ vcpus: z.number().nonnegative(), memoryGiB: z.number().nonnegative(), replicas: z.number().int().nonnegative() }).optional(),
  notes: z.array(z.string()),
});
export type CostEstimate = z.infer<typeof CostEstimate>;

export const CostSection = z.object({
  currency: z.literal('USD'),
  hoursPerMonth: z.number().positive(),
  /** Provisioned capacity = peak need × (1 + headroom). */
  headroom: z.number().nonnegative(),
  /** CPU utilisation a provisioned replica is planned at (e.g. 0.6). */
  targetUtilization: z.number().positive().max(1),
  prices: z.array(PriceAssumption),
  profiles: z.array(LoadProfile),
  estimates: z.array(CostEstimate),
});
export type CostSection = z.infer<typeof CostSection>;

export const MachineInfo = z.object({
  cores: z.number().int().positive(),
  memoryBytes: z.number().int().positive(),
  node: z.string(),
  platform: z.string(),
  arch: z.string(),
  cpuModel: z.string().optional(),
  /** v2: 1, 5 and 15 minute load averages when the run started (above `cores`: other work competed with the measurement). */
  loadAverage: z.array(z.number().nonnegative()).length(3).optional(),
});
export type MachineInfo = z.infer<typeof MachineInfo>;

/**
 * Set by parseComparison on a file written before version 3, never by compare: what it changed so
 * that the file reads with version 3's meanings, and what it could not. Readers that show or
 * compare figures should show `warnings` (a baseline, a report, evidence for a decision).
 */
export const ComparisonConversion = z.object({
  /** The version the file was written with. */
  schemaVersion: z.union([z.literal(1), z.literal(2)]),
  /**
   * Scenario results (`scenario/topology`) whose `throughputRps` counted failed requests too and
   * now reads `throughputRps × (1 − errorRate)`; each `roundThroughputRps` is scaled by the same
   * share (a round's own failures are not in the file, so those are estimates). Results without
   * failures, or whose throughput already counted successes only (compare from 5 December 2026
   * wrote such version 2 files), are unchanged.
   */
  throughputConverted: z.array(z.string()),
  /**
   * true when the file may count orders answered 201 but REJECTED as placed orders and successful
   * requests (compare before 5 December 2026): order scenarios' `errorRate` and `throughputRps`,
   * and `ordersPlaced` and `cpuSecondsPer1kOrders`, may then look better than they were. It cannot
   * be undone from the file. false when the file names such failures (`"201 rejected: …"`).
   */
  rejectedOrdersMayCountAsPlaced: z.boolean(),
  /** The above in sentences, for readers to show. */
  warnings: z.array(z.string()),
});
export type ComparisonConversion = z.infer<typeof ComparisonConversion>;

export const Comparison = z.object({
  schemaVersion: z.union([z.literal(1), z.literal(2), z.literal(3)]),
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
  skippedTopologies: z.array(z.object({ name: TopologyId, reason: z.string() })).optional(),
  /** v2: `started` (compare started the topologies) or `target` (measured what already runs). */
  mode: z.enum(['started', 'target']).optional(),
  /** v2: experiments that ran, e.g. `load`, `faults`, `coldstart`. */
  experiments: z.array(z.string()).optional(),
  /** v2: fault experiments; empty when none ran (and in every version 1 file). */
  faults: z.array(FaultResult).default([]),
  /** v2: faults that were asked for but not run, and why (e.g. broker loss on a topology without a broker). */
  skippedFaults: z.array(z.object({ topology: TopologyId, fault: FaultName, reason: z.string() })).optional(),
  /** v2: monthly cost estimates at load profiles. */
  cost: CostSection.optional(),
  /** Set by parseComparison when it read a file written before version 3 (see ComparisonConversion). */
  convertedFrom: ComparisonConversion.optional(),
});
export type Comparison = z.infer<typeof Comparison>;

export class ComparisonFormatError extends Error {
  override readonly name = 'ComparisonFormatError';
}

/**
 * Validates parsed JSON as a comparison file; throws ComparisonFormatError naming the problem. A
 * file written before version 3 is returned as version 3, with `convertedFrom` saying so (see
 * ComparisonConversion), so every reader sees one meaning of throughput.
 * @example parseComparison(JSON.parse(readFileSync('results/comparison.json', 'utf8')))
 */
export function parseComparison(data: unknown): Comparison {
  const version = (data as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (!(READABLE_COMPARISON_SCHEMA_VERSIONS as readonly unknown[]).includes(version)) {
    throw new ComparisonFormatError(
      `comparison file has schemaVersion ${JSON.stringify(version)}; this version of archbench reads schemaVersion ${READABLE_COMPARISON_SCHEMA_VERSIONS.slice(0, -1).join(', ')} or ${READABLE_COMPARISON_SCHEMA_VERSIONS.at(-1)}`,
    );
  }
  const result = Comparison.safeParse(data);
  if (!result.success) {
    const first = result.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ComparisonFormatError(`comparison file is not valid: ${first.join('; ')}`);
  }
  const comparison = result.data;
  return comparison.schemaVersion === COMPARISON_SCHEMA_VERSION ? comparison : toCurrentMeanings(comparison, comparison.schemaVersion);
}

/** The share of a scenario result's requests that succeeded, and whether its throughput already counts only those. */
function successShare(s: ScenarioResult): { share: number; countsSuccesses: boolean } {
  const share = 1 - s.errorRate;
  const failed = Math.round(s.requests * s.errorRate);
  if (failed === 0) return { share, countsSuccesses: true };
  // Compare wrote throughput as (requests − failed) / durationSeconds from 5 December 2026 (still
  // version 2), requests / durationSeconds before: the file's own figures tell which.
  const counted = s.throughputRps * s.durationSeconds;
  return { share, countsSuccesses: Math.abs(counted - (s.requests - failed)) < 0.5 && Math.abs(counted - s.requests) >= 0.5 };
}

/** A version 1 or 2 comparison read with version 3's meanings (see ComparisonConversion). */
function toCurrentMeanings(comparison: Comparison, from: 1 | 2): Comparison {
  const throughputConverted: string[] = [];
  const scenarios = comparison.scenarios.map((s) => {
    const { share, countsSuccesses } = successShare(s);
    if (countsSuccesses) return s;
    throughputConverted.push(`${s.scenario}/${s.topology}`);
    return {
      ...s,
      throughputRps: s.throughputRps * share,
      ...(s.roundThroughputRps ? { roundThroughputRps: s.roundThroughputRps.map((r) => r * share) } : {}),
    };
  });
  // Compare names an order answered 201 but not CONFIRMED since it stopped counting it as placed.
  const namesRejections = comparison.scenarios.some((s) => Object.keys(s.statusCounts).some((key) => key.startsWith('201 ')));
  const warnings: string[] = [];
  if (throughputConverted.length > 0)
    warnings.push(
      `throughput in this version ${from} file counted failed requests too; read as successful requests/s (throughput × (1 − error rate)) for ${throughputConverted.join(', ')}, per round scaled by the same share (estimates)`,
    );
  if (!namesRejections)
    warnings.push(
      `this version ${from} file may count orders answered 201 but REJECTED as placed orders and successful requests (compare before 5 December 2026): order scenarios' error rate and throughput, orders placed and CPU per 1,000 orders may look better than they were, and this cannot be corrected from the file`,
    );
  return {
    ...comparison,
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    scenarios,
    convertedFrom: { schemaVersion: from, throughputConverted, rejectedOrdersMayCountAsPlaced: !namesRejections, warnings },
  };
}

/**
 * JSON Schema of the comparison file, for users and other tools: what readers accept (the input
 * side, so defaulted sections such as `faults` may be absent, as in version 1 files).
 */
export function comparisonJsonSchema() {
  return z.toJSONSchema(Comparison, { target: 'draft-2020-12', io: 'input' });
}
