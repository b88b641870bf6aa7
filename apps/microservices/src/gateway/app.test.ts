import { describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { publicEdgeMismatches } from '@archbench/server-kit/edge-conformance';
import { loadEnv } from '../env';
import { InternalHttpClient } from '../shared/http-client';
import { createGatewayApp } from './app';

// The shared public-edge table (server-kit/edge-conformance), also run by the monolith's tests.
const ORIGIN = 'http://console.test';

describe('gateway public edge', () => {
  it('answers the shared security headers, CORS exposed headers and 413 rule', async () => {
    const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', CORS_ORIGINS: ORIGIN });
    // No service runs: the edge answers every case before a request is routed to one.
    const client = new InternalHttpClient({ peers: {}, timeoutMs: 100, attempts: 1, internalToken: 'unused' });
    const { app } = createGatewayApp({ env, obs: { logger: createLogger({ service: 'edge-test', level: 'silent' }) }, client });
    expect(await publicEdgeMismatches((path, init) => app.request(path, init), ORIGIN)).toEqual([]);
  });
});
