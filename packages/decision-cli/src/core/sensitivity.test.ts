import { describe, expect, it } from 'vitest';
import { comparisonFixture } from '../../test/fixtures/comparison';
import { MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { DEFAULT_ANSWERS, withAnswer, type Answers } from './answers';
import { evidenceFromComparison, NO_EVIDENCE } from './evidence';
import { MODEL_V1, optionTitle } from './model';
import { score } from './scoring';
import { analyseSensitivity, describeFlip } from './sensitivity';

const options = { model: MODEL_V1 };
const FEW_TEAMS_SOME_INDEPENDENT: Answers = {
  ...DEFAULT_ANSWERS,
  team: { teams: 3, engineers: 25, onCall: 'shared-rotation', platformMaturity: 'basic' },
  change: { releaseFrequency: 'daily', independentReleases: 'some' },
  load: { ...DEFAULT_ANSWERS.load, scalingProfile: 'uneven' },
};

function apply(answers: Answers, changes: Array<{ path: string; to: unknown }>): Answers {
  return changes.reduce((a, c) => withAnswer(a, c.path, c.to), answers);
}

describe('analyseSensitivity', () => {
  it('names the smallest single change that flips a close call, with the margin', () => {
    const s = analyseSensitivity(FEW_TEAMS_SOME_INDEPENDENT, NO_EVIDENCE, options);
    const base = score(FEW_TEAMS_SOME_INDEPENDENT, NO_EVIDENCE, options);
    expect(s.recommendation).toBe('hybrid');
    expect(s.margin).toBeCloseTo(base.ranking[0]!.score - base.ranking[1]!.score, 9);
    expect(s.smallestFlip?.changes).toEqual([{ path: 'change.independentReleases', from: 'some', to: 'none', steps: 1 }]);
    expect(s.smallestFlip?.winner).toBe('modular-monolith');
    // The reported flip really happens, with the reported margin.
    const flipped = score(apply(FEW_TEAMS_SOME_INDEPENDENT, s.smallestFlip!.changes), NO_EVIDENCE, options);
    expect(flipped.recommendation).toBe('modular-monolith');
    expect(flipped.margin).toBeCloseTo(s.smallestFlip!.margin, 9);
    expect(describeFlip(s.smallestFlip!, (id) => optionTitle(MODEL_V1, id))).toBe(
      `if change.independentReleases were "none" instead of "some", Modular monolith would lead Hybrid by ${s.smallestFlip!.margin.toFixed(1)} points`,
    );
  });

  it('lists every single-answer flip, smallest first, and each one flips', () => {
    const s = analyseSensitivity(FEW_TEAMS_SOME_INDEPENDENT, NO_EVIDENCE, options);
    expect(s.singleFlips.length).toBeGreaterThan(1);
    const steps = s.singleFlips.map((f) => f.changes[0]!.steps);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    for (const f of s.singleFlips) expect(score(apply(FEW_TEAMS_SOME_INDEPENDENT, f.changes), NO_EVIDENCE, options).recommendation).toBe(f.winner);
  });

  it('falls back to pairs of one-step changes when no single change flips', () => {
    const s = analyseSensitivity(DEFAULT_ANSWERS, NO_EVIDENCE, options);
    expect(s.singleFlips).toEqual([]);
    expect(s.closest).not.toBeNull();
    expect(s.smallestFlip?.changes).toHaveLength(2);
    expect(score(apply(DEFAULT_ANSWERS, s.smallestFlip!.changes), NO_EVIDENCE, options).recommendation).toBe(s.smallestFlip!.winner);
  });

  it('reports a clear-cut case as robust', () => {
    const s = analyseSensitivity(SMALL_TEAM_MVP, NO_EVIDENCE, options);
    expect(s.recommendation).toBe('modular-monolith');
    expect(s.smallestFlip).toBeNull();
    expect(s.margin).toBeGreaterThan(20);
  });

  it('tries budgets around the measured p95, so evidence can flip a decision', () => {
    // Microservices lead narrowly; a budget just under their measured p95 would fail them.
    const answers = withAnswer(withAnswer(MANY_TEAMS_PLATFORM, 'load.expectedRps', 50), 'team.teams', 6);
    const evidence = evidenceFromComparison(comparisonFixture({ microservicesP95: 120, monolithP95: 20 }), 'c.json');
    const s = analyseSensitivity(answers, evidence, options);
    const budgetFlip = s.singleFlips.find((f) => f.changes[0]!.path === 'load.p95BudgetMs');
    expect(s.recommendation).toBe('microservices');
    expect(budgetFlip).toBeDefined();
    // The largest budget that flips it is just under the 120 ms measured p95 of browse.
    expect(Math.max(...s.singleFlips.filter((f) => f.changes[0]!.path === 'load.p95BudgetMs').map((f) => f.changes[0]!.to as number))).toBe(119);
    expect(budgetFlip!.winner).not.toBe('microservices');
  });
});
