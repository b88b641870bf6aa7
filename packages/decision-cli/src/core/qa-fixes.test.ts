import { describe, expect, it } from 'vitest';
import { MEASURED_EVIDENCE } from '../../test/fixtures/evidence';
import { comparisonV2Fixture } from '../../test/fixtures/comparison';
import { DEFAULT_ANSWERS, withAnswer } from './answers';
import { parseAnswers } from './answers';
import { slugify } from './adr';
import { buildConfirmation, checkConfirmation } from './confirmation';
import { assessLatency, evidenceFromComparison } from './evidence';
import { MODEL_V5 } from './model';
import { score } from './scoring';
import { analyseSensitivity, assessConfidence, describeConfidence } from './sensitivity';

/** Findings of a QA pass over the decision CLI as a user runs it (5 December 2026). */
/** The answers template at 400 rps (1,600 at peak), a 50 ms budget, some parts released independently. */
const TEMPLATE = withAnswer(
  withAnswer(withAnswer(withAnswer(DEFAULT_ANSWERS, 'load.expectedRps', 400), 'load.peakRps', 1600), 'load.p95BudgetMs', 50),
  'change.independentReleases',
  'some',
);
const MEASURED = MEASURED_EVIDENCE;

describe('what a QA pass saw, fixed', () => {
  it('a tie has a margin of 0, never "-0.0 points"', () => {
    const result = score(TEMPLATE, MEASURED, { model: MODEL_V5 });
    const [first, second] = result.ranking;
    expect(Math.abs(first!.score - second!.score)).toBeLessThan(1e-6); // the monolith and the hybrid tie here
    expect(result.margin).toBe(0);
    const c = assessConfidence(result, analyseSensitivity(TEMPLATE, MEASURED, { model: MODEL_V5 }, result), MODEL_V5);
    expect(describeConfidence(c)).not.toMatch(/-0\.0/);
  });

  it('a tiny budget is printed to the precision it was given ("0.0 ms" read as an invalid budget)', () => {
    const monolith = MEASURED.topologies.find((t) => t.topology === 'monolith')!;
    expect(assessLatency(monolith, 0.0001, 50, MODEL_V5).reason).toMatch(/exceeds the 0\.0001 ms budget/);
    expect(assessLatency(monolith, 0.25, 50, MODEL_V5).reason).toMatch(/exceeds the 0\.25 ms budget/);
    expect(assessLatency(monolith, 9.5, 50, MODEL_V5).reason).toMatch(/within the 9\.5 ms budget/);
  });

  it('an infinite number in an answers file is named, not shown as null', () => {
    const data = JSON.parse(JSON.stringify(TEMPLATE)) as Record<string, Record<string, unknown>>;
    data.load!.expectedRps = Infinity;
    expect(() => parseAnswers(data, 'answers.yaml')).toThrow(/load\.expectedRps: .*\(got Infinity\)/);
  });

  it('verify shows an availability bound in the unit of the figure beside it', () => {
    const evidence = evidenceFromComparison(comparisonV2Fixture(), 'c.json');
    const result = score(TEMPLATE, evidence, { model: MODEL_V5 });
    const { confirmation } = buildConfirmation(TEMPLATE, result, evidence, MODEL_V5);
    const availability = checkConfirmation(confirmation, evidence).find((c) => c.criterion.faultMetric === 'browseAvailability');
    expect(availability, 'the fixture has fault experiments').toBeDefined();
    expect(availability!.detail).toMatch(/% available in .* \(min \d+\.\d%\)$/);
  });

  it('an ADR file name is cut at a word boundary, not mid-word', () => {
    expect(slugify('Use a hybrid: a modular monolith with a few extracted services for the order-processing system')).toBe(
      'use-a-hybrid-a-modular-monolith-with-a-few-extracted',
    );
    expect(slugify('x'.repeat(80))).toHaveLength(60);
    expect(slugify(`${'a'.repeat(60)} b`)).toBe('a'.repeat(60));
  });

  it('a Clear verdict names the nearest flipping changes without calling them bigger', () => {
    const answers = withAnswer(withAnswer(TEMPLATE, 'change.independentReleases', 'none'), 'load.expectedRps', 50);
    const result = score(answers, MEASURED, { model: MODEL_V5 });
    const c = assessConfidence(result, analyseSensitivity(answers, MEASURED, { model: MODEL_V5 }, result), MODEL_V5);
    expect(c.level).toBe('clear');
    expect(describeConfidence(c)).toMatch(/^Clear: ahead by [\d.]+ points \(threshold \d+\)(; the nearest changes that would flip it: .*)?\./);
    expect(describeConfidence(c)).not.toMatch(/need a bigger change/);
  });
});
