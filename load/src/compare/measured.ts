import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { MsDistribution } from '@archbench/contracts/comparison';
import { listTopologies } from '@archbench/topologies';
import type { TopologyDefinition } from '@archbench/topologies';
import type { FaultSubject } from '../faults/experiment';
import { hookSubject, startedSubject } from '../faults/injectors';
import type { RabbitControl } from '../faults/rabbit';
import { parsePromText, sumMetric } from '../metrics/prom-text';
import type { PromSample } from '../metrics/prom-text';
import type { RunningTopology } from './topologies';

/** CPU and memory of a topology at one moment; null fields are not measured. */
export interface ServerSnapshot {
  processCount: number;
  cpuSeconds: number;
  rssBytes: number;
}

/**
 * What the runner measures, whether compare started it or it already runs elsewhere (`--target`).
 * Server-side figures come from /proc of the process tree (started) or the `--metrics-url`
 * endpoints (targets); without either they are null ("not measured").
 */
export interface Measured {
  name: string;
  baseUrl: string;
  source: 'started' | 'target';
  serverSide: 'proc' | 'metrics-url' | 'not-measured';
  /** Pay per request (serverless) or for provisioned capacity. */
  billing: 'provisioned' | 'per-request';
  /** Compute paid at rest (false for scale-to-zero platforms). */
  billedAtRest: boolean;
  snapshot(): Promise<ServerSnapshot | null>;
  /** One /metrics scrape per process, in the same order every time; undefined where a process did not answer. */
  scrapeMetrics(): Promise<(PromSample[] | undefined)[]>;
  /** False once a started topology died for good. */
  readonly alive: boolean;
  logTail(lines?: number): string;
  faultSubject(): FaultSubject | { skip: string };
  stop(): Promise<void>;
}

/** How a topology is paid for: `provisioned` capacity or `per-request` (a serverless platform). */
export type Billing = TopologyDefinition['billing'];

/**
 * The billing of a `--target` nobody declared one for: that of the topology definition of the same
 * name (or family), so `--target serverless=…` is priced per request; provisioned for any other name.
 */
function targetBilling(name: string, declared: Billing | undefined): Billing {
  return declared ?? listTopologies().find((d) => d.name === name || d.family === name)?.billing ?? 'provisioned';
}

export interface StartedOptions {
  adminToken: string;
  authSecret: string;
  rabbit?: { control: RabbitControl; vhost: string };
  amqpConfigured?: boolean;
}

/** A topology compare started through @archbench/topologies. */
export function measuredStarted(topology: RunningTopology, options: StartedOptions): Measured {
  const billing = topology.supervised.definition.billing;
  return {
    name: topology.name,
    baseUrl: topology.baseUrl,
    source: 'started',
    serverSide: 'proc',
    billing,
    billedAtRest: billing === 'provisioned',
    snapshot: async () => {
      const s = await topology.snapshot();
      return { processCount: s.pids.length, cpuSeconds: s.cpuSeconds, rssBytes: s.rssBytes };
    },
    scrapeMetrics: () => topology.scrapeMetrics(),
    get alive() {
      return topology.alive;
    },
    logTail: (lines) => topology.logTail(lines),
    faultSubject: () => startedSubject(topology.supervised, options),
    stop: () => topology.stop(),
  };
}

/**
 * One /metrics scrape, tried three times: a single slow answer on a busy host would otherwise
 * void the CPU and memory figures of the whole run (one missing snapshot makes them "not measured").
 */
async function scrape(url: string): Promise<PromSample[] | undefined> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(5000) });
      if (response.ok) return parsePromText(await response.text());
      await response.body?.cancel();
    } catch {
      // retried below
    }
  }
  return undefined;
}

/**
 * Why a `--metrics-url` gives no CPU figures, or undefined when it does: it does not answer, not
 * with 200, or without `process_cpu_seconds_total`.
 * @example await metricsProblem('http://10.0.0.5:9100/metrics') // 'does not answer (fetch failed: ECONNREFUSED)'
 */
export async function metricsProblem(url: string, timeoutMs = 5000): Promise<string | undefined> {
  let text: string;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
    if (!response.ok) return `answers ${response.status}`;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    return `does not answer (${(error as Error).message}${cause ? `: ${cause.code ?? cause.message}` : ''})`;
  }
  return sumMetric(parsePromText(text), 'process_cpu_seconds_total') === undefined ? 'serves no process_cpu_seconds_total' : undefined;
}

/**
 * A deployment that already runs: load goes to `baseUrl`; CPU and memory come from the
 * Prometheus text at `metricsUrls` (process_cpu_seconds_total, process_resident_memory_bytes,
 * summed over the URLs, one per process) or are not measured; faults only through a hook.
 */
export function measuredTarget(
  name: string,
  baseUrl: string,
  metricsUrls: readonly string[],
  faultCmd: string | undefined,
  declaredBilling?: Billing,
): Measured {
  const measured = metricsUrls.length > 0;
  const billing = targetBilling(name, declaredBilling);
  return {
    name,
    baseUrl,
    source: 'target',
    serverSide: measured ? 'metrics-url' : 'not-measured',
    billing,
    billedAtRest: billing === 'provisioned',
    snapshot: async () => {
      if (!measured) return null;
      // Every process or none: a sum over the URLs that happened to answer is not the
      // deployment's total, and a CPU delta between two such sums would be off by a whole process.
      const answers = await Promise.all(metricsUrls.map(scrape));
      const scrapes = answers.filter((s): s is PromSample[] => s !== undefined);
      if (scrapes.length < answers.length) return null;
      const cpu = scrapes.map((s) => sumMetric(s, 'process_cpu_seconds_total'));
      const rss = scrapes.map((s) => sumMetric(s, 'process_resident_memory_bytes'));
      if (cpu.some((v) => v === undefined)) return null;
      return {
        processCount: scrapes.length,
        cpuSeconds: cpu.reduce<number>((a, v) => a + (v ?? 0), 0),
        rssBytes: rss.reduce<number>((a, v) => a + (v ?? 0), 0),
      };
    },
    scrapeMetrics: () => Promise.all(metricsUrls.map(scrape)),
    // Nothing supervises a target here: after a round in which requests got no response, the
    // runner probes it and fails the run when it stopped answering (checkTargetAnswered).
    alive: true,
    logTail: () => '(a --target: its logs are wherever it runs)',
    faultSubject: () =>
      faultCmd
        ? hookSubject(name, baseUrl, faultCmd)
        : { skip: 'a --target without --fault-cmd: faults are not injected into deployments compare does not own' },
    stop: async () => undefined,
  };
}

/** Time of one GET, ms; throws when it does not answer 200. */
export async function timedGet(url: string, timeoutMs = 30_000): Promise<number> {
  const t0 = performance.now();
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  await response.arrayBuffer();
  const ms = performance.now() - t0;
  if (response.status !== 200) throw new Error(`GET ${url}: ${response.status}`);
  return ms;
}

/** Polls a URL until it answers 200 (for the first response after a start), ms since `since`. */
export async function firstSuccess(url: string, since: number, timeoutMs = 120_000): Promise<number> {
  const deadline = since + timeoutMs;
  for (;;) {
    try {
      await timedGet(url, 5000);
      return performance.now() - since;
    } catch (error) {
      if (performance.now() > deadline) throw error;
      await sleep(50);
    }
  }
}

/** Median and maximum of a few samples. */
export function distribution(values: readonly number[]): MsDistribution {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const p50 = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const r = (v: number) => Math.round(v * 100) / 100;
  return { samples: sorted.length, p50Ms: r(p50), maxMs: r(sorted[sorted.length - 1]!), valuesMs: values.map(r) };
}
