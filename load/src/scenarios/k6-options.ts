import { loadModelOf } from './definitions.ts';
import { K6_FAILED_METRIC, REQUEST_TIMEOUT_SECONDS } from './requests.ts';
import type { RequestKind } from './types.ts';
import type { RequestSpec } from './requests.ts';
import type { LoadModel, ScenarioDefinition } from './types.ts';

/** The k6 options object for one scenario (a plain object, so Node tests can check it too). */
export interface K6Options {
  scenarios: Record<string, Record<string, unknown>>;
  thresholds: Record<string, string[]>;
  summaryTrendStats: string[];
  setupTimeout: string;
}

/** Trend stats the summary must hold so the result file can be filled (p99 is not a k6 default). */
export const K6_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

/**
 * How long k6 lets iterations still running at the end of a scenario finish: the request timeout
 * and a margin, for every scenario. k6 drops the samples of an iteration it interrupts (and the
 * scripts' counters after the request never run), where the embedded engine waits for every
 * request in flight; `min(30, duration)` cut smoke and quick runs' orders (`Prefer: wait=5`) off.
 */
export const K6_GRACEFUL_STOP_SECONDS = REQUEST_TIMEOUT_SECONDS + 5;

/** The params of each k6 request but its responseCallback (a k6 object, set by the script). */
export interface K6RequestParams {
  headers: Record<string, string>;
  tags: { name: RequestKind };
  /** REQUEST_TIMEOUT_SECONDS, as the embedded engine (k6's default is 60 s). */
  timeout: string;
}

/**
 * The params the k6 scripts send a request with: its headers, its kind as the `name` tag and the
 * timeout both engines use.
 * @example k6RequestParams(buildRequest('get-product', vu)).timeout // '30s'
 */
export function k6RequestParams(spec: RequestSpec): K6RequestParams {
  return { headers: spec.headers, tags: { name: spec.kind }, timeout: `${REQUEST_TIMEOUT_SECONDS}s` };
}

function seconds(value: number): string {
  return `${Math.max(1, Math.round(value))}s`;
}

/**
 * k6's arrival-rate executors drop an iteration as soon as every VU already initialised is busy;
 * beyond `preAllocatedVUs` they start VUs one at a time in the background, too late for that
 * iteration. The embedded engine starts a VU on the spot up to `maxVUs`. So that both drop only
 * when all `maxVUs` are busy, k6 gets every VU ready before the run.
 */
function everyVuReady(maxVUs: number): { preAllocatedVUs: number; maxVUs: number } {
  return { preAllocatedVUs: maxVUs, maxVUs };
}

/**
 * Maps a scenario definition to k6 options: arrival-rate shapes to k6's arrival-rate executors
 * (open model, with every VU up to `maxVUs` pre-allocated), constant-vus to constant-vus, thresholds by metric (those on `http_req_failed`
 * on K6_FAILED_METRIC, which the scripts fill with archbench's own verdict of each request).
 * @example toK6Options(browse(80, 6)).scenarios.browse.executor // 'constant-arrival-rate'
 */
export function toK6Options(scenario: ScenarioDefinition): K6Options {
  const load = scenario.load;
  let k6Scenario: Record<string, unknown>;
  switch (load.executor) {
    case 'constant-arrival-rate':
      k6Scenario = {
        executor: 'constant-arrival-rate',
        rate: load.rate,
        timeUnit: '1s',
        duration: seconds(load.durationSeconds),
        ...everyVuReady(load.maxVUs),
      };
      break;
    case 'ramping-arrival-rate':
      k6Scenario = {
        executor: 'ramping-arrival-rate',
        startRate: load.startRate,
        timeUnit: '1s',
        stages: load.stages.map((s) => ({ target: s.target, duration: seconds(s.durationSeconds) })),
        ...everyVuReady(load.maxVUs),
      };
      break;
    case 'constant-vus':
      k6Scenario = { executor: 'constant-vus', vus: load.vus, duration: seconds(load.durationSeconds) };
      break;
  }
  // Failures as archbench counts them (an order answered 201 but not CONFIRMED is one; k6's
  // http_req_failed only sees the status): the scripts count them in K6_FAILED_METRIC.
  const thresholds: Record<string, string[]> = {};
  for (const t of scenario.thresholds) (thresholds[t.metric === 'http_req_failed' ? K6_FAILED_METRIC : t.metric] ??= []).push(t.expression);
  return {
    scenarios: { [scenario.name]: { ...k6Scenario, gracefulStop: `${K6_GRACEFUL_STOP_SECONDS}s` } },
    thresholds,
    summaryTrendStats: K6_TREND_STATS,
    setupTimeout: '30s',
  };
}

/**
 * What the scripts' handleSummary adds to k6's summary data under `archbench` (read back by
 * `@archbench/contracts/k6-summary` as K6ArchbenchRun): without it a reader of the file cannot tell
 * a closed-model run (constant VUs, as fast as the target serves them) from one at a set rate.
 */
export interface K6SummaryRun {
  scenario: string;
  loadModel: LoadModel;
  profile: string;
}

/**
 * k6's handleSummary data with the `archbench` block of the scenario the script ran.
 * @example k6SummaryData(data, PROFILES.quick.scenarios[2], 'quick').archbench // { scenario: 'checkout', loadModel: 'closed', profile: 'quick' }
 */
export function k6SummaryData(data: unknown, scenario: ScenarioDefinition, profile: string): Record<string, unknown> & { archbench: K6SummaryRun } {
  const base = typeof data === 'object' && data !== null && !Array.isArray(data) ? (data as Record<string, unknown>) : {};
  return { ...base, archbench: { scenario: scenario.name, loadModel: loadModelOf(scenario.load), profile } };
}
