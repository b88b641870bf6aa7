import { getAnswer, type Answers } from './answers';
import { assessTopologies, bandFit, type Evidence, type Prices, type TopologyAssessment } from './evidence';
import { eur } from './markdown';
import { OPTION_IDS, type Model, type ModelCriterion, type ModelLevel, type OptionId } from './model';

export type FitSource = 'answers' | 'measured' | 'prior';

export interface OptionFit {
  fit: number;
  /** Points this criterion adds to the option's 0..100 score. */
  points: number;
  source: FitSource;
  /** Why this fit, in a few words (the level label or the measurement). */
  note: string;
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
}

export interface ScoreOptions {
  model: Model;
  prices?: Prices;
  /** Only these scenarios count as latency evidence (default: all). */
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
  const factor = criterion.weightBy.factors[String(getAnswer(answers, criterion.weightBy.answer))];
  return criterion.weight * (factor ?? 1);
}

const STATUS_RANK = { meets: 3, 'not-demonstrated': 2, fails: 1, unmeasured: 0 } as const;

/** Picks the measured topology that stands for an option: the one that best meets the budget. */
function representative(model: Model, option: OptionId, assessments: TopologyAssessment[]): TopologyAssessment | undefined {
  const names = model.options.find((o) => o.id === option)?.measuredAs ?? [];
  const candidates = assessments.filter((a) => names.includes(a.topology) && a.latency.status !== 'unmeasured');
  return candidates.sort(
    (a, b) =>
      STATUS_RANK[b.latency.status] - STATUS_RANK[a.latency.status] ||
      (b.latency.headroom ?? -Infinity) - (a.latency.headroom ?? -Infinity) ||
      names.indexOf(a.topology) - names.indexOf(b.topology),
  )[0];
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function evidenceFit(
  criterion: ModelCriterion,
  model: Model,
  rep: TopologyAssessment | undefined,
  cheapest: number | null,
  prior: { fit: number; note: string },
): { fit: number; source: FitSource; note: string } {
  const priorBecause = (why: string) => ({ fit: prior.fit, source: 'prior' as const, note: criterion.answer ? `${why}; model prior for ${prior.note}` : `${why}; model prior` });
  if (!rep) return priorBecause('not measured');
  switch (criterion.evidence) {
    case 'latency': {
      const l = rep.latency;
      if (l.status === 'meets') return { fit: bandFit(model.evidence.latencyHeadroom, l.headroom ?? 0), source: 'measured', note: `${rep.topology}: ${l.reason}` };
      if (l.status === 'fails') return { fit: model.evidence.latencyFailFit, source: 'measured', note: `${rep.topology}: ${l.reason}` };
      return priorBecause(`${rep.topology}: ${l.reason}`);
    }
    case 'cost': {
      if (!rep.cost || cheapest === null) return priorBecause(`${rep.topology}: cost ${rep.costReason}`);
      const ratio = rep.cost.totalEurPer1kOrders / cheapest;
      return {
        fit: bandFit(model.evidence.costRatio, ratio),
        source: 'measured',
        note: `${rep.topology}: ${eur(rep.cost.totalEurPer1kOrders)} per 1,000 orders (${fmt(ratio, 2)}× the cheapest measured)`,
      };
    }
    case 'processes': {
      if (rep.processCount === null) return priorBecause(`${rep.topology}: process count not measured`);
      return { fit: bandFit(model.evidence.processCount, rep.processCount), source: 'measured', note: `${rep.topology}: ${rep.processCount} process${rep.processCount === 1 ? '' : 'es'} to run` };
    }
    case 'consistency': {
      if (!rep.consistency) return priorBecause(`${rep.topology}: consistency under faults not measured`);
      return { fit: model.evidence.consistency[rep.consistency.verdict], source: 'measured', note: `${rep.topology}: ${rep.consistency.detail}` };
    }
    default:
      return priorBecause('no evidence kind');
  }
}

/**
 * Scores every option against the answers and the evidence. Pure: same inputs, same result.
 * Score = sum(weight x fit) / sum(weight x 5) x 100, per the model file.
 * @example const result = score(answers, NO_EVIDENCE, { model: MODEL_V1 }); result.recommendation
 */
export function score(answers: Answers, evidence: Evidence, options: ScoreOptions): ScoreResult {
  const { model } = options;
  const prices = options.prices ?? { vcpuHourEur: model.cost.vcpuHourEur, gbHourEur: model.cost.gbHourEur };
  const assessments = assessTopologies(evidence, answers, model, prices, options.scenarios);
  const reps = new Map(OPTION_IDS.map((id) => [id, representative(model, id, assessments)]));
  const costs = [...reps.values()].map((r) => r?.cost?.totalEurPer1kOrders).filter((c): c is number => c !== undefined && c > 0);
  const cheapest = costs.length ? Math.min(...costs) : null;

  const raw = model.criteria.map((criterion) => {
    const answerValue = criterion.answer ? getAnswer(answers, criterion.answer) : null;
    const { level } = matchLevel(criterion, answerValue);
    const weight = effectiveWeight(criterion, answers);
    const fits = Object.fromEntries(
      OPTION_IDS.map((id) => {
        const prior = { fit: level.fit[id], note: level.label };
        const f = criterion.evidence ? evidenceFit(criterion, model, reps.get(id), cheapest, prior) : { fit: prior.fit, source: 'answers' as const, note: level.label };
        return [id, { ...f, points: 0 }];
      }),
    ) as Record<OptionId, OptionFit>;
    return { criterion, answerValue, level, weight, fits };
  });
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
  })).sort((a, b) => {
    // Compare rounded scores so float noise never decides; ties go to the simpler option.
    const diff = Math.round(b.score * 1e6) - Math.round(a.score * 1e6);
    return diff !== 0 ? diff : model.tieOrder.indexOf(a.option) - model.tieOrder.indexOf(b.option);
  });
  const [first, second] = ranking as [OptionScore, OptionScore];

  const notes: string[] = [];
  if (evidence.topologies.length === 0) notes.push('No measured evidence was given: every option is scored from the answers alone (evidence criteria use the model priors).');
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
  return {
    modelVersion: model.version,
    ranking,
    recommendation: first.option,
    runnerUp: second.option,
    margin: first.score - second.score,
    criteria,
    assessments,
    prices,
    notes,
  };
}
