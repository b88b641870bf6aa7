import { z } from 'zod';
import type { ApiClient, ApiResponse } from '../client';
import { check, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

/**
 * What `GET`/`PUT /admin/payments/provider` answer in every topology: the simulated provider's
 * settings in force, flat, nothing else (fault drills script against this one shape).
 */
const ProviderSettings = z.strictObject({
  latencyMs: z.number().int().min(0),
  slowMs: z.number().int().min(0),
  failureRate: z.number().min(0).max(1),
});
type ProviderSettings = z.infer<typeof ProviderSettings>;

const PATH = '/admin/payments/provider';

const show = (settings: ProviderSettings) => JSON.stringify(settings);

async function read(api: ApiClient): Promise<ProviderSettings> {
  return expectBody(await api.get(PATH, { token: api.adminToken() }), 200, ProviderSettings);
}

function put(api: ApiClient, json: unknown): Promise<ApiResponse> {
  return api.request('PUT', PATH, { token: api.adminToken(), json });
}

/** Puts the settings read before the check back, whatever the check did (later checks need tok_slow slow, no failures). */
async function restore(api: ApiClient, settings: ProviderSettings): Promise<void> {
  const back = expectBody(await put(api, settings), 200, ProviderSettings);
  check(show(back) === show(settings), `PUT ${PATH} ${show(settings)} (restoring) answered ${show(back)}`);
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
