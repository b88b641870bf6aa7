import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { K6SummaryError, parseK6Summary } from '@archbench/contracts/k6-summary';
import { PROFILES, k6SummaryData } from '../src/scenarios/index';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('k6 --summary-export format', () => {
  it('reads requests, latency percentiles, failures, drops and archbench counters', () => {
    const s = parseK6Summary(fixture('k6-summary-export.json'));
    expect(s.format).toBe('summary-export');
    expect(s.requests).toBe(1200);
    expect(s.durationSeconds).toBeCloseTo(1200 / 199.93, 3);
    expect(s.latencyMs).toEqual({ p50: 9.84, p90: 20.1, p95: 35.2, p99: 120.7, max: 250.4, mean: 12.31 });
    // http_req_failed is a rate metric: its "passes" are the failed requests.
    expect(s.failed).toBe(3);
    expect(s.dropped).toBe(4);
    expect(s.statusCounts).toEqual({ '200': 1197, '500': 3 });
  });

  it('treats threshold value true as FAILED and false as passed', () => {
    const passing = parseK6Summary(fixture('k6-summary-export.json'));
    expect(passing.thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', passed: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', passed: true },
    ]);
    const failing = parseK6Summary(fixture('k6-summary-export-failed.json'));
    expect(failing.thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', passed: false },
      { metric: 'http_req_duration', expression: 'p(50)<200', passed: true },
      { metric: 'http_req_failed', expression: 'rate<0.01', passed: false },
    ]);
    expect(failing.ordersPlaced).toBe(450);
    expect(failing.failed).toBe(50);
  });
});

describe('k6 handleSummary data format', () => {
  it('reads values and { ok } thresholds, and the run duration from state', () => {
    const s = parseK6Summary(fixture('k6-handle-summary.json'));
    expect(s.format).toBe('handle-summary');
    expect(s.durationSeconds).toBeCloseTo(6.0125, 4);
    expect(s.requests).toBe(962);
    expect(s.latencyMs.p95).toBe(104.6);
    expect(s.latencyMs.p99).toBe(220.4);
    expect(s.failed).toBe(0);
    expect(s.ordersPlaced).toBe(962);
    expect(s.thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', passed: false },
      { metric: 'http_req_failed', expression: 'rate<0.01', passed: true },
    ]);
  });
});

describe('bad summaries', () => {
  it('a truncated file gives a clear error', () => {
    expect(() => parseK6Summary(fixture('k6-handle-summary-truncated.json'), 'summary.json')).toThrow(
      /cannot read summary\.json: it is not complete JSON \(truncated/,
    );
    expect(() => parseK6Summary('', 'x.json')).toThrow(/x\.json: it is empty/);
  });

  it('names a missing percentile and how to get it', () => {
    const data = JSON.parse(fixture('k6-handle-summary.json'));
    delete data.metrics.http_req_duration.values['p(99)'];
    expect(() => parseK6Summary(JSON.stringify(data))).toThrow(K6SummaryError);
    expect(() => parseK6Summary(JSON.stringify(data))).toThrow(/http_req_duration has no numeric "p\(99\)".*summary-trend-stats/);
  });

  it('refuses JSON that is not a k6 summary', () => {
    expect(() => parseK6Summary('{"hello": 1}')).toThrow(/no "metrics" object/);
    expect(() => parseK6Summary('{"metrics": {"vus": {"value": 1}}}')).toThrow(/no http_req_duration/);
  });

  it('refuses a threshold outcome of the wrong shape', () => {
    const data = JSON.parse(fixture('k6-handle-summary.json'));
    data.metrics.http_req_failed.thresholds['rate<0.01'] = true;
    expect(() => parseK6Summary(JSON.stringify(data))).toThrow(/has no boolean "ok"/);
  });
});

describe("archbench's failure metric", () => {
  it('is the one the contracts parser prefers over http_req_failed', async () => {
    const { K6_FAILED_METRIC } = await import('../src/scenarios/requests');
    const { K6_ARCHBENCH_FAILED_METRIC } = await import('@archbench/contracts/k6-summary');
    expect(K6_FAILED_METRIC).toBe(K6_ARCHBENCH_FAILED_METRIC);
  });
});

describe('the archbench block handleSummary adds', () => {
  const quick = (name: string) => PROFILES.quick.scenarios.find((s) => s.name === name)!;
  const k6Data = () => {
    const data = JSON.parse(fixture('k6-handle-summary.json')) as Record<string, unknown>;
    delete data.archbench; // k6's own data has no such block
    return data;
  };

  it("names the run's scenario, load model and profile, which the parser reads back", () => {
    expect(parseK6Summary(fixture('k6-handle-summary.json')).archbench).toEqual({ scenario: 'checkout', loadModel: 'closed', profile: 'quick' });
    for (const [name, loadModel] of [
      ['checkout', 'closed'],
      ['reads', 'closed'],
      ['browse', 'open'],
    ] as const) {
      const written = JSON.stringify(k6SummaryData(k6Data(), quick(name), 'quick'));
      expect(parseK6Summary(written).archbench).toEqual({ scenario: name, loadModel, profile: 'quick' });
    }
  });

  it('a summary without it (another script, an older one, --summary-export) has none, and reads as before', () => {
    const s = parseK6Summary(JSON.stringify(k6Data()));
    expect(s.archbench).toBeUndefined();
    expect(s.requests).toBe(962);
    expect(parseK6Summary(fixture('k6-summary-export.json')).archbench).toBeUndefined();
  });

  it('a malformed one is an error naming it', () => {
    const data = { ...k6Data(), archbench: { scenario: 'checkout', loadModel: 'closed' } };
    expect(() => parseK6Summary(JSON.stringify(data), 'x.json')).toThrow(/x\.json: "archbench" is not \{ scenario, loadModel/);
  });
});

describe('thresholds on the failure metric', () => {
  it('read back under http_req_failed, the name the scenario gave them', () => {
    const data = JSON.parse(fixture('k6-handle-summary.json')) as { metrics: Record<string, unknown> };
    data.metrics.archbench_req_failed = {
      type: 'rate',
      contains: 'default',
      values: { rate: 0.5, passes: 481, fails: 481 },
      thresholds: { 'rate<0.01': { ok: false } },
    };
    delete (data.metrics.http_req_failed as { thresholds?: unknown }).thresholds;
    expect(parseK6Summary(JSON.stringify(data)).thresholds).toEqual([
      { metric: 'http_req_duration', expression: 'p(95)<100', passed: false },
      { metric: 'http_req_failed', expression: 'rate<0.01', passed: false },
    ]);
  });
});
