import { z } from 'zod';
import YAML from 'yaml';
import type { Answers } from './answers';
import { InputError } from './errors';
import { assessLatency, type Evidence, type TopologyEvidence } from './evidence';
import type { Model, OptionId } from './model';
import type { ScoreResult } from './scoring';

export const CONFIRMATION_FORMAT = 'archbench-confirmation/v1';

export const Metric = z.enum(['p95Ms', 'errorRate', 'cpuSecondsPer1kOrders', 'peakRssMiB', 'processCount', 'stuckOrders', 'duplicateCharges']);
export type Metric = z.infer<typeof Metric>;

export const ConfirmationCriterion = z
  .object({
    id: z.string(),
    description: z.string(),
    topology: z.string(),
    metric: Metric,
    /** The measured value must stay at or below this. */
    max: z.number(),
    /** For p95Ms and errorRate: only scenarios that reached this many requests per second count. */
    atLeastRps: z.number().nonnegative().optional(),
  })
  .strict();
export type ConfirmationCriterion = z.infer<typeof ConfirmationCriterion>;

export const Confirmation = z
  .object({
    format: z.literal(CONFIRMATION_FORMAT),
    modelVersion: z.number().int(),
    option: z.string(),
    /** A scenario counts at a rate when its throughput is at least rate x rateTolerance. */
    rateTolerance: z.number().positive().max(1),
    scenarios: z.array(z.string()).optional(),
    criteria: z.array(ConfirmationCriterion),
  })
  .strict();
export type Confirmation = z.infer<typeof Confirmation>;

/** Topologies whose numbers confirm an option: a hybrid is confirmed on its monolith core. */
function confirmingTopology(option: OptionId, result: ScoreResult): string | null {
  const measured = result.ranking.find((o) => o.option === option)?.measuredAs ?? null;
  if (measured) return measured;
  if (option === 'hybrid') return result.ranking.find((o) => o.option === 'modular-monolith')?.measuredAs ?? null;
  return null;
}

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits;

/**
 * Machine-checkable thresholds that must keep holding for the decision to stand: the chosen
 * topology meets the p95 budget without errors at the expected rate (or the highest rate measured
 * so far), and CPU, memory and process count do not grow past the model's regression allowance.
 * @example buildConfirmation(answers, result, evidence, MODEL_V1)
 */
export function buildConfirmation(answers: Answers, result: ScoreResult, evidence: Evidence, model: Model, scenarios?: readonly string[]): { confirmation: Confirmation; notes: string[] } {
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
  if (!topology || !t) {
    notes.push(`The chosen option has no measured topology, so there is nothing machine-checkable yet; confirm it by measuring a prototype against the ${answers.load.p95BudgetMs} ms p95 budget at ${answers.load.expectedRps} rps.`);
    return { confirmation, notes };
  }
  const latency = assessLatency(t, answers.load.p95BudgetMs, answers.load.expectedRps, model, scenarios);
  let rate = answers.load.expectedRps;
  if (latency.status === 'not-demonstrated' && latency.maxMeasuredRps !== null) {
    // 80% of the highest measured rate leaves room for run-to-run noise in closed-model scenarios.
    rate = Math.max(1, Math.floor(latency.maxMeasuredRps * 0.8));
    notes.push(`The evidence reaches only ${latency.maxMeasuredRps.toFixed(1)} rps, below the expected ${answers.load.expectedRps} rps: the latency criteria are recorded at ${rate} rps (80% of the highest measured rate). Re-run the comparison at the expected rate to confirm them there.`);
  }
  if (latency.status === 'fails') notes.push(`${topology} does not meet this criterion on the current evidence (${latency.reason}); verify will fail until it does.`);
  const add = (c: ConfirmationCriterion) => confirmation.criteria.push(c);
  add({ id: `${topology}-p95`, description: `p95 of every ${topology} scenario at >= ${rate} rps stays within the ${answers.load.p95BudgetMs} ms budget`, topology, metric: 'p95Ms', max: answers.load.p95BudgetMs, atLeastRps: rate });
  add({ id: `${topology}-errors`, description: `error rate of every ${topology} scenario at >= ${rate} rps stays at or below ${model.evidence.maxErrorRate * 100}%`, topology, metric: 'errorRate', max: model.evidence.maxErrorRate, atLeastRps: rate });
  const allowance = 1 + model.regressionAllowance;
  const pct = `${Math.round(model.regressionAllowance * 100)}%`;
  if (t.cpuSecondsPer1kOrders !== null) {
    add({ id: `${topology}-cpu`, description: `CPU seconds per 1,000 orders grow no more than ${pct} over the ${round(t.cpuSecondsPer1kOrders, 2)} measured`, topology, metric: 'cpuSecondsPer1kOrders', max: round(t.cpuSecondsPer1kOrders * allowance, 3) });
  }
  if (t.peakRssBytes !== null && t.peakRssBytes > 0) {
    const mib = t.peakRssBytes / 2 ** 20;
    add({ id: `${topology}-memory`, description: `peak memory grows no more than ${pct} over the ${round(mib, 0)} MiB measured`, topology, metric: 'peakRssMiB', max: round(mib * allowance, 1) });
  }
  if (t.processCount !== null) {
    add({ id: `${topology}-processes`, description: `no more processes than the ${t.processCount} measured`, topology, metric: 'processCount', max: t.processCount });
  }
  if (t.consistency?.stuckOrders !== null && t.consistency?.stuckOrders !== undefined) {
    add({ id: `${topology}-stuck-orders`, description: 'no order stays non-terminal', topology, metric: 'stuckOrders', max: 0 });
  }
  if (t.consistency?.duplicateCharges !== null && t.consistency?.duplicateCharges !== undefined) {
    add({ id: `${topology}-duplicate-charges`, description: 'no payment is captured twice', topology, metric: 'duplicateCharges', max: 0 });
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
  switch (c.metric) {
    case 'p95Ms':
    case 'errorRate': {
      const rate = c.atLeastRps ?? 0;
      const scenarios = t.scenarios.filter((s) => !confirmation.scenarios?.length || confirmation.scenarios.includes(s.scenario));
      const counted = scenarios.filter((s) => s.throughputRps >= rate * confirmation.rateTolerance);
      if (counted.length === 0) {
        const best = scenarios.length ? Math.max(...scenarios.map((s) => s.throughputRps)).toFixed(1) : 'none';
        return { actual: null, detail: `no ${t.topology} scenario reached ${rate} rps (highest: ${best} rps)` };
      }
      const key = c.metric === 'p95Ms' ? 'p95Ms' : 'errorRate';
      const worst = counted.reduce((a, b) => (b[key] > a[key] ? b : a));
      const shown = key === 'p95Ms' ? `${worst.p95Ms.toFixed(1)} ms` : `${(worst.errorRate * 100).toFixed(2)}%`;
      return { actual: worst[key], detail: `${shown} in ${worst.scenario} at ${worst.throughputRps.toFixed(1)} rps` };
    }
    case 'cpuSecondsPer1kOrders':
      return { actual: t.cpuSecondsPer1kOrders, detail: t.cpuSecondsPer1kOrders === null ? 'not measured' : `${t.cpuSecondsPer1kOrders.toFixed(3)} CPU s per 1,000 orders` };
    case 'peakRssMiB':
      return t.peakRssBytes === null ? { actual: null, detail: 'not measured' } : { actual: t.peakRssBytes / 2 ** 20, detail: `${(t.peakRssBytes / 2 ** 20).toFixed(1)} MiB` };
    case 'processCount':
      return { actual: t.processCount, detail: t.processCount === null ? 'not measured' : `${t.processCount} process${t.processCount === 1 ? '' : 'es'}` };
    case 'stuckOrders':
    case 'duplicateCharges': {
      const v = t.consistency?.[c.metric] ?? null;
      return { actual: v, detail: v === null ? 'not measured' : `${v}` };
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
    const passed = actual <= criterion.max;
    return { criterion, passed, actual, detail: `${detail} (max ${criterion.max})` };
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
    if (!body.includes(CONFIRMATION_FORMAT)) continue;
    let data: unknown;
    try {
      data = YAML.parse(body);
    } catch (error) {
      throw new InputError(`${source}: the confirmation block is not valid YAML (${(error as Error).message.split('\n')[0]})`);
    }
    const result = Confirmation.safeParse(data);
    if (!result.success) {
      const issue = result.error.issues[0];
      throw new InputError(`${source}: the confirmation block is not valid (${issue?.path.join('.') || 'block'}: ${issue?.message})`);
    }
    return result.data;
  }
  throw new InputError(`${source}: no archbench confirmation block (a \`\`\`yaml block with format: ${CONFIRMATION_FORMAT}) found under Confirmation`);
}
