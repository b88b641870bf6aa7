import { describe, expect, it } from 'vitest';
import type { Comparison } from '@archbench/contracts/comparison';
import { comparisonFixture, comparisonV2Fixture, type V2Options } from '../../test/fixtures/comparison';
import { IDLE_BURSTY_EVENTS, MANY_TEAMS_PLATFORM, SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { FOURTEEN_TEAMS, WEBHOOK_BURSTS } from '../../test/fixtures/profiles';
import type { Answers } from './answers';
import { buildConfirmation, checkConfirmation } from './confirmation';
import { addScenarios, evidenceFromComparison, mergeEvidence, NO_EVIDENCE, type Evidence } from './evidence';
import { CURRENT_MODEL, MODEL_V2, MODEL_V3, MODEL_V5, type Model } from './model';
import { renderHtmlReport } from './report-html';
import { score } from './scoring';
import { decisionInput } from '../../test/fixtures/decision';

/** The comparison as `pnpm compare --target serverless=URL` writes it: serverless measured where it runs. */
const deployedServerless = (c: Comparison): Comparison => ({
  ...c,
  topologies: c.topologies.map((t) => (t.name === 'serverless' ? { ...t, source: 'target' as const } : t)),
});
const local = (o: V2Options = {}) => evidenceFromComparison(comparisonV2Fixture(o), 'local.json');
const deployed = (o: V2Options = {}) => evidenceFromComparison(deployedServerless(comparisonV2Fixture(o)), 'deployed.json');
/** A `--target` run without `--metrics-url`: client-side figures and faults, no server-side ones. */
const deployedWithoutMetrics = () => {
  const c = deployedServerless(comparisonV2Fixture());
  return evidenceFromComparison(
    {
      ...c,
      topologies: c.topologies.map((t) =>
        t.name === 'serverless' ? { ...t, processCount: null, cpuSecondsPer1kOrders: null, cpuSeconds: null, peakRssBytes: null, perRequest: null } : t,
      ),
    },
    'deployed.json',
  );
};
const emulatorNotes = (evidence: Evidence) => score(WEBHOOK_BURSTS, evidence, { model: MODEL_V3 }).notes.filter((n) => /local emulator/.test(n));
/** What an overloaded or crashed emulator measures: p95 5 s, a third of browsing up during the crash, 400 s to recover. */
const EMULATOR_STRUGGLES: V2Options = { p95: { serverless: 5000 }, availability: { serverless: 0.3 }, recoverySeconds: { serverless: 400 } };

const scoresOf = (answers: Answers, evidence: Evidence, model: Model) =>
  Object.fromEntries(score(answers, evidence, { model }).ranking.map((o) => [o.option, o.score]));
const serverlessFits = (answers: Answers, evidence: Evidence, model: Model = MODEL_V3) =>
  Object.fromEntries(
    score(answers, evidence, { model })
      .criteria.filter((c) => c.evidence)
      .map((c) => [c.id, c.fits.serverless]),
  );

describe('model v3: a local emulator is not the platform', () => {
  it('differs from v2 only in which emulated figures count (v5 is current)', () => {
    expect(CURRENT_MODEL).toBe(MODEL_V5);
    const { version, title, $comment, evidence, ...rest } = MODEL_V3;
    const { version: v2, title: t2, $comment: c2, evidence: e2, ...rest2 } = MODEL_V2;
    expect([version, v2, title, t2]).toEqual([3, 2, 'archbench decision model v3', 'archbench decision model v2']);
    expect($comment).toContain(c2);
    expect(rest).toEqual(rest2);
    const { notFromEmulator, ...sameEvidence } = evidence;
    expect(notFromEmulator).toEqual(['latency', 'failure-isolation', 'recovery']);
    expect(sameEvidence).toEqual(e2);
  });

  it('scores exactly as v2 when no figure came from an emulator', () => {
    const evidences = [
      NO_EVIDENCE,
      evidenceFromComparison(comparisonFixture(), 'v1.json'),
      deployed(),
      deployed(EMULATOR_STRUGGLES),
      local({ topologies: ['monolith', 'hybrid', 'microservices-http'] }),
    ];
    for (const answers of [SMALL_TEAM_MVP, MANY_TEAMS_PLATFORM, IDLE_BURSTY_EVENTS, WEBHOOK_BURSTS, FOURTEEN_TEAMS])
      for (const e of evidences) expect(scoresOf(answers, e, MODEL_V3)).toEqual(scoresOf(answers, e, MODEL_V2));
  });

  it("scores a locally started serverless's latency, failure isolation and recovery from the prior, the rest as measured", () => {
    const fits = serverlessFits(WEBHOOK_BURSTS, local(EMULATOR_STRUGGLES));
    for (const id of ['latency-budget', 'failure-isolation', 'recovery']) {
      expect(fits[id]!.source, id).toBe('prior');
      expect(fits[id]!.because, id).toMatch(/^serverless: (latency|faults) measured only on a local emulator$/);
    }
    expect(fits['latency-budget']!.note).toMatch(/latency measured only on a local emulator .*; model prior for budget above 200 ms$/);
    expect(fits['failure-isolation']!.note).toMatch(/^serverless: dependency-crash measured only on a local emulator/);
    for (const id of ['resource-cost', 'operations-load', 'consistency-under-faults']) expect(fits[id]!.source, id).toBe('measured');
    // The same figures from v2: measured, and as bad as the emulator made them.
    const v2 = serverlessFits(WEBHOOK_BURSTS, local(EMULATOR_STRUGGLES), MODEL_V2);
    expect([v2['latency-budget']!.fit, v2['failure-isolation']!.fit, v2.recovery!.fit]).toEqual([0, 1, 1]);
    expect(v2['latency-budget']!.source).toBe('measured');
  });

  it("the emulator's headroom no longer decides: the webhook team gets serverless whatever the local run measured", () => {
    const v3 = [local(), local(EMULATOR_STRUGGLES)].map((e) => scoresOf(WEBHOOK_BURSTS, e, MODEL_V3));
    expect(v3[1]).toEqual(v3[0]);
    expect(score(WEBHOOK_BURSTS, local(EMULATOR_STRUGGLES), { model: MODEL_V3 }).recommendation).toBe('serverless');
    // v2 took the struggling emulator for serverless, and the monolith won.
    expect(score(WEBHOOK_BURSTS, local(EMULATOR_STRUGGLES), { model: MODEL_V2 }).recommendation).toBe('modular-monolith');
  });

  it("a deployment's figures count, alone or beside a local run", () => {
    expect(serverlessFits(WEBHOOK_BURSTS, deployed(EMULATOR_STRUGGLES))['latency-budget']).toMatchObject({ source: 'measured', fit: 0 });
    const merged = mergeEvidence(local(EMULATOR_STRUGGLES), deployed());
    const fits = serverlessFits(WEBHOOK_BURSTS, merged);
    expect(fits['latency-budget']).toMatchObject({ source: 'measured', fit: 5 });
    expect(fits['failure-isolation']).toMatchObject({ source: 'measured', fit: 5, note: 'serverless: browse availability 99.0% during dependency-crash' });
    expect(fits.recovery).toMatchObject({ source: 'measured', fit: 5 });
  });

  it('says which criteria came from the prior and how to measure them', () => {
    const notes = emulatorNotes(local());
    expect(notes).toEqual([
      expect.stringMatching(
        /: model v3 does not count the emulator's figures for its p95 latency, failure isolation and recovery and scores them from the prior, as if not measured; .* Measure a deployment \(`pnpm compare --target serverless=URL`\) to score them too\.$/,
      ),
    ]);
  });

  it('names only the criteria that did fall back: none beside a deployment, failure isolation and recovery beside a k6 run', () => {
    expect(emulatorNotes(mergeEvidence(local(EMULATOR_STRUGGLES), deployed()))).toEqual([]);
    const k6 = addScenarios(
      local(),
      'serverless',
      [
        {
          scenario: 'browse',
          source: 'k6',
          throughputRps: 80,
          durationSeconds: 60,
          requests: 4800,
          p50Ms: 20,
          p90Ms: 40,
          p95Ms: 50,
          p99Ms: 90,
          maxMs: 200,
          errorRate: 0,
          thresholdsPassed: true,
          failedThresholds: [],
        },
      ],
      { kind: 'k6', path: 'k6.json', description: 'k6 against the deployment' },
    );
    expect(serverlessFits(WEBHOOK_BURSTS, k6)['latency-budget']!.source).toBe('measured');
    expect(emulatorNotes(k6)).toEqual([
      expect.stringMatching(/model v3 does not count the emulator's figures for its failure isolation and recovery and scores them from the prior/),
    ]);
  });
});

describe('model v3: confirmation of a serverless decision', () => {
  const decide = (evidence: Evidence, model: Model = MODEL_V3) => {
    const result = score(WEBHOOK_BURSTS, evidence, { model });
    expect(result.recommendation).toBe('serverless');
    return buildConfirmation(WEBHOOK_BURSTS, result, evidence, model);
  };

  it('records no latency, availability or recovery criteria from the emulator, and says why and where the rest is verified', () => {
    const { confirmation, notes } = decide(local());
    const ids = confirmation.criteria.map((c) => c.id);
    expect(ids).toEqual(expect.arrayContaining(['serverless-cpu', 'serverless-processes', 'serverless-dependency-crash-ordersLost']));
    expect(ids.filter((id) => /p95|errors|availability|recovery/.test(id))).toEqual([]);
    expect(notes).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^serverless's latency was measured only on a local emulator, .*`pnpm compare --target serverless=URL`.* verify them against a later local comparison/,
        ),
        expect.stringMatching(/^serverless's dependency-crash ran on a local emulator, .*not recorded/),
      ]),
    );
    // A later local run confirms them; a deployment without --metrics-url has no CPU, memory or process figures.
    expect(checkConfirmation(confirmation, local()).every((c) => c.passed)).toBe(true);
    const failed = checkConfirmation(confirmation, deployedWithoutMetrics()).filter((c) => !c.passed);
    expect(failed.map((c) => [c.criterion.id, c.detail])).toEqual([
      ['serverless-cpu', 'not measured'],
      ['serverless-memory', 'not measured'],
      ['serverless-processes', 'not measured'],
    ]);
  });

  it('a local run merged with a deployment: one set of fault criteria, from the deployment, and no note that says otherwise', () => {
    const merged = mergeEvidence(local(EMULATOR_STRUGGLES), deployed());
    const { confirmation, notes } = decide(merged);
    const ids = confirmation.criteria.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(confirmation.criteria.find((c) => c.id === 'serverless-dependency-crash-availability')).toMatchObject({ min: 0.94 });
    expect(confirmation.criteria.find((c) => c.id === 'serverless-p95-measured')).toBeDefined();
    expect(notes.filter((n) => /local emulator/.test(n))).toEqual([]);
    expect(checkConfirmation(confirmation, merged).every((c) => c.passed)).toBe(true);
  });

  it("criteria recorded on a deployment are not confirmed by a local run's figures", () => {
    const { confirmation } = decide(deployed());
    expect(confirmation.criteria.map((c) => c.id)).toEqual(expect.arrayContaining(['serverless-p95', 'serverless-dependency-crash-availability']));
    const checks = checkConfirmation(confirmation, local());
    const p95 = checks.find((c) => c.criterion.id === 'serverless-p95')!;
    expect(p95.passed).toBe(false);
    expect(p95.detail).toMatch(/^serverless's latency measured only on a local emulator, which model v3 does not count/);
    expect(checks.find((c) => c.criterion.id === 'serverless-dependency-crash-availability')!.detail).toMatch(
      /^dependency-crash measured only on a local emulator/,
    );
    expect(checkConfirmation(confirmation, deployed()).every((c) => c.passed)).toBe(true);
  });

  it('an ADR decided with v2 keeps its criteria and is checked as v2 checked it', () => {
    const { confirmation } = decide(local(), MODEL_V2);
    expect(confirmation.criteria.map((c) => c.id)).toEqual(expect.arrayContaining(['serverless-p95', 'serverless-dependency-crash-recovery']));
    expect(checkConfirmation(confirmation, local()).every((c) => c.passed)).toBe(true);
  });
});

describe('model v3: the HTML report', () => {
  it("labels the emulator's rows and says what its fault figures count for", () => {
    const evidence = local();
    const d = decisionInput(WEBHOOK_BURSTS, evidence, {}, MODEL_V3);
    const html = renderHtmlReport({ ...d, title: 'x', generator: 'test' });
    expect(html).toContain('<tr><td><code>serverless</code> (local emulator)</td><td>browse</td>');
    expect(html).toMatch(/<tr><td>dependency-crash<\/td><td><code>serverless<\/code> \(local emulator\)<\/td>/);
    expect(html).toContain('Runs on a local emulator count for consistency only: model v3 scores their topology');
    expect(html).toContain('<td>not counted: latency measured only on a local emulator');
    // v2 counted them: no such sentence.
    const v2 = decisionInput(WEBHOOK_BURSTS, evidence, {}, MODEL_V2);
    expect(renderHtmlReport({ ...v2, title: 'x', generator: 'test' })).not.toContain('Runs on a local emulator count for consistency only');
  });
});
