import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { renderSummary } from '../src/compare/summary-md';

// A real run: pnpm compare --profile quick --experiments faults, five topologies, on the shared 2-core machine.
const MEASURED = readFileSync(new URL('./fixtures/comparison-v2-quick-faults.json', import.meta.url), 'utf8');

describe('summary.md of a version 2 comparison', () => {
  const comparison = parseComparison(JSON.parse(MEASURED));
  const md = renderSummary(comparison);

  it('has one fault row per experiment, with its counts and whether the injection was verified', () => {
    expect(md).toContain('### Faults');
    const rows = md.split('\n').filter((l) => / \| (dependency crash|payment provider outage|broker connections lost)/.test(l));
    expect(rows).toHaveLength(comparison.faults.length);
    for (const f of comparison.faults) {
      const row = rows.find(
        (r) =>
          r.startsWith(`| ${f.topology} |`) &&
          r.includes(f.fault === 'dependency-crash' ? 'dependency crash' : f.fault === 'provider-outage' ? 'provider outage' : 'broker'),
      )!;
      expect(row).toContain(`| ${f.ordersLost} | ${f.ordersStuck} | ${f.duplicateCharges} | ${f.stockDrift} |`);
      expect(row).toContain(f.injection!.verified ? 'verified' : 'NOT VERIFIED');
    }
    for (const s of comparison.skippedFaults ?? []) expect(md).toContain(`${s.topology} / ${s.fault} (${s.reason})`);
  });

  it('prices every topology at every load profile and lists each price with its source and date', () => {
    const cost = comparison.cost!;
    for (const profile of cost.profiles) expect(md).toContain(`**${profile.name}**`);
    for (const e of cost.estimates) expect(md).toMatch(new RegExp(`\\| ${e.topology} \\| ${e.model} \\| \\$[\\d.,]+ \\|`));
    for (const p of cost.prices) expect(md).toContain(`| ${p.id} | ${p.value} | ${p.unit} |`);
    expect(md).toContain(cost.prices[0]!.date);
  });

  it('shows idle figures, and says when the machine was busy', () => {
    expect(md).toContain('### At rest and cold start');
    expect(md).toMatch(/\| serverless \| [\d.]+ % of a core \| \d+ MiB \| no \(scales to zero\) \|/);
    if ((comparison.machine.loadAverage?.[0] ?? 0) > comparison.machine.cores) expect(md).toContain('**Busy machine**');
  });

  it('says that serverless ran on the local emulator, and not for a deployment measured with --target', () => {
    expect(md).toContain('> **serverless ran on a local emulator**');
    const deployed = parseComparison({
      ...JSON.parse(MEASURED),
      topologies: comparison.topologies.map((t) => (t.name === 'serverless' ? { ...t, source: 'target' } : t)),
    });
    expect(renderSummary(deployed)).not.toContain('local emulator');
  });

  it('adds none of these sections for a version 1 file', () => {
    const v1 = JSON.parse(MEASURED) as Record<string, unknown>;
    for (const key of ['faults', 'skippedFaults', 'cost', 'mode', 'experiments']) delete v1[key];
    v1.schemaVersion = 1;
    v1.topologies = (v1.topologies as Record<string, unknown>[]).map(({ idle: _idle, perRequest: _p, coldStart: _c, ...rest }) => rest);
    const old = renderSummary(parseComparison(v1));
    expect(old).not.toContain('### Faults');
    expect(old).not.toContain('### Monthly cost');
    expect(old).not.toContain('### At rest');
    expect(old).toContain('### Server side');
  });
});

describe('what open-model latency means, by engine', () => {
  const comparison = parseComparison(JSON.parse(MEASURED));

  it("embedded: counted from each request's scheduled time", () => {
    const md = renderSummary({ ...comparison, engine: 'embedded' });
    expect(md).toContain("latency counts from each request's scheduled time");
    expect(md).not.toContain("k6's http_req_duration");
  });

  it("k6: http_req_duration, from the send, without connection setup or a late generator's delay", () => {
    const md = renderSummary({ ...comparison, engine: 'k6' });
    expect(md).toContain("latency is k6's http_req_duration: from sending each request to its last byte, without connection setup");
    expect(md).not.toContain("latency counts from each request's scheduled time");
  });
});
