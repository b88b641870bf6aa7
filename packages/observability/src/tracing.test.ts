import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import BetterSqlite3 from 'better-sqlite3';
import { Hono } from 'hono';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kyselyObserver } from './database';
import { AppError } from '@archbench/domain/errors';
import { observe } from './hono';
import { createHttpClient } from './http-client';
import { createLogger } from './logging';
import { createMetrics } from './metrics';
import { captureLogs, otlpProtobufSpanCount, serveApp, startReceiver } from './test-support';
import type { Served } from './test-support';
import { InMemorySpanExporter, initTracing, injectContext, tracingOptionsFromEnv, withConsumerSpan, withProducerSpan } from './tracing';
import type { ReadableSpan } from './tracing';

interface ItemsTable {
  id: string;
  name: string;
}

const exporterA = new InMemorySpanExporter();
const exporterB = new InMemorySpanExporter();
const tracingA = initTracing({ serviceName: 'svc-a', serviceVersion: '1.2.3', exporter: exporterA });
const tracingB = initTracing({ serviceName: 'svc-b', exporter: exporterB, registerGlobal: false });

const dir = mkdtempSync(join(tmpdir(), 'obs-tracing-'));
const sqlite = new BetterSqlite3(join(dir, 'b.db'));
const baseDb = new Kysely<{ items: ItemsTable }>({ dialect: new SqliteDialect({ database: sqlite }) });
const db = baseDb.withPlugin(kyselyObserver({ tracing: tracingB, system: 'sqlite' }));

let b: Served;
let a: Served;
let messageHeaders: Record<string, unknown> = {};
const logs = captureLogs();

beforeAll(async () => {
  await baseDb.schema
    .createTable('items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text')
    .execute();
  await baseDb.insertInto('items').values({ id: 'i-1', name: 'first' }).execute();

  const appB = new Hono();
  observe(appB, { service: 'svc-b', logger: createLogger({ service: 'svc-b', destination: logs.destination }), tracing: tracingB });
  appB.get('/items/:id', async (c) => {
    const row = await db.selectFrom('items').selectAll().where('id', '=', c.req.param('id')).executeTakeFirst();
    if (!row) throw new AppError('not-found', 'no such item');
    return c.json(row);
  });
  appB.get('/boom', () => {
    throw new Error('kaput');
  });
  b = await serveApp(appB);

  const metricsA = createMetrics({ service: 'svc-a', defaultMetrics: false });
  const client = createHttpClient({ baseUrl: b.url, name: 'svc-b', timeoutMs: 2000, tracing: tracingA, metrics: metricsA });
  const appA = new Hono();
  observe(appA, { service: 'svc-a', logger: createLogger({ service: 'svc-a', destination: logs.destination }), tracing: tracingA, metrics: metricsA });
  appA.get('/proxy/:id', async (c) => c.json(await client.getJson<ItemsTable>('/items/:id', { params: { id: c.req.param('id') } })));
  appA.get('/proxy-boom', async (c) => {
    const res = await client.request('GET', '/boom');
    return c.json({ upstream: res.status }, 502);
  });
  appA.post('/publish', async (c) => {
    await withProducerSpan(
      'orders.commands',
      (headers) => {
        messageHeaders = headers;
      },
      { tracing: tracingA, metrics: metricsA },
    );
    return c.body(null, 202);
  });
  a = await serveApp(appA);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await baseDb.destroy();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  exporterA.reset();
  exporterB.reset();
});

const byName = (spans: ReadableSpan[], name: string) => {
  const found = spans.find((s) => s.name === name);
  if (!found) throw new Error(`no span ${name}; have ${spans.map((s) => s.name).join(', ')}`);
  return found;
};

describe('a request from app A to app B through the HTTP client', () => {
  it('makes one trace: A server → A client → B server → B query', async () => {
    const res = await fetch(`${a.url}/proxy/i-1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: 'i-1', name: 'first' });

    const spansA = exporterA.getFinishedSpans();
    const spansB = exporterB.getFinishedSpans();
    const serverA = byName(spansA, 'GET /proxy/:id');
    const clientA = byName(spansA, 'GET /items/:id');
    const serverB = byName(spansB, 'GET /items/:id');
    const queryB = byName(spansB, 'SELECT items');

    expect(serverA.kind).toBe(SpanKind.SERVER);
    expect(clientA.kind).toBe(SpanKind.CLIENT);
    expect(serverB.kind).toBe(SpanKind.SERVER);
    expect(queryB.kind).toBe(SpanKind.CLIENT);

    const traceId = serverA.spanContext().traceId;
    for (const span of [clientA, serverB, queryB]) expect(span.spanContext().traceId).toBe(traceId);
    expect(serverA.parentSpanContext).toBeUndefined();
    expect(clientA.parentSpanContext?.spanId).toBe(serverA.spanContext().spanId);
    expect(serverB.parentSpanContext?.spanId).toBe(clientA.spanContext().spanId);
    expect(queryB.parentSpanContext?.spanId).toBe(serverB.spanContext().spanId);

    expect(serverA.resource.attributes['service.name']).toBe('svc-a');
    expect(serverA.resource.attributes['service.version']).toBe('1.2.3');
    expect(serverB.resource.attributes['service.name']).toBe('svc-b');
    expect(serverA.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/proxy/:id',
      'http.response.status_code': 200,
      'url.path': '/proxy/i-1',
      'url.scheme': 'http',
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(a.url).port),
    });
    expect(clientA.attributes).toMatchObject({ 'peer.service': 'svc-b', 'http.response.status_code': 200, 'url.template': '/items/:id' });
    expect(String(clientA.attributes['url.full'])).toBe(`${b.url}/items/i-1`);
    expect(queryB.attributes).toMatchObject({ 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT', 'db.collection.name': 'items' });
    // The query span lies within the server span.
    expect(queryB.startTime[0] * 1e9 + queryB.startTime[1]).toBeGreaterThanOrEqual(serverB.startTime[0] * 1e9 + serverB.startTime[1]);
  });

  it('continues a trace given by an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parentId = '00f067aa0ba902b7';
    const res = await fetch(`${a.url}/proxy/i-1`, { headers: { traceparent: `00-${traceId}-${parentId}-01` } });
    expect(res.status).toBe(200);
    const serverA = byName(exporterA.getFinishedSpans(), 'GET /proxy/:id');
    expect(serverA.spanContext().traceId).toBe(traceId);
    expect(serverA.parentSpanContext?.spanId).toBe(parentId);
    expect(byName(exporterB.getFinishedSpans(), 'GET /items/:id').spanContext().traceId).toBe(traceId);
  });

  it('marks 5xx server spans and the client span as errors; 4xx stays unset', async () => {
    const res = await fetch(`${a.url}/proxy-boom`);
    expect(res.status).toBe(502);
    const serverB = byName(exporterB.getFinishedSpans(), 'GET /boom');
    expect(serverB.status.code).toBe(SpanStatusCode.ERROR);
    expect(serverB.attributes['http.response.status_code']).toBe(500);
    expect(serverB.attributes['error.type']).toBe('500');
    expect(serverB.events.some((e) => e.name === 'exception')).toBe(true);
    const clientA = byName(exporterA.getFinishedSpans(), 'GET /boom');
    expect(clientA.status.code).toBe(SpanStatusCode.ERROR);
    expect(byName(exporterA.getFinishedSpans(), 'GET /proxy-boom').status.code).toBe(SpanStatusCode.ERROR);

    exporterB.reset();
    expect((await fetch(`${b.url}/items/missing`)).status).toBe(404);
    const notFound = byName(exporterB.getFinishedSpans(), 'GET /items/:id');
    expect(notFound.status.code).toBe(SpanStatusCode.UNSET);
    expect(notFound.attributes['http.response.status_code']).toBe(404);
    expect(notFound.attributes['error.type']).toBeUndefined();

    // The same route answering 200 again: its own status, whatever the route answered before.
    exporterB.reset();
    expect((await fetch(`${b.url}/items/i-1`)).status).toBe(200);
    expect(byName(exporterB.getFinishedSpans(), 'GET /items/:id').attributes).toMatchObject({ 'http.route': '/items/:id', 'http.response.status_code': 200 });
  });

  it('names unmatched requests by method only and does not trace /health', async () => {
    expect((await fetch(`${b.url}/nowhere/123`)).status).toBe(404);
    expect((await fetch(`${b.url}/health`)).status).toBe(200);
    const names = exporterB.getFinishedSpans().map((s) => s.name);
    expect(names).toEqual(['GET']);
  });

  it('names a HEAD answered by a GET route by HEAD, and the GETs around it by GET', async () => {
    for (const method of ['GET', 'HEAD', 'GET']) expect((await fetch(`${a.url}/proxy/i-1`, { method })).status).toBe(200);
    const servers = exporterA.getFinishedSpans().filter((s) => s.kind === SpanKind.SERVER);
    expect(servers.map((s) => s.name)).toEqual(['GET /proxy/:id', 'HEAD /proxy/:id', 'GET /proxy/:id']);
  });

  it('carries the context through message headers: producer span → consumer span', async () => {
    expect((await fetch(`${a.url}/publish`, { method: 'POST' })).status).toBe(202);
    expect(String(messageHeaders.traceparent)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    // A broker hands headers back as Buffers sometimes; extraction copes with both.
    await withConsumerSpan('orders.commands', { traceparent: Buffer.from(String(messageHeaders.traceparent)) }, async () => {}, { tracing: tracingB });
    const producer = byName(exporterA.getFinishedSpans(), 'send orders.commands');
    const consumer = byName(exporterB.getFinishedSpans(), 'process orders.commands');
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    expect(producer.parentSpanContext?.spanId).toBe(byName(exporterA.getFinishedSpans(), 'POST /publish').spanContext().spanId);
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
    expect(consumer.attributes).toMatchObject({ 'messaging.system': 'rabbitmq', 'messaging.destination.name': 'orders.commands' });
  });

  it('records a failing consumer as an error and rethrows', async () => {
    await expect(withConsumerSpan('q', injectContext({}), async () => Promise.reject(new Error('bad message')), { tracing: tracingB })).rejects.toThrow(
      'bad message',
    );
    expect(byName(exporterB.getFinishedSpans(), 'process q').status.code).toBe(SpanStatusCode.ERROR);
  });
});

describe('tracingOptionsFromEnv', () => {
  it('maps the OpenTelemetry variables', () => {
    expect(
      tracingOptionsFromEnv({
        OTEL_SDK_DISABLED: 'false',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318',
        OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=abc%3D,tenant=t1',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_SERVICE_NAME: 'renamed',
      }),
    ).toEqual({
      enabled: true,
      otlpEndpoint: 'http://127.0.0.1:4318',
      otlpHeaders: { 'x-api-key': 'abc=', tenant: 't1' },
      otlpProtocol: 'http/json',
      sampler: { name: 'parentbased_traceidratio', arg: 0.25 },
      serviceName: 'renamed',
    });
    expect(tracingOptionsFromEnv({ OTEL_SDK_DISABLED: 'true' })).toEqual({ enabled: false });
    expect(tracingOptionsFromEnv({})).toEqual({ enabled: false });
    expect(tracingOptionsFromEnv({ OTEL_SDK_DISABLED: 'false' })).toEqual({ enabled: true });
    expect(tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).enabled).toBeUndefined();
    // Exporting in production without a sampler chosen: parent-based 10 %, protobuf.
    const prod = { NODE_ENV: 'production', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' };
    expect(tracingOptionsFromEnv(prod)).toMatchObject({ sampler: { name: 'parentbased_traceidratio', arg: 0.1 }, otlpProtocol: 'http/protobuf' });
    expect(tracingOptionsFromEnv({ ...prod, OTEL_TRACES_SAMPLER_ARG: '0.5' }).sampler).toEqual({ name: 'parentbased_traceidratio', arg: 0.5 });
    expect(tracingOptionsFromEnv({ ...prod, OTEL_TRACES_SAMPLER: 'parentbased_always_on' }).sampler).toEqual({ name: 'parentbased_always_on' });
    expect(tracingOptionsFromEnv({ ...prod, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }).otlpProtocol).toBe('http/json');
    // Elsewhere every trace is kept and exported as JSON (the OTel sampler default).
    expect(tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' })).toMatchObject({ otlpProtocol: 'http/json' });
    expect(tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }).sampler).toBeUndefined();
  });

  it('names the variable of a bad value', () => {
    expect(() => tracingOptionsFromEnv({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER must be one of/);
    expect(() => tracingOptionsFromEnv({ OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: 'localhost:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT must be an http\(s\) URL/);
    expect(() => tracingOptionsFromEnv({ OTEL_SDK_DISABLED: 'yes' })).toThrow(/OTEL_SDK_DISABLED/);
    expect(() => tracingOptionsFromEnv({ OTEL_BSP_SCHEDULE_DELAY: 'soon' })).toThrow(/OTEL_BSP_SCHEDULE_DELAY must be a whole number ≥ 0, got "soon"/);
    expect(() => tracingOptionsFromEnv({ OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '0' })).toThrow(/OTEL_BSP_MAX_EXPORT_BATCH_SIZE must be a whole number ≥ 1/);
    expect(() => tracingOptionsFromEnv({ OTEL_BSP_MAX_QUEUE_SIZE: '2.5' })).toThrow(/OTEL_BSP_MAX_QUEUE_SIZE/);
  });

  it('batches OTLP export as the OTEL_BSP_* variables say: a full batch leaves at once, the rest waits for the delay', async () => {
    const receiver = await startReceiver();
    const { bodies } = receiver;
    const options = tracingOptionsFromEnv({
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_TRACES_SAMPLER: 'always_on',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '2',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
    });
    expect(options.batch).toEqual({ scheduledDelayMillis: 60_000, maxExportBatchSize: 2, maxQueueSize: 100 });
    const tracing = initTracing({ serviceName: 'batched', registerGlobal: false, ...options });
    try {
      for (let i = 0; i < 3; i++) tracing.tracer.startSpan(`span ${i}`).end();
      for (let i = 0; i < 50 && bodies.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
      // Two spans filled a batch and left; the third waits for the 60 s delay, or a flush.
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(bodies.map(otlpProtobufSpanCount)).toEqual([2]);
      await tracing.forceFlush();
      expect(bodies.map(otlpProtobufSpanCount)).toEqual([2, 1]);
    } finally {
      await tracing.shutdown();
      await receiver.close();
    }
  });

  it('always_off sampling makes no spans', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = initTracing({ serviceName: 'off', exporter, registerGlobal: false, ...tracingOptionsFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' }) });
    const app = new Hono();
    observe(app, { service: 'off', logger: createLogger({ service: 'off', destination: logs.destination }), tracing });
    app.get('/x', (c) => c.text('ok'));
    expect((await app.request('/x')).status).toBe(200);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
