import { describe, expect, it } from 'vitest';
import type { Comparison } from '@archbench/contracts/comparison';
import { comparisonV2Fixture, type V2Options } from '../../test/fixtures/comparison';
import { SMALL_TEAM_MVP } from '../../test/fixtures/answers';
import { WEBHOOK_BURSTS } from '../../test/fixtures/profiles';
import { combineEvidence, evidenceFromComparison, mergeEvidence, type Evidence } from './evidence';
import { InputError } from './errors';
import { CURRENT_MODEL } from './model';
import { score } from './scoring';

type Change = (c: Comparison) => Comparison;
const run = (path: string, startedAt: string, o: V2Options, change: Change = (c) => c) =>
  evidenceFromComparison(change({ ...comparisonV2Fixture(o), startedAt }), path);
const withProcesses =
  (name: string, processCount: number, cpuMs: number): Change =>
  (c) => ({
    ...c,
    topologies: c.topologies.map((t) => (t.name === name ? { ...t, processCount, perRequest: { ...t.perRequest!, cpuMs, cpuMsPerRead: cpuMs } } : t)),
  });
const onMachine =
  (machine: Partial<Comparison['machine']>, profile?: string): Change =>
  (c) => ({ ...c, machine: { ...c.machine, ...machine }, ...(profile ? { profile } : {}) });
const deployment: Change = (c) => ({ ...c, topologies: c.topologies.map((t) => ({ ...t, source: 'target' as const })) });

/** The monolith and the hybrid on 1 May; the monolith again on 2 May, with three processes and a slower p95. */
const MAY_1 = run('a-may-1.json', '2025-05-01T10:00:00.000Z', { topologies: ['monolith', 'hybrid'] });
const MAY_2 = run('b-may-2.json', '2025-05-02T10:00:00.000Z', { topologies: ['monolith'], p95: { monolith: 140 } }, withProcesses('monolith', 3, 4));
const scores = (evidence: Evidence) => score(SMALL_TEAM_MVP, evidence, { model: CURRENT_MODEL });
const summary = (evidence: Evidence) => {
  const r = scores(evidence);
  return { ranking: r.ranking, criteria: r.criteria.map((c) => [c.id, c.fits]), assessments: r.assessments };
};

describe('several comparison files: one rule, whatever their order', () => {
  it('the result does not depend on the order the files are given in', () => {
    // Before: each topology kept the first file's processes and cost, and pooled both files' scenarios.
    expect(summary(mergeEvidence(MAY_2, MAY_1))).toEqual(summary(mergeEvidence(MAY_1, MAY_2)));
    expect(summary(combineEvidence([MAY_2, MAY_1]).evidence)).toEqual(summary(combineEvidence([MAY_1, MAY_2]).evidence));
  });

  it('a topology measured twice on one machine: the latest run stands for it whole, and a warning names the other', () => {
    for (const files of [
      [MAY_1, MAY_2],
      [MAY_2, MAY_1],
    ]) {
      const { evidence, warnings } = combineEvidence(files);
      const monolith = evidence.topologies.find((t) => t.topology === 'monolith')!;
      expect(monolith.processCount).toBe(3);
      expect(monolith.cpuMsPerRequest).toBe(4);
      // Only 2 May's scenarios: the runs are not pooled (a topology measured twice would get two chances at a worst p95).
      expect(monolith.scenarios.map((s) => s.p95Ms)).toEqual([140, 280]);
      expect(evidence.topologies.map((t) => t.topology)).toEqual(['monolith', 'hybrid']);
      expect(warnings).toEqual([
        'monolith is a local run in 2 comparison files: using b-may-2.json (the latest run, started 2025-05-02T10:00:00.000Z); left out: a-may-1.json',
      ]);
      expect(evidence.sources.map((s) => s.path)).toEqual(['a-may-1.json', 'b-may-2.json']);
    }
    // The same start time: the path decides, not the order.
    const twin = run('c-may-2.json', '2025-05-02T10:00:00.000Z', { topologies: ['monolith'] });
    expect(combineEvidence([twin, MAY_2]).evidence.topologies[0]!.processCount).toBe(3);
    expect(combineEvidence([MAY_2, twin]).evidence.topologies[0]!.processCount).toBe(3);
    expect(combineEvidence([twin, MAY_2]).warnings).toEqual([
      'monolith is a local run in 2 comparison files: using b-may-2.json (runs started at the same time: the first by path, started 2025-05-02T10:00:00.000Z); left out: c-may-2.json',
    ]);
  });

  it('refuses runs from different machines, profiles or load generators (exit 2), naming both files and the difference', () => {
    const laptop = run('laptop.json', '2025-05-03T10:00:00.000Z', { topologies: ['serverless'] }, onMachine({ cores: 8, cpuModel: 'Apple M3' }));
    const other = () => combineEvidence([MAY_1, laptop]);
    expect(other).toThrow(InputError);
    expect(other).toThrow(
      /^--comparison a-may-1\.json and laptop\.json were not measured alike \(2 vs 8 cores\): topologies measured on different machines, with different profiles or load generators are not comparable/,
    );
    const standard = run('standard.json', '2025-05-03T10:00:00.000Z', { topologies: ['serverless'] }, onMachine({}, 'standard'));
    expect(() => combineEvidence([standard, MAY_1])).toThrow(
      /^--comparison a-may-1\.json and standard\.json were not measured alike \(profile quick vs standard\)/,
    );
    // k6 beside the topologies costs other CPU and adds other latency than the embedded engine.
    const k6 = run('k6.json', '2025-05-03T10:00:00.000Z', { topologies: ['serverless'] }, (c) => ({ ...c, engine: 'k6' as const }));
    expect(() => combineEvidence([k6, MAY_1])).toThrow(/^--comparison a-may-1\.json and k6\.json were not measured alike \(embedded engine vs k6\)/);
    // A machine's reported memory moves a little between runs: within 5% it is the same machine.
    const sameBox = run('same.json', '2025-05-03T10:00:00.000Z', { topologies: ['serverless'] }, onMachine({ memoryBytes: 8 * 2 ** 30 + 356_352 }));
    expect(combineEvidence([MAY_1, sameBox]).warnings).toEqual([]);
  });

  it('a deployment measured with --target joins a local run from any machine; its server-side figures come first, in either order', () => {
    const local = run('local.json', '2025-05-01T10:00:00.000Z', {});
    const deployed = run('deployed.json', '2025-06-01T10:00:00.000Z', { topologies: ['serverless'], p95: { serverless: 60 } }, (c) =>
      withProcesses('serverless', 7, 0.9)(deployment(onMachine({ cores: 16 }, 'standard')(c))),
    );
    const a = combineEvidence([local, deployed]);
    const b = combineEvidence([deployed, local]);
    expect(summary(a.evidence)).toEqual(summary(b.evidence));
    expect(a.warnings).toEqual([]);
    const serverless = a.evidence.topologies.find((t) => t.topology === 'serverless')!;
    expect(serverless).toMatchObject({ processCount: 7, cpuMsPerRequest: 0.9, target: true });
    // Both runs' scenarios (the emulator's are marked, so model v3 and later count the deployment's).
    expect(serverless.scenarios.map((s) => [s.p95Ms, Boolean(s.emulated)])).toEqual([
      [25, true],
      [50, true],
      [60, false],
      [120, false],
    ]);
    expect(scores(a.evidence).assessments.find((x) => x.topology === 'serverless')!.latency.p95Ms).toBe(120);
    expect(score(WEBHOOK_BURSTS, a.evidence, { model: CURRENT_MODEL }).ranking).toEqual(score(WEBHOOK_BURSTS, b.evidence, { model: CURRENT_MODEL }).ranking);
  });

  it('a deployment measured without --metrics-url has no CPU figure: the figure of the local run is used, not a free 0', () => {
    const local = run('local.json', '2025-05-01T10:00:00.000Z', {}, withProcesses('monolith', 1, 0.5));
    // As load writes a target without metrics: serverSide not-measured, perRequest.cpuMs 0 (the schema keeps it a number).
    const unmeasured: Change = (c) => ({
      ...c,
      topologies: c.topologies.map((t) => ({ ...t, serverSide: 'not-measured' as const, processCount: null, cpuSecondsPer1kOrders: null, cpuSeconds: null })),
    });
    const deployed = run('deployed.json', '2025-06-01T10:00:00.000Z', { topologies: ['monolith'] }, (c) =>
      unmeasured(withProcesses('monolith', 1, 0)(deployment(c))),
    );
    const alone = evidenceFromComparison(unmeasured(withProcesses('monolith', 1, 0)(deployment(comparisonV2Fixture({ topologies: ['monolith'] })))), 'd.json');
    expect(alone.topologies[0]).toMatchObject({ cpuMsPerRequest: null, costFigures: expect.objectContaining({ cpuMsPerRead: null, cpuMsPerOrder: null }) });
    // A metrics URL that did not answer: the file says metrics-url, but no CPU was read.
    const scrapeFailed = run('scrape-failed.json', '2025-06-02T10:00:00.000Z', { topologies: ['monolith'] }, (c) => ({
      ...unmeasured(withProcesses('monolith', 1, 0)(deployment(c))),
      topologies: unmeasured(withProcesses('monolith', 1, 0)(deployment(c))).topologies.map((t) => ({ ...t, serverSide: 'metrics-url' as const })),
    }));
    for (const files of [
      [local, deployed],
      [deployed, local],
      [scrapeFailed, local],
    ]) {
      const monolith = combineEvidence(files).evidence.topologies.find((t) => t.topology === 'monolith')!;
      expect(monolith.cpuMsPerRequest).toBe(0.5);
    }
  });
});
