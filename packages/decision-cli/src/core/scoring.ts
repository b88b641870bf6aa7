import { getAnswer, isUnknown, type Answers } from './answers';
import { assessTopologies, bandFit, usd, type Evidence, type Prices, type TopologyAssessment } from './evidence';
import { eur, fixed, listed } from './markdown';
import { OPTION_IDS, type Model, type ModelCriterion, type ModelLevel, type OptionId } from './model';

export type FitSource = 'answers' | 'measured' | 'prior' | 'unknown';

export interface OptionFit {
  fit: number;
  /** Points this criterion adds to the option's 0..100 score. */
  points: number;
  source: FitSource;
  /** Why this fit, in a few words (the level label or the measurement). */
  note: string;
  /** Evidence criteria scored from the prior: why the evidence did not decide (e.g. `not measured`). */
  because?: string;
  /** Scored from the prior because its figures were measured only on a local emulator (model v3). */
  emulated?: true;
  /** v5 latency: the option's variant the fit came from, when not the one it is measured as. */
  variant?: string;
}

export interface CriterionScore {
  id: string;
  title: string;
  group: string;
  why: string;
  answerPath: string | null;
  answerValue: unknown;
  level: string;
  baseWeight: number;
  /** Weight after `weightBy`. */
  weight: number;
  evidence: ModelCriterion['evidence'] | null;
  fits: Record<OptionId, OptionFit>;
}

export interface OptionScore {
  option: OptionId;
  title: string;
  /** 0..100. */
  score: number;
  /** The measured topology that stands for this option, null when none was measured. */
  measuredAs: string | null;
  /** v5: the variant its latency fit came from, when it is not `measuredAs` (its best variant). */
  latencyFrom?: string;
}

/** Everything `score` works out: ranking, breakdown, and the assessments behind it. */
export interface ScoreResult {
  modelVersion: number;
  /** Highest score first; ties broken by the model's tieOrder (simplest first). */
  ranking: OptionScore[];
  recommendation: OptionId;
  runnerUp: OptionId;
  /** Points between the recommendation and the runner-up. */
  margin: number;
  criteria: CriterionScore[];
  assessments: TopologyAssessment[];
  prices: Prices;
  /** Plain statements about missing evidence, for the report. */
  notes: string[];
  /** Answers the model reads that were `unknown` (or not given): scored from the prior. */
  unknowns: string[];
}

export interface ScoreOptions {
  model: Model;
  prices?: Prices;
  /** Only these scenarios count as latency evidence (default: all but the reads at capacity, see latencyScenarios). */
  scenarios?: readonly string[];
}

/**
 * The level of a criterion the answers select: numbers take the first level with value <= max,
 * enums the level that equals the value, a level without `when` matches anything.
 * @example matchLevel(criterion, 3)
 */
export function matchLevel(criterion: ModelCriterion, value: unknown): { level: ModelLevel; index: number } {
  const index = criterion.levels.findIndex((level) => {
    const when = level.when;
    if (!when) return true;
    if ('max' in when) return typeof value === 'number' && value <= when.max;
    return value === when.equals;
  });
  const level = criterion.levels[index];
  if (!level) throw new Error(`model criterion ${criterion.id} has no level for ${JSON.stringify(value)}`);
  return { level, index };
}

function effectiveWeight(criterion: ModelCriterion, answers: Answers): number {
  if (!criterion.weightBy) return criterion.weight;
  const value = getAnswer(answers, criterion.weightBy.answer);
  const factors = Object.values(criterion.weightBy.factors);
  // An unknown answer weighs the criterion by the mean factor: no reason to favour either end.
  const factor = isUnknown(value) ? factors.reduce((a, b) => a + b, 0) / Math.max(1, factors.length) : criterion.weightBy.factors[String(value)];
  return criterion.weight * (factor ?? 1);
}

/** The prior for an unknown answer: each option's mean fit over the criterion's levels. */
function unknownLevel(criterion: ModelCriterion): ModelLevel {
  const fit = Object.fromEntries(
    OPTION_IDS.map((id) => [id, Math.round((criterion.levels.reduce((sum, l) => sum + l.fit[id], 0) / criterion.levels.length) * 100) / 100]),
  ) as ModelLevel['fit'];
  return { label: 'unknown (mean over the answers)', fit };
}

/**
 * How well a measured topology stands for its option, independent of the budget: latency judged at
 * the rate without errors (met or missed: the headroom then orders them, i.e. the lower p95 first)
 * before latency not demonstrated (the prior), before too many errors, before nothing measured.
 * Ranking "meets" above "not demonstrated" above "misses" would let a looser budget switch the
 * option to another topology (from the prior to a measured 2/5 with other costs and faults), so a
 * looser budget could score worse.
 */
function latencyRank(l: TopologyAssessment['latency']): number {
  if (l.status === 'meets' || (l.status === 'fails' && l.failedBecause !== 'errors') || l.upperBound) return 3;
  if (l.status === 'not-demonstrated' || l.status === 'unknown-answer') return 2;
  return l.status === 'fails' ? 1 : 0;
}

/**
 * The p95 that orders the variants of one rank: the one at the rate, or (v5) the upper bound of a
 * variant measured at the rate only at saturation. Only the p95, never the budget, so a looser
 * budget cannot switch the variant: a bound below another variant's p95 at the rate shows the
 * first variant is the faster one there.
 */
function rankedP95(l: TopologyAssessment['latency']): number {
  if (l.upperBound) return l.upperBound.p95Ms;
  return latencyRank(l) === 3 && l.p95Ms !== null ? l.p95Ms : Infinity;
}

/** An option's measured topologies, the one that stands for it first: the lowest p95 at the rate (see latencyRank). */
function measuredVariants(model: Model, option: OptionId, assessments: TopologyAssessment[]): TopologyAssessment[] {
  const names = model.options.find((o) => o.id === option)?.measuredAs ?? [];
  const candidates = assessments.filter(
    (a) => names.includes(a.topology) && (a.latency.status !== 'unmeasured' || a.processCount !== null || a.faults !== null),
  );
  return candidates.sort(
    (a, b) =>
      latencyRank(b.latency) - latencyRank(a.latency) || rankedP95(a.latency) - rankedP95(b.latency) || names.indexOf(a.topology) - names.indexOf(b.topology),
  );
}

/**
 * v5: an option's latency is its best variant's among those judged at the rate or bounded within
 * the budget from saturation, each scored as evidenceFit scores it (none: the variant that stands
 * for the option, as before). A bound keeps the prior as a
 * floor and a run at the rate does not, so standing for the option by the lower p95 alone could
 * let a faster variant lower the option's fit; the best of them never drops when a variant gets
 * faster, and, each variant's fit rising with the budget, never when the budget loosens. The
 * other criteria keep the one variant that stands for the option.
 */
function bestLatencyFit(
  criterion: ModelCriterion,
  model: Model,
  answers: Answers,
  variants: TopologyAssessment[],
  costBasis: CostBasis,
  prior: Parameters<typeof evidenceFit>[5],
): ReturnType<typeof evidenceFit> & { variant?: string } {
  // A bound over the budget proves nothing: it is no verdict to take the best of (it would lift
  // the option to its prior above another variant's measured miss).
  const judged = variants.filter((v) => latencyRank(v.latency) === 3 && (!v.latency.upperBound || v.latency.upperBound.meets));
  if (judged.length === 0) return evidenceFit(criterion, model, answers, variants[0], costBasis, prior);
  // Ties go to the variant that stands for the option (first).
  const fits = judged.map((v) => ({ ...evidenceFit(criterion, model, answers, v, costBasis, prior), variant: v.topology }));
  const best = fits.reduce((a, f) => (f.fit > a.fit ? f : a));
  const { variant, ...fit } = best;
  return variant === variants[0]?.topology ? fit : { ...fit, variant };
}

/** `latencyFrom` of an option's score: the variant its latency fit came from, when another. */
function latencyFrom(criteria: CriterionScore[], id: OptionId): { latencyFrom?: string } {
  const variant = criteria.find((c) => c.evidence === 'latency' && c.fits[id].variant)?.fits[id].variant;
  return variant ? { latencyFrom: variant } : {};
}

const CRITERION_NAMES: Record<string, string> = { latency: 'p95 latency', 'failure-isolation': 'failure isolation', recovery: 'recovery' };

const fmt = fixed;

interface CostBasis {
  /** The cheapest cost among the options that count; null: the criterion uses priors. */
  cheapest: number | null;
  /** Why the priors are used for every option (all-or-prior), shown in the notes. */
  priorsBecause: string | null;
  /** The same in a few words, for the option's fit (e.g. `not measured for hybrid`). */
  priorsShort: string | null;
  of: (a: TopologyAssessment) => number | null;
}

/**
 * The fit of a measured process count: on the model's one scale (v1-v3), or on the scale for the
 * answer the prior levels depend on (v4: `team.platformMaturity`); an unknown answer takes the
 * mean over its scales, as the prior does over its levels.
 */
function processCountFit(model: Model, answers: Answers, count: number): { fit: number; unknown: string | null } {
  const scale = model.evidence.processCount;
  if (Array.isArray(scale)) return { fit: bandFit(scale, count), unknown: null };
  const value = getAnswer(answers, scale.answer);
  const bands = isUnknown(value) ? undefined : scale.levels[String(value)];
  if (bands) return { fit: bandFit(bands, count), unknown: null };
  const fits = Object.values(scale.levels).map((b) => bandFit(b, count));
  return { fit: Math.round((fits.reduce((a, b) => a + b, 0) / Math.max(1, fits.length)) * 100) / 100, unknown: scale.answer };
}

function evidenceFit(
  criterion: ModelCriterion,
  model: Model,
  answers: Answers,
  rep: TopologyAssessment | undefined,
  costBasis: CostBasis,
  prior: { fit: number; note: string; source: FitSource },
): { fit: number; source: FitSource; note: string; because?: string; emulated?: true } {
  const priorBecause = (why: string, short = why) => ({
    fit: prior.fit,
    source: prior.source === 'unknown' ? ('unknown' as const) : ('prior' as const),
    note: criterion.answer ? `${why}; model prior for ${prior.note}` : `${why}; model prior`,
    because: short,
  });
  const emulatedFaults = (topology: string, faults: readonly string[]) => ({
    ...priorBecause(
      `${topology}: ${listed(faults)} measured only on a local emulator (one workerd process is also the database and the broker), not on the platform`,
      `${topology}: faults measured only on a local emulator`,
    ),
    emulated: true as const,
  });
  if (criterion.evidence === 'cost' && costBasis.priorsBecause) return priorBecause(costBasis.priorsBecause, costBasis.priorsShort ?? undefined);
  if (!rep) return priorBecause('not measured');
  switch (criterion.evidence) {
    case 'latency': {
      const l = rep.latency;
      if (l.status === 'meets')
        return { fit: bandFit(model.evidence.latencyHeadroom, l.headroom ?? 0), source: 'measured', note: `${rep.topology}: ${l.reason}` };
      if (l.status === 'fails') return { fit: model.evidence.latencyFailFit, source: 'measured', note: `${rep.topology}: ${l.reason}` };
      // v5: a bound within the budget is evidence the budget is met, at least as well as its
      // headroom says; it cannot show a miss, so the prior stands when it is the better fit.
      if (l.upperBound?.meets) {
        const fit = bandFit(model.evidence.latencyHeadroom, l.upperBound.headroom);
        if (fit >= prior.fit) return { fit, source: 'measured', note: `${rep.topology}: ${l.reason}` };
        return priorBecause(
          `${rep.topology}: ${l.reason}, whose headroom scores below the prior`,
          `${rep.topology}: latency bounded at saturation, below the prior`,
        );
      }
      const short =
        l.status === 'not-demonstrated'
          ? 'latency not demonstrated at the expected rate'
          : l.emulatorOnly
            ? 'latency measured only on a local emulator'
            : l.status === 'unmeasured'
              ? 'latency not measured'
              : l.reason;
      return { ...priorBecause(`${rep.topology}: ${l.reason}`, `${rep.topology}: ${short}`), ...(l.emulatorOnly ? { emulated: true as const } : {}) };
    }
    case 'cost': {
      const value = costBasis.of(rep);
      const cheapest = costBasis.cheapest;
      if (value === null || cheapest === null) return priorBecause(`${rep.topology}: cost ${model.cost.monthly ? rep.monthlyReason : rep.costReason}`);
      const ratio = cheapest > 0 ? value / cheapest : 1;
      return {
        fit: bandFit(model.evidence.costRatio, ratio),
        source: 'measured',
        note: model.cost.monthly
          ? `${rep.topology}: ${usd(value)} a month at your load profile (${fmt(ratio, 2)}× the cheapest option)`
          : `${rep.topology}: ${eur(value)} per 1,000 orders (${fmt(ratio, 2)}× the cheapest measured)`,
      };
    }
    case 'failure-isolation': {
      const w = rep.faults?.worstAvailability;
      if (!w && rep.faults?.emulatedFaults) return emulatedFaults(rep.topology, rep.faults.emulatedFaults);
      if (!w || !model.evidence.availability) return priorBecause(`${rep.topology}: no fault experiments`);
      return {
        fit: bandFit(model.evidence.availability, w.value),
        source: 'measured',
        note: `${rep.topology}: browse availability ${fmt(w.value * 100, 1)}% during ${w.fault}`,
      };
    }
    case 'recovery': {
      const r = rep.faults?.slowestRecovery;
      if (!r && rep.faults?.emulatedFaults) return emulatedFaults(rep.topology, rep.faults.emulatedFaults);
      if (!r || !model.evidence.recoverySeconds) return priorBecause(`${rep.topology}: no recovery time measured`);
      if (!Number.isFinite(r.value))
        return { fit: model.evidence.neverRecoveredFit ?? 0, source: 'measured', note: `${rep.topology}: did not recover from ${r.fault} before the deadline` };
      return {
        fit: bandFit(model.evidence.recoverySeconds, r.value),
        source: 'measured',
        note: `${rep.topology}: whole again ${fmt(r.value, 1)} s after ${r.fault}`,
      };
    }
    case 'processes': {
      if (rep.processCount === null) return priorBecause(`${rep.topology}: process count not measured`);
      const scale = model.evidence.processCount;
      if (!Array.isArray(scale) && scale.payPerUse === 'prior' && rep.billedPerUse)
        return priorBecause(
          `${rep.topology}: billed per use, so its processes are the platform's to run, not the team's`,
          `${rep.topology}: processes run by the platform (billed per use)`,
        );
      const { fit, unknown } = processCountFit(model, answers, rep.processCount);
      // v4: on the scale of the answer the prior reads, named as the prior's level names it.
      const on = Array.isArray(scale) ? '' : unknown ? `, scored as the mean over the scales (${unknown} unknown)` : `, scored for ${prior.note}`;
      return {
        fit,
        source: 'measured',
        note: `${rep.topology}: ${rep.processCount} process${rep.processCount === 1 ? '' : 'es'} to run${on}`,
      };
    }
    case 'consistency': {
      if (!rep.consistency) return priorBecause(`${rep.topology}: consistency under faults not measured`);
      return { fit: model.evidence.consistency[rep.consistency.verdict], source: 'measured', note: `${rep.topology}: ${rep.consistency.detail}` };
    }
    default:
      return priorBecause('no evidence kind');
  }
}

// Assessments depend only on the evidence, the load answers, the model and the prices; the
// sensitivity analysis scores hundreds of answer variants that share them.
const assessmentCache = new WeakMap<Evidence, Map<string, TopologyAssessment[]>>();
function cachedAssessments(evidence: Evidence, answers: Answers, model: Model, prices: Prices, scenarios?: readonly string[]): TopologyAssessment[] {
  const key = JSON.stringify([answers.load, model.version, prices, scenarios ?? null]);
  let byKey = assessmentCache.get(evidence);
  if (!byKey) assessmentCache.set(evidence, (byKey = new Map()));
  let hit = byKey.get(key);
  if (!hit) {
    hit = assessTopologies(evidence, answers, model, prices, scenarios);
    if (byKey.size > 500) byKey.clear();
    byKey.set(key, hit);
  }
  return hit;
}

/**
 * What the cost criterion compares. Model v1 (`best-measured`) compares the measured options'
 * cost per 1,000 orders with the cheapest measured one. Model v2 (`all-or-prior`) compares the
 * monthly cost at the answers' load profile, and only when every option has one: a relative
 * "cheapest measured = best" next to absolute priors would favour whatever was measured.
 */
function costBasisOf(model: Model, reps: Map<OptionId, TopologyAssessment | undefined>): CostBasis {
  const of = model.cost.monthly ? (a: TopologyAssessment) => a.monthly?.monthlyUsd ?? null : (a: TopologyAssessment) => a.cost?.totalEurPer1kOrders ?? null;
  const values = OPTION_IDS.map((id) => ({ id, rep: reps.get(id), value: reps.get(id) ? of(reps.get(id)!) : null }));
  const present = values.filter((v): v is { id: OptionId; rep: TopologyAssessment; value: number } => v.value !== null && v.value >= 0);
  if (model.evidence.relative === 'all-or-prior') {
    const missing = values.filter((v) => v.value === null);
    if (missing.length) {
      const measured = present.map((v) => v.rep.topology);
      const unmeasured = missing.filter((v) => !v.rep).map((v) => v.id);
      // Measured, but not priced: an answer the estimate needs is unknown, or a figure is missing.
      const reasonOf = (a: TopologyAssessment) => (model.cost.monthly ? a.monthlyReason : a.costReason);
      const unpriced = missing.flatMap((v) => (v.rep ? [{ topology: v.rep.topology, reason: reasonOf(v.rep) }] : []));
      const reasons = [...new Set(unpriced.map((u) => u.reason))];
      const everyOption = unmeasured.length === 0 && unpriced.length === values.length && reasons.length === 1;
      const parts = [
        ...(unmeasured.length ? [`${measured.length ? `measured for ${measured.join(', ')} but not` : 'not measured'} for ${unmeasured.join(', ')}`] : []),
        ...(everyOption
          ? [reasons[0]!]
          : reasons.map(
              (r) =>
                `${r} for ${unpriced
                  .filter((u) => u.reason === r)
                  .map((u) => u.topology)
                  .join(', ')}`,
            )),
      ];
      return {
        cheapest: null,
        of,
        priorsBecause: everyOption
          ? `${parts.join('; ')}; every option uses the model's prior`
          : `${parts.join('; ')}; cost is only meaningful relative to the other options, so every option uses the model's prior until all ${unmeasured.length ? 'are measured' : 'have one'}`,
        priorsShort: everyOption
          ? reasons[0]!
          : unmeasured.length
            ? `not measured for ${unmeasured.join(', ')}`
            : `no cost estimate for ${unpriced.map((u) => u.topology).join(', ')}`,
      };
    }
  }
  const positive = present.map((v) => v.value).filter((v) => v > 0);
  return { cheapest: positive.length ? Math.min(...positive) : null, of, priorsBecause: null, priorsShort: null };
}

/**
 * Scores every option against the answers and the evidence. Pure: same inputs, same result.
 * Score = sum(weight x fit) / sum(weight x 5) x 100, per the model file.
 * @example const result = score(answers, NO_EVIDENCE, { model: MODEL_V1 }); result.recommendation
 */
export function score(answers: Answers, evidence: Evidence, options: ScoreOptions): ScoreResult {
  const { model } = options;
  const prices = options.prices ?? { vcpuHourEur: model.cost.vcpuHourEur, gbHourEur: model.cost.gbHourEur };
  const assessments = cachedAssessments(evidence, answers, model, prices, options.scenarios);
  const variants = new Map(OPTION_IDS.map((id) => [id, measuredVariants(model, id, assessments)]));
  const reps = new Map(OPTION_IDS.map((id) => [id, variants.get(id)![0]]));
  const costBasis = costBasisOf(model, reps);
  const unknowns = new Set<string>();

  const raw = model.criteria.map((criterion) => {
    const answerValue = criterion.answer ? getAnswer(answers, criterion.answer) : null;
    const unknown = criterion.answer !== undefined && isUnknown(answerValue);
    if (unknown) unknowns.add(criterion.answer!);
    if (criterion.weightBy && isUnknown(getAnswer(answers, criterion.weightBy.answer))) unknowns.add(criterion.weightBy.answer);
    const level = unknown ? unknownLevel(criterion) : matchLevel(criterion, answerValue).level;
    const weight = effectiveWeight(criterion, answers);
    const fits = Object.fromEntries(
      OPTION_IDS.map((id) => {
        const prior = { fit: level.fit[id], note: level.label, source: (unknown ? 'unknown' : 'answers') as FitSource };
        const f = !criterion.evidence
          ? { fit: prior.fit, source: prior.source, note: level.label }
          : criterion.evidence === 'latency' && model.evidence.saturatedUpperBound
            ? bestLatencyFit(criterion, model, answers, variants.get(id)!, costBasis, prior)
            : evidenceFit(criterion, model, answers, reps.get(id), costBasis, prior);
        return [id, { ...f, points: 0 }];
      }),
    ) as Record<OptionId, OptionFit>;
    return { criterion, answerValue: unknown ? 'unknown' : answerValue, level, weight, fits };
  });
  for (const path of ['load.expectedRps', 'load.p95BudgetMs']) if (evidence.topologies.length && isUnknown(getAnswer(answers, path))) unknowns.add(path);
  const maxTotal = raw.reduce((sum, r) => sum + r.weight * model.scale.max, 0);
  const criteria: CriterionScore[] = raw.map(({ criterion, answerValue, level, weight, fits }) => {
    for (const id of OPTION_IDS) fits[id].points = (weight * fits[id].fit * 100) / maxTotal;
    return {
      id: criterion.id,
      title: criterion.title,
      group: criterion.group,
      why: criterion.why,
      answerPath: criterion.answer ?? null,
      answerValue,
      level: level.label,
      baseWeight: criterion.weight,
      weight,
      evidence: criterion.evidence ?? null,
      fits,
    };
  });

  const ranking = OPTION_IDS.map<OptionScore>((id) => ({
    option: id,
    title: model.options.find((o) => o.id === id)?.title ?? id,
    score: criteria.reduce((sum, c) => sum + c.fits[id].points, 0),
    measuredAs: reps.get(id)?.topology ?? null,
    ...latencyFrom(criteria, id),
  })).sort((a, b) => {
    // Compare rounded scores so float noise never decides; ties go to the simpler option.
    const diff = Math.round(b.score * 1e6) - Math.round(a.score * 1e6);
    return diff !== 0 ? diff : model.tieOrder.indexOf(a.option) - model.tieOrder.indexOf(b.option);
  });
  const [first, second] = ranking as [OptionScore, OptionScore];

  const notes: string[] = [];
  if (evidence.topologies.length === 0)
    notes.push('No measured evidence was given: every option is scored from the answers alone (evidence criteria use the model priors).');
  for (const id of OPTION_IDS) {
    const o = model.options.find((x) => x.id === id);
    if (!reps.get(id)) {
      notes.push(
        o?.measuredAs.length
          ? `${o.title} was not measured (no ${o.measuredAs.join(' or ')} in the evidence); its evidence criteria use the model priors.`
          : `${o?.title ?? id} is not one of the measured topologies: it is scored from the answers alone (evidence criteria use the model priors).`,
      );
    }
  }
  for (const t of evidence.topologies) {
    const option = [...reps].find(([, r]) => r?.topology === t.topology)?.[0];
    if (!t.emulated || !option) continue;
    // Only the criteria that did fall back: a deployment's (or a k6 run's) figures beside the local ones count.
    const fromPrior = criteria.filter((c) => c.fits[option].emulated).map((c) => CRITERION_NAMES[c.evidence ?? ''] ?? c.title);
    if (model.evidence.notFromEmulator?.length && !fromPrior.length) continue;
    const emulator = `${t.topology} was measured on a local emulator of its platform (one workerd process running the workers, D1 and the queues, on the machine that generated the load), not on Cloudflare, which scales out per request and runs D1 and Queues as remote services`;
    notes.push(
      fromPrior.length
        ? `${emulator}: model v${model.version} does not count the emulator's figures for its ${listed(fromPrior)} and scores ${fromPrior.length === 1 ? 'it' : 'them'} from the prior, as if not measured; its other measured figures (such as CPU, hops, queue messages and rows per request, which the running cost prices) count. Measure a deployment (\`pnpm compare --target ${t.topology}=URL\`) to score ${fromPrior.length === 1 ? 'it' : 'them'} too.`
        : `${emulator}: its latency under load and its fault figures are the emulator's. Measure a deployment (\`pnpm compare --target ${t.topology}=URL\`) before relying on them.`,
    );
  }
  if (costBasis.priorsBecause && model.criteria.some((c) => c.evidence === 'cost') && evidence.topologies.length)
    notes.push(`Running cost: ${costBasis.priorsBecause}.`);
  for (const path of unknowns)
    notes.push(`${path} is unknown: scored from the model's prior (each option's mean fit over the possible answers); an assumption to confirm.`);
  return {
    modelVersion: model.version,
    unknowns: [...unknowns],
    ranking,
    recommendation: first.option,
    runnerUp: second.option,
    // Ranked on scores rounded to 1e-6 (float noise never decides), so the margin is too: a tie is
    // 0, never -0.0 points.
    margin: first.score - second.score < 1e-6 ? 0 : first.score - second.score,
    criteria,
    assessments,
    prices,
    notes,
  };
}
