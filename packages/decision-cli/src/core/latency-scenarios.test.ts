import { describe, expect, it } from 'vitest';
import { READS_AT_CAPACITY_SCENARIO } from '@archbench/contracts/comparison';
import { assessLatency, latencyScenarios, type ScenarioEvidence, type TopologyEvidence } from './evidence';
import { MODEL_V2 } from './model';
import { scenarioRun } from '../../test/fixtures/scenario';

const run = (scenario: string, throughputRps: number, p95Ms: number, loadModel: 'open' | 'closed') =>
  scenarioRun(scenario, throughputRps, p95Ms, loadModel, { durationSeconds: 4 });

/** A quick comparison's monolith: browse at 60/s, reads at capacity (7,000/s), checkout at capacity (2,600/s). */
const monolith: TopologyEvidence = {
  topology: 'monolith',
  scenarios: [run('browse', 60, 3, 'open'), run(READS_AT_CAPACITY_SCENARIO, 7000, 2.7, 'closed'), run('checkout', 2600, 10, 'closed')],
  processCount: 1,
  cpuSecondsPer1kOrders: 0.37,
  peakRssBytes: 128 * 2 ** 20,
  ordersPlaced: 50_000,
  hopsPerRequest: 0,
  consistency: null,
};

describe('latency verdicts leave the reads at capacity out', () => {
  it('does not call a rate met that only reads reached: the API with its orders was shown up to checkout', () => {
    const verdict = assessLatency(monolith, 200, 5000, MODEL_V2);
    expect(verdict.status).toBe('not-demonstrated');
    expect(verdict.maxMeasuredRps).toBe(2600);
    expect(verdict.reason).toMatch(/measured only up to 2,?600/);
  });

  it('judges a rate that checkout reached from browse and checkout, as before', () => {
    const verdict = assessLatency(monolith, 200, 2000, MODEL_V2);
    expect(verdict.status).toBe('meets');
    expect(verdict.scenario).toBe('checkout');
  });

  it('counts the reads run when a filter names it', () => {
    expect(latencyScenarios(monolith.scenarios).map((s) => s.scenario)).toEqual(['browse', 'checkout']);
    expect(latencyScenarios(monolith.scenarios, [READS_AT_CAPACITY_SCENARIO]).map((s) => s.scenario)).toEqual(['reads']);
    expect(assessLatency(monolith, 200, 5000, MODEL_V2, [READS_AT_CAPACITY_SCENARIO]).status).toBe('meets');
  });
});

describe('a run at the expected rate with failures', () => {
  it('is judged on the rate it offered, so its errors count: throughput counts successes only', () => {
    // mixed at 100 rps for 4 s, 10 % failed: 90 successful requests per second.
    const failing: ScenarioEvidence = { ...run('mixed', 90, 8, 'open'), requests: 400, errorRate: 0.1 };
    const hybrid: TopologyEvidence = { ...monolith, topology: 'hybrid', scenarios: [failing, run('checkout', 1500, 20, 'closed')] };
    const verdict = assessLatency(hybrid, 200, 100, MODEL_V2);
    expect(verdict.status).toBe('fails');
    expect(verdict.scenario).toBe('mixed');
    expect(verdict.errorRate).toBe(0.1);
  });
});
