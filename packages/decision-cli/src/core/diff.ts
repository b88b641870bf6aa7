import { ANSWER_PATHS, getAnswer, type Answers } from './answers';
import type { Evidence } from './evidence';
import { OPTION_IDS, type OptionId } from './model';
import { score, type ScoreOptions, type ScoreResult } from './scoring';

export interface AnswerDelta {
  path: string;
  from: unknown;
  to: unknown;
  /** Points this answer alone moves between the two leaders of B (positive: towards B's winner). */
  effect: number;
}

export interface CriterionDelta {
  id: string;
  title: string;
  /** Points per option in A and B. */
  a: Record<OptionId, number>;
  b: Record<OptionId, number>;
}

/** What changed between two answer sets and what it did to the ranking. */
export interface DecisionDiff {
  modelVersion: number;
  a: { recommendation: OptionId; margin: number; scores: Record<OptionId, number> };
  b: { recommendation: OptionId; margin: number; scores: Record<OptionId, number> };
  answers: AnswerDelta[];
  /** Criteria whose points moved, largest move of the lead between B's top two first. */
  criteria: CriterionDelta[];
}

const scores = (r: ScoreResult) => Object.fromEntries(r.ranking.map((o) => [o.option, o.score])) as Record<OptionId, number>;
const same = (x: unknown, y: unknown) => JSON.stringify(x ?? 'unknown') === JSON.stringify(y ?? 'unknown');

/**
 * Scores two answer sets with the same model and evidence and says which answers and which
 * criteria moved the ranking.
 * @example diffDecisions(before, after, NO_EVIDENCE, { model: CURRENT_MODEL }).answers
 */
export function diffDecisions(a: Answers, b: Answers, evidence: Evidence, options: ScoreOptions): DecisionDiff {
  const ra = score(a, evidence, options);
  const rb = score(b, evidence, options);
  const [lead, second] = [rb.recommendation, ra.recommendation !== rb.recommendation ? ra.recommendation : rb.runnerUp];
  const gap = (r: ScoreResult) => {
    const s = scores(r);
    return s[lead] - s[second];
  };
  const base = gap(ra);
  const answers = ANSWER_PATHS.filter((p) => !same(getAnswer(a, p), getAnswer(b, p))).map<AnswerDelta>((path) => {
    // The effect of one answer: A with only this answer taken from B.
    const copy = structuredClone(a) as unknown as Record<string, Record<string, unknown> | unknown>;
    const keys = path.split('.');
    let cur = copy as Record<string, unknown>;
    for (const k of keys.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    const to = getAnswer(b, path);
    if (to === undefined) delete cur[keys.at(-1)!];
    else cur[keys.at(-1)!] = to;
    let effect = 0;
    try {
      effect = gap(score(copy as unknown as Answers, evidence, options)) - base;
    } catch {
      effect = 0; // an incoherent halfway state (e.g. peak below expected) has no meaningful score
    }
    return { path, from: getAnswer(a, path) ?? 'unknown', to: to ?? 'unknown', effect };
  });
  answers.sort((x, y) => Math.abs(y.effect) - Math.abs(x.effect));
  const byId = new Map(ra.criteria.map((c) => [c.id, c]));
  const criteria = rb.criteria
    .map<CriterionDelta>((c) => {
      const before = byId.get(c.id);
      const pts = (r: typeof c | undefined) => Object.fromEntries(OPTION_IDS.map((id) => [id, r ? r.fits[id].points : 0])) as Record<OptionId, number>;
      return { id: c.id, title: c.title, a: pts(before), b: pts(c) };
    })
    .filter((c) => OPTION_IDS.some((id) => Math.abs(c.a[id] - c.b[id]) > 0.05));
  const leadMove = (c: CriterionDelta) => c.b[lead] - c.b[second] - (c.a[lead] - c.a[second]);
  criteria.sort((x, y) => Math.abs(leadMove(y)) - Math.abs(leadMove(x)));
  return {
    modelVersion: options.model.version,
    a: { recommendation: ra.recommendation, margin: ra.margin, scores: scores(ra) },
    b: { recommendation: rb.recommendation, margin: rb.margin, scores: scores(rb) },
    answers,
    criteria,
  };
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
const signed = (n: number) => `${n >= 0 ? '+' : ''}${n.toFixed(1)}`;

/** The diff as terminal text. */
export function renderDiff(d: DecisionDiff, labelA: string, labelB: string, title: (id: OptionId) => string): string {
  const lines = [
    `A ${labelA}: ${title(d.a.recommendation)} by ${d.a.margin.toFixed(1)} points`,
    `B ${labelB}: ${title(d.b.recommendation)} by ${d.b.margin.toFixed(1)} points${d.a.recommendation === d.b.recommendation ? ' (same recommendation)' : ' (the recommendation changed)'}`,
    `(both scored with model v${d.modelVersion})`,
    '',
    'Scores:',
    ...OPTION_IDS.map(
      (id) =>
        `  ${title(id).padEnd(18)} ${d.a.scores[id].toFixed(1).padStart(5)} → ${d.b.scores[id].toFixed(1).padStart(5)}  (${signed(d.b.scores[id] - d.a.scores[id])})`,
    ),
    '',
  ];
  const [lead, second] = [
    d.b.recommendation,
    d.a.recommendation !== d.b.recommendation ? d.a.recommendation : (Object.entries(d.b.scores).sort((x, y) => y[1] - x[1])[1]![0] as OptionId),
  ];
  if (d.answers.length === 0) lines.push('No answer differs.');
  else {
    lines.push(`Answers that differ (effect of each alone on ${title(lead)} vs ${title(second)}, points):`);
    for (const a of d.answers) lines.push(`  ${a.path}: ${show(a.from)} → ${show(a.to)}  (${signed(a.effect)})`);
  }
  if (d.criteria.length) {
    lines.push('', 'Criteria that moved (points, A → B):');
    for (const c of d.criteria.slice(0, 8))
      lines.push(
        `  ${c.title}: ${title(lead)} ${c.a[lead].toFixed(1)} → ${c.b[lead].toFixed(1)}, ${title(second)} ${c.a[second].toFixed(1)} → ${c.b[second].toFixed(1)}`,
      );
  }
  return `${lines.join('\n')}\n`;
}
