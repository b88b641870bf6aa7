// Maps archbench's scenario definitions (../src/scenarios, shared with the embedded engine) to a
// k6 script. k6 >= 1.0 runs this TypeScript directly; it cannot import Node modules or bare
// package names, so everything comes from k6 modules and relative .ts paths.
import crypto from 'k6/crypto';
import encoding from 'k6/encoding';
import http from 'k6/http';
import { Counter, Rate } from 'k6/metrics';
import {
  DEV_AUTH_SECRET_FOR_K6,
  K6_FAILED_METRIC,
  K6_STATUS_BUCKETS,
  LOAD_CUSTOMERS,
  ORDER_FAILURES,
  PROFILES,
  afterResponse,
  buildRequest,
  createVuState,
  customerId,
  k6OrderFailureMetric,
  k6RequestParams,
  k6SummaryData,
  needsBody,
  pickRequest,
  responseFailure,
  toK6Options,
} from '../src/scenarios/index.ts';
import type { K6Options, OrderFailure, ProfileName, ScenarioDefinition, VuState } from '../src/scenarios/index.ts';

interface SetupData {
  tokens: string[];
}

const statusCounters = new Map<number, Counter>(K6_STATUS_BUCKETS.map((s) => [s, new Counter(`archbench_status_${s}`)]));
const transportErrors = new Counter('archbench_status_0');
const otherStatuses = new Counter('archbench_status_other');
const ordersPlaced = new Counter('archbench_orders_placed');
// An order answered 201 that is not CONFIRMED: counted here instead of archbench_status_201, and
// failed in archbench_req_failed (which the thresholds use: http_req_failed only sees the status).
const orderFailures = new Map<OrderFailure, Counter>(ORDER_FAILURES.map((f) => [f, new Counter(k6OrderFailureMetric(f))]));
const requestFailed = new Rate(K6_FAILED_METRIC);

function mintToken(secret: string, sub: string): string {
  const now = Math.floor(Date.now() / 1000);
  const header = encoding.b64encode(JSON.stringify({ alg: 'HS256', typ: 'JWT' }), 'rawurl');
  const payload = encoding.b64encode(JSON.stringify({ sub, role: 'customer', iat: now, exp: now + 6 * 3600 }), 'rawurl');
  return `${header}.${payload}.${crypto.hmac('sha256', secret, `${header}.${payload}`, 'base64rawurl')}`;
}

function findScenario(profileName: string, scenarioName: string): ScenarioDefinition {
  const profile = PROFILES[profileName as ProfileName];
  if (!profile) throw new Error(`unknown PROFILE ${profileName}; use one of ${Object.keys(PROFILES).join(', ')}`);
  const scenario = profile.scenarios.find((s) => s.name === scenarioName);
  if (!scenario) throw new Error(`profile ${profileName} has no scenario ${scenarioName}; it has ${profile.scenarios.map((s) => s.name).join(', ')}`);
  return scenario;
}

export interface K6Script {
  options: K6Options;
  setup: () => SetupData;
  iteration: (data: SetupData) => void;
  handleSummary: (data: unknown) => Record<string, string>;
}

/**
 * Builds a k6 script for one archbench scenario. Environment (k6 `-e NAME=value`):
 * BASE_URL (default http://127.0.0.1:3000), PROFILE (default standard, which has every scenario), AUTH_SECRET (default: the
 * development secret), TOKENS (comma-separated bearer tokens, minted here when absent),
 * SUMMARY_JSON (where handleSummary writes its data, with an `archbench` block naming the scenario,
 * its load model and the profile; default k6-summary.json), SCENARIO_JSON (a whole
 * scenario definition, overriding the named one).
 */
export function script(scenarioName: string): K6Script {
  const baseUrl = (__ENV.BASE_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
  // `pnpm compare` passes the exact definition it runs (SCENARIO_JSON), e.g. for its warm-up.
  const profile = __ENV.PROFILE ?? 'standard';
  const scenario: ScenarioDefinition = __ENV.SCENARIO_JSON ? (JSON.parse(__ENV.SCENARIO_JSON) as ScenarioDefinition) : findScenario(profile, scenarioName);
  let vu: VuState | undefined;

  return {
    options: toK6Options(scenario),
    setup: () => {
      if (__ENV.TOKENS) return { tokens: __ENV.TOKENS.split(',').filter(Boolean) };
      const secret = __ENV.AUTH_SECRET ?? DEV_AUTH_SECRET_FOR_K6;
      return { tokens: Array.from({ length: LOAD_CUSTOMERS }, (_, i) => mintToken(secret, customerId(i))) };
    },
    iteration: (data) => {
      vu ??= createVuState(__VU, data.tokens);
      const kind = pickRequest(scenario.mix, vu.random);
      const spec = buildRequest(kind, vu);
      const response = http.request(spec.method, `${baseUrl}${spec.path}`, spec.body ?? null, {
        ...k6RequestParams(spec),
        responseCallback: http.expectedStatuses(...spec.expectedStatuses),
      });
      const body = typeof response.body === 'string' ? response.body : null;
      // The same check as the embedded engine's: a 201 is a placed order only when it is CONFIRMED.
      const failure = responseFailure(kind, response.status, kind === 'place-order' ? body : null);
      requestFailed.add(failure !== undefined);
      const orderFailure = failure === undefined || failure === 'status' ? undefined : orderFailures.get(failure);
      if (orderFailure) orderFailure.add(1);
      else (statusCounters.get(response.status) ?? (response.status === 0 ? transportErrors : otherStatuses)).add(1);
      if (kind === 'place-order' && failure === undefined) ordersPlaced.add(1);
      afterResponse(kind, vu, response.status, needsBody(kind) ? body : null);
    },
    handleSummary: (data) => ({
      // With the scenario, its load model and profile, so a reader (archbench decide --k6) can tell
      // a closed-model run from one at a set rate.
      [__ENV.SUMMARY_JSON ?? 'k6-summary.json']: JSON.stringify(k6SummaryData(data, scenario, profile), null, 2),
      stdout: `archbench: ${scenario.name} finished; summary data written to ${__ENV.SUMMARY_JSON ?? 'k6-summary.json'}\n`,
    }),
  };
}
