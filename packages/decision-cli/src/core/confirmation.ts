import { z } from 'zod';
import YAML from 'yaml';
import { knownNumber, type Answers } from './answers';
import { InputError } from './errors';
import { listed } from './markdown';
import {
  attemptedRps,
  assessLatency,
  atSaturation,
  countedLatencyScenarios,
  faultFigureCounts,
  latencyScenarios,
  type Evidence,
  type FaultEvidence,
  type TopologyEvidence,
} from './evidence';
import { CURRENT_MODEL, MODEL_VERSIONS, modelVersion, type Model, type OptionId } from './model';
import type { ScoreResult } from './scoring';

/** Format written today; v1 blocks (model v1 ADRs) are still read and checked. */
const CONFIRMATION_FORMAT = 'archbench-confirmation/v2';
const CONFIRMATION_FORMATS = ['archbench-confirmation/v1', CONFIRMATION_FORMAT] as const;

const FaultMetric = z.enum(['browseAvailability', 'recoverySeconds', 'ordersLost', 'ordersStuck', 'duplicateCharges', 'stockDrift']);
const Metric = z.enum(['p95Ms', 'errorRate', 'cpuSecondsPer1kOrders', 'peakRssMiB', 'processCount', 'stuckOrders', 'duplicateCharges', 'fault']);
type Metric = z.infer<typeof Metric>;

export const ConfirmationCriterion = z
  .object({
    id: z.string(),
    description: z.string(),
    topology: z.string(),
    metric: Metric,
    /** The measured value must stay at or below this. */
    max: z.number().optional(),
    /** The measured value must stay at or above this (availability). */
    min: z.number().optional(),
    /** For p95Ms and errorRate: only scenarios that reached this many requests per second count. */
    atLeastRps: z.number().nonnegative().optional(),
    /**
     * For p95Ms and errorRate: closed-model scenarios (fixed virtual users) that ran faster than
     * atLeastRps x this factor measured latency at saturation and do not count (the scoring's
     * closedModelSaturation). Absent: every scenario at the rate counts (older ADRs).
     */
    closedModelSaturation: z.number().min(1).optional(),
    /** For metric `fault`: which experiment and which of its figures. */
    fault: z.string().optional(),
    faultMetric: FaultMetric.optional(),
  })
  .strict()
  .refine((c) => c.max !== undefined || c.min !== undefined, { message: 'needs max or min' });
export type ConfirmationCriterion = z.infer<typeof ConfirmationCriterion>;

export const Confirmation = z
  .object({
    format: z.enum(CONFIRMATION_FORMATS),
    modelVersion: z.number().int(),
    option: z.string(),
    /** A scenario counts at a rate when its throughput is at least rate x rateTolerance. */
    rateTolerance: z.number().positive().max(1),
    scenarios: z.array(z.string()).optional(),
    criteria: z.array(ConfirmationCriterion),
  })
  .strict();
export type Confirmation = z.infer<typeof Confirmation>;

/**
 * The topology whose numbers confirm an option: the one measured for it, or none. Another option's
 * numbers never stand in (a hybrid is not confirmed on the monolith: it runs more processes).
 */
function confirmingTopology(option: OptionId, result: ScoreResult): string | null {
  return result.ranking.find((o) => o.option === option)?.measuredAs ?? null;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;
const fmt = (n: number | null, digits = 1) => (n === null ? '—' : n.toLocaleString('en-US', { maximumFractionDigits: digits }));

/**
 * Machine-checkable thresholds that must keep holding for the decision to stand: the chosen
 * topology meets the p95 budget without errors at the expected rate (or the highest rate measured
 * so far), and CPU, memory and process count do not grow past the model's regression allowance.
 * @example buildConfirmation(answers, result, evidence, MODEL_V1)
 */
export function buildConfirmation(
  answers: Answers,
  result: ScoreResult,
  evidence: Evidence,
  model: Model,
  scenarios?: readonly string[],
): { confirmation: Confirmation; notes: string[] } {
  const option = result.recommendation;
  const topology = confirmingTopology(option, result);
  const confirmation: Confirmation = {
    format: CONFIRMATION_FORMAT,
    modelVersion: model.version,
    option,
    rateTolerance: model.evidence.rateTolerance,
    ...(scenarios?.length ? { scenarios: [...scenarios] } : {}),
    criteria: [],
  };
  const notes: string[] = [];
  const t = evidence.topologies.find((x) => x.topology === topology);
  const budget = knownNumber(answers, 'load.p95BudgetMs');
  const expected = knownNumber(answers, 'load.expectedRps');
  if (!topology || !t) {
    notes.push(
      `The chosen option has no measured topology, so there is nothing machine-checkable yet; confirm it by measuring a prototype against the ${budget ?? '(unknown)'} ms p95 budget at ${expected ?? '(unknown)'} rps.`,
    );
    return { confirmation, notes };
  }
  const rated = countedLatencyScenarios(t.scenarios, model, scenarios);
  // Every latency figure came from a local emulator, which this model does not count (v3).
  const emulatorOnly = rated.length === 0 && latencyScenarios(t.scenarios, scenarios).length > 0;
  const latency = assessLatency(t, budget ?? Number.MAX_VALUE, expected ?? 0, model, scenarios);
  // Closed-model runs far above the rate measured latency at saturation: the scoring leaves them
  // out of the verdict (v2), so every latency criterion leaves out the same runs, and verify
  // compares the runs the scoring would count (a saturated run neither sets a baseline nor fails
  // one on noise).
  const saturation = model.evidence.closedModelSaturation;
  const onlySaturated = expected !== null && latency.status === 'not-demonstrated' && latency.notDemonstratedBecause === 'saturation';
  // The rate unknown: latency was scored from the prior (no rate to judge it at), so there is no
  // rate to record criteria at either; 80% of the highest rate measured would be a closed-model
  // run's saturated rate, which says nothing of the system's load.
  const rateUnknown = expected === null && !emulatorOnly;
  let rate = expected ?? 0;
  if (rateUnknown) {
    notes.push(
      `The expected rate (\`load.expectedRps\`) is unknown, so latency was scored from the model's prior: no latency or error-rate criteria are recorded. Answer it and decide again to record them at that rate.`,
    );
  } else if (latency.status === 'not-demonstrated' && latency.notDemonstratedBecause === 'below-rate' && latency.maxMeasuredRps !== null) {
    // 80% of the highest measured rate leaves room for run-to-run noise in closed-model scenarios.
    rate = Math.max(1, Math.floor(latency.maxMeasuredRps * 0.8));
    notes.push(
      `The evidence reaches only ${latency.maxMeasuredRps.toFixed(1)} rps, below the expected ${expected} rps: the latency criteria are recorded at ${rate} rps (80% of the highest measured rate). Re-run the comparison at the expected rate to confirm them there.`,
    );
  }
  if (latency.status === 'fails' && !rateUnknown)
    notes.push(`${topology} does not meet this criterion on the current evidence (${latency.reason}); verify will fail until it does.`);
  const add = (c: ConfirmationCriterion) => confirmation.criteria.push(c);
  const counted = rated.filter((s) => attemptedRps(s) >= rate * model.evidence.rateTolerance && !atSaturation(s, rate, saturation));
  const saturatedRuns = rated.filter((s) => attemptedRps(s) >= rate * model.evidence.rateTolerance && atSaturation(s, rate, saturation));
  const saturatedList = saturatedRuns.map((s) => `${s.scenario}: p95 ${fmt(s.p95Ms)} ms at ${fmt(s.throughputRps)} rps`).join('; ');
  const leavingOut = saturation === undefined ? '' : `, leaving out closed-model runs above ${fmt(rate * saturation)} rps (latency at saturation),`;
  const withSaturation = saturation === undefined ? {} : { closedModelSaturation: saturation };
  if (saturatedRuns.length && !onlySaturated && !emulatorOnly && !rateUnknown)
    notes.push(
      `${topology}'s closed-model ${saturatedRuns.length === 1 ? 'run' : 'runs'} far above the expected ${rate} rps (${saturatedList}) measured latency at saturation, which proves nothing either way at the expected rate: the scoring left ${saturatedRuns.length === 1 ? 'it' : 'them'} out, and so do the latency and error-rate criteria (closed-model runs above ${fmt(rate * saturation!)} rps, ${saturation}× the rate).`,
    );
  if (emulatorOnly) {
    notes.push(
      `${topology}'s latency was measured only on a local emulator, which model v${model.version} does not count: no latency or error-rate criteria are recorded. Measure a deployment (\`pnpm compare --target ${topology}=URL\`) and decide again to record them. The criteria recorded here (CPU, memory, processes, consistency) are the local run's: verify them against a later local comparison (a deployment measured with \`--target\` has CPU and memory only with \`--metrics-url\`).`,
    );
  } else if (rateUnknown) {
    // Noted above.
  } else if (onlySaturated) {
    // v5: say whether the scoring used the bound (it did only with the budget known, and where
    // it scored at least the prior; see bestLatencyFit).
    const fit = result.criteria.find((c) => c.evidence === 'latency')?.fits[option];
    const b = budget !== null && latency.upperBound?.meets ? latency.upperBound : undefined;
    const run = b ? `p95 ${fmt(b.p95Ms, 1)} ms in ${b.scenario} at ${fmt(b.throughputRps, 1)} rps` : '';
    const bound = !b
      ? ''
      : fit?.source === 'measured' && fit.note.startsWith(`${topology}: `) && fit.note.includes('an upper bound')
        ? ` The scoring took ${run} as an upper bound on the p95 at the expected rate (model v${model.version}), which a later run at saturation need not repeat.`
        : ` ${run} is within the budget, an upper bound on the p95 at the expected rate; the scoring used ${fit?.source === 'measured' ? "another variant's measurement" : 'the prior'}, which scored at least as well.`;
    notes.push(
      `Only closed-model runs at saturation reached the expected ${rate} rps (${saturatedList}), so no budget, measured-p95 or error-rate criterion is recorded; re-run the comparison with an open-model scenario at the expected rate to record them.${bound}`,
    );
  } else {
    if (budget !== null) {
      add({
        id: `${topology}-p95`,
        description: `p95 of every ${topology} scenario at >= ${rate} rps${leavingOut} stays within the ${budget} ms budget`,
        topology,
        metric: 'p95Ms',
        max: budget,
        atLeastRps: rate,
        ...withSaturation,
      });
    } else {
      notes.push('The p95 budget is unknown: only the measured p95 (plus tolerance) is recorded.');
    }
    // The budget alone lets a 5x slowdown pass while it stays under a generous budget; the measured
    // p95 plus a tolerance catches regressions long before users feel the budget.
    if (model.latencyRegressionAllowance !== undefined && counted.length) {
      const worst = Math.max(...counted.map((s) => s.p95Ms));
      const allowed = round(Math.max(worst * (1 + model.latencyRegressionAllowance), worst + 1), 1);
      add({
        id: `${topology}-p95-measured`,
        description: `p95 of every ${topology} scenario at >= ${rate} rps${leavingOut} grows no more than ${Math.round(model.latencyRegressionAllowance * 100)}% over the ${round(worst, 1)} ms measured`,
        topology,
        metric: 'p95Ms',
        max: allowed,
        atLeastRps: rate,
        ...withSaturation,
      });
    }
    add({
      id: `${topology}-errors`,
      description: `error rate of every ${topology} scenario at >= ${rate} rps${leavingOut} stays at or below ${model.evidence.maxErrorRate * 100}%`,
      topology,
      metric: 'errorRate',
      max: model.evidence.maxErrorRate,
      atLeastRps: rate,
      ...withSaturation,
    });
  }
  const allowance = 1 + model.regressionAllowance;
  const pct = `${Math.round(model.regressionAllowance * 100)}%`;
  if (t.cpuSecondsPer1kOrders !== null) {
    add({
      id: `${topology}-cpu`,
      description: `CPU seconds per 1,000 orders grow no more than ${pct} over the ${round(t.cpuSecondsPer1kOrders, 2)} measured`,
      topology,
      metric: 'cpuSecondsPer1kOrders',
      max: round(t.cpuSecondsPer1kOrders * allowance, 3),
    });
  }
  if (t.peakRssBytes !== null && t.peakRssBytes > 0) {
    const mib = t.peakRssBytes / 2 ** 20;
    add({
      id: `${topology}-memory`,
      description: `peak memory grows no more than ${pct} over the ${round(mib, 0)} MiB measured`,
      topology,
      metric: 'peakRssMiB',
      max: round(mib * allowance, 1),
    });
  }
  if (t.processCount !== null) {
    add({
      id: `${topology}-processes`,
      description: `no more processes than the ${t.processCount} measured`,
      topology,
      metric: 'processCount',
      max: t.processCount,
    });
  }
  if (t.consistency?.stuckOrders !== null && t.consistency?.stuckOrders !== undefined) {
    add({ id: `${topology}-stuck-orders`, description: 'no order stays non-terminal', topology, metric: 'stuckOrders', max: 0 });
  }
  if (t.consistency?.duplicateCharges !== null && t.consistency?.duplicateCharges !== undefined) {
    add({ id: `${topology}-duplicate-charges`, description: 'no payment is captured twice', topology, metric: 'duplicateCharges', max: 0 });
  }
  // One set of criteria per experiment: with a local run and a deployment merged, the run that counts.
  const counts = (f: FaultEvidence) => faultFigureCounts(f, 'browseAvailability', model) && faultFigureCounts(f, 'recoverySeconds', model);
  const byFault = new Map<string, FaultEvidence[]>();
  for (const f of t.faults ?? []) byFault.set(f.fault, [...(byFault.get(f.fault) ?? []), f]);
  const leftOut = [...byFault].filter(([, runs]) => !runs.some(counts)).map(([fault]) => fault);
  if (leftOut.length)
    notes.push(
      `${topology}'s ${listed(leftOut)} ran on a local emulator, which model v${model.version} does not count for availability and recovery: those criteria are not recorded (its lost or stuck orders, duplicate charges and stock drift are).`,
    );
  for (const runs of byFault.values()) {
    const f = runs.find(counts) ?? runs[0]!;
    const base = { topology, metric: 'fault' as const, fault: f.fault };
    const measured = faultFigureCounts(f, 'browseAvailability', model) ? f.browseAvailability : null;
    const availability = measured === null ? null : Math.max(0, round(measured - 0.05, 3));
    if (measured !== null && availability !== null)
      add({
        ...base,
        id: `${topology}-${f.fault}-availability`,
        description: `during ${f.fault}, browsing stays at least ${round(availability * 100, 1)}% available (measured ${round(measured * 100, 1)}% less 5 points)`,
        faultMetric: 'browseAvailability',
        min: availability,
      });
    if (f.recoverySeconds !== null && faultFigureCounts(f, 'recoverySeconds', model)) {
      const allowed = round(Math.max(f.recoverySeconds * (1 + model.regressionAllowance), f.recoverySeconds + 2), 1);
      add({
        ...base,
        id: `${topology}-${f.fault}-recovery`,
        description: `after ${f.fault}, whole again within ${allowed} s (measured ${round(f.recoverySeconds, 1)} s)`,
        faultMetric: 'recoverySeconds',
        max: allowed,
      });
    }
    for (const k of ['ordersLost', 'ordersStuck', 'duplicateCharges', 'stockDrift'] as const) {
      const values = runs.map((r) => r[k]).filter((x): x is number => x !== null);
      if (!values.length) continue;
      const v = Math.max(...values);
      add({ ...base, id: `${topology}-${f.fault}-${k}`, description: `during ${f.fault}, ${k} stays at or below the ${v} measured`, faultMetric: k, max: v });
    }
  }
  return { confirmation, notes };
}

export interface CriterionCheck {
  criterion: ConfirmationCriterion;
  passed: boolean;
  actual: number | null;
  detail: string;
}

function actualOf(c: ConfirmationCriterion, t: TopologyEvidence, confirmation: Confirmation): { actual: number | null; detail: string } {
  // A version this build does not know (extractConfirmation refuses those): the current rules.
  const model = modelVersion(confirmation.modelVersion) ?? CURRENT_MODEL;
  const emulator = `measured only on a local emulator, which model v${confirmation.modelVersion} does not count; measure a deployment (\`pnpm compare --target ${t.topology}=URL\`)`;
  switch (c.metric) {
    case 'p95Ms':
    case 'errorRate': {
      const rate = c.atLeastRps ?? 0;
      // The scenarios the scorer judges latency on: without a filter, the reads at capacity never count.
      const scenarios = countedLatencyScenarios(t.scenarios, model, confirmation.scenarios);
      if (scenarios.length === 0 && latencyScenarios(t.scenarios, confirmation.scenarios).length)
        return { actual: null, detail: `${t.topology}'s latency ${emulator}` };
      const reached = scenarios.filter((s) => attemptedRps(s) >= rate * confirmation.rateTolerance);
      const counted = reached.filter((s) => !atSaturation(s, rate, c.closedModelSaturation));
      if (counted.length === 0) {
        if (reached.length)
          return { actual: null, detail: `only closed-model runs at saturation (above ${fmt(rate * c.closedModelSaturation!)} rps) reached ${rate} rps` };
        const best = scenarios.length ? Math.max(...scenarios.map(attemptedRps)).toFixed(1) : 'none';
        return { actual: null, detail: `no ${t.topology} scenario reached ${rate} rps (highest: ${best} rps)` };
      }
      const key = c.metric === 'p95Ms' ? 'p95Ms' : 'errorRate';
      const worst = counted.reduce((a, b) => (b[key] > a[key] ? b : a));
      const shown = key === 'p95Ms' ? `${worst.p95Ms.toFixed(1)} ms` : `${(worst.errorRate * 100).toFixed(2)}%`;
      return { actual: worst[key], detail: `${shown} in ${worst.scenario} at ${worst.throughputRps.toFixed(1)} rps` };
    }
    case 'cpuSecondsPer1kOrders':
      return {
        actual: t.cpuSecondsPer1kOrders,
        detail: t.cpuSecondsPer1kOrders === null ? 'not measured' : `${t.cpuSecondsPer1kOrders.toFixed(3)} CPU s per 1,000 orders`,
      };
    case 'peakRssMiB':
      return t.peakRssBytes === null
        ? { actual: null, detail: 'not measured' }
        : { actual: t.peakRssBytes / 2 ** 20, detail: `${(t.peakRssBytes / 2 ** 20).toFixed(1)} MiB` };
    case 'processCount':
      return { actual: t.processCount, detail: t.processCount === null ? 'not measured' : `${t.processCount} process${t.processCount === 1 ? '' : 'es'}` };
    case 'stuckOrders':
    case 'duplicateCharges': {
      const v = t.consistency?.[c.metric] ?? null;
      return { actual: v, detail: v === null ? 'not measured' : `${v}` };
    }
    case 'fault': {
      // With a local run and a deployment merged, the deployment's figure is the one that counts.
      const runs = (t.faults ?? []).filter((x) => x.fault === c.fault);
      const f = runs.find((x) => !c.faultMetric || faultFigureCounts(x, c.faultMetric, model)) ?? runs[0];
      if (!f || !c.faultMetric) return { actual: null, detail: `fault experiment ${c.fault ?? '?'} not in the evidence` };
      if (!faultFigureCounts(f, c.faultMetric, model)) return { actual: null, detail: `${f.fault} ${emulator}` };
      if (c.faultMetric === 'recoverySeconds' && f.recoverySeconds === null) return { actual: null, detail: `did not recover from ${f.fault}` };
      const v = f[c.faultMetric];
      const shown =
        c.faultMetric === 'browseAvailability'
          ? `${((v ?? 0) * 100).toFixed(1)}% available`
          : c.faultMetric === 'recoverySeconds'
            ? `${(v ?? 0).toFixed(1)} s`
            : `${v}`;
      return { actual: v, detail: `${shown} in ${f.fault}` };
    }
  }
}

/**
 * Re-checks recorded criteria against newer evidence. A criterion whose figure is missing from
 * the evidence fails: the decision is no longer demonstrated.
 * @example checkConfirmation(confirmation, evidence).filter((c) => !c.passed)
 */
export function checkConfirmation(confirmation: Confirmation, evidence: Evidence): CriterionCheck[] {
  return confirmation.criteria.map((criterion) => {
    const t = evidence.topologies.find((x) => x.topology === criterion.topology);
    if (!t) return { criterion, passed: false, actual: null, detail: `${criterion.topology} is not in the evidence` };
    const { actual, detail } = actualOf(criterion, t, confirmation);
    if (actual === null) return { criterion, passed: false, actual, detail };
    const passed = (criterion.max === undefined || actual <= criterion.max) && (criterion.min === undefined || actual >= criterion.min);
    // In the unit the figure is shown in: availability as a percentage, as "50.0% available".
    const unit = (n: number) => (criterion.faultMetric === 'browseAvailability' ? `${(n * 100).toFixed(1)}%` : `${n}`);
    const bounds = [criterion.min !== undefined ? `min ${unit(criterion.min)}` : null, criterion.max !== undefined ? `max ${unit(criterion.max)}` : null]
      .filter(Boolean)
      .join(', ');
    return { criterion, passed, actual, detail: `${detail} (${bounds})` };
  });
}

const FENCE = /```ya?ml[^\n]*\n([\s\S]*?)```/g;

/** Renders the confirmation as the YAML block embedded in an ADR. */
export function renderConfirmationBlock(confirmation: Confirmation): string {
  return ['```yaml', '# archbench-confirmation: checked by `archbench verify`', YAML.stringify(confirmation, { lineWidth: 0 }).trimEnd(), '```'].join('\n');
}

/**
 * Finds and validates the confirmation block of an ADR; throws InputError naming the problem.
 * @example extractConfirmation(readFileSync('docs/decisions/0001-x.md', 'utf8'), '0001-x.md')
 */
export function extractConfirmation(markdown: string, source: string): Confirmation {
  for (const match of markdown.matchAll(FENCE)) {
    const body = match[1] ?? '';
    if (!CONFIRMATION_FORMATS.some((f) => body.includes(f))) {
      const other = /archbench-confirmation\/v\d+/.exec(body)?.[0];
      if (other)
        throw new InputError(
          `${source}: the confirmation block is in format ${other}, which this archbench does not read (it reads ${CONFIRMATION_FORMATS.join(', ')}): upgrade @archbench/decision-cli`,
        );
      continue;
    }
    let data: unknown;
    try {
      data = YAML.parse(body);
    } catch (error) {
      throw new InputError(`${source}: the confirmation block is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    }
    const result = Confirmation.safeParse(data);
    const known = `this archbench knows models ${MODEL_VERSIONS.map((v) => `v${v}`).join(', ')}`;
    const version = (data as { modelVersion?: unknown } | null)?.modelVersion;
    const newer = typeof version === 'number' && !modelVersion(version);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new InputError(
        `${source}: the confirmation block is not valid (${issue?.path.join('.') || 'block'}: ${issue?.message})${newer || issue?.code === 'unrecognized_keys' ? `; a newer archbench may have written it (${known}): upgrade @archbench/decision-cli` : ''}`,
      );
    }
    // Its criteria are read by that model's rules (which figures count); guessing them could pass what should fail.
    if (newer)
      throw new InputError(
        `${source}: decided with model v${version}, which this archbench does not know (${known}): upgrade @archbench/decision-cli to verify it`,
      );
    return result.data;
  }
  throw new InputError(`${source}: no archbench confirmation block (a \`\`\`yaml block with format: ${CONFIRMATION_FORMAT}) found under Confirmation`);
}
