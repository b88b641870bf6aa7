import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { runComparison } from '../src/compare/runner';
import type { Reporter } from '../src/compare/runner';
import { renderSummary } from '../src/compare/summary-md';
import { EmbeddedEngine } from '../src/engine/embedded-engine';
import { PROFILES } from '../src/scenarios/definitions';

// Fault experiments against a --target through a hook that injects nothing: a skip is decided and
// said as a skip before any experiment is announced, the experiments are counted ("fault 1/2"), the
// wait for orders to settle is said, the first line estimates the run from what will run, and the
// hook's word alone verifies neither a provider outage nor a broker loss on the monolith. The run is
// the CLI's (runComparison, the lines it prints, summary.md's renderer) with the smoke profile's
// fault plan cut to 4 s, so the two experiments take seconds instead of 2 × 12 s.

const SECRET = 'archbench-progress-test-secret-0123456789';
const profile = {
  ...PROFILES.smoke,
  faultPlan: { rate: 20, durationSeconds: 4, injectAtSeconds: 1, faultSeconds: 1, recoveryWindowSeconds: 1, quietDeadlineSeconds: 5 },
};

describe('compare --target --experiments faults: progress and what a hook proves', () => {
  let mono: RunningTopology;
  let engine: EmbeddedEngine;
  beforeAll(async () => {
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: SECRET };
    [mono, engine] = await Promise.all([startTopology('monolith', { port: 0, env, output: 'capture' }), EmbeddedEngine.start()]);
  });
  afterAll(async () => {
    await engine?.close();
    await mono?.stop();
  });

  it('skips before announcing, counts the experiments, and records a do-nothing hook as not verified', async () => {
    const lines: string[] = [];
    const reporter: Reporter = { info: (line) => lines.push(line), progress: () => undefined, segmentDone: () => undefined };
    const hook = '[ "$ARCHBENCH_FAULT" != dependency-crash ] || { echo "no crash drill here"; exit 1; }';
    const comparison = await runComparison({
      profile,
      engineName: 'embedded',
      engine,
      topologies: undefined,
      targets: [{ name: 'monolith', url: mono.baseUrl, metricsUrls: [], faultCmd: hook }],
      experiments: ['faults'],
      env: { authSecret: SECRET, amqpUrl: undefined },
      reporter,
    });
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const text = lines.join('\n');
    // The estimate comes from what runs: one target, the smoke rounds, up to three faults.
    expect(lines[0]).toMatch(
      /about \d+ s for 1 target \(monolith\): 1 round of browse 2 s, reads 1 s, checkout 2 s, then up to 3 fault experiments of about 6 s each/,
    );
    expect(text).not.toContain('four minutes');
    const skip = at(/fault dependency-crash on monolith skipped: --fault-cmd check: no crash drill here/);
    expect(skip).toBeGreaterThan(0);
    expect(at(/fault experiments: 2 to run, 1 skipped; about \d+ s/)).toBeGreaterThan(skip);
    const first = at(/fault 1\/2 provider-outage on monolith: mixed load 20\/s for 4 s, fault at 1 s/);
    expect(first).toBeGreaterThan(skip);
    expect(at(/fault 2\/2 broker-loss on monolith: mixed load/)).toBeGreaterThan(first);
    expect(text).not.toMatch(/dependency-crash on monolith: mixed load/);
    expect(text).not.toContain('not recorded');
    expect(text).toMatch(/monolith: provider-outage: load done; waiting up to 5 s for the experiment's orders to settle/);

    const c = parseComparison(JSON.parse(JSON.stringify(comparison)));
    const outage = c.faults.find((f) => f.fault === 'provider-outage')!;
    expect(outage.injection).toMatchObject({ verified: false, detail: expect.stringMatching(/^injected by the hook, not verified: no provider call failed/) });
    const broker = c.faults.find((f) => f.fault === 'broker-loss')!;
    expect(broker.injection).toMatchObject({
      verified: false,
      detail: expect.stringMatching(/^injected by the hook, not verified: monolith is a topology without a message broker/),
    });
    expect(c.skippedFaults).toEqual([{ topology: 'monolith', fault: 'dependency-crash', reason: '--fault-cmd check: no crash drill here' }]);
    expect(renderSummary(c)).toMatch(/\| monolith \| payment provider outage \|.*\| injected by the hook, not verified: no provider call failed/);
  }, 60_000);
});
