import { availableParallelism, cpus, totalmem } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Comparison, MachineInfo, TopologyName, TopologyResult } from '@archbench/contracts/comparison';
import { COMPARISON_SCHEMA_VERSION, TopologyName as TopologyNameSchema } from '@archbench/contracts/comparison';
import { mintToken } from '@archbench/contracts/tokens';
import type { RunProgress, SegmentResult } from '../engine/run-scenario';
import { sumMetric } from '../metrics/prom-text';
import type { PromSample } from '../metrics/prom-text';
import { LOAD_CUSTOMERS, customerId } from '../scenarios/requests.ts';
import { MIXED_MIX, loadDurationSeconds } from '../scenarios/definitions.ts';
import type { Profile, ScenarioDefinition } from '../scenarios/types.ts';
import { mergeSegments } from './merge';
import { startTopology, topologyUnavailable } from './topologies';
import type { RunningTopology, TopologyEnv } from './topologies';

/** What the runner needs from a load engine; the embedded engine and K6Engine both fit. */
export interface LoadEngine {
  run(baseUrl: string, scenario: ScenarioDefinition, tokens: string[], onProgress?: (p: RunProgress) => void): Promise<SegmentResult>;
  close(): Promise<void>;
}

/** Where the runner reports what it is doing (the CLI draws it on the terminal). */
export interface Reporter {
  info(message: string): void;
  progress(state: { round: number; rounds: number; scenario: string; topology: TopologyName; elapsedSeconds: number; durationSeconds: number; requests: number; rps: number }): void;
  segmentDone(state: { round: number; scenario: string; topology: TopologyName; result: SegmentResult }): void;
}

export interface RunComparisonOptions {
  profile: Profile;
  engineName: 'k6' | 'embedded';
  engine: LoadEngine;
  /** Asked for explicitly; undefined = every topology that can run here. */
  topologies: TopologyName[] | undefined;
  env: TopologyEnv;
  reporter: Reporter;
  /** Folder for server logs (default: a new temporary folder). */
  logDir?: string;
  /** Interval of RSS sampling during runs, ms. */
  sampleIntervalMs?: number;
}

/** A run that could not produce a result (nothing could start, a server died mid-run). */
export class CompareRunError extends Error {
  override readonly name = 'CompareRunError';
}

interface Tally {
  segments: Map<string, SegmentResult[]>;
  cpuSeconds: number;
  ordersPlaced: number;
  /** CPU and orders of order-only scenarios (checkout), for CPU per 1,000 orders. */
  orderCpuSeconds: number;
  orderOnlyOrders: number;
  publicRequests: number;
  internalCalls: number | undefined;
  peakRssBytes: number;
  idleRssBytes: number;
  processCount: number;
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    cores: availableParallelism(),
    memoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
    cpuModel: list[0]?.model.trim() || undefined,
  };
}

function internalCalls(scrapes: (PromSample[] | undefined)[]): number | undefined {
  let total: number | undefined;
  for (const samples of scrapes) {
    const value = samples ? sumMetric(samples, 'archbench_internal_calls_total') : undefined;
    if (value !== undefined) total = (total ?? 0) + value;
  }
  return total;
}

function warmupScenario(seconds: number): ScenarioDefinition {
  return { name: 'warmup', description: 'unrecorded warm-up', mix: MIXED_MIX, load: { executor: 'constant-vus', vus: 8, durationSeconds: seconds }, thresholds: [] };
}

/**
 * Runs a paired comparison: starts every topology fresh and seeded, warms each up, then runs each
 * scenario in rounds, alternating the topology order every round (A B, B A, ...) so a drifting
 * machine hurts every topology alike; measures CPU and memory of each process tree and scrapes
 * /metrics around every run; stops everything at the end, also on failure.
 * @example const comparison = await runComparison({ profile: PROFILES.quick, engineName: 'embedded', engine, topologies: undefined, env, reporter });
 */
export async function runComparison(options: RunComparisonOptions): Promise<Comparison> {
  const { profile, reporter } = options;
  const wanted = options.topologies ?? TopologyNameSchema.options;
  const skipped: { name: TopologyName; reason: string }[] = [];
  const names: TopologyName[] = [];
  for (const name of wanted) {
    const reason = topologyUnavailable(name, options.env);
    if (reason) {
      skipped.push({ name, reason });
      reporter.info(`skipping ${name}: ${reason}`);
    } else names.push(name);
  }
  if (names.length === 0) throw new CompareRunError(`no topology can run here (${skipped.map((s) => `${s.name}: ${s.reason}`).join('; ')})`);

  const tokens = Array.from({ length: LOAD_CUSTOMERS }, (_, i) => mintToken(options.env.authSecret, { sub: customerId(i), expiresInSeconds: 6 * 3600 }));
  const logDir = options.logDir ?? mkdtempSync(join(tmpdir(), 'archbench-logs-'));
  const startedAt = new Date().toISOString();
  const running: RunningTopology[] = [];
  const tallies = new Map<TopologyName, Tally>();

  try {
    // Start (and warm up) all topologies at once: that is not measured, and it keeps the quick
    // profile inside its time budget when the microservices take long to boot.
    const t0 = Date.now();
    const starts = await Promise.allSettled(names.map((name) => startTopology(name, { env: options.env, logDir })));
    for (const start of starts) if (start.status === 'fulfilled') running.push(start.value);
    const failedStart = starts.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failedStart) throw failedStart.reason;
    for (const topology of running) {
      const idle = await topology.snapshot();
      tallies.set(topology.name, {
        segments: new Map(),
        cpuSeconds: 0,
        ordersPlaced: 0,
        orderCpuSeconds: 0,
        orderOnlyOrders: 0,
        publicRequests: 0,
        internalCalls: undefined,
        peakRssBytes: idle.rssBytes,
        idleRssBytes: idle.rssBytes,
        processCount: idle.pids.length,
      });
      reporter.info(`started ${topology.name} at ${topology.baseUrl} (${idle.pids.length} process${idle.pids.length === 1 ? '' : 'es'}, log ${topology.logFile})`);
    }
    reporter.info(`all topologies ready after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    if (profile.warmupSeconds > 0) {
      // One at a time and at full load, as in the measured rounds: JIT and caches of every
      // process warm up on the same paths the measurement takes.
      for (const topology of running) {
        reporter.info(`warming up ${topology.name} for ${profile.warmupSeconds} s`);
        await options.engine.run(topology.baseUrl, warmupScenario(profile.warmupSeconds), tokens);
      }
    }

    for (let round = 1; round <= profile.rounds; round++) {
      const order = round % 2 === 1 ? running : [...running].reverse();
      for (const scenario of profile.scenarios) {
        for (const topology of order) {
          await runSegment(topology, scenario, round);
        }
      }
    }
  } finally {
    await Promise.all(running.map((t) => t.stop()));
  }

  async function runSegment(topology: RunningTopology, scenario: ScenarioDefinition, round: number) {
    const tally = tallies.get(topology.name)!;
    const before = await topology.snapshot();
    const metricsBefore = await topology.scrapeMetrics();
    const sampler = setInterval(() => {
      void topology.snapshot().then(
        (s) => (tally.peakRssBytes = Math.max(tally.peakRssBytes, s.rssBytes)),
        () => undefined,
      );
    }, options.sampleIntervalMs ?? 250);
    let result: SegmentResult;
    try {
      result = await options.engine.run(topology.baseUrl, scenario, tokens, (p) =>
        reporter.progress({ round, rounds: profile.rounds, scenario: scenario.name, topology: topology.name, elapsedSeconds: p.elapsedSeconds, durationSeconds: loadDurationSeconds(scenario.load), requests: p.requests, rps: p.rps }),
      );
    } finally {
      clearInterval(sampler);
    }
    if (!topology.alive) throw new CompareRunError(`${topology.name} died during ${scenario.name}; last log lines:\n${topology.logTail()}`);
    const after = await topology.snapshot();
    const metricsAfter = await topology.scrapeMetrics();
    tally.peakRssBytes = Math.max(tally.peakRssBytes, after.rssBytes);
    const cpu = Math.max(0, after.cpuSeconds - before.cpuSeconds);
    tally.cpuSeconds += cpu;
    tally.ordersPlaced += result.ordersPlaced;
    if (scenario.mix.every((m) => m.kind === 'place-order')) {
      tally.orderCpuSeconds += cpu;
      tally.orderOnlyOrders += result.ordersPlaced;
    }
    tally.publicRequests += result.requests;
    const callsBefore = internalCalls(metricsBefore);
    const callsAfter = internalCalls(metricsAfter);
    if (callsBefore !== undefined && callsAfter !== undefined) tally.internalCalls = (tally.internalCalls ?? 0) + Math.max(0, callsAfter - callsBefore);
    const list = tally.segments.get(scenario.name) ?? [];
    list.push(result);
    tally.segments.set(scenario.name, list);
    reporter.segmentDone({ round, scenario: scenario.name, topology: topology.name, result });
  }

  const finishedAt = new Date().toISOString();
  const topologies: TopologyResult[] = names.map((name) => {
    const t = tallies.get(name)!;
    const useOrderOnly = t.orderOnlyOrders > 0;
    const cpu = useOrderOnly ? t.orderCpuSeconds : t.cpuSeconds;
    const orders = useOrderOnly ? t.orderOnlyOrders : t.ordersPlaced;
    let hops: number | null = null;
    if (t.internalCalls !== undefined && t.publicRequests > 0) hops = t.internalCalls / t.publicRequests;
    else if (name === 'monolith') hops = 0; // one process: no internal calls by construction
    return {
      name,
      processCount: Math.max(1, t.processCount),
      cpuSecondsPer1kOrders: orders > 0 ? (cpu / orders) * 1000 : null,
      cpuSeconds: t.cpuSeconds,
      ordersPlaced: t.ordersPlaced,
      peakRssBytes: Math.round(t.peakRssBytes),
      idleRssBytes: Math.round(t.idleRssBytes),
      hopsPerRequest: hops,
    };
  });
  const scenarios = profile.scenarios.flatMap((scenario) => names.map((name) => mergeSegments(scenario, name, tallies.get(name)!.segments.get(scenario.name) ?? [])));

  return {
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    tool: 'archbench',
    profile: profile.name,
    engine: options.engineName,
    startedAt,
    finishedAt,
    machine: machineInfo(),
    topologies,
    scenarios,
    rounds: profile.rounds,
    skippedTopologies: skipped.length > 0 ? skipped : undefined,
    mode: 'started',
    experiments: ['load'],
    faults: [],
  };
}
