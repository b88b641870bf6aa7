import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '@archbench/domain/errors';
import { observe } from './hono';
import type { ObservabilityEnv } from './hono';
import { createHttpClient } from './http-client';
import type { HttpClient } from './http-client';
import { createLogger } from './logging';
import { createMetrics } from './metrics';
import { captureLogs, serveApp } from './test-support';
import type { Served } from './test-support';
import { InMemorySpanExporter, initTracing } from './tracing';

const logs = captureLogs();
const logger = createLogger({ service: 'shop', level: 'debug', destination: logs.destination });
const metrics = createMetrics({ service: 'shop' });
const tracing = initTracing({ serviceName: 'shop', exporter: new InMemorySpanExporter() });

let peer: Served;
let server: Served;
let client: HttpClient;

beforeAll(async () => {
  const peerApp = new Hono();
  peerApp.get('/stock/:sku', (c) => c.json({ sku: c.req.param('sku'), stock: 3 }));
  peer = await serveApp(peerApp);
  client = createHttpClient({ baseUrl: peer.url, name: 'inventory', metrics, tracing });

  const app = new Hono<ObservabilityEnv>();
  observe(app, { service: 'shop', logger, metrics, tracing, accessLog: 'info' });
  app.get('/products/:sku', async (c) => {
    const stock = await client.getJson<{ stock: number }>('/stock/:sku', { params: { sku: c.req.param('sku') } });
    c.var.logger.info({ sku: c.req.param('sku') }, 'product looked up');
    return c.json({ sku: c.req.param('sku'), ...stock });
  });
  app.post('/orders', async (c) => {
    const body = await c.req.json();
    // What a careless handler might do: log every header and the whole body.
    c.var.logger.info({ headers: c.req.header(), body }, 'order received');
    logger.warn({ order: body, authorization: c.req.header('authorization') }, 'logged through the root logger');
    if (body.payment.token === 'tok_error') throw new Error(`provider failed for token ${'[not logged]'}`);
    return c.json({ ok: true }, 201);
  });
  app.get('/slow/:ms', async (c) => {
    await new Promise((resolve) => setTimeout(resolve, Number(c.req.param('ms'))));
    // The root logger, not c.var.logger: it finds the request through the active context.
    logger.info({ ms: c.req.param('ms') }, 'slow work done');
    return c.json({ ok: true });
  });
  app.get('/conflict', (c) => {
    if (c.req.query('ok') !== undefined) return c.json({ ok: true });
    throw new AppError('insufficient-stock', 'only 2 left');
  });
  server = await serveApp(app);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  await peer?.close();
});

/** Value of one series in the exposition text, matched by its exact label set. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inner = line.slice(name.length + 1, line.lastIndexOf('}'));
    const pairs = Object.fromEntries([...inner.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.keys(pairs).length !== Object.keys(labels).length) continue;
    if (Object.entries(labels).every(([k, v]) => pairs[k] === v)) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics after real requests', () => {
  let text = '';
  beforeAll(async () => {
    for (const sku of ['SKU-1', 'SKU-2', 'SKU-3']) expect((await fetch(`${server.url}/products/${sku}`)).status).toBe(200);
    // HEAD is answered by the GET route, between GETs of it: labelled HEAD, the GETs stay GET.
    expect((await fetch(`${server.url}/products/SKU-1`, { method: 'HEAD' })).status).toBe(200);
    expect((await fetch(`${server.url}/products/SKU-4`)).status).toBe(200);
    // One route answering 409, 200, 409: each lands in its own status class.
    expect((await fetch(`${server.url}/conflict`)).status).toBe(409);
    expect((await fetch(`${server.url}/conflict?ok`)).status).toBe(200);
    expect((await fetch(`${server.url}/conflict`)).status).toBe(409);
    expect((await fetch(`${server.url}/no/such/route`)).status).toBe(404);
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    text = await res.text();
  });

  it('times server requests by route template, method and status class', () => {
    expect(sample(text, 'http_server_request_duration_seconds_count', { service: 'shop', route: '/products/:sku', method: 'GET', status_class: '2xx' })).toBe(
      4,
    );
    expect(sample(text, 'http_server_request_duration_seconds_count', { service: 'shop', route: '/products/:sku', method: 'HEAD', status_class: '2xx' })).toBe(
      1,
    );
    expect(sample(text, 'http_server_request_duration_seconds_count', { service: 'shop', route: '/conflict', method: 'GET', status_class: '4xx' })).toBe(2);
    expect(sample(text, 'http_server_request_duration_seconds_count', { service: 'shop', route: '/conflict', method: 'GET', status_class: '2xx' })).toBe(1);
    expect(sample(text, 'http_server_request_duration_seconds_count', { service: 'shop', route: 'unmatched', method: 'GET', status_class: '4xx' })).toBe(1);
    expect(
      sample(text, 'http_server_request_duration_seconds_bucket', { service: 'shop', route: '/products/:sku', method: 'GET', status_class: '2xx', le: '+Inf' }),
    ).toBe(4);
    // /metrics itself is not timed.
    expect(text).not.toMatch(/route="\/metrics"/);
  });

  it('times client calls by peer and route template, and counts them as internal calls', () => {
    expect(
      sample(text, 'http_client_request_duration_seconds_count', {
        service: 'shop',
        peer: 'inventory',
        route: '/stock/:sku',
        method: 'GET',
        status_class: '2xx',
      }),
    ).toBe(5);
    expect(sample(text, 'archbench_internal_calls_total', { service: 'shop', transport: 'http' })).toBe(5);
  });

  it('counts answered errors by kind and code', () => {
    expect(sample(text, 'archbench_errors_total', { service: 'shop', kind: 'client', code: 'insufficient-stock' })).toBe(2);
    expect(sample(text, 'archbench_errors_total', { service: 'shop', kind: 'client', code: 'not-found' })).toBe(1);
  });

  it('exposes process metrics and the domain series', () => {
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) {
      expect(text).toMatch(new RegExp(`^${name}\\{service="shop"\\} \\d`, 'm'));
    }
    for (const name of ['archbench_orders_total', 'archbench_payments_total', 'archbench_saga_compensations_total', 'archbench_outbox_lag_seconds']) {
      expect(text).toContain(`# TYPE ${name} `);
    }
  });
});

describe('logs', () => {
  it('carry the trace id, span id and request id of the request on every line', async () => {
    const traceId = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab';
    const res = await fetch(`${server.url}/products/SKU-9`, { headers: { traceparent: `00-${traceId}-bbbbbbbbbbbbbbbb-01`, 'x-request-id': 'req-123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('req-123');
    const mine = logs.lines().filter((l) => l.request_id === 'req-123');
    expect(mine.map((l) => l.msg)).toEqual(['product looked up', 'request completed']);
    for (const line of mine) {
      expect(line.trace_id).toBe(traceId);
      expect(line.span_id).toMatch(/^[0-9a-f]{16}$/);
      expect(line.service).toBe('shop');
    }
    const access = mine.find((l) => l.msg === 'request completed')!;
    expect(access).toMatchObject({ req: { method: 'GET', path: '/products/SKU-9', route: '/products/:sku' }, res: { status: 200 } });
  });

  it('keep each request its own ids when requests overlap, after awaits, through the root logger', async () => {
    // Twenty requests at once, finishing in the reverse of the order they started.
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, i) => fetch(`${server.url}/slow/${(20 - i) * 5}`, { headers: { 'x-request-id': `overlap-${i}` } })),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(20).fill(200));
    const lines = logs.lines().filter((l) => typeof l.request_id === 'string' && l.request_id.startsWith('overlap-'));
    const done = lines.filter((l) => l.msg === 'slow work done');
    expect(done).toHaveLength(20);
    for (const line of done) expect(line.request_id).toBe(`overlap-${20 - Number(line.ms) / 5}`);
    const completed = lines.filter((l) => l.msg === 'request completed');
    expect(completed).toHaveLength(20);
    for (const line of completed) expect(line.request_id).toBe(`overlap-${20 - Number((line.req as { path: string }).path.split('/')[2]) / 5}`);
    // Every request its own trace: 20 distinct trace ids.
    expect(new Set(done.map((l) => l.trace_id)).size).toBe(20);
  });

  it('generate a request id when none or a malformed one is sent', async () => {
    const plain = await fetch(`${server.url}/products/SKU-1`);
    expect(plain.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await fetch(`${server.url}/products/SKU-1`, { headers: { 'x-request-id': 'a"b\\c d' } });
    expect(hostile.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('never contain the Authorization header or a payment token', async () => {
    const before = logs.raw().length;
    for (const token of ['tok_ok', 'tok_error']) {
      const res = await fetch(`${server.url}/orders`, {
        method: 'POST',
        headers: { authorization: 'Bearer sekr1t-bearer-value', 'content-type': 'application/json', cookie: 'session=c00kie-value' },
        body: JSON.stringify({ items: [{ sku: 'SKU-1', quantity: 1 }], payment: { token } }),
      });
      expect(res.status).toBe(token === 'tok_ok' ? 201 : 500);
    }
    const written = logs.raw().slice(before);
    // The lines were written (so the test would see a leak) …
    expect(written).toContain('order received');
    expect(written).toContain('logged through the root logger');
    expect(written).toContain('request failed');
    expect(written).toContain('[redacted]');
    // … and hold no secret.
    expect(written).not.toContain('sekr1t-bearer-value');
    expect(written).not.toContain('c00kie-value');
    expect(written).not.toMatch(/tok_ok|tok_error/);
  });

  it('log server errors at error with the cause, but not client errors', async () => {
    const before = logs.lines().length;
    // One route answering 409, 200, 409: each lands in its own status class.
    expect((await fetch(`${server.url}/conflict`)).status).toBe(409);
    expect((await fetch(`${server.url}/conflict?ok`)).status).toBe(200);
    expect((await fetch(`${server.url}/conflict`)).status).toBe(409);
    const after = logs.lines().slice(before);
    expect(after.filter((l) => (l.level as number) >= 50)).toHaveLength(0);
  });
});
