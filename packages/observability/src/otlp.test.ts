import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { observe } from './hono';
import { createLogger } from './logging';
import { captureLogs, otlpProtobufSpans, startReceiver } from './test-support';
import type { Receiver } from './test-support';
import { initTracing, tracingOptionsFromEnv } from './tracing';

interface Received {
  path: string;
  contentType: string;
  raw: Buffer;
  body: unknown;
}

/** A minimal OTLP/HTTP receiver: keeps every POSTed body, answers 200 like a collector. */
let receiver: Receiver;
let endpoint = '';
/** What it received so far, JSON bodies parsed. */
function received(): Received[] {
  return receiver.requests.map(({ path, headers, body: raw }) => {
    const contentType = headers['content-type'] ?? '';
    return { path, contentType, raw, body: contentType.startsWith('application/json') && raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined };
  });
}

beforeAll(async () => {
  receiver = await startReceiver((_req, res) => void res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  endpoint = receiver.url;
});
afterAll(() => receiver.close());

interface OtlpAttribute {
  key: string;
  value: { stringValue?: string; intValue?: string | number };
}
interface OtlpSpan {
  name: string;
  traceId: string;
  kind: number;
  attributes: OtlpAttribute[];
}
interface OtlpExport {
  resourceSpans: Array<{ resource: { attributes: OtlpAttribute[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

describe('OTLP/HTTP export', () => {
  it('sends the spans of real requests as JSON to <OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces with the service name (JSON outside production)', async () => {
    const tracing = initTracing({
      serviceName: 'otlp-test',
      serviceVersion: '9.9.9',
      registerGlobal: false,
      ...tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint }),
    });
    const app = new Hono();
    observe(app, { service: 'otlp-test', logger: createLogger({ service: 'otlp-test', destination: captureLogs().destination }), tracing });
    app.get('/things/:id', (c) => c.json({ id: c.req.param('id') }));
    app.post('/things', (c) => c.json({}, 201));
    expect((await app.request('http://localhost/things/7')).status).toBe(200);
    expect((await app.request('http://localhost/things', { method: 'POST' })).status).toBe(201);
    // Batched: nothing has to be sent yet; a flush (as on shutdown) sends it.
    await tracing.shutdown();

    const got = received();
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((r) => r.path === '/v1/traces')).toBe(true);
    expect(got[0]!.contentType).toMatch(/^application\/json/);
    const exports = got.map((r) => r.body as OtlpExport);
    const resourceSpans = exports.flatMap((e) => e.resourceSpans);
    const attr = (attrs: OtlpAttribute[], key: string) => attrs.find((a) => a.key === key)?.value;
    expect(attr(resourceSpans[0]!.resource.attributes, 'service.name')?.stringValue).toBe('otlp-test');
    expect(attr(resourceSpans[0]!.resource.attributes, 'service.version')?.stringValue).toBe('9.9.9');
    const spans = resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
    expect(spans.map((s) => s.name).sort()).toEqual(['GET /things/:id', 'POST /things']);
    const get = spans.find((s) => s.name === 'GET /things/:id')!;
    expect(get.kind).toBe(2); // SPAN_KIND_SERVER in OTLP numbering
    expect(get.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(attr(get.attributes, 'http.route')?.stringValue).toBe('/things/:id');
    expect(Number(attr(get.attributes, 'http.response.status_code')?.intValue)).toBe(200);
  });

  it('sends protobuf in production (the OTel default protocol), one span per request', async () => {
    receiver.requests.length = 0;
    const tracing = initTracing({
      serviceName: 'otlp-proto',
      registerGlobal: false,
      ...tracingOptionsFromEnv({ NODE_ENV: 'production', OTEL_EXPORTER_OTLP_ENDPOINT: endpoint, OTEL_TRACES_SAMPLER: 'always_on' }),
    });
    const app = new Hono();
    observe(app, { service: 'otlp-proto', logger: createLogger({ service: 'otlp-proto', destination: captureLogs().destination }), tracing });
    app.get('/things/:id', (c) => c.json({ id: c.req.param('id') }));
    for (const id of ['1', '2', '3']) expect((await app.request(`http://localhost/things/${id}`)).status).toBe(200);
    await tracing.shutdown();
    const got = received();
    expect(got.length).toBeGreaterThan(0);
    expect(got.every((r) => r.path === '/v1/traces' && r.contentType === 'application/x-protobuf')).toBe(true);
    const names = got.flatMap((r) => otlpProtobufSpans(r.raw));
    expect(names).toEqual(['GET /things/:id', 'GET /things/:id', 'GET /things/:id']);
    expect(Buffer.concat(got.map((r) => r.raw)).includes('otlp-proto')).toBe(true);
    expect(() => tracingOptionsFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL must be one of/);
  });
});
