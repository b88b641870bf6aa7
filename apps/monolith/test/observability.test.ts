import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUTH_SECRET, mintToken } from '@archbench/contracts/tokens';
import { createLogger } from '@archbench/observability/logging';
import { InMemorySpanExporter, initTracing } from '@archbench/observability/tracing';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';

/** The monolith's tracing, metrics and domain counters, as an operator would see them. */
const dataDir = mkdtempSync(join(tmpdir(), 'archbench-mono-obs-'));
const exporter = new InMemorySpanExporter();
const tracing = initTracing({ serviceName: 'monolith', exporter, registerGlobal: false });
const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const token = mintToken(DEV_AUTH_SECRET, { sub: 'obs-customer' });
let database: Awaited<ReturnType<typeof openMonolithDatabase>>;
let mono: ReturnType<typeof createApp>;

beforeAll(async () => {
  database = await openMonolithDatabase(env);
  mono = createApp({ env, db: database.db, logger: createLogger({ service: 'monolith', level: 'silent' }), tracing });
  await mono.catalog.seed();
});
afterAll(async () => {
  await mono.orders.drain();
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Value of the series with exactly these labels (any order) in Prometheus text. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const pairs = Object.fromEntries([...line.slice(name.length + 1, line.lastIndexOf('}')).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    const wanted = { ...labels, service: 'monolith' };
    if (Object.keys(pairs).length === Object.keys(wanted).length && Object.entries(wanted).every(([k, v]) => pairs[k] === v)) {
      return Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return undefined;
}

const order = (paymentToken: string) =>
  mono.app.request('/orders', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=5' },
    body: JSON.stringify({ items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: paymentToken } }),
  });

describe('monolith observability', () => {
  it('counts confirmed and rejected orders and payment results in /metrics', async () => {
    expect(await (await order('tok_ok')).json()).toMatchObject({ status: 'CONFIRMED' });
    expect(await (await order('tok_decline')).json()).toMatchObject({ status: 'REJECTED' });
    const text = await (await mono.app.request('/metrics')).text();
    expect(sample(text, 'archbench_orders_total', { outcome: 'confirmed' })).toBe(1);
    expect(sample(text, 'archbench_orders_total', { outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'archbench_payments_total', { result: 'succeeded' })).toBe(1);
    expect(sample(text, 'archbench_payments_total', { result: 'declined' })).toBe(1);
    expect(sample(text, 'http_server_request_duration_seconds_count', { route: '/orders', method: 'POST', status_class: '2xx' })).toBe(2);
    expect(sample(text, 'db_query_duration_seconds_count', { operation: 'INSERT', table: 'orders' })).toBe(2);
    // No hops inside one process.
    expect(text).not.toMatch(/^archbench_internal_calls_total\{/m);
  });

  it('traces a product lookup with its query as a child span', async () => {
    exporter.reset();
    expect((await mono.app.request('/products/SKU-0002')).status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'GET /products/:sku');
    const query = spans.find((s) => s.name === 'SELECT products');
    expect(server?.attributes['http.route']).toBe('/products/:sku');
    expect(query?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it('answers errors as problem+json and counts them', async () => {
    const res = await mono.app.request('/products/SKU-9999');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const text = await (await mono.app.request('/metrics')).text();
    expect(sample(text, 'archbench_errors_total', { kind: 'client', code: 'not-found' })).toBe(1);
  });

  it('turns observability parts off from the environment', async () => {
    const off = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, METRICS_ENABLED: 'false', OTEL_SDK_DISABLED: 'true' });
    expect(off.METRICS_ENABLED).toBe(false);
    expect(off.tracing.enabled).toBe(false);
    const bare = createApp({
      env: off,
      db: database.db,
      logger: createLogger({ service: 'monolith', level: 'silent' }),
      tracing: initTracing({ serviceName: 'x', ...off.tracing }),
    });
    // Metrics off: /metrics is a path this server does not have, for every method (not 405 with an Allow it would not honour).
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await bare.app.request('/metrics', { method });
      expect(res.status, method).toBe(404);
      expect(res.headers.get('allow'), method).toBeNull();
    }
    // Metrics on: another method is 405 with the methods it serves.
    const wrong = await mono.app.request('/metrics', { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
    expect((await bare.app.request('/products/SKU-0001')).status).toBe(200);
    expect(() => loadEnv({ OTEL_TRACES_SAMPLER: 'often' })).toThrow(/OTEL_TRACES_SAMPLER must be one of/);
    expect(() => loadEnv({ METRICS_ENABLED: 'maybe' })).toThrow(/METRICS_ENABLED/);
  });
});
