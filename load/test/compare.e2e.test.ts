import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { runCli } from './cli-kit';
import type { LoadScript } from './cli-kit';

const work = mkdtempSync(join(tmpdir(), 'archbench-compare-e2e-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const cli = (script: LoadScript, args: string[], extraEnv: Record<string, string> = {}) => runCli(script, args, extraEnv);

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('pnpm compare end to end (monolith, smoke profile, embedded engine)', () => {
  const out = join(work, 'run1');
  const stepSummary = join(work, 'step-summary.md');
  let first: ReturnType<typeof cli>;

  it('writes a schema-valid comparison.json and summary.md, and stops the server', async () => {
    first = cli('compare', ['--profile', 'smoke', '--engine', 'embedded', '--topologies', 'monolith', '--out', out], { GITHUB_STEP_SUMMARY: stepSummary });
    expect(first.stderr).toContain('started monolith');
    expect(first.code, first.stderr).toBe(0);
    const written = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
    expect(written.schemaVersion).toBe(3);
    const comparison = parseComparison(written);
    expect(comparison.convertedFrom).toBeUndefined();
    expect(comparison.engine).toBe('embedded');
    expect(comparison.profile).toBe('smoke');
    expect(comparison.topologies.map((t) => t.name)).toEqual(['monolith']);
    const mono = comparison.topologies[0]!;
    expect(mono.processCount).toBe(1);
    expect(mono.ordersPlaced).toBeGreaterThan(10);
    expect(mono.cpuSecondsPer1kOrders).toBeGreaterThan(0);
    expect(mono.peakRssBytes).toBeGreaterThan(30 * 1024 * 1024);
    expect(mono.hopsPerRequest).toBe(0);
    expect(comparison.scenarios.map((s) => s.scenario)).toEqual(['browse', 'reads', 'checkout']);
    for (const s of comparison.scenarios) {
      expect(s.requests).toBeGreaterThan(10);
      expect(s.errorRate).toBe(0);
      expect(s.latencyMs.p95).toBeGreaterThan(0);
    }
    const browse = comparison.scenarios[0]!;
    expect(browse.loadModel).toBe('open');
    expect(browse.statusCounts).toEqual({ '200': browse.requests });
    const readsRun = comparison.scenarios[1]!;
    expect(readsRun.loadModel).toBe('closed');
    expect(readsRun.statusCounts).toEqual({ '200': readsRun.requests });
    // The closed run reads back to back, far above browse's fixed 20/s.
    expect(readsRun.throughputRps).toBeGreaterThan(browse.throughputRps * 3);
    expect(comparison.scenarios[2]!.statusCounts).toEqual({ '201': comparison.scenarios[2]!.requests });
    // CPU per read comes from the reads run (which runs are counted: test/reads-counted.test.ts).
    expect(mono.perRequest?.cpuMsPerRead).toBeGreaterThan(0);
    // Per public request means at one mix for every topology, 80 % reads and 20 % orders: a read's
    // figure from its own run and an order's from checkout, not the runs as they came (whose mix
    // follows each topology's throughput in the closed runs). Reads' wall time comes from browse.
    const p = mono.perRequest!;
    const checkoutRun = comparison.scenarios[2]!;
    expect(p.cpuMs).toBeCloseTo(0.8 * p.cpuMsPerRead! + 0.2 * p.cpuMsPerOrder!, 2);
    expect(p.wallMsPerRead).toBeCloseTo(browse.latencyMs.mean!, 2);
    expect(p.wallMsPerOrder).toBeCloseTo(checkoutRun.latencyMs.mean!, 2);
    expect(p.wallMs).toBeCloseTo(0.8 * p.wallMsPerRead! + 0.2 * p.wallMsPerOrder!, 2);
    expect([p.hopsPerRead, p.hopsPerOrder]).toEqual([0, 0]);

    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| browse \| monolith \| open \|/);
    expect(first.stdout).toContain('### Server side');
    expect(readFileSync(stepSummary, 'utf8')).toBe(summary);

    const port = Number(/started monolith at http:\/\/127\.0\.0\.1:(\d+)/.exec(first.stderr)![1]);
    expect(await portOpen(port)).toBe(false);
  });

  it('check-results accepts the file and rejects a damaged one', () => {
    const ok = cli('check-results', [join(out, 'comparison.json')]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/valid comparison \(schema 3,/);
    expect(ok.stderr).not.toMatch(/warning/);
    const older = join(work, 'older.json');
    writeFileSync(older, JSON.stringify({ ...JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')), schemaVersion: 2 }));
    const old = cli('check-results', [older]);
    expect(old.code, old.stderr).toBe(0);
    expect(old.stdout).toMatch(/valid comparison \(schema 2, read as 3,/);
    expect(old.stderr).toMatch(/warning: this version 2 file may count orders answered 201 but REJECTED/);
    const damaged = join(work, 'damaged.json');
    writeFileSync(damaged, readFileSync(join(out, 'comparison.json'), 'utf8').replace('"throughputRps"', '"throughput"'));
    const bad = cli('check-results', [damaged]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/throughputRps/);
    expect(cli('check-results', []).code).toBe(2);
  });

  it('exits 1 and lists the regression when a figure is worse than the baseline, and warns that a version 2 baseline is converted', () => {
    // A baseline that is generous on every figure except the monolith's checkout throughput,
    // written before schema version 3 (which may count rejected orders as placed).
    const baseline = JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'));
    baseline.schemaVersion = 2;
    for (const s of baseline.scenarios) Object.assign(s, { throughputRps: 0, errorRate: 1, latencyMs: { ...s.latencyMs, p95: 1e6 } });
    for (const t of baseline.topologies) Object.assign(t, { cpuSecondsPer1kOrders: 1e6, peakRssBytes: 1e12 });
    Object.assign(
      baseline.scenarios.find((s: { scenario: string }) => s.scenario === 'checkout'),
      { throughputRps: 1e6, errorRate: 0 },
    );
    const baselineFile = join(work, 'baseline.json');
    writeFileSync(baselineFile, JSON.stringify(baseline));
    const second = cli('compare', [
      '--profile',
      'smoke',
      '--engine',
      'embedded',
      '--topologies',
      'monolith',
      '--out',
      join(work, 'run2'),
      '--baseline',
      baselineFile,
      '--tolerance',
      '50',
    ]);
    expect(second.code, second.stderr).toBe(1);
    expect(second.stdout).toMatch(/REGRESSION checkout\/monolith throughput \(req\/s\)/);
    expect(second.stdout.match(/REGRESSION/g)).toHaveLength(1);
    const summary = readFileSync(join(work, 'run2', 'summary.md'), 'utf8');
    expect(summary).toContain('Baseline check (tolerance 50%)');
    expect(summary).toMatch(/note: baseline: this version 2 file may count orders answered 201 but REJECTED as placed orders/);
    expect(second.stderr).toMatch(/warning: --baseline .*baseline\.json: this version 2 file may count orders answered 201 but REJECTED/);
  });

  it('bad arguments exit 2 with a message and write nothing', () => {
    const target = join(work, 'never');
    const bad = cli('compare', ['--profile', 'huge', '--out', target]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--profile must be one of/);
    const missingBaseline = cli('compare', ['--baseline', join(work, 'nope.json'), '--out', target]);
    expect(missingBaseline.code).toBe(2);
    expect(missingBaseline.stderr).toMatch(/cannot read --baseline .*ENOENT/);
    expect(existsSync(target)).toBe(false);
  });
});

describe('pnpm compare counts the work a topology finishes after its last response', () => {
  it("charges the hybrid's outbox hand-over of each order to checkout: two requests per order, and the wait is reported", () => {
    const out = join(work, 'hybrid');
    const run = cli('compare', ['--profile', 'smoke', '--engine', 'embedded', '--topologies', 'hybrid', '--out', out]);
    expect(run.code, run.stderr).toBe(0);
    const hybrid = parseComparison(JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8'))).topologies[0]!;
    expect(hybrid.ordersPlaced).toBeGreaterThan(10);
    // The public POST and the relay's hand-over to shipping, for every order: read at rest, not
    // while the relay is still behind (then some hand-overs fell outside the run).
    expect(hybrid.perRequest?.requestsPerOrder).toBeGreaterThanOrEqual(1.95);
  });
});
