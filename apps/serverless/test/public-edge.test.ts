import { describe, expect, it } from 'vitest';
import { publicEdgeMismatches } from '@archbench/server-kit/edge-conformance';
import type { ApiBindings } from '../src/shared/bindings';
import { createWorkerMetrics } from '../src/shared/metrics';
import { createApp } from '../src/workers/api/app';

// The shared public-edge table (server-kit/edge-conformance), as the monolith and gateway run it.
// The cases never reach D1 or a queue (probes, openapi, preflight, 413 before routing), so the
// API worker's app answers them through app.request with plain vars as its env.
const ORIGIN = 'http://console.test';

describe('serverless API public edge', () => {
  it('answers the shared security headers, CORS exposed headers and 413 rule', async () => {
    const app = createApp({ service: 'edge-test', metrics: createWorkerMetrics('edge-test'), corsOrigins: [ORIGIN] });
    const env = { LOG_LEVEL: 'silent', MAX_IN_FLIGHT: '512' } as ApiBindings;
    expect(await publicEdgeMismatches((path, init) => app.request(path, init, env), ORIGIN)).toEqual([]);
  });
});
