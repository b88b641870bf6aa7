import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { compareAsync } from './cli-kit';

const SECRET = 'archbench-target-test-secret-0123456789';
const work = mkdtempSync(join(tmpdir(), 'archbench-target-e2e-'));

/** Runs the compare CLI without blocking the event loop (the servers of this test live in this process). */
const compare = compareAsync;

describe('pnpm compare --target: measures servers that already run and starts nothing', () => {
  let mono: RunningTopology;
  let micro: RunningTopology;
  beforeAll(async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: SECRET };
    [mono, micro] = await Promise.all([
      startTopology('monolith', { port: 0, env, output: 'capture' }),
      startTopology('microservices-http', { port: 0, env, output: 'capture' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([mono?.stop(), micro?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('writes the same comparison.json, server side from --metrics-url or "not measured", faults through the hook only', async () => {
    const pid = mono.processes[0]!.pid!;
    // The documented hook: it applies to the dependency crash only, kills the monolith (its
    // supervisor, this test, restarts it) and proves the old process is gone.
    const hook = `case "$ARCHBENCH_PHASE" in check) [ "$ARCHBENCH_FAULT" = dependency-crash ] || { echo "only crashes here"; exit 3; } ;; inject) kill -9 ${pid} ;; verify) ! kill -0 ${pid} 2>/dev/null && echo "pid ${pid} is gone" ;; esac`;
    const out = join(work, 'run');
    const result = await compare([
      '--profile',
      'smoke',
      '--engine',
      'embedded',
      '--experiments',
      'faults',
      '--out',
      out,
      '--auth-secret',
      SECRET,
      '--target',
      `shop=${mono.baseUrl}`,
      '--metrics-url',
      `shop=${mono.baseUrl}/metrics`,
      '--fault-cmd',
      `shop=${hook}`,
      '--target',
      `staging=${micro.baseUrl}`,
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toMatch(/started (monolith|microservices)/);
    const c = parseComparison(JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')));
    expect(c.mode).toBe('target');
    expect(c.topologies.map((t) => t.name)).toEqual(['shop', 'staging']);
    const [shop, staging] = c.topologies;
    expect(shop).toMatchObject({ source: 'target', serverSide: 'metrics-url', baseUrl: mono.baseUrl });
    expect(shop!.cpuSeconds).toBeGreaterThan(0);
    expect(shop!.peakRssBytes).toBeGreaterThan(20 * 2 ** 20);
    expect(staging).toMatchObject({ serverSide: 'not-measured', cpuSeconds: null, peakRssBytes: null, processCount: null });
    expect(staging!.ordersPlaced).toBeGreaterThan(0);
    // Not an exact 0: this box is shared, and a stalled second under load must not fail the test.
    for (const s of c.scenarios) expect(s.errorRate).toBeLessThan(0.02);

    // The crash happened for real, through the hook; the supervisor brought the monolith back.
    const crash = c.faults.find((f) => f.topology === 'shop' && f.fault === 'dependency-crash')!;
    expect(crash.injection).toMatchObject({ verified: true, detail: `pid ${pid} is gone` });
    expect(mono.processes[0]!.pid).not.toBe(pid);
    expect(crash.ordersLost).toBe(0);
    expect(c.faults.some((f) => f.topology === 'staging')).toBe(false);
    expect(c.skippedFaults).toEqual(
      expect.arrayContaining([
        { topology: 'shop', fault: 'provider-outage', reason: '--fault-cmd check: only crashes here' },
        expect.objectContaining({ topology: 'staging', fault: 'dependency-crash', reason: expect.stringMatching(/without --fault-cmd/) }),
      ]),
    );
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| staging \| not measured \|/);
    expect(summary).toContain('### Faults');
  });

  it('refuses a --metrics-url or --fault-cmd for a NAME that is not a target (exit 2)', async () => {
    const bad = await compare(['--target', `shop=${mono.baseUrl}`, '--metrics-url', 'other=http://127.0.0.1:1/metrics', '--out', join(work, 'never')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/there is no --target other/);
  });
});
