import { describe, expect, it } from 'vitest';
import { READS_AT_CAPACITY_SCENARIO } from '@archbench/contracts/comparison';
import type { TopologyName } from '@archbench/contracts/comparison';
import { comparisonFixture, comparisonV2Fixture, type FixtureOptions } from '../../test/fixtures/comparison';
import { MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { withAnswer } from './answers';
import { buildConfirmation, checkConfirmation, extractConfirmation, renderConfirmationBlock } from './confirmation';
import { evidenceFromComparison, type Evidence, type ScenarioEvidence } from './evidence';
import { MODEL_V1, MODEL_V2 } from './model';
import { score } from './scoring';

const ev = (o: FixtureOptions = {}) => evidenceFromComparison(comparisonFixture(o), 'c.json');

function confirmationFor(answers = SMALL_TEAM_MVP, o: FixtureOptions = {}) {
  const evidence = ev(o);
  return buildConfirmation(answers, score(answers, evidence, { model: MODEL_V1 }), evidence, MODEL_V1);
}

describe('confirmation', () => {
  it('holds on the evidence it was built from', () => {
    const { confirmation } = confirmationFor();
    const checks = checkConfirmation(confirmation, ev());
    expect(checks.length).toBeGreaterThan(3);
    expect(checks.filter((c) => !c.passed)).toEqual([]);
  });

  it('fails the criteria that no longer hold, and only those', () => {
    const { confirmation } = confirmationFor();
    const worse = ev({ monolithP95: 450, monolithCpuPer1k: 9 });
    const failed = checkConfirmation(confirmation, worse).filter((c) => !c.passed);
    expect(failed.map((c) => c.criterion.id)).toEqual(['monolith-p95', 'monolith-cpu']);
    expect(failed[0]!.detail).toBe('450.0 ms in browse at 80.0 rps (max 300)');
  });

  it('fails when the newer evidence no longer reaches the recorded rate or lacks the topology', () => {
    const { confirmation } = confirmationFor();
    const slowRun = evidenceFromComparison(
      { ...comparisonFixture(), scenarios: comparisonFixture().scenarios.map((s) => ({ ...s, throughputRps: 5 })) },
      'c.json',
    );
    const p95 = checkConfirmation(confirmation, slowRun).find((c) => c.criterion.id === 'monolith-p95')!;
    expect(p95).toMatchObject({ passed: false, detail: 'no monolith scenario reached 20 rps (highest: 5.0 rps)' });
    const noMonolith = { ...ev(), topologies: ev().topologies.filter((t) => t.topology !== 'monolith') };
    expect(checkConfirmation(confirmation, noMonolith).every((c) => !c.passed && c.detail === 'monolith is not in the evidence')).toBe(true);
  });

  it('records the rate actually measured when the evidence stops below the expected rate, and says so', () => {
    const answers = withAnswer(withAnswer(SMALL_TEAM_MVP, 'load.peakRps', 5000), 'load.expectedRps', 1000);
    const { confirmation, notes } = confirmationFor(answers);
    expect(confirmation.criteria[0]).toMatchObject({ metric: 'p95Ms', atLeastRps: 128 });
    expect(notes[0]).toMatch(/reaches only 160.0 rps, below the expected 1000 rps/);
    expect(checkConfirmation(confirmation, ev()).every((c) => c.passed)).toBe(true);
  });

  it('confirms microservices on their measured topology, including consistency', () => {
    const { confirmation } = confirmationFor(withAnswer(MANY_TEAMS_PLATFORM, 'load.expectedRps', 50));
    expect(confirmation.option).toBe('microservices');
    expect(confirmation.criteria.map((c) => c.topology)).toEqual(Array(confirmation.criteria.length).fill('microservices-http'));
    const failed = checkConfirmation(confirmation, ev({ stuckOrders: 2 })).filter((c) => !c.passed);
    expect(failed.map((c) => c.criterion.id)).toEqual(['microservices-http-stuck-orders']);
  });

  it('round-trips through the markdown block and rejects a damaged block', () => {
    const { confirmation } = confirmationFor();
    const md = `# x\n\n${renderConfirmationBlock(confirmation)}\n`;
    expect(extractConfirmation(md, 'x.md')).toEqual(confirmation);
    expect(() => extractConfirmation(md.replace('metric: p95Ms', 'metric: vibes'), 'x.md')).toThrow(
      /x\.md: the confirmation block is not valid \(criteria\.0\.metric/,
    );
    expect(() => extractConfirmation('# nothing here', 'x.md')).toThrow(/no archbench confirmation block/);
  });
});

/** One client-side run, as a comparison records it. */
function run(scenario: string, throughputRps: number, p95Ms: number, loadModel: 'open' | 'closed', errorRate = 0): ScenarioEvidence {
  return {
    scenario,
    source: 'comparison',
    throughputRps,
    durationSeconds: 60,
    requests: Math.round(throughputRps * 60),
    p50Ms: p95Ms / 3,
    p90Ms: null,
    p95Ms,
    p99Ms: null,
    maxMs: null,
    errorRate,
    thresholdsPassed: true,
    failedThresholds: [],
    loadModel,
  };
}

/** A version-2 comparison's evidence with one topology's runs replaced (or extended). */
function v2Evidence(topologies: TopologyName[], runs: Partial<Record<TopologyName, ScenarioEvidence[]>>, keep = false): Evidence {
  const e = evidenceFromComparison(comparisonV2Fixture({ topologies }), 'c.json');
  return {
    ...e,
    topologies: e.topologies.map((t) => {
      const r = runs[t.topology as TopologyName];
      return r ? { ...t, scenarios: keep ? [...t.scenarios, ...r] : r } : t;
    }),
  };
}

describe('confirmation (model v2): the reads at capacity never count, as in the latency verdicts', () => {
  // The monolith's reads run: reads only, as fast as it serves them, slower per request than browse
  // and checkout of the fixture (p95 12 and 24 ms).
  const withReads = (p95: number, errorRate = 0) =>
    v2Evidence(['monolith'], { monolith: [run(READS_AT_CAPACITY_SCENARIO, 7000, p95, 'closed', errorRate)] }, true);

  it("records the measured p95 of browse and checkout, not the reads run's", () => {
    const evidence = withReads(60);
    const result = score(SMALL_TEAM_MVP, evidence, { model: MODEL_V2 });
    expect(result.recommendation).toBe('modular-monolith');
    const { confirmation } = buildConfirmation(SMALL_TEAM_MVP, result, evidence, MODEL_V2);
    expect(confirmation.criteria.find((c) => c.id === 'monolith-p95-measured')).toMatchObject({
      max: 36,
      description: expect.stringContaining('the 24 ms measured'),
    });
  });

  it('verify ignores a slower or failing reads run (the scorer does too)', () => {
    const evidence = withReads(3);
    const { confirmation } = buildConfirmation(SMALL_TEAM_MVP, score(SMALL_TEAM_MVP, evidence, { model: MODEL_V2 }), evidence, MODEL_V2);
    const checks = checkConfirmation(confirmation, withReads(600, 0.2));
    expect(checks.filter((c) => !c.passed).map((c) => c.criterion.id)).toEqual([]);
    expect(checks.find((c) => c.criterion.id === 'monolith-errors')!.detail).not.toMatch(/reads/);
    // Asked for by name, it counts.
    const named = buildConfirmation(SMALL_TEAM_MVP, score(SMALL_TEAM_MVP, evidence, { model: MODEL_V2, scenarios: ['reads'] }), evidence, MODEL_V2, ['reads']);
    expect(
      checkConfirmation(named.confirmation, withReads(600, 0.2))
        .filter((c) => !c.passed)
        .map((c) => c.criterion.id),
    ).toEqual(['monolith-p95', 'monolith-p95-measured', 'monolith-errors']);
  });
});
