import { READS_AT_CAPACITY_SCENARIO, ranOnLocalEmulator, TopologyName } from '@archbench/contracts/comparison';
import { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, estimateCost, monthlyRequests } from '@archbench/contracts/cost';
import { getAnswer, knownNumber, type Answers } from './answers';
import { InputError } from './errors';
import { fixed } from './markdown';
import { emulatorCounts, type Model, type ModelBand } from './model';

/** Client-side figures of one scenario against one topology. */
export interface ScenarioEvidence {
  scenario: string;
  /** Where it came from: `comparison` or `k6`. */
  source: 'comparison' | 'k6';
  throughputRps: number;
  durationSeconds: number;
  requests: number;
  p50Ms: number;
  p90Ms: number | null;
  p95Ms: number;
  p99Ms: number | null;
  maxMs: number | null;
  errorRate: number;
  thresholdsPassed: boolean | null;
  /** Failed thresholds, k6 style (`http_req_duration: p(95)<100`). */
  failedThresholds: string[];
  /** `closed`: fixed virtual users, so the latency is the one at the saturated rate. */
  loadModel?: 'open' | 'closed' | undefined;
  /** Measured on a local emulator of the platform (see TopologyEvidence.emulated). */
  emulated?: boolean;
}

/** Everything measured about one topology; null means "not measured", never zero. */
export interface TopologyEvidence {
  topology: string;
  scenarios: ScenarioEvidence[];
  /**
   * Measured on a local emulator of its platform, not on the platform: serverless started by
   * `pnpm compare` runs on one workerd process (workers, D1 and queues together), where Cloudflare
   * scales out per request and runs D1 and Queues as remote services.
   */
  emulated?: boolean;
  processCount: number | null;
  cpuSecondsPer1kOrders: number | null;
  peakRssBytes: number | null;
  ordersPlaced: number | null;
  hopsPerRequest: number | null;
  consistency: { compensations: number | null; stuckOrders: number | null; duplicateCharges: number | null } | null;
  /** CPU seconds of all processes over the whole run (for CPU per request); null when unknown. */
  cpuSeconds?: number | null;
  /** Resident memory at rest, summed over processes. */
  idleRssBytes?: number | null;
  /** CPU cores used at rest (idle CPU), when the comparison recorded it. */
  idleCpuCores?: number | null;
  /** false: the platform bills nothing at rest (scale to zero); null: not recorded. */
  billedAtRest?: boolean | null;
  /** Server CPU per public request, ms (schema 2). */
  cpuMsPerRequest?: number | null;
  /** Resident memory one process needs at peak (one more replica), bytes. */
  rssBytesPerProcess?: number | null;
  /** Fault experiments (comparison schema 2). */
  faults?: FaultEvidence[];
  /** Per-request figures the shared cost model prices (comparison schema 2); null: not measured. */
  costFigures?: CostFigures | null;
  /** The comparison's own monthly estimates at its load profiles, shown for reference. */
  reportedMonthly?: Array<{ profile: string; amount: number; currency: string }>;
  /** Measured where it is deployed (`pnpm compare --target`), not started on the machine that ran compare. */
  target?: boolean;
  /** The run these figures came from (combineEvidence keeps one run per topology and kind). */
  run?: { path: string; startedAt: string };
}

/** What the shared cost model (@archbench/contracts/cost) needs beyond CPU per request and memory. */
export interface CostFigures {
  cpuMsPerRead: number | null;
  cpuMsPerOrder: number | null;
  wallMs: number | null;
  /** Wall time of a read and of an order, ms (GB-s billed at the answers' mix); absent in older files. */
  wallMsPerRead?: number | null;
  wallMsPerOrder?: number | null;
  requestsPerOrder: number | null;
  queueMessagesPerOrder: number | null;
  rowsWrittenPerOrder: number | null;
}

/** What one fault experiment did to one topology; null fields were not measured. */
export interface FaultEvidence {
  fault: string;
  /** Share of browse requests that succeeded during the fault (what did not fail), 0..1. */
  browseAvailability: number | null;
  checkoutSuccess: number | null;
  ordersLost: number | null;
  ordersStuck: number | null;
  duplicateCharges: number | null;
  stockDrift: number | null;
  /** Seconds until the topology served normally again; null when it never recovered. */
  recoverySeconds: number | null;
  recovered: boolean;
  p95DuringFaultMs: number | null;
  /** Measured on a local emulator of the platform (see TopologyEvidence.emulated). */
  emulated?: boolean;
}

export interface EvidenceSource {
  kind: 'comparison' | 'k6';
  path: string;
  /** Plain text without the path, e.g. `profile quick, embedded engine, ...`. */
  description: string;
  /** Comparisons: the load profile, the load generator and the machine that ran compare (see combineEvidence). */
  profile?: string;
  engine?: string;
  machine?: ComparisonInput['machine'];
  /** Comparisons: every topology was a deployment measured with `--target` (nothing started on `machine`). */
  deploymentsOnly?: boolean;
  /**
   * Comparisons written before schema version 3: the version, and what reading them with version
   * 3's meanings could not correct (e.g. orders answered 201 but REJECTED counted as placed).
   */
  convertedFrom?: { schemaVersion: number; warnings: string[] };
}

/**
 * What reading a comparison written before schema version 3 could not correct, as a sentence to
 * follow its description ('' for any other source).
 * @example convertedNote(source) // ". Written with schema version 2 and read with version 3's meanings: …"
 */
export function convertedNote(s: EvidenceSource): string {
  if (!s.convertedFrom) return '';
  return `. Written with schema version ${s.convertedFrom.schemaVersion} and read with version 3's meanings${s.convertedFrom.warnings.length ? `: ${s.convertedFrom.warnings.join('; ')}` : ''}`;
}

/** Measured evidence from comparison files and k6 summaries. */
export interface Evidence {
  sources: EvidenceSource[];
  topologies: TopologyEvidence[];
}

/**
 * The parts of a comparison.json (schema in @archbench/contracts/comparison, validated with
 * parseComparison before it gets here) that the decision needs. Declared structurally so the
 * published package's types do not depend on the private contracts package.
 */
export interface ComparisonInput {
  profile: string;
  engine: string;
  startedAt: string;
  /** Set when the file was written before schema version 3 and read with its meanings (parseComparison). */
  convertedFrom?: { schemaVersion: number; warnings: readonly string[] } | undefined;
  machine: { cores: number; memoryBytes: number; node: string; platform: string; arch: string; cpuModel?: string | undefined };
  topologies: ReadonlyArray<{
    name: string;
    /** `started`: run by compare on its own machine; `target`: a deployment measured where it runs. */
    source?: 'started' | 'target' | undefined;
    /** Where the server-side figures come from; `not-measured`: a target without metrics (its CPU figures read 0). */
    serverSide?: 'proc' | 'metrics-url' | 'not-measured' | undefined;
    processCount: number | null;
    cpuSecondsPer1kOrders: number | null;
    cpuSeconds?: number | null | undefined;
    ordersPlaced: number;
    peakRssBytes: number | null;
    idleRssBytes?: number | null | undefined;
    hopsPerRequest: number | null;
    consistency?: { compensations: number | null; stuckOrders: number | null; duplicateCharges: number | null } | undefined;
    idle?: { cpuCores: number; rssBytes: number; billedAtRest: boolean } | null | undefined;
    perRequest?:
      | {
          cpuMs: number;
          rssBytesPerProcess: number | null;
          cpuMsPerRead?: number | null | undefined;
          cpuMsPerOrder?: number | null | undefined;
          wallMs?: number | undefined;
          wallMsPerRead?: number | null | undefined;
          wallMsPerOrder?: number | null | undefined;
          requestsPerOrder?: number | null | undefined;
          queueMessagesPerOrder?: number | null | undefined;
          rowsWrittenPerOrder?: number | null | undefined;
        }
      | null
      | undefined;
  }>;
  /** Schema 2: fault experiments (absent or empty in version 1 files). */
  faults?:
    | ReadonlyArray<{
        topology: string;
        fault: string;
        browseAvailability: number;
        checkoutSuccess: number;
        ordersLost: number;
        ordersStuck: number;
        duplicateCharges: number;
        stockDrift: number;
        recoverySeconds: number;
        p95DuringFaultMs: number;
        recovered?: boolean | undefined;
      }>
    | undefined;
  /** Schema 2: the comparison's own monthly estimates (USD) at its load profiles, shown for reference. */
  cost?: { currency: string; estimates: ReadonlyArray<{ topology: string; profile: string; monthlyUsd: number | null }> } | undefined;
  scenarios: ReadonlyArray<{
    scenario: string;
    topology: string;
    durationSeconds: number;
    requests: number;
    throughputRps: number;
    latencyMs: { p50: number; p90: number; p95: number; p99: number; max: number };
    errorRate: number;
    thresholds: ReadonlyArray<{ metric: string; expression: string; passed: boolean }>;
    thresholdsPassed: boolean;
    loadModel?: 'open' | 'closed' | undefined;
  }>;
}

/** Evidence when nothing was measured: every option is scored from answers alone. */
export const NO_EVIDENCE: Evidence = { sources: [], topologies: [] };

/**
 * Converts a parsed comparison.json into evidence.
 * @example evidenceFromComparison(parseComparison(json), 'results/comparison.json')
 */
export function evidenceFromComparison(comparison: ComparisonInput, path: string): Evidence {
  const emulated = (topology: string) => comparison.topologies.some((t) => t.name === topology && ranOnLocalEmulator(t));
  const scenariosOf = (topology: string): ScenarioEvidence[] =>
    comparison.scenarios
      .filter((s) => s.topology === topology)
      .map((s) => ({
        scenario: s.scenario,
        source: 'comparison',
        throughputRps: s.throughputRps,
        durationSeconds: s.durationSeconds,
        requests: s.requests,
        p50Ms: s.latencyMs.p50,
        p90Ms: s.latencyMs.p90,
        p95Ms: s.latencyMs.p95,
        p99Ms: s.latencyMs.p99,
        maxMs: s.latencyMs.max,
        errorRate: s.errorRate,
        thresholdsPassed: s.thresholdsPassed,
        failedThresholds: s.thresholds.filter((x) => !x.passed).map((x) => `${x.metric}: ${x.expression}`),
        loadModel: s.loadModel,
        ...(emulated(topology) ? { emulated: true } : {}),
      }));
  const run = { path, startedAt: comparison.startedAt };
  const topologies = comparison.topologies.map<TopologyEvidence>((t) => {
    // Not measured: a target without metrics, or whose CPU could not be read (cpuSeconds null; absent in older files).
    const cpuMeasured = t.serverSide !== 'not-measured' && t.cpuSeconds !== null;
    return {
      topology: t.name,
      scenarios: scenariosOf(t.name),
      emulated: emulated(t.name),
      target: t.source === 'target',
      run,
      processCount: t.processCount,
      cpuSecondsPer1kOrders: t.cpuSecondsPer1kOrders,
      peakRssBytes: t.peakRssBytes,
      ordersPlaced: t.ordersPlaced,
      hopsPerRequest: t.hopsPerRequest,
      consistency: t.consistency ?? null,
      cpuSeconds: t.cpuSeconds ?? null,
      idleRssBytes: t.idle?.rssBytes ?? t.idleRssBytes ?? null,
      idleCpuCores: t.idle?.cpuCores ?? null,
      billedAtRest: t.idle ? t.idle.billedAtRest : null,
      // Not measured (a --target without --metrics-url): perRequest.cpuMs reads 0, not a measured zero.
      cpuMsPerRequest: cpuMeasured ? (t.perRequest?.cpuMs ?? null) : null,
      rssBytesPerProcess: t.perRequest?.rssBytesPerProcess ?? null,
      costFigures: t.perRequest
        ? {
            cpuMsPerRead: cpuMeasured ? (t.perRequest.cpuMsPerRead ?? t.perRequest.cpuMs) : null,
            cpuMsPerOrder: cpuMeasured ? (t.perRequest.cpuMsPerOrder ?? t.cpuSecondsPer1kOrders) : null,
            wallMs: t.perRequest.wallMs ?? null,
            wallMsPerRead: t.perRequest.wallMsPerRead ?? null,
            wallMsPerOrder: t.perRequest.wallMsPerOrder ?? null,
            requestsPerOrder: t.perRequest.requestsPerOrder ?? null,
            queueMessagesPerOrder: t.perRequest.queueMessagesPerOrder ?? null,
            rowsWrittenPerOrder: t.perRequest.rowsWrittenPerOrder ?? null,
          }
        : null,
      faults: (comparison.faults ?? [])
        .filter((f) => f.topology === t.name)
        .map((f) => ({
          fault: f.fault,
          browseAvailability: f.browseAvailability,
          checkoutSuccess: f.checkoutSuccess,
          ordersLost: f.ordersLost,
          ordersStuck: f.ordersStuck,
          duplicateCharges: f.duplicateCharges,
          stockDrift: f.stockDrift,
          recoverySeconds: f.recovered === false ? null : f.recoverySeconds,
          recovered: f.recovered ?? true,
          p95DuringFaultMs: f.p95DuringFaultMs,
          ...(emulated(t.name) ? { emulated: true } : {}),
        })),
      reportedMonthly: (comparison.cost?.estimates ?? [])
        .filter((e) => e.topology === t.name && e.monthlyUsd !== null)
        .map((e) => ({ profile: e.profile, amount: e.monthlyUsd!, currency: comparison.cost?.currency ?? 'USD' })),
    };
  });
  // Scenarios of a topology without server-side figures still count as client-side evidence.
  for (const name of new Set(comparison.scenarios.map((s) => s.topology))) {
    if (!topologies.some((t) => t.topology === name)) topologies.push({ ...emptyTopology(name), scenarios: scenariosOf(name), run });
  }
  const machine = comparison.machine;
  return {
    sources: [
      {
        kind: 'comparison',
        path,
        description: `profile ${comparison.profile}, ${comparison.engine} engine, started ${comparison.startedAt}, ${machine.cores} cores, ${Number((machine.memoryBytes / 2 ** 30).toFixed(1))} GiB memory, Node ${machine.node} on ${machine.platform}/${machine.arch}`,
        profile: comparison.profile,
        engine: comparison.engine,
        machine: { ...machine },
        deploymentsOnly: comparison.topologies.length > 0 && comparison.topologies.every((t) => t.source === 'target'),
        ...(comparison.convertedFrom
          ? { convertedFrom: { schemaVersion: comparison.convertedFrom.schemaVersion, warnings: [...comparison.convertedFrom.warnings] } }
          : {}),
      },
    ],
    topologies,
  };
}

function emptyTopology(topology: string): TopologyEvidence {
  return {
    topology,
    scenarios: [],
    processCount: null,
    cpuSecondsPer1kOrders: null,
    peakRssBytes: null,
    ordersPlaced: null,
    hopsPerRequest: null,
    consistency: null,
  };
}

/**
 * Adds client-side scenarios (from a k6 summary) to a topology's evidence.
 * @example addScenarios(evidence, 'monolith', [scenario], { kind: 'k6', path, description })
 */
export function addScenarios(evidence: Evidence, topology: string, scenarios: ScenarioEvidence[], source: EvidenceSource): Evidence {
  const existing = evidence.topologies.find((t) => t.topology === topology);
  const topologies = existing
    ? evidence.topologies.map((t) => (t === existing ? { ...t, scenarios: [...t.scenarios, ...scenarios] } : t))
    : [...evidence.topologies, { ...emptyTopology(topology), scenarios }];
  return { sources: [...evidence.sources, source], topologies };
}

/**
 * How two machines that ran `pnpm compare` differ, in words; null when they count as one machine
 * (memory within 5%: a machine's reported total moves a little between runs).
 */
function machineDifference(a: ComparisonInput['machine'], b: ComparisonInput['machine']): string | null {
  const gib = (m: ComparisonInput['machine']) => `${(m.memoryBytes / 2 ** 30).toFixed(1)} GiB`;
  const differences = [
    a.cores !== b.cores ? `${a.cores} vs ${b.cores} cores` : null,
    a.cpuModel && b.cpuModel && a.cpuModel !== b.cpuModel ? `CPU ${a.cpuModel} vs ${b.cpuModel}` : null,
    Math.abs(a.memoryBytes - b.memoryBytes) > 0.05 * Math.max(a.memoryBytes, b.memoryBytes) ? `${gib(a)} vs ${gib(b)} memory` : null,
    a.platform !== b.platform || a.arch !== b.arch ? `${a.platform}/${a.arch} vs ${b.platform}/${b.arch}` : null,
    a.node !== b.node ? `Node ${a.node} vs ${b.node}` : null,
  ].filter((d): d is string => d !== null);
  return differences.length ? differences.join(', ') : null;
}

/** The later run first (by start time, then path), so the choice does not depend on the order files were given in. */
const latestFirst = (a: TopologyEvidence, b: TopologyEvidence) =>
  (b.run?.startedAt ?? '').localeCompare(a.run?.startedAt ?? '') || (a.run?.path ?? '').localeCompare(b.run?.path ?? '');

/** A local run and a deployment of one topology: both runs count (ADR 0013), the deployment's server-side figures first. */
function withDeployment(local: TopologyEvidence, deployed: TopologyEvidence): TopologyEvidence {
  return {
    ...local,
    scenarios: [...local.scenarios, ...deployed.scenarios],
    emulated: Boolean(local.emulated) || Boolean(deployed.emulated),
    target: true,
    processCount: deployed.processCount ?? local.processCount,
    cpuSecondsPer1kOrders: deployed.cpuSecondsPer1kOrders ?? local.cpuSecondsPer1kOrders,
    peakRssBytes: deployed.peakRssBytes ?? local.peakRssBytes,
    ordersPlaced: deployed.ordersPlaced ?? local.ordersPlaced,
    hopsPerRequest: deployed.hopsPerRequest ?? local.hopsPerRequest,
    consistency: deployed.consistency ?? local.consistency,
    cpuSeconds: deployed.cpuSeconds ?? local.cpuSeconds ?? null,
    idleRssBytes: deployed.idleRssBytes ?? local.idleRssBytes ?? null,
    idleCpuCores: deployed.idleCpuCores ?? local.idleCpuCores ?? null,
    billedAtRest: deployed.billedAtRest ?? local.billedAtRest ?? null,
    cpuMsPerRequest: deployed.cpuMsPerRequest ?? local.cpuMsPerRequest ?? null,
    rssBytesPerProcess: deployed.rssBytesPerProcess ?? local.rssBytesPerProcess ?? null,
    costFigures: deployed.costFigures ?? local.costFigures ?? null,
    faults: [...(local.faults ?? []), ...(deployed.faults ?? [])],
    reportedMonthly: [...(local.reportedMonthly ?? []), ...(deployed.reportedMonthly ?? [])],
  };
}

/**
 * Combines the evidence of several comparison files, whatever order they were given in:
 *
 * - Runs that `pnpm compare` started must come from one machine (cores, CPU model, memory,
 *   platform, Node), one profile and one engine (k6 or the embedded one): a topology measured on
 *   a faster machine, with other rates and durations, or with another load generator beside it,
 *   would be favoured for where it was measured. Otherwise an InputError (exit 2).
 *   A file of deployments only (`--target`) joins any: its servers ran where they are deployed.
 * - A topology in several files of the same kind (two local runs, or two deployments): the latest
 *   run (by start time; then by path) stands for it whole — scenarios, faults, processes, CPU,
 *   memory and cost — and a warning names the runs left out. Pooling them would mix two runs'
 *   figures, and give a topology measured twice two chances at a worst p95.
 * - A local run and a deployment of one topology both count (ADR 0013: the emulator's figures are
 *   marked, so a model that does not count them counts the deployment's); server-side figures are
 *   the deployment's where it has them.
 * @example combineEvidence([local, deployed]).evidence
 */
export function combineEvidence(files: readonly Evidence[]): { evidence: Evidence; warnings: string[] } {
  const warnings: string[] = [];
  const sources = files.flatMap((f) => f.sources).sort((a, b) => a.path.localeCompare(b.path));
  const started = sources.filter((s) => s.kind === 'comparison' && s.machine && !s.deploymentsOnly);
  const reference = started[0];
  for (const other of started.slice(1)) {
    const difference = machineDifference(reference!.machine!, other.machine!);
    const profiles = reference!.profile !== other.profile ? `profile ${reference!.profile} vs ${other.profile}` : null;
    // The load generator shares the machine's cores with the topologies and adds its own latency:
    // k6 and the embedded engine measure the same topology differently.
    const engines = reference!.engine !== other.engine ? `${reference!.engine ?? '?'} engine vs ${other.engine ?? '?'}` : null;
    if (difference || profiles || engines)
      throw new InputError(
        `--comparison ${reference!.path} and ${other.path} were not measured alike (${[profiles, engines, difference].filter(Boolean).join('; ')}): topologies measured on different machines, with different profiles or load generators are not comparable, so one option would be favoured for where it was measured. Run \`pnpm compare\` for every topology on one machine with one profile and one engine (a deployment measured with --target can join any run)`,
      );
  }
  const byName = new Map<string, TopologyEvidence[]>();
  for (const t of files.flatMap((f) => f.topologies)) byName.set(t.topology, [...(byName.get(t.topology) ?? []), t]);
  const topologies: TopologyEvidence[] = [];
  for (const [name, runs] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const pick = (kind: TopologyEvidence[], what: string) => {
      const sorted = [...kind].sort(latestFirst);
      if (sorted.length > 1)
        warnings.push(
          `${name} is ${what} in ${sorted.length} comparison files: using ${sorted[0]!.run?.path ?? 'the first'} (${sorted[0]!.run?.startedAt === sorted[1]!.run?.startedAt ? 'runs started at the same time: the first by path' : 'the latest run'}${sorted[0]!.run ? `, started ${sorted[0]!.run.startedAt}` : ''}); left out: ${sorted
            .slice(1)
            .map((t) => t.run?.path ?? '?')
            .join(', ')}`,
        );
      return sorted[0];
    };
    const local = pick(
      runs.filter((t) => !t.target),
      'a local run',
    );
    const deployed = pick(
      runs.filter((t) => t.target),
      'a deployment',
    );
    topologies.push(local && deployed ? withDeployment(local, deployed) : (local ?? deployed)!);
  }
  // In the order compare lists them (monolith first; others by name), whatever the file order.
  const rank = (name: string) => (TopologyName.options as readonly string[]).indexOf(name) + 1 || Infinity;
  topologies.sort((a, b) => rank(a.topology) - rank(b.topology) || a.topology.localeCompare(b.topology));
  return { evidence: { sources, topologies }, warnings };
}

/**
 * Combines the evidence of two comparison files (see combineEvidence, which takes every file at
 * once and also returns the warnings).
 */
export function mergeEvidence(a: Evidence, b: Evidence): Evidence {
  return combineEvidence([a, b]).evidence;
}

/**
 * One stated price assumption of the shared cost model (structurally the PriceAssumption of
 * @archbench/contracts/comparison, declared here so the published types stand alone).
 */
export interface PriceItem {
  id: string;
  description: string;
  value: number;
  unit: string;
  /** The provider price list it came from. */
  source: string;
  /** Date of that price list (YYYY-MM-DD). */
  date: string;
  /** Set when the user overrode the default (the flag that did). */
  overriddenBy?: string | undefined;
}

/**
 * Prices used to turn CPU and memory into money. `vcpuHourEur`/`gbHourEur` price the cost per
 * 1,000 orders of model v1; `list` is the price list of the monthly estimate (model v2), the same
 * one `pnpm compare` uses (default: DEFAULT_PRICES of @archbench/contracts/cost, in USD).
 */
export interface Prices {
  vcpuHourEur: number;
  gbHourEur: number;
  list?: readonly PriceItem[] | undefined;
}

/** The price list of the monthly estimate: the given one, or the shared default. */
export function priceList(prices: Prices): readonly PriceItem[] {
  return prices.list ?? DEFAULT_PRICES;
}

export type LatencyStatus = 'meets' | 'fails' | 'not-demonstrated' | 'unknown-answer' | 'unmeasured';

export interface LatencyAssessment {
  status: LatencyStatus;
  budgetMs: number;
  rps: number;
  /** Worst p95 among the scenarios that reached the rate (or of the fastest scenario when none did). */
  p95Ms: number | null;
  throughputRps: number | null;
  scenario: string | null;
  errorRate: number | null;
  /** (budget - p95) / budget; negative when over budget. */
  headroom: number | null;
  /** Highest throughput measured in any scenario. */
  maxMeasuredRps: number | null;
  /** `unmeasured` because every scenario ran on a local emulator, which the model does not count. */
  emulatorOnly?: true;
  /**
   * Why the status is `not-demonstrated`: `below-rate`, no scenario reached the rate;
   * `saturation`, only closed-model scenarios far above the rate (latency at saturation) reached
   * it. Absent for every other status.
   */
  notDemonstratedBecause?: 'below-rate' | 'saturation';
  /** Why the status is `fails`: a run at the rate over the budget, or with too many errors. */
  failedBecause?: 'budget' | 'errors';
  /**
   * Model v5, `not-demonstrated` because of saturation: every closed-model run at saturation ran
   * without errors and with enough clients queued to bound the p95 at the rate from above (see
   * boundsRateFromAbove); the worst of them. Present whatever the budget (it also picks the
   * variant that stands for an option); `meets` says whether the bound is within the budget.
   */
  upperBound?: LatencyUpperBound;
  reason: string;
}

/** A p95 that the p95 at the expected rate cannot exceed, from a closed-model run at saturation (v5). */
export interface LatencyUpperBound {
  p95Ms: number;
  scenario: string;
  throughputRps: number;
  /** (budget - p95) / budget; negative when the bound is over the budget (which proves nothing). */
  headroom: number;
  meets: boolean;
}

export interface CostAssessment {
  cpuEurPer1kOrders: number;
  memoryEurPer1kOrders: number;
  totalEurPer1kOrders: number;
  /** Share of requests that placed an order in the measured mix. */
  orderShare: number;
  peakMemoryGb: number;
  assumptions: string[];
}

/** One line of a monthly estimate: quantity × the unit price `priceId` of the price list. */
export interface MonthlyCostLine {
  item: string;
  quantity: number;
  unit: string;
  priceId: string;
  usd: number;
}

/**
 * Monthly cost at the answers' load profile (model v2), estimated by the shared cost model of
 * `pnpm compare` (@archbench/contracts/cost), in its currency (USD).
 */
export interface MonthlyCost {
  billing: 'always-on' | 'pay-per-use';
  currency: 'USD';
  monthlyUsd: number;
  /** What the topology costs with no traffic at all (serverless: the plan fee only). */
  idleMonthlyUsd: number | null;
  lines: MonthlyCostLine[];
  /** The load profile it was priced at (from the answers). */
  profile: { busyRps: number; peakRps: number; hoursPerDay: number; quietRps: number; orderShare: number };
  requestsPerMonth: number;
  /** Always-on: vCPU provisioned for the peak. */
  vcpu: number | null;
  assumptions: string[];
}

export interface FaultAssessment {
  /** Worst availability of what did not fail, and in which fault. */
  worstAvailability: { value: number; fault: string } | null;
  /**
   * Worst recovery time, and in which fault. `recovered: false` when it never recovered within the
   * experiment: `value` is then Infinity (`null` in JSON).
   */
  slowestRecovery: { value: number; fault: string; recovered: boolean } | null;
  /**
   * Faults measured on a local emulator whose availability or recovery the model does not count
   * (`notFromEmulator`); their lost or stuck orders still count (the app's own logic).
   */
  emulatedFaults?: string[];
  /** Lost/stuck orders, duplicate charges or stock drift in any fault. */
  broken: string[];
}

export interface TopologyAssessment {
  topology: string;
  latency: LatencyAssessment;
  latencyAtPeak: LatencyAssessment;
  cost: CostAssessment | null;
  costReason: string;
  monthly: MonthlyCost | null;
  monthlyReason: string;
  processCount: number | null;
  /** Billed per use (the model's payPerUse, or nothing billed at rest): its processes are the platform's. */
  billedPerUse: boolean;
  consistency: { verdict: 'clean' | 'compensated' | 'broken'; detail: string } | null;
  faults: FaultAssessment | null;
}

const fmt = fixed;

/**
 * The scenarios that can show latency at a request rate: the ones `filter` names, or, without a
 * filter, all but the reads at capacity (READS_AT_CAPACITY_SCENARIO: reads only, as fast as the
 * topology serves them; a rate reached with no orders says nothing of the API's latency at it).
 * @example latencyScenarios(t.scenarios) // browse and checkout of a quick comparison
 */
export function latencyScenarios<S extends { scenario: string }>(scenarios: readonly S[], filter?: readonly string[]): S[] {
  return scenarios.filter((s) => (filter?.length ? filter.includes(s.scenario) : s.scenario !== READS_AT_CAPACITY_SCENARIO));
}

/** The latency statuses in words, for people (the status names stay in `score --json`). */
const LATENCY_VERDICTS: Record<LatencyStatus, string> = {
  meets: 'meets',
  fails: 'fails',
  'not-demonstrated': 'not demonstrated',
  'unknown-answer': 'not judged (answer unknown)',
  unmeasured: 'not measured',
};

/**
 * The latency verdict in a few words, for tables and the terminal: the status in words, or `not
 * counted` when every scenario ran on a local emulator the model does not count (v3).
 * @example latencyVerdict(assessment.latency) // 'not demonstrated'
 */
export function latencyVerdict(l: LatencyAssessment): string {
  if (l.upperBound?.meets) return 'meets at saturation (an upper bound)';
  return l.emulatorOnly ? 'not counted' : LATENCY_VERDICTS[l.status];
}

/** Why a topology's latency figures do not count (model v3), for the breakdown and the notes. */
export const EMULATED_LATENCY_REASON =
  'latency measured only on a local emulator (one workerd process with the workers, D1 and the queues, beside the load generator), not on the platform';

/**
 * The scenarios whose latency a model counts: latencyScenarios, less those measured on a local
 * emulator when the model scores emulated latency from the prior (v3).
 * @example countedLatencyScenarios(t.scenarios, MODEL_V3) // [] for a locally started serverless
 */
export function countedLatencyScenarios<S extends { scenario: string; emulated?: boolean | undefined }>(
  scenarios: readonly S[],
  model: Model,
  filter?: readonly string[],
): S[] {
  const rated = latencyScenarios(scenarios, filter);
  return emulatorCounts(model, 'latency') ? rated : rated.filter((s) => !s.emulated);
}

/**
 * The rate a run offered the topology: every request sent, failed ones included, per second.
 * Whether a run reached the expected rate is judged on it: `throughputRps` counts successes only
 * (files from 5 December 2026 on), so a run at the rate with 10 % errors would otherwise fall
 * below it and its errors never be judged.
 * @example attemptedRps({ requests: 1000, durationSeconds: 10, throughputRps: 90 }) // 100
 */
export function attemptedRps(s: Pick<ScenarioEvidence, 'requests' | 'durationSeconds' | 'throughputRps'>): number {
  return s.durationSeconds > 0 && s.requests > 0 ? Math.max(s.throughputRps, s.requests / s.durationSeconds) : s.throughputRps;
}

/**
 * Whether a run measured latency at saturation: a closed-model scenario (fixed virtual users, as
 * fast as the topology serves them) above `saturation` times the rate (the model's
 * closedModelSaturation; undefined: model v1, no such distinction).
 * @example atSaturation(checkoutAt4160Rps, 50, 1.5) // true
 */
export function atSaturation(
  s: Pick<ScenarioEvidence, 'loadModel' | 'throughputRps' | 'requests' | 'durationSeconds'>,
  rps: number,
  saturation: number | undefined,
): boolean {
  return saturation !== undefined && s.loadModel === 'closed' && attemptedRps(s) > rps * saturation;
}

/**
 * A budget in ms as the user wrote it, to the precision it needs: `50`, `9.5`, `0.0001` (one
 * decimal for every budget printed "0.0 ms" for 0.0001, which reads as an invalid budget).
 * @example fmtMs(0.25) // '0.25'
 */
function fmtMs(ms: number): string {
  if (Number.isInteger(ms)) return fmt(ms, 0);
  return ms >= 1 ? fmt(ms, 1) : String(Number(ms.toPrecision(2)));
}

/**
 * Whether a closed-model run far above the rate bounds the p95 at the rate from above (model v5).
 * Its clients wait behind each other: about throughput × p50 of them are in the system (Little's
 * law with the median, which undercounts them), so a request waits behind all the others. An open
 * stream at the rate, a share ρ = rate / throughput of what the run served, has fewer than
 * ln 20 / ln(1/ρ) requests ahead of it 95 % of the time (M/M/1: P(n or more in the system) = ρⁿ).
 * So when the run's clients outnumber that by one, and it ran without errors, its p95 is at least
 * the p95 at the rate. A run with errors (overload) or few clients proves nothing.
 * @example boundsRateFromAbove({ loadModel: 'closed', throughputRps: 684, p50Ms: 20, errorRate: 0 }, 400, 0.01) // true: 13.7 clients, 6.6 needed
 */
export function boundsRateFromAbove(
  s: Pick<ScenarioEvidence, 'loadModel' | 'throughputRps' | 'p50Ms' | 'errorRate'>,
  rps: number,
  maxErrorRate: number,
): boolean {
  if (s.loadModel !== 'closed' || s.errorRate > maxErrorRate || !(s.throughputRps > rps) || rps <= 0) return false;
  const clients = (s.throughputRps * s.p50Ms) / 1000;
  return clients >= 1 + Math.log(20) / Math.log(s.throughputRps / rps);
}

/**
 * Judges whether a topology meets a p95 budget at a rate, using only the scenarios that reached
 * that rate (within the model's tolerance) — a run at a lower rate proves nothing either way — and,
 * from model v2, were not closed-model runs far above it (latency at saturation, see atSaturation).
 * @example assessLatency(topologyEvidence, 200, 100, MODEL_V1, ['browse'])
 */
export function assessLatency(
  t: TopologyEvidence | undefined,
  budgetMs: number | null,
  rps: number | null,
  model: Model,
  scenarioFilter?: readonly string[],
): LatencyAssessment {
  const base = {
    budgetMs: budgetMs ?? 0,
    rps: rps ?? 0,
    p95Ms: null,
    throughputRps: null,
    scenario: null,
    errorRate: null,
    headroom: null,
    maxMeasuredRps: null,
  };
  const scenarios = countedLatencyScenarios(t?.scenarios ?? [], model, scenarioFilter);
  if (!t || scenarios.length === 0) {
    if (t && latencyScenarios(t.scenarios, scenarioFilter).length)
      return { ...base, status: 'unmeasured', emulatorOnly: true, reason: EMULATED_LATENCY_REASON };
    return { ...base, status: 'unmeasured', reason: 'not measured' };
  }
  if (budgetMs === null || rps === null) {
    return {
      ...base,
      status: 'unknown-answer',
      reason: `the ${budgetMs === null ? 'p95 budget' : 'request rate'} is unknown, so the measured latency cannot be judged`,
    };
  }
  const maxMeasuredRps = Math.max(...scenarios.map(attemptedRps));
  const reached = scenarios.filter((s) => attemptedRps(s) >= rps * model.evidence.rateTolerance);
  if (reached.length === 0) {
    const fastest = scenarios.reduce((a, b) => (b.throughputRps > a.throughputRps ? b : a));
    return {
      ...base,
      status: 'not-demonstrated',
      notDemonstratedBecause: 'below-rate',
      p95Ms: fastest.p95Ms,
      throughputRps: fastest.throughputRps,
      scenario: fastest.scenario,
      errorRate: fastest.errorRate,
      headroom: (budgetMs - fastest.p95Ms) / budgetMs,
      maxMeasuredRps,
      reason: `measured only up to ${fmt(maxMeasuredRps, 1)} rps (p95 ${fmt(fastest.p95Ms, 1)} ms in ${fastest.scenario}), below ${fmt(rps)} rps`,
    };
  }
  // A closed-model scenario (fixed virtual users) runs as fast as the topology can: far above the
  // expected rate its p95 and errors are the ones at saturation, which say nothing either way about
  // the expected rate. Such runs are left out of the verdict, its headroom and its reason; the
  // verdict is judged on the runs at about the expected rate (v2; v1 counts every run). Whatever
  // the budget, the same runs count, so a looser budget never scores worse.
  const saturation = model.evidence.closedModelSaturation;
  const saturated = reached.filter((s) => atSaturation(s, rps, saturation));
  const counted = reached.filter((s) => !atSaturation(s, rps, saturation));
  const leftOut = saturated.length
    ? `closed-model ${saturated.length === 1 ? 'run' : 'runs'} at saturation left out: ${saturated
        .map((s) => `${s.scenario} at ${fmt(s.throughputRps, 1)} rps (${fmt(s.throughputRps / rps, 1)}× the expected ${fmt(rps)} rps)`)
        .join(', ')}`
    : null;
  if (counted.length === 0) {
    const worst = saturated.reduce((a, b) => (b.p95Ms > a.p95Ms ? b : a));
    const runs = saturated.map((s) => `${s.scenario} at ${fmt(s.throughputRps, 1)} rps, ${fmt(s.throughputRps / rps, 1)}×`).join('; ');
    // v5: runs loaded enough bound the p95 at the rate from above; within the budget, that bound
    // is evidence the budget is met (over it, it proves nothing).
    const bounds = model.evidence.saturatedUpperBound && saturated.every((s) => boundsRateFromAbove(s, rps, model.evidence.maxErrorRate));
    const headroom = (budgetMs - worst.p95Ms) / budgetMs;
    const upperBound = bounds
      ? { p95Ms: worst.p95Ms, scenario: worst.scenario, throughputRps: worst.throughputRps, headroom, meets: worst.p95Ms <= budgetMs }
      : undefined;
    const budget = `${fmtMs(budgetMs)} ms budget`;
    return {
      ...base,
      status: 'not-demonstrated',
      notDemonstratedBecause: 'saturation',
      p95Ms: worst.p95Ms,
      throughputRps: worst.throughputRps,
      scenario: worst.scenario,
      errorRate: worst.errorRate,
      maxMeasuredRps,
      ...(upperBound ? { upperBound } : {}),
      reason: upperBound?.meets
        ? `p95 ${fmt(worst.p95Ms, 1)} ms in ${worst.scenario} at ${fmt(worst.throughputRps, 1)} rps (closed model at saturation, ${fmt(worst.throughputRps / rps, 1)}× the expected ${fmt(rps)} rps) is within the ${budget} (${fmt(headroom * 100)}% headroom): an upper bound on the p95 at the expected rate`
        : `only closed-model runs far above the expected ${fmt(rps)} rps reached it (${runs}): latency at saturation ${upperBound ? `(p95 ${fmt(worst.p95Ms, 1)} ms, over the ${budget}) ` : ''}proves nothing either way at the expected rate`,
    };
  }
  const worst = counted.reduce((a, b) => (b.p95Ms > a.p95Ms ? b : a));
  const erroring = counted.find((s) => s.errorRate > model.evidence.maxErrorRate);
  const headroom = (budgetMs - worst.p95Ms) / budgetMs;
  const closed = saturation === undefined ? ' (closed model: at saturation)' : ' (closed model)';
  const where = `${worst.scenario} at ${fmt(worst.throughputRps, 1)} rps${worst.loadModel === 'closed' ? closed : ''}`;
  const aside = leftOut ? `; ${leftOut}` : '';
  if (erroring) {
    return {
      ...base,
      status: 'fails',
      failedBecause: 'errors',
      p95Ms: worst.p95Ms,
      throughputRps: worst.throughputRps,
      scenario: worst.scenario,
      errorRate: erroring.errorRate,
      headroom,
      maxMeasuredRps,
      reason: `${fmt(erroring.errorRate * 100, 2)}% errors in ${erroring.scenario} (allowed ${fmt(model.evidence.maxErrorRate * 100, 2)}%)${aside}`,
    };
  }
  const meets = worst.p95Ms <= budgetMs;
  return {
    ...base,
    status: meets ? 'meets' : 'fails',
    ...(meets ? {} : { failedBecause: 'budget' as const }),
    p95Ms: worst.p95Ms,
    throughputRps: worst.throughputRps,
    scenario: worst.scenario,
    errorRate: worst.errorRate,
    headroom,
    maxMeasuredRps,
    reason: meets
      ? `p95 ${fmt(worst.p95Ms, 1)} ms in ${where} is within the ${fmtMs(budgetMs)} ms budget (${fmt(headroom * 100)}% headroom)${aside}`
      : `p95 ${fmt(worst.p95Ms, 1)} ms in ${where} exceeds the ${fmtMs(budgetMs)} ms budget by ${fmt(-headroom * 100)}%${aside}`,
  };
}

/**
 * Estimates CPU and memory cost per 1,000 orders at the expected request rate. Assumptions (all
 * stated in the result): CPU scales with orders as measured; memory stays at the measured peak
 * for as long as it takes to receive 1,000 orders at the expected rate with the measured mix.
 * @example assessCost(topologyEvidence, 50, { vcpuHourEur: 0.0405, gbHourEur: 0.0045 })
 */
export function assessCost(t: TopologyEvidence | undefined, expectedRps: number | null, prices: Prices): { cost: CostAssessment | null; reason: string } {
  if (!t) return { cost: null, reason: 'not measured' };
  if (expectedRps === null) return { cost: null, reason: 'the expected request rate is unknown' };
  if (t.cpuSecondsPer1kOrders === null || t.peakRssBytes === null || !t.ordersPlaced) {
    return { cost: null, reason: 'no server-side CPU/memory figures or no orders placed in the run' };
  }
  const requests = t.scenarios.filter((s) => s.source === 'comparison').reduce((sum, s) => sum + s.requests, 0);
  if (requests <= 0) return { cost: null, reason: 'no requests recorded alongside the server-side figures' };
  const orderShare = Math.min(1, t.ordersPlaced / requests);
  const ordersPerSecond = expectedRps * orderShare;
  const hoursPer1k = 1000 / ordersPerSecond / 3600;
  const peakMemoryGb = t.peakRssBytes / 2 ** 30;
  const cpu = (t.cpuSecondsPer1kOrders / 3600) * prices.vcpuHourEur;
  const memory = peakMemoryGb * hoursPer1k * prices.gbHourEur;
  return {
    cost: {
      cpuEurPer1kOrders: cpu,
      memoryEurPer1kOrders: memory,
      totalEurPer1kOrders: cpu + memory,
      orderShare,
      peakMemoryGb,
      assumptions: [
        `€${prices.vcpuHourEur} per vCPU-hour and €${prices.gbHourEur} per GB-hour (1 GB = 2^30 bytes)`,
        `CPU: ${fmt(t.cpuSecondsPer1kOrders, 2)} CPU seconds per 1,000 orders as measured`,
        `memory: the measured peak of ${fmt(peakMemoryGb, 2)} GB held for the ${fmt(hoursPer1k * 60, 1)} minutes 1,000 orders take at ${fmt(expectedRps)} rps with ${fmt(orderShare * 100, 1)}% of requests placing an order (the measured mix)`,
      ],
    },
    reason: 'estimated from measured CPU and peak memory',
  };
}

/**
 * Judges every measured topology against the answers: latency at the expected and peak rates,
 * cost per 1,000 orders, process count and consistency under faults.
 * @example assessTopologies(evidence, answers, MODEL_V1, prices)
 */
export function assessTopologies(evidence: Evidence, answers: Answers, model: Model, prices: Prices, scenarioFilter?: readonly string[]): TopologyAssessment[] {
  const expected = knownNumber(answers, 'load.expectedRps');
  const peak = knownNumber(answers, 'load.peakRps');
  const budget = knownNumber(answers, 'load.p95BudgetMs');
  return evidence.topologies.map((t) => {
    const { cost, reason } = assessCost(t, expected, prices);
    const monthly = assessMonthlyCost(t, answers, model, prices);
    return {
      topology: t.topology,
      latency: assessLatency(t, budget, expected, model, scenarioFilter),
      latencyAtPeak: assessLatency(t, budget, peak, model, scenarioFilter),
      cost,
      costReason: reason,
      monthly: monthly.cost,
      monthlyReason: monthly.reason,
      processCount: t.processCount,
      billedPerUse: billedPerUse(t, model),
      consistency: judgeConsistency(t),
      faults: judgeFaults(t, model),
    };
  });
}

/** Billed per use (scale to zero): the model's `payPerUse` list, or measured as billing nothing at rest. */
function billedPerUse(t: TopologyEvidence, model: Model): boolean {
  return Boolean(model.cost.monthly?.payPerUse.includes(t.topology)) || t.billedAtRest === false;
}

/** The load profile the monthly estimate is made at; null (with why) when an answer it needs is unknown. */
function loadProfile(
  answers: Answers,
  model: Model,
): { profile: { expectedRps: number; peakRps: number; busyHours: number; offHoursShare: number } | null; reason: string } {
  const m = model.cost.monthly;
  if (!m) return { profile: null, reason: 'this model estimates cost per 1,000 orders' };
  const expectedRps = knownNumber(answers, 'load.expectedRps');
  const peakRps = knownNumber(answers, 'load.peakRps');
  const burstiness = getAnswer(answers, 'load.burstiness');
  const busy = knownNumber(answers, 'load.busyHoursPerDay');
  const unknown = [
    expectedRps === null && 'load.expectedRps',
    peakRps === null && 'load.peakRps',
    typeof burstiness !== 'string' || !(burstiness in m.offHoursShareByBurstiness) ? 'load.burstiness' : false,
  ].filter(Boolean);
  if (unknown.length || expectedRps === null || peakRps === null)
    return { profile: null, reason: `${unknown.join(' and ')} unknown, so the monthly cost cannot be estimated` };
  const b = String(burstiness);
  return {
    profile: { expectedRps, peakRps, busyHours: busy ?? m.busyHoursByBurstiness[b] ?? 8, offHoursShare: m.offHoursShareByBurstiness[b] ?? 0 },
    reason: '',
  };
}

/**
 * Monthly cost at the answers' load profile, priced by the same model and price list as
 * `pnpm compare` (@archbench/contracts/cost): provisioned topologies pay for the vCPUs and memory
 * the peak needs, all month; pay-per-use topologies (the model's `payPerUse` list, or a topology
 * measured as billing nothing at rest) pay per request, CPU-ms, queue operation and row written.
 * The busy-hour rate is the expected rate, the rest of the day runs at the burstiness' off-hours
 * share of it, and the order share is the one the comparison's own profiles use.
 * @example assessMonthlyCost(topologyEvidence, answers, MODEL_V2, prices).cost?.monthlyUsd
 */
export function assessMonthlyCost(t: TopologyEvidence, answers: Answers, model: Model, prices: Prices): { cost: MonthlyCost | null; reason: string } {
  const m = model.cost.monthly;
  if (!m) return { cost: null, reason: 'this model estimates cost per 1,000 orders' };
  const { profile, reason } = loadProfile(answers, model);
  if (!profile) return { cost: null, reason };
  const requests = t.scenarios.filter((s) => s.source === 'comparison').reduce((sum, s) => sum + s.requests, 0);
  const cpuSeconds = t.cpuSeconds ?? (t.cpuSecondsPer1kOrders !== null && t.ordersPlaced ? (t.cpuSecondsPer1kOrders * t.ordersPlaced) / 1000 : null);
  const cpuMs = t.cpuMsPerRequest ?? (cpuSeconds !== null && requests > 0 ? (cpuSeconds * 1000) / requests : null);
  if (cpuMs === null || t.peakRssBytes === null) return { cost: null, reason: 'no server-side CPU per request and memory figures' };
  const f = t.costFigures ?? null;
  const billing = billedPerUse(t, model) ? 'per-request' : 'provisioned';
  const orderShare = DEFAULT_LOAD_PROFILES[0]?.orderShare ?? 0.2;
  const priced = {
    name: 'answers',
    busyRps: profile.expectedRps,
    peakRps: Math.max(profile.peakRps, profile.expectedRps),
    hoursPerDay: Math.min(24, profile.busyHours),
    quietRps: profile.expectedRps * profile.offHoursShare,
    orderShare,
  };
  const estimate = estimateCost(
    {
      topology: t.topology,
      billing,
      processCount: t.processCount,
      // Without the split by request kind, every request costs the measured mean.
      cpuMsPerRead: f?.cpuMsPerRead ?? cpuMs,
      cpuMsPerOrder: f?.cpuMsPerOrder ?? cpuMs,
      wallMs: f?.wallMs ?? null,
      wallMsPerRead: f?.wallMsPerRead ?? null,
      wallMsPerOrder: f?.wallMsPerOrder ?? null,
      peakRssBytes: t.peakRssBytes,
      idleRssBytes: t.idleRssBytes ?? null,
      requestsPerOrder: f?.requestsPerOrder ?? null,
      queueMessagesPerOrder: f?.queueMessagesPerOrder ?? null,
      rowsWrittenPerOrder: f?.rowsWrittenPerOrder ?? null,
    },
    priced,
    { prices: priceList(prices), targetUtilization: m.targetUtilisation },
  );
  if (estimate.monthlyUsd === null) return { cost: null, reason: estimate.notes[0] ?? 'not estimated' };
  const requestsPerMonth = monthlyRequests(priced);
  const rate = `${fmt(profile.expectedRps, 1)} rps for ${fmt(priced.hoursPerDay, 1)} h a day${profile.offHoursShare > 0 && priced.hoursPerDay < 24 ? ` and ${fmt(profile.offHoursShare * 100)}% of it the rest of the day` : priced.hoursPerDay < 24 ? ', idle the rest of the day' : ''}, peak ${fmt(priced.peakRps)} rps, ${fmt(orderShare * 100)}% of requests orders`;
  return {
    cost: {
      billing: billing === 'per-request' ? 'pay-per-use' : 'always-on',
      currency: 'USD',
      monthlyUsd: estimate.monthlyUsd,
      idleMonthlyUsd: estimate.idleMonthlyUsd,
      lines: estimate.lines.map((l) => ({ ...l })),
      profile: { busyRps: priced.busyRps, peakRps: priced.peakRps, hoursPerDay: priced.hoursPerDay, quietRps: priced.quietRps, orderShare },
      requestsPerMonth,
      vcpu: estimate.provisioned?.vcpus ?? null,
      assumptions: [
        `${fmt(requestsPerMonth / 1e6, 2)} million requests a month (${rate})`,
        ...estimate.lines.filter((l) => l.usd > 0).map((l) => `${l.item}: ${usd(l.usd)}`),
        ...estimate.notes,
      ],
    },
    reason: 'estimated with the shared cost model from measured CPU and memory',
  };
}

/**
 * US dollars as the comparison's summary.md prints them (two decimals).
 * @example usd(9.012) // '$9.01'
 */
export function usd(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return `$${fixed(value, 2)}`;
}

/**
 * The price assumptions as `id = value unit (source, date)` lines, for the ADR and the report.
 * @example priceAssumptionLines(DEFAULT_PRICES)[0]
 */
export function priceAssumptionLines(list: readonly PriceItem[]): string[] {
  return list.map(
    (p) => `${p.id} = ${p.value} ${p.unit}${p.overriddenBy ? ` (set by ${p.overriddenBy}; default from ${p.source}, ${p.date})` : ` (${p.source}, ${p.date})`}`,
  );
}

/**
 * Whether a figure of a fault run counts under the model: a local emulator's browse availability
 * and recovery time do not under model v3 (its lost or stuck orders, charges and drift always do).
 * @example faultFigureCounts(localServerlessCrash, 'recoverySeconds', MODEL_V3) // false
 */
export function faultFigureCounts(f: FaultEvidence, metric: string, model: Model): boolean {
  if (!f.emulated) return true;
  if (metric === 'browseAvailability') return emulatorCounts(model, 'failure-isolation');
  if (metric === 'recoverySeconds') return emulatorCounts(model, 'recovery');
  return true;
}

function judgeFaults(t: TopologyEvidence, model: Model): FaultAssessment | null {
  const faults = t.faults ?? [];
  if (faults.length === 0) return null;
  let worstAvailability: FaultAssessment['worstAvailability'] = null;
  let slowestRecovery: FaultAssessment['slowestRecovery'] = null;
  const emulatedFaults: string[] = [];
  const availabilityCounts = (f: FaultEvidence) => faultFigureCounts(f, 'browseAvailability', model);
  const recoveryCounts = (f: FaultEvidence) => faultFigureCounts(f, 'recoverySeconds', model);
  for (const f of faults) {
    if (!availabilityCounts(f) || !recoveryCounts(f)) emulatedFaults.push(f.fault);
    if (availabilityCounts(f) && f.browseAvailability !== null && (!worstAvailability || f.browseAvailability < worstAvailability.value))
      worstAvailability = { value: f.browseAvailability, fault: f.fault };
    const seconds = f.recoverySeconds ?? Infinity; // never recovered is the slowest recovery there is
    if (recoveryCounts(f) && (!slowestRecovery || seconds > slowestRecovery.value))
      slowestRecovery = { value: seconds, fault: f.fault, recovered: Number.isFinite(seconds) };
  }
  return { worstAvailability, slowestRecovery, broken: brokenFaults(faults), ...(emulatedFaults.length ? { emulatedFaults } : {}) };
}

/** Faults that lost or stuck orders, charged twice or drifted stock, as `fault: what` lines. */
function brokenFaults(faults: readonly FaultEvidence[]): string[] {
  const broken: string[] = [];
  for (const f of faults) {
    const bad = [
      f.ordersLost ? `${f.ordersLost} orders lost` : null,
      f.ordersStuck ? `${f.ordersStuck} orders stuck` : null,
      f.duplicateCharges ? `${f.duplicateCharges} duplicate charges` : null,
      f.stockDrift ? `stock drift ${f.stockDrift}` : null,
    ].filter((x): x is string => x !== null);
    if (bad.length) broken.push(`${f.fault}: ${bad.join(', ')}`);
  }
  return broken;
}

function judgeConsistency(t: TopologyEvidence): TopologyAssessment['consistency'] {
  const c = t.consistency;
  const faultBroken = brokenFaults(t.faults ?? []);
  if (faultBroken.length) return { verdict: 'broken', detail: `under faults: ${faultBroken.join('; ')}` };
  if (!c || (c.compensations === null && c.stuckOrders === null && c.duplicateCharges === null)) {
    return (t.faults ?? []).length
      ? {
          verdict: 'clean',
          detail: `no lost or stuck orders, duplicate charges or stock drift in ${t.faults!.length} fault experiment${t.faults!.length === 1 ? '' : 's'}`,
        }
      : null;
  }
  const parts = [
    c.stuckOrders !== null ? `${c.stuckOrders} stuck orders` : null,
    c.duplicateCharges !== null ? `${c.duplicateCharges} duplicate charges` : null,
    c.compensations !== null ? `${c.compensations} compensations` : null,
  ].filter(Boolean);
  const detail = parts.join(', ');
  if ((c.stuckOrders ?? 0) > 0 || (c.duplicateCharges ?? 0) > 0) return { verdict: 'broken', detail };
  if ((c.compensations ?? 0) > 0) return { verdict: 'compensated', detail };
  return { verdict: 'clean', detail };
}

/**
 * The fit of the first band a value falls in (`max` inclusive upper bound, `min` inclusive lower).
 * @example bandFit([{ max: 1, fit: 5 }, { fit: 1 }], 3) // 1
 */
export function bandFit(bands: readonly ModelBand[], value: number): number {
  for (const band of bands) {
    if (band.max !== undefined && value > band.max) continue;
    if (band.min !== undefined && value < band.min) continue;
    return band.fit;
  }
  return bands[bands.length - 1]?.fit ?? 0;
}
