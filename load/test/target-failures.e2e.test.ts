import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pairedThroughputRatio, parseComparison } from '@archbench/contracts/comparison';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { mergeSegments } from '../src/compare/merge';
import type { SegmentResult } from '../src/engine/run-scenario';
import { checkout } from '../src/scenarios/index';
import { compareAsync } from './cli-kit';

// A --target whose every order fails (here: its AUTH_SECRET is not the --auth-secret, so 401) is
// no measurement: its failed requests must not count as throughput, and compare must not exit 0.

const work = mkdtempSync(join(tmpdir(), 'archbench-target-failures-'));

/** Runs the compare CLI without blocking the event loop (the servers of this test live in this process). */
const compare = compareAsync;

const segment = (requests: number, failed: number): SegmentResult => ({
  scenario: 'checkout',
  loadModel: 'closed',
  startedAt: '2026-12-05T13:00:00.000Z',
  durationSeconds: 2,
  requests,
  failed,
  statusCounts: { '201': requests - failed, '401': failed },
  dropped: 0,
  ordersPlaced: requests - failed,
  latencyMs: { p50: 1, p90: 1, p95: 1, p99: 1, max: 1, mean: 1 },
});

describe('throughput counts only the requests that succeeded', () => {
  it('a topology that answers 401 fast does not out-run one that places orders', () => {
    const working = mergeSegments(checkout(2, 2), 'monolith', [segment(200, 0), segment(220, 0)]);
    const failing = mergeSegments(checkout(2, 2), 'shop', [segment(1000, 1000), segment(1000, 900)]);
    expect(working.throughputRps).toBe(105);
    expect(failing.throughputRps).toBe(25);
    expect(failing.roundThroughputRps).toEqual([0, 50]);
    expect(pairedThroughputRatio(failing, working)).toBeCloseTo((0 / 100 + 50 / 110) / 2, 6);
  });
});

describe('pnpm compare --target where every checkout fails', () => {
  let mono: RunningTopology;
  let shop: RunningTopology;
  const env = (secret: string) => ({ PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: secret });
  beforeAll(async () => {
    [mono, shop] = await Promise.all([
      startTopology('monolith', { port: 0, env: env('archbench-failures-secret-aaaaaaaa'), output: 'capture' }),
      startTopology('monolith', { port: 0, env: env('archbench-failures-secret-bbbbbbbb'), output: 'capture' }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([mono?.stop(), shop?.stop()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('exits 3 naming the 401s, counts no throughput for them, and warns about a --metrics-url that does not answer', async () => {
    const out = join(work, 'run');
    const run = await compare([
      '--profile',
      'smoke',
      '--engine',
      'embedded',
      '--out',
      out,
      '--auth-secret',
      'archbench-failures-secret-aaaaaaaa',
      '--target',
      `monolith=${mono.baseUrl}`,
      '--target',
      `shop=${shop.baseUrl}`,
      '--metrics-url',
      'shop=http://127.0.0.1:1/metrics',
    ]);
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toMatch(/warning: --metrics-url shop=http:\/\/127\.0\.0\.1:1\/metrics does not answer/);
    expect(run.stderr).toMatch(
      /archbench compare failed: every request of checkout against shop failed \(\d+ × 401\); a 401 or 403 means the tokens are not signed with the servers' AUTH_SECRET/,
    );
    expect(run.stderr).not.toMatch(/against monolith/);

    // The files are written: summary.md says what failed.
    const c = parseComparison(JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')));
    const failed = c.scenarios.find((s) => s.scenario === 'checkout' && s.topology === 'shop')!;
    const working = c.scenarios.find((s) => s.scenario === 'checkout' && s.topology === 'monolith')!;
    expect(failed.errorRate).toBe(1);
    expect(Object.keys(failed.statusCounts)).toEqual(['401']);
    expect(failed.throughputRps).toBe(0);
    expect(failed.roundThroughputRps).toEqual([0]);
    expect(working.throughputRps).toBeGreaterThan(0);
    // Reads need no token: the shop served them.
    expect(c.scenarios.find((s) => s.scenario === 'browse' && s.topology === 'shop')!.errorRate).toBeLessThan(0.02);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| checkout \| shop \| closed \| 0\.0 \|.*\| 100\.00% \|.*\| 0\.00× \|/);
    expect(summary).toMatch(/Failed requests: checkout on shop: \d+ × 401\./);
  }, 120_000);
});
