import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FaultName, FaultResult } from '@archbench/contracts/comparison';
import type { RunExtras } from '../engine/embedded-engine';
import type { RunProgress, SegmentResult } from '../engine/run-scenario';
import { mixed } from '../scenarios/definitions.ts';
import type { ScenarioDefinition } from '../scenarios/types.ts';
import { analyzeTimeline } from './analyze';
import { auditState, listOrders, readStock, waitUntilQuiet } from './audit';
import type { StateAudit } from './audit';

/** How one fault is done to one topology, and the proof that it happened. */
export interface FaultInjector {
  /** What is done, in a few words (goes to the result). */
  method: string;
  /** true: the fault lasts until lift() (provider outage); false: a one-off the system recovers from by itself. */
  sustained: boolean;
  inject(): Promise<void>;
  lift(): Promise<void>;
  /** After the run: did the fault really happen (the process died and came back, the provider failed)? */
  verify(audit: StateAudit): Promise<{ verified: boolean; detail: string }>;
}

/** A topology fault experiments can run against (started by compare, or a --target with a hook). */
export interface FaultSubject {
  name: string;
  baseUrl: string;
  /** The injector for a fault, or why that fault does not apply here. */
  injector(fault: FaultName): Promise<FaultInjector | { skip: string }>;
  /** Waits until the topology serves normally again (between experiments). */
  settle(): Promise<void>;
}

/** Sizes of a fault experiment (per profile). */
export interface FaultPlan {
  /** Mixed open-model load, iterations/s. */
  rate: number;
  /** Length of the load run, s. */
  durationSeconds: number;
  /** When the fault is injected, s from the start of the load. */
  injectAtSeconds: number;
  /** Fault window: how long a sustained fault lasts, and over how long availability is measured, s. */
  faultSeconds: number;
  /** Seconds of normal success that count as recovered. */
  recoveryWindowSeconds: number;
  /** After the load: how long to wait for every order to settle before reading the state, s. */
  quietDeadlineSeconds: number;
}

/** What a fault experiment needs from the load engine (the embedded engine: it records per-request events). */
export interface EventEngine {
  run(baseUrl: string, scenario: ScenarioDefinition, tokens: string[], onProgress?: (p: RunProgress) => void, extra?: RunExtras): Promise<SegmentResult>;
}

export interface FaultExperimentOptions {
  engine: EventEngine;
  subject: FaultSubject;
  fault: FaultName;
  plan: FaultPlan;
  /** Tokens of customers used only by this experiment (their orders are audited). */
  customerTokens: string[];
  adminToken: string;
  log?: (message: string) => void;
  /** The injector, when the caller already asked the subject for it (to skip before announcing the experiment). */
  injector?: FaultInjector;
}

/** Longest silence of a fault experiment on the terminal: a line at least this often, s. */
const PROGRESS_EVERY_SECONDS = 10;

export class FaultSkipped extends Error {
  override readonly name = 'FaultSkipped';
}

/** The mixed workload of a fault experiment: 80 % browse, 20 % orders at a fixed rate (open model). */
function faultLoad(plan: FaultPlan): ScenarioDefinition {
  const base = mixed(plan.rate, plan.durationSeconds);
  return { ...base, name: 'fault', description: `mixed load at ${plan.rate}/s during a fault experiment` };
}

/**
 * Runs one fault experiment: a steady mixed load; the fault injected at a fixed time (and, when
 * sustained, lifted `faultSeconds` later); the load kept going to the end; then waits for the
 * system to be quiet, reads the real state (orders, shipments, payments, stock) and reports the
 * figures. Throws FaultSkipped when the fault does not apply to the subject.
 * @example await runFaultExperiment({ engine, subject, fault: 'dependency-crash', plan, customerTokens, adminToken })
 */
export async function runFaultExperiment(options: FaultExperimentOptions): Promise<FaultResult> {
  const { subject, plan, fault } = options;
  const log = options.log ?? (() => undefined);
  const injector = options.injector ?? (await subject.injector(fault));
  if ('skip' in injector) throw new FaultSkipped(injector.skip);
  const auditOptions = { baseUrl: subject.baseUrl, customerTokens: options.customerTokens, adminToken: options.adminToken };
  const preexisting = new Set((await Promise.all(options.customerTokens.map((t) => listOrders(subject.baseUrl, t)))).flat().map((o) => o.id));
  const stockBefore = await readStock(subject.baseUrl);

  const t0 = performance.now();
  let said = 0;
  const progress = (p: RunProgress) => {
    if (p.elapsedSeconds - said < PROGRESS_EVERY_SECONDS) return;
    said = p.elapsedSeconds;
    log(`${subject.name}: ${fault}: load ${p.elapsedSeconds.toFixed(0)}/${plan.durationSeconds} s, ${p.requests} requests, ${p.failed} failed`);
  };
  const run = options.engine.run(subject.baseUrl, faultLoad(plan), options.customerTokens, progress, { recordEvents: true, requestTimeoutMs: 15_000 });
  let injectAt = plan.injectAtSeconds * 1000;
  let liftAt = injectAt;
  const schedule = (async () => {
    await sleep(Math.max(0, plan.injectAtSeconds * 1000 - (performance.now() - t0)));
    log(`${subject.name}: ${fault}: ${injector.method}`);
    await injector.inject();
    // The fault counts from when it took effect (closing broker connections takes a few seconds).
    injectAt = performance.now() - t0;
    if (injector.sustained) {
      await sleep(Math.max(0, injectAt + plan.faultSeconds * 1000 - (performance.now() - t0)));
      await injector.lift();
      liftAt = performance.now() - t0;
      log(`${subject.name}: ${fault} lifted`);
    } else {
      liftAt = injectAt;
    }
  })();
  // A failed injection must not leave the load running unobserved: wait for both, then rethrow.
  const [result, scheduled] = await Promise.allSettled([run, schedule]);
  if (scheduled.status === 'rejected') {
    await injector.lift().catch(() => undefined);
    throw scheduled.reason;
  }
  if (result.status === 'rejected') throw result.reason;
  const events = result.value.events ?? [];

  log(`${subject.name}: ${fault}: load done; waiting up to ${plan.quietDeadlineSeconds} s for the experiment's orders to settle, then reading the state`);
  let lastSaid = 0;
  const waited = await waitUntilQuiet(auditOptions, plan.quietDeadlineSeconds * 1000, 1000, preexisting, (seconds, notTerminal) => {
    if (seconds - lastSaid < PROGRESS_EVERY_SECONDS) return;
    lastSaid = seconds;
    log(
      `${subject.name}: ${fault}: ${notTerminal === undefined ? 'orders not readable yet' : `${notTerminal} orders not terminal yet`} after ${seconds.toFixed(0)} s`,
    );
  });
  const audit = await auditState(auditOptions, events, stockBefore, preexisting);
  const proof = await injector.verify(audit);
  const runEnd = Math.max(plan.durationSeconds * 1000, ...events.map((e) => e.at));
  const windowEnd = injector.sustained ? liftAt : injectAt + plan.faultSeconds * 1000;
  const timeline = analyzeTimeline(events, { injectAt, liftAt, windowEnd, runEnd }, audit.finalStatus, plan.recoveryWindowSeconds * 1000);
  log(
    `${subject.name}: ${fault}: browse ${(timeline.browseAvailability * 100).toFixed(1)} %, checkout ${(timeline.checkoutSuccess * 100).toFixed(1)} %, ` +
      `lost ${audit.ordersLost}, stuck ${audit.ordersStuck}, duplicates ${audit.duplicateCharges}, drift ${audit.stockDrift}, ` +
      `recovery ${timeline.recovered ? `${timeline.recoverySeconds.toFixed(1)} s` : 'none'}` +
      `${timeline.droppedDuringFault > 0 ? `; ${timeline.droppedDuringFault} iterations dropped during the fault (every VU busy)` : ''}; quiet after ${waited.toFixed(1)} s; ${proof.verified ? `verified: ${proof.detail}` : proof.detail.startsWith('injected by the hook') ? proof.detail : `NOT VERIFIED: ${proof.detail}`}` +
      (audit.lostIds.length ? `; lost ids ${audit.lostIds.slice(0, 5).join(', ')}` : ''),
  );
  await subject.settle();
  return {
    topology: subject.name,
    fault,
    browseAvailability: timeline.browseAvailability,
    checkoutSuccess: timeline.checkoutSuccess,
    ordersLost: audit.ordersLost,
    ordersStuck: audit.ordersStuck,
    duplicateCharges: audit.duplicateCharges,
    stockDrift: audit.stockDrift,
    recoverySeconds: timeline.recoverySeconds,
    p95DuringFaultMs: timeline.p95DuringFaultMs,
    droppedDuringFault: timeline.droppedDuringFault,
    recovered: timeline.recovered,
    faultSeconds: (windowEnd - injectAt) / 1000,
    recoveryWindowSeconds: plan.recoveryWindowSeconds,
    orders: { sent: events.filter((e) => e.kind === 'order' && e.dropped !== true).length, accepted: audit.accepted, confirmed: audit.confirmed },
    injection: { method: injector.method, verified: proof.verified, detail: proof.detail },
  };
}
