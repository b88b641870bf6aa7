import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import type { Comparison } from '@archbench/contracts/comparison';
import { renderSummary } from '../src/compare/summary-md';
import { compareAsync } from './cli-kit';

// Options that do nothing in a --target run are said, not silently ignored, and summary.md of a
// target run says what it measured and shows no figures it did not compute.

const work = mkdtempSync(join(tmpdir(), 'archbench-target-options-'));

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('pnpm compare --target: options that would do nothing', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('--experiments coldstart with --target is a contradiction: exit 2', async () => {
    const run = await compareAsync(['--profile', 'smoke', '--experiments', 'coldstart', '--out', join(work, 'cold'), '--target', 'shop=http://127.0.0.1:3400']);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('archbench compare: --experiments coldstart: cold start cannot be measured for a --target (compare starts nothing)');
  });

  it('--fault-cmd without fault experiments is a warning', async () => {
    const port = await closedPort();
    const run = await compareAsync([
      '--profile',
      'smoke',
      '--engine',
      'embedded',
      '--out',
      join(work, 'hook'),
      '--target',
      `shop=http://127.0.0.1:${port}`,
      '--fault-cmd',
      'shop=true',
    ]);
    expect(run.stderr).toContain('warning: --fault-cmd of shop will not run: no fault experiments (the smoke profile has none; add --experiments faults)');
    // Then the run goes on (and fails here: nothing listens).
    expect(run.code).toBe(3);
  });
});

describe('summary.md of a --target run', () => {
  const base = parseComparison(JSON.parse(readFileSync(new URL('./fixtures/comparison-v2-quick-faults.json', import.meta.url), 'utf8')));
  const target: Comparison = {
    ...base,
    mode: 'target',
    topologies: base.topologies.map((t) => ({ ...t, source: 'target', baseUrl: `https://${t.name}.example` })),
  };

  it('says it measured deployments, and at which URLs', () => {
    const md = renderSummary(target);
    expect(md).toContain('Measured deployments that already run (`--target`; nothing was started): monolith at https://monolith.example, ');
    expect(renderSummary(base)).not.toContain('Measured deployments');
  });

  it('says every fault was skipped, with the reasons, instead of an empty table', () => {
    const md = renderSummary({
      ...target,
      faults: [],
      skippedFaults: [{ topology: 'monolith', fault: 'provider-outage', reason: 'a --target without --fault-cmd' }],
    });
    expect(md).toContain('### Faults\n\nEvery fault was skipped: monolith / provider-outage (a --target without --fault-cmd).');
    expect(md).not.toContain('| Topology | Fault |');
  });

  it('shows no sizing for a cost that was not estimated', () => {
    const cost = target.cost!;
    const estimates = cost.estimates.map((e) =>
      e.topology === 'monolith'
        ? { ...e, monthlyUsd: null, idleMonthlyUsd: null, notes: ['not estimated: CPU per read, CPU per order not measured', ...e.notes] }
        : e,
    );
    const md = renderSummary({ ...target, cost: { ...cost, estimates } });
    const rows = md.split('\n').filter((l) => l.startsWith('| monolith | provisioned |'));
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) {
      expect(row).toBe('| monolith | provisioned | not estimated | not estimated | — | not estimated: CPU per read, CPU per order not measured |');
    }
    expect(md).toMatch(/\| hybrid \| provisioned \| \$[\d.]+ \| \$[\d.]+ \| [\d.]+ vCPU, [\d.]+ GiB \| sized for/);
  });
});
