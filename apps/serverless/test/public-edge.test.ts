import { request as httpRequest } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { publicEdgeMismatches } from '@archbench/server-kit/edge-conformance';
import type { EdgeRequest } from '@archbench/server-kit/edge-conformance';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import type { ApiBindings } from '../src/shared/bindings';
import { createWorkerMetrics } from '../src/shared/metrics';
import { createApp } from '../src/workers/api/app';
import { AUTH_SECRET } from './helpers';

// The shared public-edge table (server-kit/edge-conformance), as the monolith and gateway run it.
// The cases never reach D1 or a queue (probes, openapi, preflight, 413 before routing), so the
// API worker's app answers them through app.request with plain vars as its env.
const ORIGIN = 'http://console.test';

/**
 * The table over a real socket. node:http, not fetch: fetch drops a Content-Length set by hand,
 * and the 413 cases declare a body they never send (a client that lies, which the edge must refuse on the header).
 */
function overHttp(base: string): EdgeRequest {
  return (path, init = {}) =>
    new Promise<Response>((resolve, reject) => {
      const headers = Object.fromEntries(new Headers(init.headers).entries());
      const req = httpRequest(`${base}${path}`, { method: init.method ?? 'GET', headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const out = new Headers();
          for (const [name, value] of Object.entries(res.headers)) if (value !== undefined) out.set(name, Array.isArray(value) ? value.join(', ') : value);
          resolve(new Response(res.statusCode === 204 || res.statusCode === 304 ? null : Buffer.concat(chunks), { status: res.statusCode ?? 0, headers: out }));
          req.destroy();
        });
      });
      req.on('error', reject);
      if (typeof init.body === 'string') req.write(init.body);
      // A declared body that is never sent: flush the headers only and wait for the answer.
      if (headers['content-length'] !== undefined && init.body == null) req.flushHeaders();
      else req.end();
    });
}

describe('serverless API public edge', () => {
  it('answers the shared security headers, CORS exposed headers and 413 rule', async () => {
    const app = createApp({ service: 'edge-test', metrics: createWorkerMetrics('edge-test'), corsOrigins: [ORIGIN] });
    const env = { LOG_LEVEL: 'silent', MAX_IN_FLIGHT: '512' } as ApiBindings;
    expect(await publicEdgeMismatches((path, init) => app.request(path, init, env), ORIGIN)).toEqual([]);
  });

  describe('over HTTP on workerd, CORS_ORIGINS set through the launcher', () => {
    let topology: RunningTopology | undefined;
    afterAll(async () => {
      await topology?.stop();
    });

    it('keeps the same edge: the CORS_ORIGINS var reaches the running API worker', async () => {
      topology = await startTopology('serverless', {
        port: 0,
        authSecret: AUTH_SECRET,
        logLevel: 'error',
        output: 'capture',
        env: { CORS_ORIGINS: ` ${ORIGIN} , http://other.test` },
      });
      const base = topology.baseUrl;
      expect(await publicEdgeMismatches(overHttp(base), ORIGIN)).toEqual([]);
      const second = await fetch(`${base}/products`, { headers: { origin: 'http://other.test' } });
      expect(second.headers.get('access-control-allow-origin')).toBe('http://other.test');
    }, 120_000);
  });
});
