import { describe, expect, it } from 'vitest';
import { comparisonFixture, comparisonV2Fixture } from '../../test/fixtures/comparison';
import { IDLE_BURSTY_EVENTS, MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { DEFAULT_ANSWERS, withAnswer, type Answers } from './answers';
import { evidenceFromComparison, NO_EVIDENCE, type Evidence } from './evidence';
import { MODEL_V1, MODEL_V2, OPTION_IDS, type OptionId } from './model';
import { score } from './scoring';

const evidence = (o: Parameters<typeof comparisonFixture>[0] = {}): Evidence => evidenceFromComparison(comparisonFixture(o), 'comparison.json');

describe('score: agrees with well-known guidance', () => {
  const cases: Array<{ name: string; answers: Answers; evidence: Evidence; expected: OptionId }> = [
    { name: 'small team, MVP, strong consistency → modular monolith', answers: SMALL_TEAM_MVP, evidence: NO_EVIDENCE, expected: 'modular-monolith' },
    { name: 'same, with measured evidence → modular monolith', answers: SMALL_TEAM_MVP, evidence: evidence(), expected: 'modular-monolith' },
    {
      name: 'many teams, independent releases, uneven scaling, mature platform → microservices',
      answers: MANY_TEAMS_PLATFORM,
      evidence: NO_EVIDENCE,
      expected: 'microservices',
    },
    { name: 'same, with measured evidence → microservices', answers: MANY_TEAMS_PLATFORM, evidence: evidence({ browseRps: 900 }), expected: 'microservices' },
    { name: 'event-driven, mostly idle, bursty, cost focus → serverless', answers: IDLE_BURSTY_EVENTS, evidence: NO_EVIDENCE, expected: 'serverless' },
    { name: 'same, with measured evidence → serverless', answers: IDLE_BURSTY_EVENTS, evidence: evidence(), expected: 'serverless' },
    {
      name: 'a few teams, a few parts released alone → hybrid',
      answers: {
        ...DEFAULT_ANSWERS,
        team: { teams: 3, engineers: 25, onCall: 'shared-rotation', platformMaturity: 'basic' },
        change: { releaseFrequency: 'daily', independentReleases: 'some' },
        load: { ...DEFAULT_ANSWERS.load, scalingProfile: 'uneven' },
      },
      evidence: NO_EVIDENCE,
      expected: 'hybrid',
    },
  ];
  it.each(cases)('$name', ({ answers, evidence, expected }) => {
    const result = score(answers, evidence, { model: MODEL_V1 });
    expect(result.recommendation).toBe(expected);
    expect(result.margin).toBeGreaterThan(0);
  });
});

describe('score: arithmetic and breakdown', () => {
  it('breaks each score down by criterion, the points summing to the score', () => {
    const result = score(SMALL_TEAM_MVP, evidence(), { model: MODEL_V1 });
    for (const o of result.ranking) {
      const sum = result.criteria.reduce((s, c) => s + c.fits[o.option].points, 0);
      expect(sum).toBeCloseTo(o.score, 9);
      expect(o.score).toBeGreaterThanOrEqual(0);
      expect(o.score).toBeLessThanOrEqual(100);
    }
    expect(result.criteria).toHaveLength(MODEL_V1.criteria.length);
    expect(result.ranking.map((o) => o.score)).toEqual([...result.ranking.map((o) => o.score)].sort((a, b) => b - a));
  });

  it('gives 100 to an option with a perfect fit everywhere and 0 with no fit', () => {
    const all = (fit: number) => ({
      ...MODEL_V1,
      criteria: MODEL_V1.criteria.map((c) => ({ ...c, levels: c.levels.map((l) => ({ ...l, fit: { ...l.fit, hybrid: fit } })) })),
    });
    expect(score(DEFAULT_ANSWERS, NO_EVIDENCE, { model: all(5) }).ranking.find((o) => o.option === 'hybrid')?.score).toBeCloseTo(100);
    expect(score(DEFAULT_ANSWERS, NO_EVIDENCE, { model: all(0) }).ranking.find((o) => o.option === 'hybrid')?.score).toBeCloseTo(0);
  });

  it('breaks ties towards the simpler option (tieOrder)', () => {
    const flat = {
      ...MODEL_V1,
      criteria: MODEL_V1.criteria.map((c) => ({
        ...c,
        levels: c.levels.map((l) => ({ ...l, fit: { 'modular-monolith': 3, microservices: 3, serverless: 3, hybrid: 3 } })),
      })),
    };
    const result = score(DEFAULT_ANSWERS, NO_EVIDENCE, { model: flat });
    expect(result.ranking.map((o) => o.option)).toEqual(MODEL_V1.tieOrder);
    expect(result.margin).toBe(0);
  });

  it('scales the running-cost weight with cost sensitivity', () => {
    const weight = (s: 'low' | 'medium' | 'high') =>
      score(withAnswer(DEFAULT_ANSWERS, 'cost.sensitivity', s), NO_EVIDENCE, { model: MODEL_V1 }).criteria.find((c) => c.id === 'resource-cost')?.weight;
    expect([weight('low'), weight('medium'), weight('high')]).toEqual([1, 2, 4]);
  });
});

describe('score: evidence', () => {
  it('scores measured topologies from the measurements and says which are unmeasured', () => {
    const result = score(SMALL_TEAM_MVP, evidence(), { model: MODEL_V1 });
    const latency = result.criteria.find((c) => c.id === 'latency-budget')!;
    expect(latency.fits['modular-monolith'].source).toBe('measured');
    expect(latency.fits.microservices.source).toBe('measured');
    expect(latency.fits.serverless.source).toBe('prior');
    expect(latency.fits.hybrid.source).toBe('prior');
    expect(result.notes.join('\n')).toMatch(/Serverless is not one of the measured topologies: it is scored from the answers alone/);
    expect(result.ranking.find((o) => o.option === 'serverless')?.measuredAs).toBeNull();
  });

  it('says when serverless was measured on the local emulator, not on Cloudflare, and not when a deployment was measured', () => {
    const emulatorNote = (e: Evidence) => score(IDLE_BURSTY_EVENTS, e, { model: MODEL_V2 }).notes.filter((n) => /local emulator/.test(n));
    const local = evidenceFromComparison(comparisonV2Fixture(), 'results/comparison.json');
    expect(emulatorNote(local)).toEqual([
      expect.stringMatching(/^serverless was measured on a local emulator of its platform .*`pnpm compare --target serverless=URL`/),
    ]);
    const deployed = comparisonV2Fixture();
    const target = { ...deployed, topologies: deployed.topologies.map((t) => (t.name === 'serverless' ? { ...t, source: 'target' as const } : t)) };
    expect(emulatorNote(evidenceFromComparison(target, 'results/comparison.json'))).toEqual([]);
    // Only for a topology the ranking uses: without serverless in the evidence, no note.
    const withoutServerless = evidenceFromComparison(comparisonV2Fixture({ topologies: ['monolith', 'microservices-http'] }), 'results/comparison.json');
    expect(emulatorNote(withoutServerless)).toEqual([]);
  });

  it('without evidence, says so and uses priors for every option', () => {
    const result = score(SMALL_TEAM_MVP, NO_EVIDENCE, { model: MODEL_V1 });
    expect(result.notes[0]).toMatch(/No measured evidence/);
    for (const c of result.criteria.filter((x) => x.evidence)) for (const id of OPTION_IDS) expect(c.fits[id].source).toBe('prior');
    expect(result.assessments).toEqual([]);
  });

  it('a topology over the p95 budget at the expected rate gets the failing fit and loses points', () => {
    const ok = score(SMALL_TEAM_MVP, evidence({ monolithP95: 12 }), { model: MODEL_V1 });
    const slow = score(SMALL_TEAM_MVP, evidence({ monolithP95: 400 }), { model: MODEL_V1 });
    const fit = (r: typeof ok) => r.criteria.find((c) => c.id === 'latency-budget')!.fits['modular-monolith'];
    expect(fit(ok).fit).toBe(5);
    expect(fit(slow).fit).toBe(MODEL_V1.evidence.latencyFailFit);
    expect(fit(slow).note).toMatch(/p95 400.0 ms in browse .* exceeds the 300 ms budget/);
    expect(slow.ranking.find((o) => o.option === 'modular-monolith')!.score).toBeLessThan(ok.ranking.find((o) => o.option === 'modular-monolith')!.score);
  });

  it('does not judge latency from runs below the expected rate; falls back to the prior and says why', () => {
    const answers = withAnswer(withAnswer(SMALL_TEAM_MVP, 'load.peakRps', 5000), 'load.expectedRps', 1000);
    const result = score(answers, evidence(), { model: MODEL_V1 });
    const fit = result.criteria.find((c) => c.id === 'latency-budget')!.fits['modular-monolith'];
    expect(fit.source).toBe('prior');
    expect(fit.note).toMatch(/measured only up to 160.0 rps/);
    expect(result.assessments.find((a) => a.topology === 'monolith')?.latency.status).toBe('not-demonstrated');
  });

  it('turns CPU and memory into cost per 1,000 orders with the stated prices', () => {
    const result = score(SMALL_TEAM_MVP, evidence(), { model: MODEL_V1, prices: { vcpuHourEur: 3.6, gbHourEur: 0 } });
    const mono = result.assessments.find((a) => a.topology === 'monolith')!;
    // 4 CPU s per 1k orders at €3.60 per vCPU-hour = €0.004
    expect(mono.cost?.cpuEurPer1kOrders).toBeCloseTo(0.004, 9);
    expect(mono.cost?.memoryEurPer1kOrders).toBe(0);
    expect(mono.cost?.assumptions.join(' ')).toMatch(/€3.6 per vCPU-hour/);
    const costFit = result.criteria.find((c) => c.id === 'resource-cost')!;
    expect(costFit.fits['modular-monolith'].fit).toBeGreaterThan(costFit.fits.microservices.fit);
  });

  it('stuck orders under faults count as broken consistency', () => {
    const result = score(MANY_TEAMS_PLATFORM, evidence({ stuckOrders: 3, browseRps: 900 }), { model: MODEL_V1 });
    const fit = result.criteria.find((c) => c.id === 'consistency-under-faults')!.fits.microservices;
    expect(fit).toMatchObject({ fit: 0, source: 'measured' });
    expect(fit.note).toMatch(/3 stuck orders/);
  });
});

describe('score (model v2): why running cost falls back to the prior', () => {
  const all = evidenceFromComparison(comparisonV2Fixture(), 'c2.json');
  const costNote = (answers: Answers, e: Evidence = all) => score(answers, e, { model: MODEL_V2 }).notes.find((n) => n.startsWith('Running cost:'));

  it.each(['load.burstiness', 'load.expectedRps'] as const)('every option measured but %s unknown: names the answer, not "not measured"', (path) => {
    const answers = withAnswer(IDLE_BURSTY_EVENTS, path, 'unknown');
    expect(costNote(answers)).toBe(`Running cost: ${path} unknown, so the monthly cost cannot be estimated; every option uses the model's prior.`);
    const fit = score(answers, all, { model: MODEL_V2 }).criteria.find((c) => c.evidence === 'cost')!.fits.serverless;
    expect(fit.because).toBe(`${path} unknown, so the monthly cost cannot be estimated`);
    expect(fit.note).not.toMatch(/not measured/);
  });

  it('an option not measured is still named as such', () => {
    const some = evidenceFromComparison(comparisonV2Fixture({ topologies: ['monolith', 'serverless'] }), 'c2.json');
    expect(costNote(IDLE_BURSTY_EVENTS, some)).toMatch(
      /^Running cost: measured for monolith, serverless but not for microservices, hybrid; .* until all are measured\.$/,
    );
  });
});
