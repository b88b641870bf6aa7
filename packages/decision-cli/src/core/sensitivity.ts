import { enumValuesOf, getAnswer, isUnknown, knownNumber, withAnswer, type Answers } from './answers';
import { attemptedRps, type Evidence } from './evidence';
import { emulatorCounts, type Model, type OptionId } from './model';
import { matchLevel, score, type ScoreOptions, type ScoreResult } from './scoring';

/** One answer changed to another value. */
export interface AnswerChange {
  path: string;
  from: unknown;
  to: unknown;
  /** Changes of the close call met walking from the current answer to this value, its own included
   * (see closeCallSteps): the same for enums and numbers. A value of an unknown answer is 1 step. */
  steps: number;
}

export interface Flip {
  changes: AnswerChange[];
  /** The option that would win instead. */
  winner: OptionId;
  /** The option that would come second after the change. */
  runnerUp: OptionId;
  /** The winner's lead over the runner-up after the change (0 when the tie-break decides). */
  margin: number;
}

export interface Sensitivity {
  recommendation: OptionId;
  runnerUp: OptionId;
  margin: number;
  /** The smallest change that flips the recommendation; null when no single change does, nor a pair of
   * one-step changes (only those are paired). */
  smallestFlip: Flip | null;
  /** Every single-answer change that flips it, smallest first (of values that score alike for the
   * close call on one side of an answer, only the nearest). */
  singleFlips: Flip[];
  /** When nothing flips: the single change that narrows the margin most. */
  closest: { change: AnswerChange; margin: number } | null;
}

interface Candidate extends AnswerChange {
  /** |to - from| / |from| for numbers, 0 for enums; breaks ties between equal step counts. */
  relative: number;
  /** Which side of the current answer the value lies on (-1 below, 1 above, in enum or numeric order),
   * and how far (enum positions, or |to - from|): the order closeCallSteps walks in. 0 for a value
   * of an unknown answer, which is not walked. */
  side: -1 | 0 | 1;
  distance: number;
}

/** Answer paths the model reads, plus the load figures the evidence is judged at. */
function relevantPaths(model: Model): string[] {
  const paths = new Set<string>();
  for (const c of model.criteria) {
    if (c.answer) paths.add(c.answer);
    if (c.weightBy) paths.add(c.weightBy.answer);
  }
  paths.add('load.expectedRps');
  paths.add('load.p95BudgetMs');
  if (model.cost.monthly) {
    paths.add('load.peakRps');
    paths.add('load.busyHoursPerDay');
  }
  return [...paths];
}

/** The smallest whole number from which `holds` holds, near `guess` (`holds` grows with the number;
 * the guess is exact but for floating-point rounding). */
function firstWhole(guess: number, holds: (n: number) => boolean): number {
  if (!Number.isFinite(guess)) return guess;
  let n = guess;
  while (!holds(n) && n < guess + 3) n++;
  while (n > 1 && holds(n - 1) && n > guess - 3) n--;
  return n;
}

/** Numbers worth trying for a numeric answer: the nearest value inside each other band of the
 * criteria that read it, plus values where the measured evidence changes its verdict.
 * Their steps are left at 0 here: a number is as many steps away as the changes of the close call
 * met on the way to it, which only its scores tell (see closeCallSteps). Counting the values tried,
 * or changes of any option's total, made steps depend on unrelated measurements: every measured
 * p95 brings budget breakpoints, and moves its own topology's total. */
function numericCandidates(path: string, current: number, model: Model, evidence: Evidence): Candidate[] {
  const values = new Set<number>();
  const criteria = model.criteria.filter((c) => c.answer === path);
  for (const criterion of criteria) {
    const maxes = criterion.levels.map((l) => (l.when && 'max' in l.when ? l.when.max : Infinity));
    const here = matchLevel(criterion, current).index;
    maxes.forEach((max, i) => {
      if (i === here) return;
      const lower = i === 0 ? 1 : (maxes[i - 1] ?? 0) + 1;
      const value = i < here ? max : lower;
      if (Number.isFinite(value) && value > 0) values.add(value);
    });
  }
  // Evidence breakpoints: each budget where a measured p95 starts to meet it or to keep a band of
  // the model's headroom, and each rate a measured run stops demonstrating. Of each threshold, the
  // value past it seen from the current answer is tried: the first that holds it when it lies above,
  // the last that does not when it lies below. Walking outward, each change of a score is then seen
  // where it happens, not at whichever value of another measurement or band edge comes next (see
  // closeCallSteps); the value on the current answer's side scores as a nearer one, so is not tried.
  // Only figures the model counts (v3 leaves out a local emulator's) can change a verdict.
  const add = (first: number) => {
    const v = first > current ? first : first - 1;
    if (Number.isFinite(v) && v > 0) values.add(v);
  };
  const headrooms = [...new Set([0, ...model.evidence.latencyHeadroom.flatMap((b) => (b.min !== undefined && b.min >= 0 && b.min < 1 ? [b.min] : []))])];
  for (const t of evidence.topologies) {
    for (const s of t.scenarios.filter((x) => !x.emulated || emulatorCounts(model, 'latency'))) {
      if (path === 'load.p95BudgetMs') {
        // The smallest whole budget with this headroom, by the scoring's own arithmetic (a budget
        // meets at headroom 0).
        for (const h of headrooms) add(firstWhole(Math.ceil(s.p95Ms / (1 - h)), (b) => (b - s.p95Ms) / b >= h));
      }
      if (path === 'load.expectedRps' || path === 'load.peakRps') {
        // The smallest whole rate the run no longer demonstrates.
        const attempted = attemptedRps(s);
        add(firstWhole(Math.floor(attempted / model.evidence.rateTolerance) + 1, (r) => attempted < r * model.evidence.rateTolerance));
      }
    }
  }
  values.delete(current);
  return [...values].map((to) => ({
    path,
    from: current,
    to,
    steps: 0,
    relative: Math.abs(to - current) / Math.abs(current || 1),
    side: to < current ? -1 : 1,
    distance: Math.abs(to - current),
  }));
}

/**
 * The same close call: the same recommended option and runner-up, and the same totals (within 1e-9,
 * rounding) for the two options the baseline's call is between — its recommendation and runner-up.
 * A change that moves only other options' totals leaves the close call as it is.
 */
function sameCloseCall(a: ScoreResult, b: ScoreResult, baseline: ScoreResult): boolean {
  const total = (r: ScoreResult, option: OptionId) => r.ranking.find((o) => o.option === option)?.score ?? NaN;
  return (
    a.recommendation === b.recommendation &&
    a.runnerUp === b.runnerUp &&
    [baseline.recommendation, baseline.runnerUp].every((option) => Math.abs(total(a, option) - total(b, option)) <= 1e-9)
  );
}

/**
 * Steps of the known answers' candidates, from their scores, for enums and numbers alike. Along
 * each answer, on each side of the current value, nearest first (enum order, or numeric order), a
 * candidate whose close call differs from the nearer candidate's — the baseline's for the first —
 * is one step further: another recommendation or runner-up, or another total for the baseline's
 * recommendation or runner-up (see sameCloseCall). One with the same close call is as far as the
 * nearer one (0 when it is the baseline's) and repeats it. So a value that moves only a third
 * option's total, e.g. a budget breakpoint of an unrelated topology's measurement, adds no step.
 * Invalid candidates are not here, so add none; unknown answers' values (side 0) keep 1 step each.
 * Returns the candidates with their steps, and whether each repeats a nearer close call.
 */
function closeCallSteps(scored: Array<{ c: Candidate; r: ScoreResult }>, baseline: ScoreResult): Array<{ c: Candidate; r: ScoreResult; repeat: boolean }> {
  const out = scored.map((x) => ({ ...x, repeat: false }));
  const sides = new Map<string, typeof out>();
  for (const x of out) {
    if (x.c.side === 0) continue;
    const key = `${x.c.path}${x.c.side < 0 ? '<' : '>'}`;
    if (!sides.has(key)) sides.set(key, []);
    sides.get(key)!.push(x);
  }
  for (const side of sides.values()) {
    side.sort((a, b) => a.c.distance - b.c.distance); // nearest first
    let previous = baseline;
    let steps = 0;
    for (const x of side) {
      x.repeat = sameCloseCall(x.r, previous, baseline);
      if (!x.repeat) steps++;
      x.c = { ...x.c, steps };
      previous = x.r;
    }
  }
  return out;
}

/** Values an unknown answer could take: every enum value, or one number in each band of the criteria that read it. */
function unknownCandidates(path: string, model: Model): Candidate[] {
  const current = 'unknown';
  const values = enumValuesOf(path);
  if (values) return values.map((to) => ({ path, from: current, to, steps: 1, relative: 0, side: 0, distance: 0 }));
  const numbers = new Set<number>();
  for (const criterion of model.criteria.filter((c) => c.answer === path)) {
    let lower = 1;
    for (const level of criterion.levels) {
      const max = level.when && 'max' in level.when ? level.when.max : undefined;
      numbers.add(max ?? lower * 2);
      if (max !== undefined) lower = max + 1;
    }
  }
  return [...numbers].map((to) => ({ path, from: current, to, steps: 1, relative: 0, side: 0, distance: 0 }));
}

function candidatesFor(path: string, answers: Answers, model: Model, evidence: Evidence): Candidate[] {
  const current = getAnswer(answers, path);
  if (isUnknown(current)) return unknownCandidates(path, model);
  const values = enumValuesOf(path);
  if (values) {
    const here = values.indexOf(String(current));
    // Steps are set from the scores, as for numbers (see closeCallSteps).
    return values
      .filter((v) => v !== current)
      .map((to) => ({
        path,
        from: current,
        to,
        steps: 0,
        relative: 0,
        side: values.indexOf(to) < here ? -1 : 1,
        distance: Math.abs(values.indexOf(to) - here),
      }));
  }
  if (typeof current === 'number') return numericCandidates(path, current, model, evidence);
  return [];
}

// Candidates are allowed enum values or positive numbers, so the only rule a single change can
// break is the cross-field one; checking it directly keeps the pair search fast.
function valid(answers: Answers): boolean {
  const peak = knownNumber(answers, 'load.peakRps');
  const expected = knownNumber(answers, 'load.expectedRps');
  const teams = knownNumber(answers, 'team.teams');
  const engineers = knownNumber(answers, 'team.engineers');
  return (peak === null || expected === null || peak >= expected) && (teams === null || engineers === null || teams <= engineers);
}

// Smallest first: fewest ordinal steps, then smallest relative change of a number; among equally
// small changes the one that flips most decisively (largest new margin), then by path for determinism.
const bySize = (a: { changes: Candidate[]; margin: number }, b: { changes: Candidate[]; margin: number }) => {
  const steps = (x: { changes: Candidate[] }) => x.changes.reduce((s, c) => s + c.steps, 0);
  const rel = (x: { changes: Candidate[] }) => x.changes.reduce((s, c) => s + c.relative, 0);
  return (
    steps(a) - steps(b) ||
    rel(a) - rel(b) ||
    b.margin - a.margin ||
    a.changes
      .map((c) => c.path)
      .join()
      .localeCompare(b.changes.map((c) => c.path).join())
  );
};

const strip = (c: Candidate): AnswerChange => ({ path: c.path, from: c.from, to: c.to, steps: c.steps });

/**
 * Finds the smallest change in answers that flips the recommendation: every single-answer change
 * first (fewest ordinal steps, then smallest relative change), then pairs of one-step changes.
 * @example analyseSensitivity(answers, evidence, { model: MODEL_V1 }).smallestFlip
 */
export function analyseSensitivity(answers: Answers, evidence: Evidence, options: ScoreOptions, base?: ScoreResult): Sensitivity {
  const baseline = base ?? score(answers, evidence, options);
  const candidates = relevantPaths(options.model).flatMap((p) => candidatesFor(p, answers, options.model, evidence));
  const singles: Array<{ changes: Candidate[]; winner: OptionId; runnerUp: OptionId; margin: number }> = [];
  let closest: Sensitivity['closest'] = null;
  const narrowing: Array<{ c: Candidate; margin: number }> = [];
  const scored: Array<{ c: Candidate; r: ScoreResult }> = [];
  for (const c of candidates) {
    const changed = withAnswer(answers, c.path, c.to);
    if (valid(changed)) scored.push({ c, r: score(changed, evidence, options) });
  }
  for (const { c, r, repeat } of closeCallSteps(scored, baseline)) {
    // A value with the same close call as a nearer one is the same change: only the nearer counts.
    if (repeat) continue;
    if (r.recommendation !== baseline.recommendation) {
      singles.push({ changes: [c], winner: r.recommendation, runnerUp: r.runnerUp, margin: r.margin });
    } else {
      if (!closest || r.margin < closest.margin) closest = { change: strip(c), margin: r.margin };
      if (c.steps === 1 && r.margin < baseline.margin) narrowing.push({ c, margin: r.margin });
    }
  }
  singles.sort(bySize);
  let smallest = singles[0] ?? null;
  if (!smallest) {
    // Only one-step changes that narrow the lead can add up to a flip; the dozen that narrow it
    // most are paired (every pair of every candidate would cost thousands of scorings).
    const oneStep = narrowing
      .sort((a, b) => a.margin - b.margin)
      .slice(0, 12)
      .map((x) => x.c);
    const pairs: typeof singles = [];
    for (let i = 0; i < oneStep.length; i++) {
      for (let j = i + 1; j < oneStep.length; j++) {
        const a = oneStep[i]!;
        const b = oneStep[j]!;
        if (a.path === b.path) continue;
        const changed = withAnswer(withAnswer(answers, a.path, a.to), b.path, b.to);
        if (!valid(changed)) continue;
        const r = score(changed, evidence, options);
        if (r.recommendation !== baseline.recommendation) pairs.push({ changes: [a, b], winner: r.recommendation, runnerUp: r.runnerUp, margin: r.margin });
      }
    }
    pairs.sort(bySize);
    smallest = pairs[0] ?? null;
  }
  const toFlip = (f: (typeof singles)[number]): Flip => ({ changes: f.changes.map(strip), winner: f.winner, runnerUp: f.runnerUp, margin: f.margin });
  return {
    recommendation: baseline.recommendation,
    runnerUp: baseline.runnerUp,
    margin: baseline.margin,
    smallestFlip: smallest ? toFlip(smallest) : null,
    singleFlips: singles.map(toFlip),
    closest: singles.length ? null : closest,
  };
}

/**
 * One sentence describing a flip, e.g.
 * `if change.independentReleases were "most" instead of "some", Microservices would lead by 3.1 points`.
 */
export function describeFlip(flip: Flip, title: (id: OptionId) => string): string {
  const what = flip.changes.map((c) => `${c.path} were ${JSON.stringify(c.to)} instead of ${JSON.stringify(c.from)}`).join(' and ');
  if (flip.margin < 0.05) return `if ${what}, ${title(flip.winner)} would draw level with ${title(flip.runnerUp)} and win the tie-break (simpler option first)`;
  return `if ${what}, ${title(flip.winner)} would lead ${title(flip.runnerUp)} by ${flip.margin.toFixed(1)} points`;
}

/** How sure the recommendation is: a margin below the model's threshold, a flip by one step of one answer, or an unknown answer whose value would decide it make it too close to call. */
export interface Confidence {
  level: 'clear' | 'too-close';
  /** Points the recommendation leads by, and the threshold it is judged against. */
  margin: number;
  threshold: number;
  /** Why it is too close (empty when clear). */
  reasons: string[];
  /** Answers that would decide it, e.g. `team.teams (9 instead of 8 → Microservices)`. */
  deciding: string[];
  /** Answers that were unknown (scored from the prior). */
  unknowns: string[];
  /** The criteria that put the recommendation ahead of the runner-up most, with their answers. */
  drivers: Array<{ criterion: string; answerPath: string | null; answer: unknown; points: number }>;
}

const show = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/**
 * Judges whether the recommendation is clear or too close to call, and names what decides it.
 * @example assessConfidence(result, sensitivity, MODEL_V2).level // 'too-close'
 */
export function assessConfidence(result: ScoreResult, sensitivity: Sensitivity, model: Model, title: (id: OptionId) => string = (id) => id): Confidence {
  const threshold = model.confidence?.marginPoints ?? 0;
  // Big answers legitimately decide: a one-step flip only marks a near-tie while the lead is small.
  const flipsCount = threshold > 0 && result.margin < (model.confidence?.flipMarginPoints ?? threshold);
  const reasons: string[] = [];
  const deciding = new Map<string, string>();
  const oneStep = sensitivity.singleFlips.filter((f) => f.changes.length === 1 && f.changes[0]!.steps <= 1);
  if (threshold > 0 && result.margin < threshold) reasons.push(`the margin of ${result.margin.toFixed(1)} points is below the ${threshold}-point threshold`);
  const unknownFlips = oneStep.filter((f) => result.unknowns.includes(f.changes[0]!.path));
  const knownFlips = oneStep.filter((f) => !result.unknowns.includes(f.changes[0]!.path));
  if (flipsCount && knownFlips.length)
    reasons.push(`${knownFlips.length} one-step change${knownFlips.length === 1 ? '' : 's'} of a single answer flip${knownFlips.length === 1 ? 's' : ''} it`);
  if (flipsCount && unknownFlips.length) reasons.push(`the unknown ${[...new Set(unknownFlips.map((f) => f.changes[0]!.path))].join(', ')} would decide it`);
  for (const f of [...unknownFlips, ...knownFlips, ...sensitivity.singleFlips]) {
    const c = f.changes[0]!;
    if (!deciding.has(c.path)) deciding.set(c.path, `${c.path} (${show(c.to)} instead of ${show(c.from)} → ${title(f.winner)})`);
  }
  const runner = result.runnerUp;
  const drivers = result.criteria
    .map((c) => ({ criterion: c.title, answerPath: c.answerPath, answer: c.answerValue, points: c.fits[result.recommendation].points - c.fits[runner].points }))
    .filter((d) => d.points > 0.05)
    .sort((a, b) => b.points - a.points)
    .slice(0, 4);
  return {
    level: reasons.length ? 'too-close' : 'clear',
    margin: result.margin,
    threshold,
    reasons,
    deciding: [...deciding.values()].slice(0, 5),
    unknowns: result.unknowns,
    drivers,
  };
}

/** One line for terminal and reports, e.g. `Too close to call: ... Deciding answers: ...`. */
export function describeConfidence(c: Confidence, { withLevel = true }: { withLevel?: boolean } = {}): string {
  const drivers = c.drivers.length
    ? ` Ahead mostly on ${c.drivers.map((d) => `${d.criterion.toLowerCase()}${d.answerPath ? ` (${d.answerPath}: ${show(d.answer)})` : ''} +${d.points.toFixed(1)}`).join(', ')}.`
    : '';
  if (c.level === 'clear')
    return `Clear: ahead by ${c.margin.toFixed(1)} points (threshold ${c.threshold})${c.deciding.length ? `; the nearest changes that would flip it: ${c.deciding.slice(0, 2).join(', ')}` : ''}.${drivers}`;
  return `${withLevel ? 'Too close to call: ' : ''}${c.reasons.join('; ')}.${c.deciding.length ? ` Deciding answers: ${c.deciding.join(', ')}.` : ''}${drivers}`;
}
