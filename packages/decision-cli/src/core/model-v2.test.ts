import { describe, expect, it } from 'vitest';
import type { TopologyName } from '@archbench/contracts/comparison';
import { comparisonFixture, comparisonV2Fixture } from '../../test/fixtures/comparison';
import { IDLE_BURSTY_EVENTS, MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { FOURTEEN_TEAMS, WEBHOOK_BURSTS } from '../../test/fixtures/profiles';
import { withAnswer, type Answers } from './answers';
import { evidenceFromComparison, NO_EVIDENCE, type Evidence } from './evidence';
import { CURRENT_MODEL, MODEL_V1, MODEL_V2, modelVersion, type OptionId } from './model';
import { score } from './scoring';
import { analyseSensitivity, assessConfidence, describeConfidence } from './sensitivity';

const v1Comparison = evidenceFromComparison(comparisonFixture(), 'v1.json');
const allFour = evidenceFromComparison(comparisonV2Fixture(), 'v2.json');
const subset = (topologies: TopologyName[]) => evidenceFromComparison(comparisonV2Fixture({ topologies }), 'subset.json');
const EVIDENCE: Record<string, Evidence> = {
  'no evidence': NO_EVIDENCE,
  'a version-1 comparison (monolith and microservices)': v1Comparison,
  'a version-2 comparison of all four options': allFour,
  'a comparison of monolith and serverless only': subset(['monolith', 'serverless']),
  'a comparison of hybrid and microservices only': subset(['hybrid', 'microservices-http']),
};

const with_ = (a: Answers, changes: Record<string, unknown>) => Object.entries(changes).reduce((x, [p, v]) => withAnswer(x, p, v), a);
const winner = (a: Answers, e: Evidence = NO_EVIDENCE) => score(a, e, { model: MODEL_V2 }).recommendation;

// The seed's guidance, row by row: who gets which option, with any subset of measured options.
const SEED_TABLE: Array<{ row: string; answers: Answers; expected: OptionId[] }> = [
  { row: 'team size: one small team building an MVP, strong consistency → modular monolith', answers: SMALL_TEAM_MVP, expected: ['modular-monolith'] },
  { row: 'team size: many teams that must release independently, mature platform → microservices', answers: MANY_TEAMS_PLATFORM, expected: ['microservices'] },
  {
    row: 'consistency: 14 teams releasing independently, strong consistency in 3 contexts → hybrid (a monolith core)',
    answers: FOURTEEN_TEAMS,
    expected: ['hybrid'],
  },
  {
    row: 'consistency: many teams, eventual consistency across many contexts → microservices or hybrid',
    answers: with_(FOURTEEN_TEAMS, {
      'domain.crossContextConsistency': 'eventual',
      'domain.boundedContexts': 12,
      'team.onCall': 'per-team',
      'team.platformMaturity': 'mature',
      'operations.kubernetes': 'production',
      'operations.tracing': 'distributed',
      timeToMarket: 'normal',
    }),
    expected: ['microservices', 'hybrid'],
  },
  { row: 'scaling: mostly idle, event-driven, bursty → serverless', answers: IDLE_BURSTY_EVENTS, expected: ['serverless'] },
  { row: 'scaling: the webhook team (bursts of 2,000 rps, idle otherwise) → serverless', answers: WEBHOOK_BURSTS, expected: ['serverless'] },
  {
    row: 'ops maturity: no platform, no on-call, no Kubernetes, a small team → modular monolith',
    answers: with_(SMALL_TEAM_MVP, { timeToMarket: 'normal', 'domain.crossContextConsistency': 'mixed' }),
    expected: ['modular-monolith'],
  },
  {
    row: 'ops maturity: mature platform, per-team on-call, Kubernetes in production, 6 teams with independent releases → microservices or hybrid',
    answers: with_(MANY_TEAMS_PLATFORM, { 'team.teams': 6, 'team.engineers': 40 }),
    expected: ['microservices', 'hybrid'],
  },
  {
    row: 'cost: high cost sensitivity with steady traffic, one team → modular monolith',
    answers: with_(SMALL_TEAM_MVP, { 'cost.sensitivity': 'high', 'load.burstiness': 'steady', timeToMarket: 'normal' }),
    expected: ['modular-monolith'],
  },
  {
    row: 'cost: high cost sensitivity, mostly idle, event-driven → serverless',
    answers: with_(IDLE_BURSTY_EVENTS, { 'change.independentReleases': 'none' }),
    expected: ['serverless'],
  },
];

describe('model v2 against the seed table (every row, with any subset of measured options)', () => {
  for (const { row, answers, expected } of SEED_TABLE) {
    for (const [name, evidence] of Object.entries(EVIDENCE)) {
      it(`${row} — ${name}`, () => {
        expect(expected).toContain(winner(answers, evidence));
      });
    }
  }
});

describe("the issue's profiles, before (model v1) and after (model v2)", () => {
  it('webhook team: v1 flipped to the monolith once the monolith was measured; v2 keeps serverless', () => {
    const before = score(WEBHOOK_BURSTS, NO_EVIDENCE, { model: MODEL_V1 });
    const beforeMeasured = score(WEBHOOK_BURSTS, v1Comparison, { model: MODEL_V1 });
    expect(before.recommendation).toBe('serverless');
    expect(beforeMeasured.recommendation).toBe('modular-monolith'); // the bias the issue reported
    for (const e of [NO_EVIDENCE, v1Comparison, allFour]) expect(winner(WEBHOOK_BURSTS, e)).toBe('serverless');
  });

  it('14 teams: v1 chose the monolith; v2 chooses the hybrid and the confidence line names the answers that moved it', () => {
    expect(score(FOURTEEN_TEAMS, NO_EVIDENCE, { model: MODEL_V1 }).recommendation).toBe('modular-monolith');
    const result = score(FOURTEEN_TEAMS, NO_EVIDENCE, { model: MODEL_V2 });
    expect(result.recommendation).toBe('hybrid');
    const confidence = assessConfidence(result, analyseSensitivity(FOURTEEN_TEAMS, NO_EVIDENCE, { model: MODEL_V2 }, result), MODEL_V2);
    const line = describeConfidence(confidence);
    expect(line).toMatch(/team\.teams: 14/);
    expect(line).toMatch(/change\.independentReleases: most/);
  });
});

describe('evidence compares like with like', () => {
  it('a relative criterion (cost) uses the prior for every option unless every option was measured', () => {
    const r = score(WEBHOOK_BURSTS, v1Comparison, { model: MODEL_V2 });
    const cost = r.criteria.find((c) => c.evidence === 'cost')!;
    for (const id of ['modular-monolith', 'microservices', 'serverless', 'hybrid'] as const) expect(cost.fits[id].source).toBe('prior');
    expect(r.notes.join('\n')).toMatch(/Running cost: measured for monolith, microservices-http but not for serverless, hybrid/);
    // The same answers without any evidence score cost identically: measuring two options did not move it.
    const none = score(WEBHOOK_BURSTS, NO_EVIDENCE, { model: MODEL_V2 }).criteria.find((c) => c.evidence === 'cost')!;
    expect(cost.fits).toEqual(
      Object.fromEntries(
        Object.entries(none.fits).map(([k, v]) => [k, { ...v, note: cost.fits[k as OptionId].note, because: cost.fits[k as OptionId].because }]),
      ),
    );
  });

  it('with all four measured, the monthly cost at the load profile favours pay-per-use for a mostly idle workload and always-on for steady load', () => {
    const idle = score(WEBHOOK_BURSTS, allFour, { model: MODEL_V2 });
    const idleCost = idle.criteria.find((c) => c.evidence === 'cost')!;
    expect(idleCost.fits.serverless).toMatchObject({ fit: 5, source: 'measured' });
    expect(idleCost.fits['modular-monolith'].fit).toBeLessThan(5);
    const monthly = (r: typeof idle, t: string) => r.assessments.find((a) => a.topology === t)!.monthly!;
    expect(monthly(idle, 'serverless').billing).toBe('pay-per-use');
    expect(monthly(idle, 'serverless').monthlyUsd).toBeLessThan(monthly(idle, 'monolith').monthlyUsd);

    const steady = with_(SMALL_TEAM_MVP, { 'load.burstiness': 'steady', 'load.expectedRps': 300, 'load.peakRps': 400 });
    const busy = score(steady, allFour, { model: MODEL_V2 });
    expect(monthly(busy, 'monolith').monthlyUsd).toBeLessThan(monthly(busy, 'serverless').monthlyUsd);
    expect(busy.criteria.find((c) => c.evidence === 'cost')!.fits['modular-monolith']).toMatchObject({ fit: 5, source: 'measured' });
  });

  it('failure isolation and recovery come from the fault experiments, on the same 0-5 scale as the priors', () => {
    const r = score(FOURTEEN_TEAMS, allFour, { model: MODEL_V2 });
    const isolation = r.criteria.find((c) => c.evidence === 'failure-isolation')!;
    expect(isolation.fits['modular-monolith']).toMatchObject({ fit: 1, source: 'measured' }); // 2% of browsing survived the crash
    expect(isolation.fits.microservices).toMatchObject({ fit: 5, source: 'measured' });
    const recovery = r.criteria.find((c) => c.evidence === 'recovery')!;
    expect(recovery.fits.serverless).toMatchObject({ fit: 5, source: 'measured' });
    const lost = score(FOURTEEN_TEAMS, evidenceFromComparison(comparisonV2Fixture({ ordersLost: { hybrid: 3 } }), 'x.json'), { model: MODEL_V2 });
    expect(lost.criteria.find((c) => c.evidence === 'consistency')!.fits.hybrid).toMatchObject({ fit: 0, source: 'measured' });
    // Without fault experiments the priors stand.
    expect(
      score(FOURTEEN_TEAMS, v1Comparison, { model: MODEL_V2 }).criteria.find((c) => c.evidence === 'failure-isolation')!.fits['modular-monolith'].source,
    ).toBe('prior');
  });
});

describe('unknown answers', () => {
  it('score from the prior (mean fit over the levels), are listed, and can make the result too close to call', () => {
    const a = with_(FOURTEEN_TEAMS, { 'change.independentReleases': 'unknown' });
    const r = score(a, NO_EVIDENCE, { model: MODEL_V2 });
    const c = r.criteria.find((x) => x.id === 'independent-releases')!;
    expect(c.fits.hybrid).toMatchObject({ source: 'unknown', fit: (3 + 5 + 4) / 3 });
    expect(r.unknowns).toContain('change.independentReleases');
    expect(r.notes.join('\n')).toMatch(/change\.independentReleases is unknown/);
    const conf = assessConfidence(r, analyseSensitivity(a, NO_EVIDENCE, { model: MODEL_V2 }, r), MODEL_V2);
    expect(conf.unknowns).toContain('change.independentReleases');
  });

  it('a version-1 answers file still scores (the new today.* answers count as unknown)', () => {
    const r = score(SMALL_TEAM_MVP, NO_EVIDENCE, { model: MODEL_V2 });
    expect(r.unknowns).toEqual(expect.arrayContaining(['today.architecture', 'today.broker', 'today.pain']));
    expect(r.recommendation).toBe('modular-monolith');
  });

  it('the answers about today move the model the way they should', () => {
    const base = with_(FOURTEEN_TEAMS, { 'today.architecture': 'none', 'today.broker': 'none', 'today.pain': 'none' });
    const s = (a: Answers) =>
      Object.fromEntries(score(a, NO_EVIDENCE, { model: MODEL_V2 }).ranking.map((o) => [o.option, o.score])) as Record<OptionId, number>;
    expect(s(with_(base, { 'today.pain': 'deploy-coupling' })).microservices).toBeGreaterThan(s(base).microservices);
    expect(s(with_(base, { 'today.pain': 'transaction-timeouts' }))['modular-monolith']).toBeGreaterThan(s(base)['modular-monolith']);
    expect(s(with_(base, { 'today.broker': 'yes' })).microservices).toBeGreaterThan(s(base).microservices);
    expect(s(with_(base, { 'today.architecture': 'monolith' })).hybrid).toBeGreaterThan(s(base).hybrid);
  });
});

describe('confidence', () => {
  it('a lead under the threshold is too close to call and names the deciding answers', () => {
    // Find the tie between hybrid and monolith by lowering the team count step by step.
    let a = FOURTEEN_TEAMS;
    for (const teams of [14, 10, 8, 7, 6, 5, 4]) {
      a = withAnswer(FOURTEEN_TEAMS, 'team.teams', teams);
      if (score(a, NO_EVIDENCE, { model: MODEL_V2 }).margin < (MODEL_V2.confidence?.marginPoints ?? 0)) break;
    }
    const r = score(a, NO_EVIDENCE, { model: MODEL_V2 });
    expect(r.margin).toBeLessThan(MODEL_V2.confidence!.marginPoints);
    const conf = assessConfidence(r, analyseSensitivity(a, NO_EVIDENCE, { model: MODEL_V2 }, r), MODEL_V2);
    expect(conf.level).toBe('too-close');
    expect(conf.deciding.length).toBeGreaterThan(0);
    expect(describeConfidence(conf)).toMatch(/^Too close to call: the margin of \d+\.\d points is below the 2-point threshold/);
  });

  it('a clear lead is clear', () => {
    const r = score(SMALL_TEAM_MVP, NO_EVIDENCE, { model: MODEL_V2 });
    expect(assessConfidence(r, analyseSensitivity(SMALL_TEAM_MVP, NO_EVIDENCE, { model: MODEL_V2 }, r), MODEL_V2).level).toBe('clear');
  });
});

describe('model versions', () => {
  it('v2 and v1 stay loadable for ADRs decided with them', () => {
    expect(CURRENT_MODEL.version).toBe(5);
    expect(modelVersion(1)).toBe(MODEL_V1);
    expect(modelVersion(2)).toBe(MODEL_V2);
    expect(modelVersion(6)).toBeUndefined();
    expect(MODEL_V2.options.find((o) => o.id === 'hybrid')!.measuredAs).toEqual(['hybrid']);
    expect(MODEL_V2.options.find((o) => o.id === 'serverless')!.measuredAs).toEqual(['serverless']);
  });
});

describe('latency measured at saturation', () => {
  // Serverless checkout over the budget in a closed-model run at 150 rps, far above the expected 20.
  const slow = () => {
    const c = comparisonV2Fixture({ p95: { serverless: 400 } });
    for (const s of c.scenarios) if (s.scenario === 'checkout') s.loadModel = 'closed';
    return evidenceFromComparison(c, 'closed.json');
  };
  const answers = with_(SMALL_TEAM_MVP, { 'load.p95BudgetMs': 500 }); // browse 400 ms meets, checkout 800 ms does not

  it('a closed-model run far above the expected rate is left out: the verdict is judged on the runs at about the expected rate (model v2)', () => {
    const a = score(answers, slow(), { model: MODEL_V2 }).assessments.find((x) => x.topology === 'serverless')!;
    expect(a.latency).toMatchObject({ status: 'meets', scenario: 'browse', p95Ms: 400, headroom: 0.2 });
    expect(a.latency.reason).toBe(
      'p95 400.0 ms in browse at 80.0 rps is within the 500 ms budget (20% headroom); closed-model run at saturation left out: checkout at 150.0 rps (7.5× the expected 20 rps)',
    );
  });

  it('only closed-model runs far above the expected rate: not demonstrated, whatever the budget (model v2)', () => {
    for (const budget of [100, 500, 900, 5000]) {
      const fast = with_(answers, { 'load.expectedRps': 90, 'load.p95BudgetMs': budget }); // browse (80 rps) stays below it
      const a = score(fast, slow(), { model: MODEL_V2 }).assessments.find((x) => x.topology === 'serverless')!;
      expect(a.latency, `budget ${budget}`).toMatchObject({ status: 'not-demonstrated', notDemonstratedBecause: 'saturation', headroom: null });
    }
  });

  it('but it still fails when a run at about the expected rate misses the budget, and model v1 keeps its verdict', () => {
    const tight = with_(answers, { 'load.p95BudgetMs': 300 }); // browse (open model, 80 rps) misses it too
    expect(score(tight, slow(), { model: MODEL_V2 }).assessments.find((x) => x.topology === 'serverless')!.latency.status).toBe('fails');
    expect(score(answers, slow(), { model: MODEL_V1 }).assessments.find((x) => x.topology === 'serverless')!.latency.status).toBe('fails');
  });
});
