import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { costSection, DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, withOverrides } from '@archbench/contracts/cost';
import type { Comparison } from '@archbench/contracts/comparison';
import { usd } from '../src/core/evidence';
import { comparisonV2Fixture } from './fixtures/comparison';
import { runCli, tempDir } from './helpers';

// The answers of a team running the comparison's own "steady-200" profile: 200 req/s around the
// clock, peak 200. The decision must price it exactly as summary.md does (one cost model).
const STEADY_200 = `version: 1
team: { teams: 1, engineers: 4, onCall: none, platformMaturity: basic }
domain: { boundedContexts: 2, crossContextConsistency: eventual, interaction: request-response }
load: { expectedRps: 200, peakRps: 200, burstiness: steady, scalingProfile: uniform, p95BudgetMs: 500 }
change: { releaseFrequency: weekly, independentReleases: none }
operations: { kubernetes: none, tracing: logs-metrics }
cost: { sensitivity: high }
timeToMarket: normal
`;

const steady = DEFAULT_LOAD_PROFILES.find((p) => p.name === 'steady-200')!;
const billingOf = (t: Comparison['topologies'][number]) => (t.idle?.billedAtRest === false ? 'per-request' : 'provisioned');

function summaryFigures(comparison: Comparison, prices = DEFAULT_PRICES): Map<string, number | null> {
  const section = costSection(comparison.topologies, billingOf, { prices, profiles: [steady] });
  return new Map(section.estimates.map((e) => [e.topology, e.monthlyUsd]));
}

function adrText(dir: string): string {
  const folder = join(dir, 'docs', 'decisions');
  const file = readdirSync(folder).find((f) => /^\d{4}-.*\.md$/.test(f) && !f.startsWith('0000'));
  return readFileSync(join(folder, file!), 'utf8');
}

describe('one cost model for pnpm compare and the decision', () => {
  let tmp: ReturnType<typeof tempDir>;
  const comparison = comparisonV2Fixture();
  beforeEach(() => {
    tmp = tempDir();
    tmp.write('answers.yaml', STEADY_200);
    tmp.write('comparison.json', JSON.stringify(comparison));
  });
  afterEach(() => tmp.cleanup());

  it('the ADR shows, for every topology, the monthly figure summary.md shows at the same load profile, with the prices, sources and dates', async () => {
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--html', 'report.html'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const adr = adrText(tmp.dir);
    const html = readFileSync(join(tmp.dir, 'report.html'), 'utf8');
    const figures = summaryFigures(comparison);
    expect(figures.size).toBe(comparison.topologies.length);
    for (const [topology, monthly] of figures) {
      expect(monthly, topology).not.toBeNull();
      expect(adr).toContain(`${topology} ${topology === 'serverless' ? 'pay-per-use' : 'always-on'}, ${usd(monthly)} a month`);
      expect(html).toContain(`${usd(monthly)} / month`);
    }
    expect(adr).not.toMatch(/€\d/);
    const vcpu = DEFAULT_PRICES.find((p) => p.id === 'vcpu-hour')!;
    for (const text of [adr, html]) {
      expect(text).toContain(`vcpu-hour = ${vcpu.value} ${vcpu.unit}`);
      expect(text).toContain(vcpu.date);
      expect(text).toContain('https://aws.amazon.com/fargate/pricing/');
      expect(text).toContain('https://developers.cloudflare.com/workers/platform/pricing/');
    }
  });

  it('--price overrides the shared price list as in pnpm compare, and is stated in the ADR', async () => {
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--price', 'vcpu-hour=0.08'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const adr = adrText(tmp.dir);
    const before = summaryFigures(comparison).get('monolith')!;
    const after = summaryFigures(comparison, withOverrides(DEFAULT_PRICES, ['vcpu-hour=0.08'])).get('monolith')!;
    expect(after).toBeGreaterThan(before);
    expect(adr).toContain(`monolith always-on, ${usd(after)} a month`);
    expect(adr).toContain('vcpu-hour = 0.08 USD per vCPU-hour (set by --price vcpu-hour=0.08');
  });

  it('--price d1-rows-written-per-order wins over the measured rows per order, and the ADR says which it replaced', async () => {
    const measured = structuredClone(comparison);
    const serverless = measured.topologies.find((t) => t.name === 'serverless')!;
    serverless.perRequest = { ...serverless.perRequest!, rowsWrittenPerOrder: 12.99 };
    tmp.write('rows.json', JSON.stringify(measured));
    const set = 'd1-rows-written-per-order=1';
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'rows.json', '--price', set, '--dry-run'], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const withSet = summaryFigures(measured, withOverrides(DEFAULT_PRICES, [set])).get('serverless')!;
    // Before: priced on the 12.99 rows measured while the price list said "= 1 rows per order (set by --price ...)".
    expect(withSet).toBeLessThan(summaryFigures(measured).get('serverless')!);
    expect(r.stdout).toContain(`serverless pay-per-use, ${usd(withSet)} a month`);
    expect(r.stdout).toContain(`D1 rows per order: 1, set by --price ${set}, overriding the 12.99 measured`);
    expect(r.stdout).toContain(`d1-rows-written-per-order = 1 rows per order (set by --price ${set}`);
  });

  it("bills GB-s from a read's and an order's wall time, as summary.md does, when a platform with a GB-s price is asked for", async () => {
    const perKind = structuredClone(comparison);
    const serverless = perKind.topologies.find((t) => t.name === 'serverless')!;
    serverless.perRequest = { ...serverless.perRequest!, wallMs: 210, wallMsPerRead: 4, wallMsPerOrder: 100 };
    tmp.write('per-kind.json', JSON.stringify(perKind));
    const lambda = 'gb-second=0.0000166667';
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'per-kind.json', '--price', lambda], tmp.dir);
    expect(r.code, r.stderr).toBe(0);
    const expected = summaryFigures(perKind, withOverrides(DEFAULT_PRICES, [lambda])).get('serverless')!;
    // Priced from the blended 210 ms, GB-s alone would cost about $236 a month instead of $26.
    const blended = summaryFigures(
      {
        ...perKind,
        topologies: perKind.topologies.map((t) =>
          t.name === 'serverless' ? { ...t, perRequest: { ...t.perRequest!, wallMsPerRead: null, wallMsPerOrder: null } } : t,
        ),
      },
      withOverrides(DEFAULT_PRICES, [lambda]),
    ).get('serverless')!;
    expect(blended - expected).toBeGreaterThan(200);
    expect(adrText(tmp.dir)).toContain(`serverless pay-per-use, ${usd(expected)} a month`);
  });

  it('an unknown price id is a one-line usage error (exit 2) and nothing is written', async () => {
    const r = await runCli(['decide', '--answers', 'answers.yaml', '--comparison', 'comparison.json', '--price', 'vcpu-hours=0.08'], tmp.dir);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')[0]).toMatch(/--price vcpu-hours=0.08: use ID=VALUE with ID one of vcpu-hour/);
    expect(readdirSync(tmp.dir).sort()).toEqual(['answers.yaml', 'comparison.json']);
  });
});
