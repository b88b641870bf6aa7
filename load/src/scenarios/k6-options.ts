import { loadDurationSeconds } from './definitions.ts';
import { K6_FAILED_METRIC } from './requests.ts';
import type { ScenarioDefinition } from './types.ts';

/** The k6 options object for one scenario (a plain object, so Node tests can check it too). */
export interface K6Options {
  scenarios: Record<string, Record<string, unknown>>;
  thresholds: Record<string, string[]>;
  summaryTrendStats: string[];
  setupTimeout: string;
}

/** Trend stats the summary must hold so the result file can be filled (p99 is not a k6 default). */
export const K6_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'];

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
    scenarios: { [scenario.name]: { ...k6Scenario, gracefulStop: seconds(Math.min(30, loadDurationSeconds(load))) } },
    thresholds,
    summaryTrendStats: K6_TREND_STATS,
    setupTimeout: '30s',
  };
}
