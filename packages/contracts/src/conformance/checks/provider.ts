import { MAX_PROVIDER_LATENCY_MS, ProviderSettings } from '../../schemas';
import type { ApiClient, ApiResponse } from '../client';
import { check, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

/**
 * `GET`/`PUT`/`DELETE /admin/payments/provider` answer, in every topology, the simulated
 * provider's settings in force, flat (the contract's ProviderSettings), nothing else: fault
 * drills script against this one shape. `DELETE` goes back to the deployment's configured settings.
 */
const PATH = '/admin/payments/provider';

const show = (settings: ProviderSettings) => JSON.stringify(settings);

async function read(api: ApiClient): Promise<ProviderSettings> {
  return expectBody(await api.get(PATH, { token: api.adminToken() }), 200, ProviderSettings);
}

function put(api: ApiClient, json: unknown): Promise<ApiResponse> {
  return api.request('PUT', PATH, { token: api.adminToken(), json });
}

async function reset(api: ApiClient): Promise<ProviderSettings> {
  return expectBody(await api.request('DELETE', PATH, { token: api.adminToken() }), 200, ProviderSettings);
}

/** The fields of `settings` whose value differs in `from`. */
function differing(settings: ProviderSettings, from: ProviderSettings): Partial<ProviderSettings> {
  const keys = ['latencyMs', 'slowMs', 'failureRate'] as const;
  return Object.fromEntries(keys.filter((k) => settings[k] !== from[k]).map((k) => [k, settings[k]]));
}

/**
 * Puts the settings read before the check back, whatever the check did (later checks need tok_slow
 * slow, no failures): DELETE first, so nothing the check switched stays stored as an override of the
 * deployment's settings (the serverless app keeps overrides in D1, over its vars), then a PUT of
 * only the fields that still differ (none when the check began on the configured settings).
 */
async function restore(api: ApiClient, settings: ProviderSettings): Promise<void> {
  const configured = await reset(api);
  const back = differing(settings, configured);
  if (Object.keys(back).length === 0) return;
  const answer = expectBody(await put(api, back), 200, ProviderSettings);
  check(show(answer) === show(settings), `PUT ${PATH} ${JSON.stringify(back)} (restoring after DELETE) answered ${show(answer)}, not ${show(settings)}`);
}

export const providerChecks: CheckDefinition[] = [
  {
    name: 'provider-switch.patch',
    async run(ctx) {
      const { api } = ctx;
      const before = await read(api);
      // A change of one millisecond of latency: visible in the answer, harmless to anything running meanwhile.
      const latencyMs = before.latencyMs > 0 ? before.latencyMs - 1 : 1;
      const expected = { ...before, latencyMs };
      try {
        const answer = expectBody(await put(api, { latencyMs }), 200, ProviderSettings);
        check(
          show(answer) === show(expected),
          `PUT ${PATH} {"latencyMs":${latencyMs}} must answer the full settings in force ${show(expected)}, answered ${show(answer)}`,
        );
        const after = await read(api);
        check(show(after) === show(expected), `GET ${PATH} after the PUT must show ${show(expected)}, showed ${show(after)}`);
      } finally {
        await restore(api, before);
      }
    },
  },
  {
    // DELETE goes back to the deployment's configured settings: after a PUT it answers (and GET
    // shows) what DELETE answered before the PUT, which on a fresh server (or after earlier checks,
    // which restore by DELETE) are the settings found at the start. Those are put back at the end.
    name: 'provider-switch.reset',
    async run(ctx) {
      const { api } = ctx;
      const before = await read(api);
      try {
        const configured = await reset(api);
        const shown = await read(api);
        check(show(shown) === show(configured), `GET ${PATH} after DELETE must show what DELETE answered, ${show(configured)}; showed ${show(shown)}`);
        const patch = {
          latencyMs: configured.latencyMs > 0 ? configured.latencyMs - 1 : 1,
          slowMs: configured.slowMs < MAX_PROVIDER_LATENCY_MS ? configured.slowMs + 1 : configured.slowMs - 1,
        };
        const switched = expectBody(await put(api, patch), 200, ProviderSettings);
        check(show(switched) === show({ ...configured, ...patch }), `PUT ${PATH} ${JSON.stringify(patch)} answered ${show(switched)}`);
        // Neither without a token nor as a customer: the switch stays as it was.
        expectProblem(await api.request('DELETE', PATH), 401);
        expectProblem(await api.request('DELETE', PATH, { token: api.newCustomer('provider').token }), 403);
        const still = await read(api);
        check(show(still) === show(switched), `a refused DELETE ${PATH} changed the settings: ${show(switched)} → ${show(still)}`);
        const back = await reset(api);
        check(show(back) === show(configured), `DELETE ${PATH} after a PUT must answer the configured settings ${show(configured)}, answered ${show(back)}`);
        const after = await read(api);
        check(show(after) === show(configured), `GET ${PATH} after DELETE must show the configured settings ${show(configured)}, showed ${show(after)}`);
      } finally {
        await restore(api, before);
      }
    },
  },
  {
    name: 'provider-switch.bad-input',
    async run(ctx) {
      const { api } = ctx;
      const before = await read(api);
      const cases: Array<[string, unknown]> = [
        ['an unknown field beside a valid one', { failureRate: 1, surprise: true }],
        ['a negative latency', { latencyMs: -1 }],
        ['a failureRate above 1', { failureRate: 1.5 }],
      ];
      try {
        for (const [what, json] of cases) {
          const problem = expectProblem(await put(api, json), 422, { code: 'validation-failed' });
          check(problem.detail.trim().length > 0, `PUT ${PATH} with ${what} must say what is wrong`);
          check(
            problem.instance === undefined || problem.instance === PATH,
            `PUT ${PATH} with ${what}: the problem's instance must be the path asked, ${PATH}, is ${JSON.stringify(problem.instance)}`,
          );
          const after = await read(api);
          check(
            show(after) === show(before),
            `PUT ${PATH} ${JSON.stringify(json)} (${what}) was refused but changed the settings: ${show(before)} → ${show(after)}`,
          );
        }
      } finally {
        await restore(api, before);
      }
    },
  },
];
