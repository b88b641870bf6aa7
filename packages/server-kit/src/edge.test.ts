import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { observe } from '@archbench/observability/hono';
import { createLogger } from '@archbench/observability/logging';
import { openApiHandler, publicEdge } from './edge';
import { publicEdgeMismatches } from './edge-conformance';

const ORIGIN = 'http://console.test';
const logger = createLogger({ service: 'edge-test', level: 'silent' });

function server(use: Parameters<typeof observe>[1]['use']) {
  const app = new Hono();
  observe(app, { service: 'edge-test', logger, use });
  app.get('/openapi.json', openApiHandler('edge test'));
  return app;
}

describe('publicEdge', () => {
  it('keeps the shared rule', async () => {
    const app = server([publicEdge({ corsOrigins: [ORIGIN], maxInFlight: 10 })]);
    expect(await publicEdgeMismatches((p, i) => app.request(p, i), ORIGIN)).toEqual([]);
  });

  it('the table names what a server without the edge gets wrong', async () => {
    const app = server([]);
    const mismatches = await publicEdgeMismatches((p, i) => app.request(p, i), ORIGIN);
    expect(mismatches).toContain('answer x-frame-options: got null, expected "DENY"');
    expect(mismatches.some((m) => m.startsWith('GET with a body over the limit: status'))).toBe(true);
    expect(mismatches.some((m) => m.startsWith('allowed origin: access-control-expose-headers'))).toBe(true);
  });

  it('lets a chunked body through under the limit and a request without a body whatever its method', async () => {
    const app = server([publicEdge({ maxInFlight: 10, maxBodyBytes: 8 })]);
    app.post('/len', async (c) => c.text(String((await c.req.text()).length)));
    app.delete('/thing', (c) => c.body(null, 204));
    expect((await app.request('/thing', { method: 'DELETE' })).status).toBe(204);
    const small = await app.request('/len', { method: 'POST', body: 'abc' });
    expect(await small.text()).toBe('3');
  });
});
