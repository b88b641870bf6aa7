import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { InputError } from './errors';
import { addScenarios, assessLatency, type ScenarioEvidence } from './evidence';
import { parseK6Summary, readK6Evidence } from './k6';
import { CURRENT_MODEL } from './model';

// Shapes as k6 writes them: `k6 run --summary-export=x.json` and the handleSummary(data) object.
const EXPORT = {
  root_group: { name: '', path: '', id: 'd41d8cd98f00b204e9800998ecf8427e', groups: {}, checks: {} },
  options: { summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'], summaryTimeUnit: '', noColor: false },
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 30012.5 },
  metrics: {
    http_req_duration: { avg: 21.3, min: 2.1, med: 15.2, max: 310.4, 'p(90)': 40.1, 'p(95)': 61.7, 'p(99)': 120.9, thresholds: { 'p(95)<50': true } },
    http_reqs: { count: 3000, rate: 99.96 },
    http_req_failed: { passes: 3, fails: 2997, value: 0.001, thresholds: { 'rate<0.01': false } },
  },
};

const SUMMARY_DATA = {
  state: { isStdOutTTY: false, isStdErrTTY: false, testRunDurationMs: 10000 },
  metrics: {
    http_req_duration: {
      type: 'trend',
      contains: 'time',
      values: { avg: 8, min: 1, med: 6, max: 90, 'p(90)': 12, 'p(95)': 14.5 },
      thresholds: { 'p(95)<100': { ok: true } },
    },
    http_reqs: { type: 'counter', contains: 'default', values: { count: 500, rate: 50 } },
    http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 500 }, thresholds: { 'rate<0.01': { ok: true } } },
  },
};

describe('parseK6Summary', () => {
  it('reads --summary-export, where a threshold value of true means it FAILED', () => {
    const s = parseK6Summary(JSON.stringify(EXPORT), 'export.json', 'browse');
    expect(s).toMatchObject({
      scenario: 'browse',
      source: 'k6',
      requests: 3000,
      p50Ms: 15.2,
      p95Ms: 61.7,
      p99Ms: 120.9,
      errorRate: 0.001,
      durationSeconds: 30.0125,
    });
    // Successful requests per second, as compare counts throughput: (3000 − 3) / 30.0125 s.
    expect(s.throughputRps).toBeCloseTo(99.86, 2);
    expect(s.thresholdsPassed).toBe(false);
    expect(s.failedThresholds).toEqual(['http_req_duration: p(95)<50']);
  });

  it("takes archbench's own verdict of each request where the script records it: orders answered 201 but REJECTED failed", () => {
    // load/k6's checkout: every order rejected; k6's http_req_failed saw 201s and reports none failed.
    const rejected = {
      ...SUMMARY_DATA,
      metrics: {
        ...SUMMARY_DATA.metrics,
        archbench_req_failed: { type: 'rate', contains: 'default', values: { rate: 1, passes: 500, fails: 0 }, thresholds: { 'rate<0.01': { ok: false } } },
      },
    };
    const s = parseK6Summary(JSON.stringify(rejected), 'checkout.json', 'checkout');
    expect(s).toMatchObject({ errorRate: 1, throughputRps: 0, thresholdsPassed: false });
    // The scripts set the scenario's http_req_failed threshold on archbench_req_failed; it reads
    // back under the scenario's name, as pnpm compare shows it.
    expect(s.failedThresholds).toEqual(['http_req_failed: rate<0.01']);
  });

  it('reads handleSummary data, where thresholds carry { ok }', () => {
    const s = parseK6Summary(JSON.stringify(SUMMARY_DATA), 'summary.json');
    expect(s).toMatchObject({ scenario: 'k6', throughputRps: 50, p95Ms: 14.5, p99Ms: null, errorRate: 0, thresholdsPassed: true, failedThresholds: [] });
  });

  it.each([
    { name: 'truncated JSON', text: JSON.stringify(EXPORT).slice(0, 200), expected: /cannot read export\.json: it is not complete JSON \(truncated/ },
    { name: 'no metrics', text: '{"foo": 1}', expected: /export\.json has no "metrics" object; is it a k6 summary\?/ },
    { name: 'no http_req_duration', text: JSON.stringify({ metrics: { http_reqs: { count: 1, rate: 1 } } }), expected: /no http_req_duration metric/ },
    {
      name: 'a metric cut short',
      text: JSON.stringify({ metrics: { http_req_duration: { med: 1 }, http_reqs: { count: 1, rate: 1 } } }),
      expected: /export\.json: http_req_duration has no numeric "p\(95\)"/,
    },
  ])('rejects $name with InputError', ({ text, expected }) => {
    expect(() => parseK6Summary(text, 'export.json')).toThrow(InputError);
    expect(() => parseK6Summary(text, 'export.json')).toThrow(expected);
  });
});

describe('the archbench block of load/k6 handleSummary', () => {
  // load's fixture: what load/k6's handleSummary writes for a quick checkout (8 VUs back to back):
  // 160 rps, p95 104.6 ms.
  const text = readFileSync(new URL('../../../../load/test/fixtures/k6-handle-summary.json', import.meta.url), 'utf8');
  const withoutBlock = (() => {
    const data = JSON.parse(text) as Record<string, unknown>;
    delete data.archbench;
    return JSON.stringify(data);
  })();
  // As loadEvidence adds a --k6 summary.
  const monolith = (scenario: ScenarioEvidence) =>
    addScenarios({ sources: [], topologies: [] }, 'monolith', [scenario], { kind: 'k6', path: 'k6.json', description: 'monolith' }).topologies[0];

  it('names the scenario and its load model, so a closed-model run is judged as one', () => {
    const { evidence, warnings } = readK6Evidence(text, 'k6-checkout.json');
    expect(evidence).toMatchObject({ scenario: 'checkout', loadModel: 'closed', p95Ms: 104.6 });
    expect(evidence.throughputRps).toBeCloseTo(160, 0);
    expect(warnings).toEqual([]);
    // At 50 rps and a 100 ms budget: 160 rps of constant VUs is latency at saturation, which proves
    // nothing either way at 50 rps; read as a run at the rate, its 104.6 ms failed the budget.
    const verdict = assessLatency(monolith(evidence), 100, 50, CURRENT_MODEL);
    expect(verdict).toMatchObject({ status: 'not-demonstrated', notDemonstratedBecause: 'saturation', scenario: 'checkout' });
    // A scenario named on the command line still wins.
    expect(readK6Evidence(text, 'k6-checkout.json', 'orders').evidence).toMatchObject({ scenario: 'orders', loadModel: 'closed' });
  });

  it('without it, reads as before (no load model, scenario k6) and says why that may mislead', () => {
    const { evidence, warnings } = readK6Evidence(withoutBlock, 'old.json');
    expect(evidence.scenario).toBe('k6');
    expect(evidence.loadModel).toBeUndefined();
    expect(assessLatency(monolith(evidence), 100, 50, CURRENT_MODEL).status).toBe('fails');
    expect(warnings).toEqual([
      expect.stringMatching(/^old\.json: no "archbench" block .*load model is unknown.*named "k6" \(name it with --k6 TOPOLOGY=FILE:SCENARIO\)$/),
    ]);
    expect(readK6Evidence(withoutBlock, 'old.json', 'checkout').warnings).toEqual([expect.not.stringContaining('FILE:SCENARIO')]);
  });

  it('refuses a malformed block with InputError', () => {
    const data = JSON.parse(text) as Record<string, unknown>;
    data.archbench = { scenario: 'checkout', loadModel: 'sometimes', profile: 'quick' };
    expect(() => parseK6Summary(JSON.stringify(data), 'bad.json')).toThrow(InputError);
    expect(() => parseK6Summary(JSON.stringify(data), 'bad.json')).toThrow(/bad\.json: "archbench" is not \{ scenario, loadModel/);
  });
});
