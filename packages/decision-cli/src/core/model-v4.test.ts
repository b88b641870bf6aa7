import { describe, expect, it } from 'vitest';
import type { Comparison, TopologyName } from '@archbench/contracts/comparison';
import { comparisonFixture, comparisonV2Fixture } from '../../test/fixtures/comparison';
import { IDLE_BURSTY_EVENTS, MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { FOURTEEN_TEAMS, WEBHOOK_BURSTS } from '../../test/fixtures/profiles';
import { withAnswer, type Answers } from './answers';
import { evidenceFromComparison, NO_EVIDENCE, type Evidence } from './evidence';
import { MODEL_V3, MODEL_V4, OPTION_IDS, type Model, type OptionId } from './model';
import { score } from './scoring';

const MATURITIES = ['none', 'basic', 'mature', 'unknown'] as const;
const processesFit = (answers: Answers, evidence: Evidence, option: OptionId, model: Model = MODEL_V4) =>
  score(answers, evidence, { model }).criteria.find((c) => c.id === 'operations-load')!.fits[option];
const scoresOf = (answers: Answers, evidence: Evidence, model: Model) =>
  Object.fromEntries(score(answers, evidence, { model }).ranking.map((o) => [o.option, o.score]));
/** One topology measured alone, with a process count of choice. */
const only = (name: TopologyName, processes?: number, change: (c: Comparison) => Comparison = (c) => c) => {
  const c = change(comparisonV2Fixture({ topologies: [name] }));
  return evidenceFromComparison(
    { ...c, topologies: c.topologies.map((t) => (processes === undefined ? t : { ...t, processCount: processes })) },
    `${name}.json`,
  );
};
const platform = (answers: Answers, maturity: string) => withAnswer(answers, 'team.platformMaturity', maturity);

describe('model v4: a measured process count is scored on the scale of the prior', () => {
  it('differs from v3 only in the process-count scale (and the why that explains it)', () => {
    const { version, title, $comment, evidence, criteria, ...rest } = MODEL_V4;
    const { version: v3, title: t3, $comment: c3, evidence: e3, criteria: cr3, ...rest3 } = MODEL_V3;
    expect([version, v3, title, t3]).toEqual([4, 3, 'archbench decision model v4', 'archbench decision model v3']);
    expect($comment).toContain(c3);
    expect(rest).toEqual(rest3);
    const { processCount, ...sameEvidence } = evidence;
    const { processCount: p3, ...sameEvidence3 } = e3;
    expect(sameEvidence).toEqual(sameEvidence3);
    expect(criteria.map(({ why: _, ...c }) => c)).toEqual(cr3.map(({ why: _, ...c }) => c));
    // The mature platform's scale is v3's one scale.
    expect(Array.isArray(processCount)).toBe(false);
    if (Array.isArray(processCount)) return;
    expect(processCount.levels.mature).toEqual(p3);
    expect(processCount.payPerUse).toBe('prior');
    // One scale for each value of the answer the criterion's prior reads, and no other.
    const criterion = MODEL_V4.criteria.find((c) => c.evidence === 'processes')!;
    expect(processCount.answer).toBe(criterion.answer);
    expect(Object.keys(processCount.levels).sort()).toEqual(criterion.levels.map((l) => (l.when && 'equals' in l.when ? l.when.equals : '?')).sort());
  });

  it('the QA case: 5 microservices processes with no platform score 1/5 measured, as the prior does (v3: 3/5)', () => {
    const answers = platform(SMALL_TEAM_MVP, 'none');
    expect(processesFit(answers, NO_EVIDENCE, 'microservices').fit).toBe(1);
    expect(processesFit(answers, only('microservices-http', 5), 'microservices', MODEL_V3).fit).toBe(3);
    const measured = processesFit(answers, only('microservices-http', 5), 'microservices');
    expect(measured).toMatchObject({ fit: 1, source: 'measured', note: 'microservices-http: 5 processes to run, scored for no platform' });
  });

  it("measuring the count an option's prior assumes changes nothing, on every platform (and with the platform unknown)", () => {
    // monolith 1, hybrid 2 (core and shipping), microservices 5 (HTTP) or 6 (AMQP): the fixture's counts.
    const measuredAs: Array<[OptionId, TopologyName]> = [
      ['modular-monolith', 'monolith'],
      ['hybrid', 'hybrid'],
      ['microservices', 'microservices-http'],
      ['microservices', 'microservices-amqp'],
    ];
    for (const maturity of MATURITIES)
      for (const answers of [SMALL_TEAM_MVP, WEBHOOK_BURSTS, MANY_TEAMS_PLATFORM])
        for (const [option, topology] of measuredAs) {
          const a = platform(answers, maturity);
          const prior = processesFit(a, NO_EVIDENCE, option);
          const measured = processesFit(a, only(topology), option);
          expect(measured.source, `${topology}, platform ${maturity}`).toBe('measured');
          expect(measured.fit, `${topology}, platform ${maturity}`).toBe(prior.fit);
        }
  });

  it('more processes than the prior assumes score lower, fewer score higher, on that platform', () => {
    const none = platform(SMALL_TEAM_MVP, 'none');
    expect(processesFit(none, only('monolith', 3), 'modular-monolith').fit).toBe(2);
    expect(processesFit(none, only('microservices-http', 2), 'microservices').fit).toBe(3);
    expect(processesFit(platform(SMALL_TEAM_MVP, 'basic'), only('microservices-http', 12), 'microservices').fit).toBe(1);
    expect(processesFit(platform(SMALL_TEAM_MVP, 'mature'), only('microservices-http', 12), 'microservices').fit).toBe(1);
    expect(processesFit(platform(SMALL_TEAM_MVP, 'mature'), only('microservices-http', 8), 'microservices').fit).toBe(2);
  });

  it('with the platform unknown, a measured count scores the mean over the scales, as the prior takes the mean over its levels', () => {
    const answers = platform(SMALL_TEAM_MVP, 'unknown');
    const hybrid = processesFit(answers, only('hybrid'), 'hybrid');
    expect(hybrid).toMatchObject({ fit: 3.67, source: 'measured' });
    expect(hybrid.note).toBe('hybrid: 2 processes to run, scored as the mean over the scales (team.platformMaturity unknown)');
    expect(processesFit(answers, NO_EVIDENCE, 'hybrid').fit).toBe(3.67);
  });

  it("serverless (billed per use) keeps the prior: its processes are the platform's, whether emulated locally or deployed", () => {
    const deployed = (c: Comparison): Comparison => ({ ...c, topologies: c.topologies.map((t) => ({ ...t, source: 'target' as const })) });
    for (const maturity of MATURITIES)
      for (const evidence of [only('serverless', 1), only('serverless', 2), only('serverless', 1, deployed)]) {
        const a = platform(WEBHOOK_BURSTS, maturity);
        const fit = processesFit(a, evidence, 'serverless');
        expect(fit.fit, maturity).toBe(processesFit(a, NO_EVIDENCE, 'serverless').fit);
        expect(fit).toMatchObject({
          source: maturity === 'unknown' ? 'unknown' : 'prior',
          because: 'serverless: processes run by the platform (billed per use)',
        });
      }
    // v3 scored the emulator's one process 5/5 where the prior with no platform says 4/5.
    expect(processesFit(platform(WEBHOOK_BURSTS, 'none'), only('serverless', 1), 'serverless', MODEL_V3).fit).toBe(5);
  });

  it('scores exactly as v3 on a mature platform without serverless in the evidence, and wherever no process count was measured', () => {
    const mature = [SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS, WEBHOOK_BURSTS, FOURTEEN_TEAMS].map((a) => platform(a, 'mature'));
    const evidences = [
      NO_EVIDENCE,
      evidenceFromComparison(comparisonFixture(), 'v1.json'),
      evidenceFromComparison(comparisonV2Fixture({ topologies: ['monolith', 'hybrid', 'microservices-http', 'microservices-amqp'] }), 'v2.json'),
    ];
    for (const answers of mature) for (const e of evidences) expect(scoresOf(answers, e, MODEL_V4)).toEqual(scoresOf(answers, e, MODEL_V3));
    const noCounts = only('hybrid', undefined, (c) => ({ ...c, topologies: c.topologies.map((t) => ({ ...t, processCount: null })) }));
    for (const maturity of MATURITIES)
      for (const answers of [SMALL_TEAM_MVP, WEBHOOK_BURSTS])
        expect(scoresOf(platform(answers, maturity), noCounts, MODEL_V4)).toEqual(scoresOf(platform(answers, maturity), noCounts, MODEL_V3));
  });

  it('no option is favoured for being measured: each measured alone with its prior count keeps its processes points', () => {
    for (const maturity of MATURITIES) {
      const a = platform(FOURTEEN_TEAMS, maturity);
      const unmeasured = score(a, NO_EVIDENCE, { model: MODEL_V4 }).criteria.find((c) => c.id === 'operations-load')!;
      for (const name of ['monolith', 'hybrid', 'microservices-http', 'serverless'] as const) {
        const measured = score(a, only(name), { model: MODEL_V4 }).criteria.find((c) => c.id === 'operations-load')!;
        for (const id of OPTION_IDS)
          expect(measured.fits[id].points, `${name} measured, ${id}, platform ${maturity}`).toBeCloseTo(unmeasured.fits[id].points, 9);
      }
    }
  });
});
