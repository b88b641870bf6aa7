import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  ColdStartFigures,
  Comparison,
  FaultName,
  FaultResult,
  LoadProfile,
  MachineInfo,
  PriceAssumption,
  TopologyResult,
} from '@archbench/contracts/comparison';
import { COMPARISON_SCHEMA_VERSION, REFERENCE_ORDER_SHARE } from '@archbench/contracts/comparison';
import { mintToken } from '@archbench/contracts/tokens';
import { costSection } from '../cost/model';
import type { RunExtras } from '../engine/embedded-engine';
import type { RunProgress, SegmentResult } from '../engine/run-scenario';
import { FaultSkipped, runFaultExperiment } from '../faults/experiment';
import type { FaultInjector, FaultPlan, FaultSubject } from '../faults/experiment';
import { RabbitControl, amqpUser, withVhost } from '../faults/rabbit';
import { sumMetric } from '../metrics/prom-text';
import type { PromSample } from '../metrics/prom-text';
import { LOAD_CUSTOMERS, customerId } from '../scenarios/requests.ts';
import { MIXED_MIX, loadDurationSeconds, loadModelOf } from '../scenarios/definitions.ts';
import type { ExperimentName, Profile, ScenarioDefinition } from '../scenarios/types.ts';
import { distribution, firstSuccess, measuredStarted, measuredTarget, metricsProblem, timedGet } from './measured';
import type { Measured } from './measured';
import { mergeSegments } from './merge';
import { quiesce } from './quiesce';
import { startTopology, topologyNames, topologyUnavailable } from './topologies';
import type { RunningTopology, TopologyEnv } from './topologies';

/** What the runner needs from a load engine; the embedded engine and K6Engine both fit. */
export interface LoadEngine {
  run(baseUrl: string, scenario: ScenarioDefinition, tokens: string[], onProgress?: (p: RunProgress) => void, extra?: RunExtras): Promise<SegmentResult>;
  close(): Promise<void>;
}

/** Where the runner reports what it is doing (the CLI draws it on the terminal). */
export interface Reporter {
  info(message: string): void;
  progress(state: {
    round: number;
    rounds: number;
    scenario: string;
    topology: string;
    elapsedSeconds: number;
    durationSeconds: number;
    /** Requests completed so far, failed ones included. */
    requests: number;
    failed: number;
    /** Successful requests per second so far. */
    rps: number;
    /** false: the engine counts only at the end (k6), so the counts above are not known yet. */
    counted?: boolean;
  }): void;
  segmentDone(state: { round: number; scenario: string; topology: string; result: SegmentResult }): void;
}

/** A deployment to measure instead of starting one (`--target NAME=URL`). */
export interface TargetSpec {
  name: string;
  url: string;
  metricsUrls: string[];
  faultCmd?: string;
  /** `--billing NAME=…`; default: that of the topology of the same name, else provisioned. */
  billing?: 'provisioned' | 'per-request';
}

export interface RunComparisonOptions {
  profile: Profile;
  engineName: 'k6' | 'embedded';
  engine: LoadEngine;
  /**
   * The engine fault experiments use (they need per-request events, which only the embedded
   * engine records); defaults to `engine`.
   */
  faultEngine?: LoadEngine;
  /** Asked for explicitly; undefined = every topology that can run here. */
  topologies: string[] | undefined;
  /** Measure these deployments; nothing is started. */
  targets?: TargetSpec[];
  /** Experiments besides the load rounds; default the profile's. */
  experiments?: ExperimentName[];
  env: TopologyEnv;
  reporter: Reporter;
  /** Folder for server logs (default: a new temporary folder). */
  logDir?: string;
  /** Interval of RSS sampling during runs, ms. */
  sampleIntervalMs?: number;
  /** Longest wait for a topology to come back to rest after a segment, s (default 30). */
  quiesceTimeoutSeconds?: number;
  /** Cost model inputs (defaults: DEFAULT_PRICES, DEFAULT_LOAD_PROFILES). */
  prices?: PriceAssumption[];
  loadProfiles?: LoadProfile[];
  /** Faults to run (default all three, each where it applies). */
  faults?: FaultName[];
  /** Bearer tokens from a --token-file instead of tokens minted with env.authSecret. */
  tokens?: { customers: string[]; admin: string | undefined };
}

/** Vhosts the runs of this process created and have not deleted yet (see dropVhostsNow). */
const liveVhosts = new Map<string, RabbitControl>();

/**
 * Deletes, synchronously, the RabbitMQ vhosts of a run that is being interrupted (Ctrl-C: the
 * run's own cleanup never gets to run); returns how many there were.
 */
export function dropVhostsNow(): number {
  const count = liveVhosts.size;
  for (const [vhost, control] of liveVhosts) control.deleteVhostNow(vhost);
  liveVhosts.clear();
  return count;
}

/** A run that could not produce a result (nothing could start, a server died mid-run). */
export class CompareRunError extends Error {
  override readonly name = 'CompareRunError';
}

/**
 * Whether a scenario's CPU and requests make the CPU per read: a read-only scenario, and a
 * closed-model one (at capacity) whenever the profile has one. A deployment sized for its peak
 * runs warm and busy; at a moderate fixed rate a read costs several times the CPU (the JIT has not
 * optimised the code, every request wakes the process, idle work is spread over few requests),
 * and the cost model would size the peak with that figure.
 * @example readsCounted(reads(8, 2), PROFILES.quick.scenarios) // true; browse(60, 2): false
 */
export function readsCounted(scenario: ScenarioDefinition, all: readonly ScenarioDefinition[]): boolean {
  return readsOnly(scenario) && (isReadsAtCapacity(scenario) || !all.some(isReadsAtCapacity));
}

/** A closed-model run that only reads (the reads scenario): the most reads a second a topology serves. */
export function isReadsAtCapacity(scenario: ScenarioDefinition): boolean {
  return readsOnly(scenario) && loadModelOf(scenario.load) === 'closed';
}

/**
 * Whether a scenario's latency makes the wall time per read: a read-only open-model run (browse,
 * at a moderate fixed rate, so without the queueing of a run at capacity) when the profile has one,
 * else the reads run.
 * @example readWallCounted(browse(60, 2), PROFILES.quick.scenarios) // true; reads(8, 2): false
 */
export function readWallCounted(scenario: ScenarioDefinition, all: readonly ScenarioDefinition[]): boolean {
  const open = (s: ScenarioDefinition) => readsOnly(s) && loadModelOf(s.load) === 'open';
  return readsOnly(scenario) && (open(scenario) || !all.some(open));
}

/** A run that sends only orders (checkout): CPU, wall time and hops per order. */
export function ordersOnly(scenario: ScenarioDefinition): boolean {
  return scenario.mix.every((x) => x.kind === 'place-order');
}

/**
 * A read's and an order's figure mixed at REFERENCE_ORDER_SHARE (80 % reads, 20 % orders), the one
 * mix every topology's "per public request" figures are given at; null without both.
 * @example atReferenceMix(0.1, 0.5) // 0.18
 */
export function atReferenceMix(perRead: number | null, perOrder: number | null): number | null {
  return perRead === null || perOrder === null ? null : (1 - REFERENCE_ORDER_SHARE) * perRead + REFERENCE_ORDER_SHARE * perOrder;
}

function readsOnly(scenario: ScenarioDefinition): boolean {
  return scenario.mix.every((x) => x.kind !== 'place-order');
}

interface Tally {
  segments: Map<string, SegmentResult[]>;
  cpuSeconds: number | null;
  ordersPlaced: number;
  /** CPU and orders of order-only scenarios (checkout), for CPU per 1,000 orders. */
  orderCpuSeconds: number;
  orderOnlyOrders: number;
  /**
   * CPU and requests of read-only scenarios: the closed-model ones (reads, at capacity) when the
   * profile has one, else the open-model ones (browse at its fixed rate); see readsCounted.
   */
  readCpuSeconds: number;
  readRequests: number;
  /** Internal calls of the runs that make the CPU per read, when the topology counts them. */
  readInternalCalls: number | undefined;
  /** Latency summed over the requests of the run that makes the wall time per read (readWallCounted) and of checkout. */
  readWallSumMs: number;
  readWallRequests: number;
  orderWallSumMs: number;
  orderWallRequests: number;
  publicRequests: number;
  internalCalls: number | undefined;
  /** Deltas of serverless counters over order-only scenarios. */
  orderInvocations: number | undefined;
  orderQueueMessages: number | undefined;
  orderInternalCalls: number | undefined;
  orderRowsWritten: number | undefined;
  latencySumMs: number;
  peakRssBytes: number | null;
  idleRssBytes: number | null;
  idleCpuCores: number | null;
  idleSeconds: number;
  processCount: number | null;
  coldStart: { startToFirst: number[]; first: number[]; afterIdle: number[]; warm: number[] };
}

function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: list[0]?.model.trim() || undefined,
    ...(process.platform === 'win32' ? {} : { loadAverage: loadavg().map((v) => Math.round(v * 100) / 100) }),
  };
}

/**
 * How much a counter grew over a run, summed over the processes, from one /metrics scrape per
 * process before and after (the same order; undefined for a process that did not answer). A
 * process that answered only one of the two makes the growth unknown (undefined): summed as it
 * came, its whole lifetime count would land in this run, or its share go missing. A process that
 * answered both without the series had not counted anything yet (0). A counter that went down
 * (the process restarted) counts from 0. Undefined when no process serves the series.
 * @example counterDelta([a0, b0], [a1, b1], 'archbench_internal_calls_total')
 */
export function counterDelta(before: readonly (PromSample[] | undefined)[], after: readonly (PromSample[] | undefined)[], name: string): number | undefined {
  if (before.length !== after.length) return undefined;
  let total: number | undefined;
  for (let i = 0; i < before.length; i++) {
    const b = before[i];
    const a = after[i];
    if (b === undefined && a === undefined) continue;
    if (b === undefined || a === undefined) return undefined;
    const was = sumMetric(b, name);
    const now = sumMetric(a, name);
    if (was === undefined && now === undefined) continue;
    const grown = (now ?? 0) - (was ?? 0);
    total = (total ?? 0) + (grown >= 0 ? grown : (now ?? 0));
  }
  return total;
}

function warmupScenario(seconds: number): ScenarioDefinition {
  return {
    name: 'warmup',
    description: 'unrecorded warm-up',
    mix: MIXED_MIX,
    load: { executor: 'constant-vus', vus: 8, durationSeconds: seconds },
    thresholds: [],
  };
}

function readLogOf(logDir: string, name: string): string {
  try {
    return readFileSync(join(logDir, `${name}.log`), 'utf8').slice(-4000);
  } catch {
    return '';
  }
}

/**
 * Why a request failed before any response, from fetch's `error.cause` (undici puts the system
 * error there): `fetch failed (ECONNREFUSED 127.0.0.1:3400)` rather than a bare `fetch failed`.
 * @example describeFetchError(error) // 'fetch failed (ENOTFOUND no-such-host.invalid)'
 */
export function describeFetchError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const cause = (error as { cause?: { code?: string; message?: string; hostname?: string; address?: string; port?: number } } | null)?.cause;
  if (!cause) return message;
  const where = cause.hostname ?? (cause.address ? `${cause.address}${cause.port ? `:${cause.port}` : ''}` : '');
  const what = cause.code ? `${cause.code}${where ? ` ${where}` : ''}` : (cause.message ?? '');
  return what ? `${message} (${what})` : message;
}

/** The fetch error code behind a failed request (`ECONNREFUSED`, `ENOTFOUND` …), if any. */
export function fetchErrorCode(error: unknown): string | undefined {
  return (error as { cause?: { code?: string } } | null)?.cause?.code;
}

/**
 * Share of a round's requests whose connection was refused or reset (no response at all, not a
 * timeout) from which a `--target` counts as having stopped answering even when it answers again
 * right after: half its requests measured the network's failure, not the deployment. Timeouts do
 * not count here: a target that is overloaded but alive is being measured.
 */
export const TARGET_TRANSPORT_FAILURE_SHARE = 0.5;

/**
 * The HTTP status of one GET, or why there was none (refused, reset, timed out): any response,
 * a load balancer's 503 or a 429 included, means the target is answering.
 */
async function probeStatus(url: string, timeoutMs: number): Promise<{ status: number } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.arrayBuffer().catch(() => undefined);
    return { status: response.status };
  } catch (error) {
    return { error: describeFetchError(error) };
  }
}

/**
 * After a round against a `--target` in which requests got no response (status 0): the target is
 * probed (GET /products/SKU-0001, three tries a second apart); the run fails, as with a started
 * topology that died, when the probe gets no HTTP response at all, or when at least half the
 * round's requests had their connection refused or reset. Any HTTP status answers the probe (said
 * when it is not 200); timeouts alone never fail the run (an overloaded target is a measurement).
 * A started topology has a supervisor compare can ask; a target only answers or not.
 */
async function checkTargetAnswered(m: Measured, scenario: string, round: number, result: SegmentResult, info: (line: string) => void): Promise<void> {
  const lost = result.statusCounts['0'] ?? 0;
  if (lost === 0) return;
  let probe: { status: number } | { error: string } = { error: 'no answer' };
  for (let attempt = 0; attempt < 3 && 'error' in probe; attempt++) {
    if (attempt > 0) await sleep(1000);
    probe = await probeStatus(`${m.baseUrl}${PROBE_PATH}`, 5000);
  }
  const cut = result.connectionFailures ?? 0;
  const share = cut / Math.max(1, result.requests);
  if ('status' in probe && share < TARGET_TRANSPORT_FAILURE_SHARE) {
    if (probe.status !== 200)
      info(
        `target ${m.name}: ${lost} of ${result.requests} requests of round ${round} ${scenario} got no response; GET ${PROBE_PATH} after it answered ${probe.status}, so it is still answering`,
      );
    return;
  }
  throw new CompareRunError(
    `target ${m.name} (${m.baseUrl}) stopped answering during round ${round} ${scenario}: ${lost} of ${result.requests} requests got no response (transport error or timeout)` +
      ('error' in probe
        ? `, and GET ${PROBE_PATH} after the round failed: ${probe.error}`
        : `, ${cut} of them (${Math.round(share * 100)} % of the round) refused or reset (GET ${PROBE_PATH} answered ${probe.status} after it)`) +
      '; nothing is written, the run is not a measurement',
  );
}

/**
 * Seconds or minutes, rounded for a person: `40 s`, `about 4 min` is said by the caller.
 * @example duration(238) // '4 min'
 */
export function duration(seconds: number): string {
  return seconds < 90 ? `${Math.max(5, Math.round(seconds / 5) * 5)} s` : `${Math.round(seconds / 60)} min`;
}

/** Wall time of one fault experiment: its load, and on average a few seconds of settling and audit (measured: 23–24 s each at quick). */
export function faultExperimentSeconds(plan: FaultPlan): number {
  return plan.durationSeconds + 2;
}

/**
 * What a run will take, from what will run: starting (none for targets), rest, warm-up, the rounds
 * of every scenario against every topology, and at most every fault against every topology (the
 * count is said again once the faults that do not apply are known). Calibrated on the 2-core
 * machine the README's timing table comes from: a segment costs about 0.6 s besides its load
 * (snapshots, waiting for rest), a parallel start about 20 s, a timed cold start about 12 s.
 * @example estimateSeconds(PROFILES.quick, { topologies: 5, started: true, experiments: new Set() }) // about 230
 */
export function estimateSeconds(profile: Profile, run: { topologies: number; started: boolean; experiments: ReadonlySet<ExperimentName> }): number {
  const n = run.topologies;
  const coldstart = run.started && run.experiments.has('coldstart');
  const start = !run.started ? 0 : coldstart ? 12 * n : 20;
  const rounds = profile.rounds * n * profile.scenarios.reduce((sum, s) => sum + loadDurationSeconds(s.load) + 0.6, 0);
  const faults = run.experiments.has('faults') ? FAULT_ORDER.length * n * faultExperimentSeconds(profile.faultPlan) : 0;
  const moreColdStarts = coldstart ? (profile.coldStartSamples - 1) * n * (12 + profile.idleSeconds / n) : 0;
  return start + profile.idleSeconds + n * (profile.warmupSeconds + 1) + rounds + faults + moreColdStarts;
}

/** One line on what will run and about how long it takes (the first thing the run says). */
function planLine(profile: Profile, names: readonly string[], started: boolean, experiments: ReadonlySet<ExperimentName>): string {
  const n = names.length;
  const what = profile.scenarios.map((s) => `${s.name} ${loadDurationSeconds(s.load)} s`).join(', ');
  const faults = experiments.has('faults')
    ? `, then up to ${FAULT_ORDER.length * n} fault experiments of about ${faultExperimentSeconds(profile.faultPlan)} s each`
    : '';
  const cold = started && experiments.has('coldstart') ? `, ${profile.coldStartSamples} timed cold start${profile.coldStartSamples === 1 ? '' : 's'} each` : '';
  const estimate = estimateSeconds(profile, { topologies: n, started, experiments });
  return `about ${duration(estimate)} for ${n} ${started ? 'topolog' : 'target'}${started ? (n === 1 ? 'y' : 'ies') : n === 1 ? '' : 's'} (${names.join(', ')}): ${profile.rounds} round${profile.rounds === 1 ? '' : 's'} of ${what}${cold}${faults}`;
}

/** The public request cold start and idle figures time (a product page: catalog only). */
const PROBE_PATH = '/products/SKU-0001';
const FAULT_ORDER: FaultName[] = ['provider-outage', 'broker-loss', 'dependency-crash'];
const FAULT_CUSTOMERS = 10;

function newTally(): Tally {
  return {
    segments: new Map(),
    cpuSeconds: 0,
    ordersPlaced: 0,
    orderCpuSeconds: 0,
    orderOnlyOrders: 0,
    readCpuSeconds: 0,
    readRequests: 0,
    readInternalCalls: undefined,
    readWallSumMs: 0,
    readWallRequests: 0,
    orderWallSumMs: 0,
    orderWallRequests: 0,
    publicRequests: 0,
    internalCalls: undefined,
    orderInvocations: undefined,
    orderQueueMessages: undefined,
    orderInternalCalls: undefined,
    orderRowsWritten: undefined,
    latencySumMs: 0,
    peakRssBytes: null,
    idleRssBytes: null,
    idleCpuCores: null,
    idleSeconds: 0,
    processCount: null,
    coldStart: { startToFirst: [], first: [], afterIdle: [], warm: [] },
  };
}

/**
 * Runs a paired comparison: starts every topology fresh and seeded (one at a time, timing the
 * cold start), measures it at rest, warms each up, then runs each scenario in rounds, alternating
 * the topology order every round (A B, B A, ...) so a drifting machine hurts every topology alike;
 * measures CPU and memory of each process tree and scrapes /metrics around every run; then runs
 * the fault experiments and further cold starts the profile asks for, prices every topology at
 * the load profiles, and stops everything at the end, also on failure. With `targets` it starts
 * nothing and measures those URLs instead.
 * @example const comparison = await runComparison({ profile: PROFILES.quick, engineName: 'embedded', engine, topologies: undefined, env, reporter });
 */
export async function runComparison(options: RunComparisonOptions): Promise<Comparison> {
  const { profile, reporter } = options;
  const experiments = new Set<ExperimentName>(options.experiments ?? profile.experiments);
  const targetMode = (options.targets?.length ?? 0) > 0;
  const skipped: { name: string; reason: string }[] = [];
  const names: string[] = [];
  if (!targetMode) {
    const wanted = options.topologies ?? topologyNames();
    for (const name of wanted) {
      const reason = topologyUnavailable(name, options.env);
      if (reason) {
        skipped.push({ name, reason });
        reporter.info(`skipping ${name}: ${reason}`);
      } else names.push(name);
    }
    if (names.length === 0) throw new CompareRunError(`no topology can run here (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`);
  }

  reporter.info(
    planLine(
      profile,
      targetMode ? options.targets!.map((t) => t.name) : names,
      !targetMode,
      new Set([...experiments].filter((e) => !(targetMode && e === 'coldstart'))),
    ),
  );
  const secret = options.env.authSecret;
  const tokens =
    options.tokens?.customers ?? Array.from({ length: LOAD_CUSTOMERS }, (_, i) => mintToken(secret, { sub: customerId(i), expiresInSeconds: 12 * 3600 }));
  const adminToken = options.tokens ? options.tokens.admin : mintToken(secret, { sub: 'archbench-compare', role: 'admin', expiresInSeconds: 12 * 3600 });
  // Created with the first topology started: a --target run starts none and leaves no empty folder behind.
  let createdLogDir = options.logDir;
  const logDir = () => (createdLogDir ??= mkdtempSync(join(tmpdir(), 'archbench-logs-')));
  const startedAt = new Date().toISOString();
  // The machine as it was when the run started (its load says how much else competed).
  const machine = machineInfo();
  const measured: Measured[] = [];
  const started = new Map<string, RunningTopology>();
  const tallies = new Map<string, Tally>();
  const faults: FaultResult[] = [];
  const skippedFaults: { topology: string; fault: FaultName; reason: string }[] = [];
  const runId = randomBytes(3).toString('hex');
  const rabbit = new RabbitControl();
  const vhosts = new Map<string, string>();
  const rabbitUsable = !targetMode && options.env.amqpUrl !== undefined && (await rabbit.available());
  if (!targetMode && options.env.amqpUrl && !rabbitUsable)
    reporter.info('rabbitmqctl is not available: topologies share the AMQP_URL vhost and broker-loss experiments are skipped');

  const readLog = (name: string) => readLogOf(logDir(), name);
  const envFor = async (name: string): Promise<TopologyEnv> => {
    if (!rabbitUsable || !options.env.amqpUrl) return options.env;
    // A fresh vhost per topology start: no queue is shared, and a broker loss hits one topology.
    const vhost = `archbench-${runId}-${name}-${vhosts.size}`;
    liveVhosts.set(vhost, rabbit);
    await rabbit.createVhost(vhost, amqpUser(options.env.amqpUrl));
    vhosts.set(name, vhost);
    return { ...options.env, amqpUrl: withVhost(options.env.amqpUrl, vhost) };
  };

  const startOne = async (name: string): Promise<Measured> => {
    const env = await envFor(name);
    let topology: RunningTopology;
    try {
      topology = await startTopology(name, { env, logDir: logDir() });
    } catch (error) {
      // Parallel starts can race for free ports (probe, then bind): one more try, alone.
      if (!/EADDRINUSE|exited during startup/.test(`${(error as Error).message} ${readLog(name)}`)) throw error;
      reporter.info(`${name} did not start (${(error as Error).message.split('\n')[0]}); trying once more`);
      topology = await startTopology(name, { env, logDir: logDir() });
    }
    started.set(name, topology);
    const vhost = vhosts.get(name);
    const m = measuredStarted(topology, {
      adminToken: adminToken ?? '',
      authSecret: secret,
      rabbit: vhost ? { control: rabbit, vhost } : undefined,
      amqpConfigured: options.env.amqpUrl !== undefined,
    });
    const tally = tallies.get(name)!;
    // Cold start: the first public answer after the first process was spawned, then the first request proper.
    tally.coldStart.startToFirst.push(await firstSuccess(`${topology.baseUrl}${PROBE_PATH}`, topology.spawnedAt));
    tally.coldStart.first.push(await timedGet(`${topology.baseUrl}${PROBE_PATH}`));
    return m;
  };

  /** Idle period: CPU and memory at rest over it, then the first request after it. */
  const idlePeriod = async (list: readonly Measured[], seconds: number) => {
    const before = await Promise.all(list.map((m) => m.snapshot()));
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const elapsed = (performance.now() - t0) / 1000;
    const after = await Promise.all(list.map((m) => m.snapshot()));
    for (const [i, m] of list.entries()) {
      const tally = tallies.get(m.name)!;
      const b = before[i];
      const a = after[i];
      if (b && a && tally.idleCpuCores === null) {
        tally.idleCpuCores = Math.max(0, a.cpuSeconds - b.cpuSeconds) / elapsed;
        tally.idleRssBytes = a.rssBytes;
        tally.idleSeconds = elapsed;
        tally.processCount = a.processCount;
      }
      if (m.source !== 'started' || !experiments.has('coldstart')) continue;
      tally.coldStart.afterIdle.push(await timedGet(`${m.baseUrl}${PROBE_PATH}`));
      // The same request warm, for comparison (a few, once the first after idle has been served).
      for (let i = 0; i < 5; i++) tally.coldStart.warm.push(await timedGet(`${m.baseUrl}${PROBE_PATH}`));
    }
  };

  try {
    const t0 = Date.now();
    if (targetMode) {
      for (const target of options.targets!) {
        tallies.set(target.name, newTally());
        measured.push(measuredTarget(target.name, target.url, target.metricsUrls, target.faultCmd, target.billing));
        await timedGet(`${target.url}${PROBE_PATH}`).catch((error: unknown) => {
          throw new CompareRunError(`--target ${target.name}=${target.url} does not answer GET ${PROBE_PATH}: ${describeFetchError(error)}`);
        });
        reporter.info(
          `target ${target.name} at ${target.url} (${target.metricsUrls.length > 0 ? `metrics from ${target.metricsUrls.join(', ')}` : 'server side not measured: no --metrics-url'})`,
        );
        for (const url of target.metricsUrls) {
          const problem = await metricsProblem(url);
          if (problem)
            reporter.info(
              `warning: --metrics-url ${target.name}=${url} ${problem}: ${target.name}'s CPU and memory will be "not measured" unless it answers during the runs`,
            );
        }
      }
    } else {
      if (experiments.has('coldstart')) {
        // One at a time, so each start is timed without the others competing for the cores.
        for (const name of names) {
          tallies.set(name, newTally());
          const m = await startOne(name);
          measured.push(m);
          reporter.info(
            `started ${name} at ${m.baseUrl}: first answer ${tallies.get(name)!.coldStart.startToFirst[0]!.toFixed(0)} ms after spawn (log ${started.get(name)!.logFile})`,
          );
        }
      } else {
        // All at once (not measured): the quick profile has no time for sequential starts.
        for (const name of names) tallies.set(name, newTally());
        const starts = await Promise.allSettled(names.map((name) => startOne(name)));
        for (const start of starts) if (start.status === 'fulfilled') measured.push(start.value);
        const failed = starts.find((x): x is PromiseRejectedResult => x.status === 'rejected');
        if (failed) throw failed.reason;
        for (const m of measured) {
          tallies.get(m.name)!.coldStart = { startToFirst: [], first: [], afterIdle: [], warm: [] };
          reporter.info(`started ${m.name} at ${m.baseUrl} (log ${started.get(m.name)!.logFile})`);
        }
      }
      reporter.info(`all topologies ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }
    reporter.info(`measuring at rest for ${profile.idleSeconds} s`);
    await idlePeriod(measured, profile.idleSeconds);
    for (const m of measured) {
      const tally = tallies.get(m.name)!;
      tally.peakRssBytes = tally.idleRssBytes;
    }

    if (profile.warmupSeconds > 0) {
      // One at a time and at full load, as in the measured rounds: JIT and caches of every
      // process warm up on the same paths the measurement takes.
      for (const m of measured) {
        reporter.info(`warming up ${m.name} for ${profile.warmupSeconds} s`);
        await options.engine.run(m.baseUrl, warmupScenario(profile.warmupSeconds), tokens);
        // The warm-up's own asynchronous work must not spill into the first measured segment.
        await quiesce(() => m.snapshot(), { idleCpuCores: tallies.get(m.name)!.idleCpuCores, timeoutSeconds: options.quiesceTimeoutSeconds });
      }
    }

    for (let round = 1; round <= profile.rounds; round++) {
      const order = round % 2 === 1 ? measured : [...measured].reverse();
      for (const scenario of profile.scenarios) {
        for (const m of order) await runSegment(m, scenario, round);
      }
    }

    if (experiments.has('faults')) await runFaults();

    if (experiments.has('coldstart') && !targetMode && profile.coldStartSamples > 1) {
      for (let sample = 2; sample <= profile.coldStartSamples; sample++) {
        reporter.info(`cold start sample ${sample}/${profile.coldStartSamples}: restarting every topology`);
        const again: Measured[] = [];
        for (const [index, m] of measured.entries()) {
          await m.stop();
          await dropVhost(m.name);
          const fresh = await startOne(m.name);
          measured[index] = fresh;
          again.push(fresh);
        }
        await idlePeriod(again, profile.idleSeconds);
      }
    }
  } finally {
    await Promise.all(measured.map((m) => m.stop().catch(() => undefined)));
    await Promise.all([...vhosts.keys()].map((name) => dropVhost(name)));
  }

  async function dropVhost(name: string) {
    const vhost = vhosts.get(name);
    if (!vhost) return;
    vhosts.delete(name);
    await rabbit.deleteVhost(vhost);
    liveVhosts.delete(vhost);
  }

  async function runFaults() {
    const engine = options.faultEngine ?? options.engine;
    const plan = profile.faultPlan;
    // Every fault's applicability first (a hook's `check`, a provider switch, broker connections),
    // so a skip is said as a skip and the experiments that run are counted before the first starts.
    const planned: { m: Measured; fault: FaultName; subject: FaultSubject; injector: FaultInjector }[] = [];
    for (const fault of options.faults ?? FAULT_ORDER) {
      for (const m of measured) {
        const subject = m.faultSubject();
        let why: string | undefined;
        let injector: FaultInjector | undefined;
        if ('skip' in subject) why = subject.skip;
        else if (adminToken === undefined) why = 'the --token-file has no admin token (admin:TOKEN), so payments cannot be audited';
        else {
          try {
            const found = await subject.injector(fault);
            if ('skip' in found) why = found.skip;
            else injector = found;
          } catch (error) {
            const reason = `the experiment failed: ${(error as Error).message.split('\n')[0]}`;
            skippedFaults.push({ topology: m.name, fault, reason });
            reporter.info(`fault ${fault} on ${m.name} not recorded: ${reason}`);
            continue;
          }
        }
        if (injector && !('skip' in subject)) planned.push({ m, fault, subject, injector });
        else {
          skippedFaults.push({ topology: m.name, fault, reason: why! });
          reporter.info(`fault ${fault} on ${m.name} skipped: ${why}`);
        }
      }
    }
    const skippedCount = skippedFaults.length;
    reporter.info(
      planned.length === 0
        ? `no fault experiment to run (${skippedCount} skipped)`
        : `fault experiments: ${planned.length} to run, ${skippedCount} skipped; about ${duration(planned.length * faultExperimentSeconds(plan))}`,
    );
    for (const [index, { m, fault, subject, injector }] of planned.entries()) {
      // Fresh customers per experiment (their orders are exactly the experiment's); a token file's customers otherwise.
      const customers = options.tokens
        ? options.tokens.customers.slice(0, FAULT_CUSTOMERS)
        : Array.from({ length: FAULT_CUSTOMERS }, (_, i) => mintToken(secret, { sub: `fault-${runId}-${m.name}-${fault}-${i}`, expiresInSeconds: 12 * 3600 }));
      reporter.info(
        `fault ${index + 1}/${planned.length} ${fault} on ${m.name}: mixed load ${plan.rate}/s for ${plan.durationSeconds} s, fault at ${plan.injectAtSeconds} s`,
      );
      try {
        faults.push(
          await runFaultExperiment({
            engine,
            subject,
            fault,
            plan,
            customerTokens: customers,
            adminToken: adminToken!,
            injector,
            log: (line) => reporter.info(line),
          }),
        );
      } catch (error) {
        // One experiment that cannot finish (a topology that does not come back) must not cost the
        // whole run: it is reported, with the reason, and the next experiment starts.
        const skippedNow = error instanceof FaultSkipped;
        const reason = skippedNow ? error.message : `the experiment failed: ${(error as Error).message.split('\n')[0]}`;
        skippedFaults.push({ topology: m.name, fault, reason });
        reporter.info(
          skippedNow
            ? `fault ${fault} on ${m.name} skipped: ${reason}`
            : `fault ${fault} on ${m.name} not recorded: ${reason}; last log lines:\n${m.logTail(10)}`,
        );
        if (!skippedNow) await subject.settle().catch(() => undefined);
      }
    }
  }

  async function runSegment(m: Measured, scenario: ScenarioDefinition, round: number) {
    const tally = tallies.get(m.name)!;
    const before = await m.snapshot();
    const metricsBefore = await m.scrapeMetrics();
    /** A snapshot that also raises the peak RSS: the sampler's during the load, quiesce's after it. */
    const sampled = async () => {
      const s = await m.snapshot();
      if (s) tally.peakRssBytes = Math.max(tally.peakRssBytes ?? 0, s.rssBytes);
      return s;
    };
    const sampler = setInterval(() => {
      void sampled().catch(() => undefined);
    }, options.sampleIntervalMs ?? 250);
    let result: SegmentResult;
    try {
      result = await options.engine.run(m.baseUrl, scenario, tokens, (p) =>
        reporter.progress({
          round,
          rounds: profile.rounds,
          scenario: scenario.name,
          topology: m.name,
          elapsedSeconds: p.elapsedSeconds,
          durationSeconds: loadDurationSeconds(scenario.load),
          requests: p.requests,
          failed: p.failed,
          rps: p.rps,
          ...(p.counted === false ? { counted: false } : {}),
        }),
      );
    } finally {
      clearInterval(sampler);
    }
    if (!m.alive) throw new CompareRunError(`${m.name} died during round ${round} ${scenario.name}; last log lines:\n${m.logTail()}`);
    // Work the topology finishes after the last response (a relay, a consumer catching up) is this
    // segment's: wait for rest before the closing figures, and take the wait's idle CPU off.
    const rest = before !== null ? await quiesce(sampled, { idleCpuCores: tally.idleCpuCores, timeoutSeconds: options.quiesceTimeoutSeconds }) : undefined;
    if (rest && !rest.settled && rest.snapshot !== null) {
      reporter.info(`${m.name} was still busy ${rest.seconds.toFixed(0)} s after the ${scenario.name} load; its CPU is counted up to there`);
    } else if (rest && rest.seconds >= 0.5) {
      reporter.info(`${m.name} worked ${rest.seconds.toFixed(1)} s after the ${scenario.name} load (asynchronous work of its requests, counted to them)`);
    }
    const after = rest?.snapshot ?? (await m.snapshot());
    const metricsAfter = await m.scrapeMetrics();
    // After the closing figures: the probe's requests and its waits are not the segment's.
    if (m.source === 'target') await checkTargetAnswered(m, scenario.name, round, result, (line) => reporter.info(line));
    const orderOnly = ordersOnly(scenario);
    const readOnly = readsCounted(scenario, profile.scenarios);
    const latencySumMs = (result.latencyMs.mean ?? result.latencyMs.p50) * result.requests;
    // Reads at capacity measure the read throughput and the CPU per read only: the per-request
    // figures (CPU, wall time and hops per public request) stay those of the profile's other runs.
    const aside = isReadsAtCapacity(scenario);
    if (!aside) {
      tally.ordersPlaced += result.ordersPlaced;
      tally.publicRequests += result.requests;
      tally.latencySumMs += latencySumMs;
    }
    if (readWallCounted(scenario, profile.scenarios)) {
      tally.readWallSumMs += latencySumMs;
      tally.readWallRequests += result.requests;
    }
    if (orderOnly) {
      tally.orderWallSumMs += latencySumMs;
      tally.orderWallRequests += result.requests;
    }
    if (before && after) {
      tally.peakRssBytes = Math.max(tally.peakRssBytes ?? 0, after.rssBytes);
      const cpu = Math.max(0, after.cpuSeconds - before.cpuSeconds - (tally.idleCpuCores ?? 0) * (rest?.waitedSeconds ?? 0));
      if (tally.cpuSeconds !== null && !aside) tally.cpuSeconds += cpu;
      if (orderOnly) tally.orderCpuSeconds += cpu;
      if (readOnly) tally.readCpuSeconds += cpu;
    } else tally.cpuSeconds = null;
    if (orderOnly) tally.orderOnlyOrders += result.ordersPlaced;
    if (readOnly) tally.readRequests += result.requests;
    const calls = counterDelta(metricsBefore, metricsAfter, 'archbench_internal_calls_total');
    if (calls !== undefined && !aside) tally.internalCalls = (tally.internalCalls ?? 0) + calls;
    if (calls !== undefined && readOnly) tally.readInternalCalls = (tally.readInternalCalls ?? 0) + calls;
    if (orderOnly) {
      const add = (key: 'orderInvocations' | 'orderQueueMessages' | 'orderInternalCalls' | 'orderRowsWritten', metric: string) => {
        const d = counterDelta(metricsBefore, metricsAfter, metric);
        if (d !== undefined) tally[key] = (tally[key] ?? 0) + d;
      };
      add('orderInvocations', 'archbench_worker_invocations_total');
      add('orderQueueMessages', 'archbench_queue_messages_sent_total');
      add('orderInternalCalls', 'archbench_internal_calls_total');
      add('orderRowsWritten', 'archbench_db_rows_written_total');
    }
    const list = tally.segments.get(scenario.name) ?? [];
    list.push(result);
    tally.segments.set(scenario.name, list);
    reporter.segmentDone({ round, scenario: scenario.name, topology: m.name, result });
  }

  for (const m of measured) {
    if (m.serverSide === 'metrics-url' && tallies.get(m.name)!.cpuSeconds === null)
      reporter.info(
        `warning: a --metrics-url of ${m.name} did not answer (or served no process_cpu_seconds_total) around a run: its server side is "not measured"`,
      );
  }
  const finishedAt = new Date().toISOString();
  const topologies: TopologyResult[] = measured.map((m) => topologyResult(m, tallies.get(m.name)!));
  const scenarios = profile.scenarios.flatMap((scenario) =>
    measured.map((m) => mergeSegments(scenario, m.name, tallies.get(m.name)!.segments.get(scenario.name) ?? [])),
  );
  const billing = new Map(measured.map((m) => [m.name, m.billing]));

  return {
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    tool: 'archbench',
    profile: profile.name,
    engine: options.engineName,
    startedAt,
    finishedAt,
    machine,
    topologies,
    scenarios,
    rounds: profile.rounds,
    skippedTopologies: skipped.length > 0 ? skipped : undefined,
    mode: targetMode ? 'target' : 'started',
    // What ran: cold start never runs against targets, and faults only when one was not skipped.
    experiments: ['load', ...[...experiments].filter((e) => (e === 'coldstart' ? !targetMode : e === 'faults' ? faults.length > 0 : true)).sort()],
    faults,
    skippedFaults: skippedFaults.length > 0 ? skippedFaults : undefined,
    cost: costSection(topologies, (t) => billing.get(t.name) ?? 'provisioned', { prices: options.prices, profiles: options.loadProfiles }),
  };
}

function topologyResult(m: Measured, t: Tally): TopologyResult {
  const measuredServer = t.cpuSeconds !== null && m.serverSide !== 'not-measured';
  const useOrderOnly = t.orderOnlyOrders > 0;
  const cpu = useOrderOnly ? t.orderCpuSeconds : (t.cpuSeconds ?? 0);
  const orders = useOrderOnly ? t.orderOnlyOrders : t.ordersPlaced;
  // One process: no internal calls by construction.
  const oneProcess = measuredServer && t.processCount === 1 && m.billing === 'provisioned';
  const hopsPerRead = t.readInternalCalls !== undefined && t.readRequests > 0 ? t.readInternalCalls / t.readRequests : oneProcess ? 0 : null;
  const hopsPerOrder = t.orderInternalCalls !== undefined && t.orderOnlyOrders > 0 ? t.orderInternalCalls / t.orderOnlyOrders : oneProcess ? 0 : null;
  // At the reference mix when both kinds were measured; else over the runs as they came (a profile without reads or orders).
  let hops: number | null = atReferenceMix(hopsPerRead, hopsPerOrder);
  if (hops === null && t.internalCalls !== undefined && t.publicRequests > 0) hops = t.internalCalls / t.publicRequests;
  else if (hops === null && oneProcess) hops = 0;

  let requestsPerOrder: number | null = null;
  if (t.orderOnlyOrders > 0) {
    if (t.orderInvocations !== undefined) requestsPerOrder = t.orderInvocations / t.orderOnlyOrders;
    else if (t.orderInternalCalls !== undefined) requestsPerOrder = 1 + t.orderInternalCalls / t.orderOnlyOrders;
    else if (hops === 0) requestsPerOrder = 1;
  }
  const queueMessagesPerOrder = t.orderQueueMessages !== undefined && t.orderOnlyOrders > 0 ? t.orderQueueMessages / t.orderOnlyOrders : null;
  const cs = t.coldStart;
  const coldStart: ColdStartFigures | null =
    cs.startToFirst.length > 0 && cs.afterIdle.length > 0
      ? {
          startToFirstResponse: distribution(cs.startToFirst),
          firstRequest: distribution(cs.first),
          afterIdle: { ...distribution(cs.afterIdle), idleSeconds: Math.round(t.idleSeconds * 10) / 10 },
          warmMs: distribution(cs.warm).p50Ms,
        }
      : null;
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const r3OrNull = (v: number | null) => (v === null ? null : r3(v));
  const cpuMsPerRead = measuredServer && t.readRequests > 0 ? (t.readCpuSeconds * 1000) / t.readRequests : null;
  const cpuMsPerOrder = measuredServer && t.orderOnlyOrders > 0 ? (t.orderCpuSeconds * 1000) / t.orderOnlyOrders : null;
  const cpuMsAsCame = measuredServer && t.publicRequests > 0 ? ((t.cpuSeconds ?? 0) * 1000) / t.publicRequests : 0;
  const wallMsPerRead = t.readWallRequests > 0 ? t.readWallSumMs / t.readWallRequests : null;
  const wallMsPerOrder = t.orderWallRequests > 0 ? t.orderWallSumMs / t.orderWallRequests : null;
  const wallMsAsCame = t.publicRequests > 0 ? t.latencySumMs / t.publicRequests : 0;
  return {
    name: m.name,
    processCount: measuredServer ? Math.max(1, t.processCount ?? 1) : null,
    cpuSecondsPer1kOrders: measuredServer && orders > 0 ? (cpu / orders) * 1000 : null,
    cpuSeconds: measuredServer ? t.cpuSeconds : null,
    ordersPlaced: t.ordersPlaced,
    peakRssBytes: measuredServer && t.peakRssBytes !== null ? Math.round(t.peakRssBytes) : null,
    idleRssBytes: measuredServer && t.idleRssBytes !== null ? Math.round(t.idleRssBytes) : null,
    hopsPerRequest: hops,
    source: m.source,
    ...(m.source === 'target' ? { baseUrl: m.baseUrl } : {}),
    serverSide: m.serverSide,
    idle:
      measuredServer && t.idleCpuCores !== null && t.idleRssBytes !== null
        ? {
            cpuCores: r3(t.idleCpuCores),
            rssBytes: Math.round(t.idleRssBytes),
            measuredSeconds: Math.round(t.idleSeconds * 10) / 10,
            billedAtRest: m.billedAtRest,
          }
        : null,
    perRequest: {
      cpuMs: r3(atReferenceMix(cpuMsPerRead, cpuMsPerOrder) ?? cpuMsAsCame),
      cpuMsPerRead: r3OrNull(cpuMsPerRead),
      cpuMsPerOrder: r3OrNull(cpuMsPerOrder),
      wallMs: r3(atReferenceMix(wallMsPerRead, wallMsPerOrder) ?? wallMsAsCame),
      wallMsPerRead: r3OrNull(wallMsPerRead),
      wallMsPerOrder: r3OrNull(wallMsPerOrder),
      hopsPerRead: r3OrNull(hopsPerRead),
      hopsPerOrder: r3OrNull(hopsPerOrder),
      requestsPerOrder: requestsPerOrder === null ? null : r3(requestsPerOrder),
      queueMessagesPerOrder: queueMessagesPerOrder === null ? null : r3(queueMessagesPerOrder),
      rssBytesPerProcess: measuredServer && t.peakRssBytes !== null && t.processCount ? Math.round(t.peakRssBytes / t.processCount) : null,
      ...(t.orderRowsWritten !== undefined && t.orderOnlyOrders > 0 ? { rowsWrittenPerOrder: r3(t.orderRowsWritten / t.orderOnlyOrders) } : {}),
    },
    coldStart,
  };
}
