import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toProblem } from './errors';
import { DependencyError } from '@archbench/domain/errors';
import { HttpStatusError, createHttpClient } from './http-client';
import type { HttpClient } from './http-client';
import { createMetrics } from './metrics';
import { serveApp } from './test-support';
import type { Served } from './test-support';

let peer: Served;
let client: HttpClient;
const seen: Array<{ path: string; query: string; headers: Record<string, string> }> = [];
const metrics = createMetrics({ service: 'client-test', defaultMetrics: false });

beforeAll(async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    seen.push({ path: new URL(c.req.url).pathname, query: new URL(c.req.url).search, headers: c.req.header() });
    await next();
  });
  app.get('/items/:id', (c) => c.json({ id: c.req.param('id') }));
  app.post('/echo', async (c) => c.json({ got: await c.req.json() }, 201));
  app.get('/conflict', (c) =>
    c.body(JSON.stringify({ code: 'insufficient-stock', detail: 'only 1 left', status: 409 }), 409, { 'content-type': 'application/problem+json' }),
  );
  app.get('/slow', async (c) => {
    await sleep(500);
    return c.json({});
  });
  app.get('/html', (c) => c.html('<p>not json</p>'));
  peer = await serveApp(app);
  client = createHttpClient({ baseUrl: `${peer.url}/`, name: 'peer', timeoutMs: 1000, metrics, headers: { 'x-internal': 'yes' } });
});

afterAll(async () => {
  await client?.close();
  await peer?.close();
});

describe('createHttpClient', () => {
  it('expands and encodes path params, adds the query, sends JSON both ways', async () => {
    expect(await client.getJson('/items/:id', { params: { id: 'a b/c' }, query: { limit: 2, skip: undefined } })).toEqual({ id: 'a b/c' });
    const last = seen.at(-1)!;
    expect(last.path).toBe('/items/a%20b%2Fc');
    expect(last.query).toBe('?limit=2');
    expect(last.headers['x-internal']).toBe('yes');
    expect(await client.postJson('/echo', { n: 1 })).toEqual({ got: { n: 1 } });
    expect(seen.at(-1)!.headers['content-type']).toBe('application/json');
  });

  it('reuses keep-alive connections', async () => {
    const before = seen.length;
    for (let i = 0; i < 5; i++) await client.getJson('/items/:id', { params: { id: i } });
    const connections = new Set(seen.slice(before).map((s) => s.headers.connection));
    expect(connections).toEqual(new Set(['keep-alive']));
  });

  it('raises HttpStatusError with the peer problem on non-2xx; it answers as a 502', async () => {
    const error = await client.getJson('/conflict').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpStatusError);
    expect(error).toBeInstanceOf(DependencyError);
    const e = error as HttpStatusError;
    expect(e.peerStatus).toBe(409);
    expect(e.problem?.code).toBe('insufficient-stock');
    expect(e.message).toBe('peer answered 409 to GET /conflict: only 1 left');
    expect(toProblem(e).status).toBe(502);
    // request() leaves status handling to the caller.
    const res = await client.request('GET', '/conflict');
    expect(res.status).toBe(409);
    expect(res.json<{ detail: string }>().detail).toBe('only 1 left');
  });

  it('turns a timeout into a DependencyError naming the peer and the bound', async () => {
    const started = Date.now();
    const error = await client.getJson('/slow', { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toBe('peer did not answer within 100 ms');
    expect(Date.now() - started).toBeLessThan(450);
  });

  it('turns a refused connection into a DependencyError', async () => {
    const closed = await serveApp(new Hono());
    const url = closed.url;
    await closed.close();
    const dead = createHttpClient({ baseUrl: url, name: 'ghost', timeoutMs: 500 });
    const error = await dead.getJson('/x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyError);
    expect((error as Error).message).toMatch(/^ghost is unreachable/);
    await dead.close();
  });

  it('reports a body that is not JSON clearly', async () => {
    await expect(client.getJson('/html')).rejects.toThrow('peer answered GET /html with a body that is not JSON');
  });

  it('records failures in the client histogram with status_class error', async () => {
    const values = (await metrics.httpClientDuration.get()).values.filter((v) => v.metricName === 'http_client_request_duration_seconds_count');
    const byLabels = (route: string, cls: string) => values.find((v) => v.labels.route === route && v.labels.status_class === cls)?.value;
    expect(byLabels('/slow', 'error')).toBe(1);
    expect(byLabels('/conflict', '4xx')).toBe(2);
    expect(byLabels('/items/:id', '2xx')).toBe(6);
  });
});
