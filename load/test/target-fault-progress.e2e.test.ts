import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { compareAsync } from './cli-kit';

// Fault experiments against a --target through a hook that injects nothing: a skip is decided and
// said as a skip before any experiment is announced, the experiments are counted ("fault 1/2"), the
// wait for orders to settle is said, the first line estimates the run from what will run, and the
// hook's word alone verifies neither a provider outage nor a broker loss on the monolith.

const SECRET = 'archbench-progress-test-secret-0123456789';
const work = mkdtempSync(join(tmpdir(), 'archbench-target-progress-'));

describe('pnpm compare --target --experiments faults: progress and what a hook proves', () => {
  let mono: RunningTopology;
  beforeAll(async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: SECRET };
    mono = await startTopology('monolith', { port: 0, env, output: 'capture' });
  });
  afterAll(async () => {
    await mono?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('skips before announcing, counts the experiments, and records a do-nothing hook as not verified', async () => {
    const hook = '[ "$ARCHBENCH_FAULT" != dependency-crash ] || { echo "no crash drill here"; exit 1; }';
    const out = join(work, 'run');
    const run = await compareAsync([
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
      `monolith=${mono.baseUrl}`,
      '--fault-cmd',
      'monolith=' + hook,
    ]);
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stderr.split('\n');
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // The estimate comes from what runs: one target, the smoke rounds, up to three faults.
    expect(lines[1]).toMatch(
      /about \d+ s for 1 target \(monolith\): 1 round of browse 2 s, reads 1 s, checkout 2 s, then up to 3 fault experiments of about 14 s each/,
    );
    expect(run.stderr).not.toContain('four minutes');
    const skip = at(/fault dependency-crash on monolith skipped: --fault-cmd check: no crash drill here/);
    expect(skip).toBeGreaterThan(0);
    expect(at(/fault experiments: 2 to run, 1 skipped; about \d+ s/)).toBeGreaterThan(skip);
    const first = at(/fault 1\/2 provider-outage on monolith: mixed load 20\/s for 12 s, fault at 3 s/);
    expect(first).toBeGreaterThan(skip);
    expect(at(/fault 2\/2 broker-loss on monolith: mixed load/)).toBeGreaterThan(first);
    expect(run.stderr).not.toMatch(/dependency-crash on monolith: mixed load/);
    expect(run.stderr).not.toContain('not recorded');
    expect(run.stderr).toMatch(/monolith: provider-outage: load done; waiting up to 15 s for the experiment's orders to settle/);

    const c = parseComparison(JSON.parse(readFileSync(join(out, 'comparison.json'), 'utf8')));
    const outage = c.faults.find((f) => f.fault === 'provider-outage')!;
    expect(outage.injection).toMatchObject({ verified: false, detail: expect.stringMatching(/^injected by the hook, not verified: no provider call failed/) });
    const broker = c.faults.find((f) => f.fault === 'broker-loss')!;
    expect(broker.injection).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/^injected by the hook, not verified: monolith is a topology without a message broker/),
    });
    expect(c.skippedFaults).toEqual([{ topology: 'monolith', fault: 'dependency-crash', reason: '--fault-cmd check: no crash drill here' }]);
    const summary = readFileSync(join(out, 'summary.md'), 'utf8');
    expect(summary).toMatch(/\| monolith \| payment provider outage \|.*\| injected by the hook, not verified: no provider call failed/);
  }, 150_000);
});
