import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes, Link } from '@opentelemetry/api';
import { ExportResultCode, TraceState } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { parseRetryAfter } from './export-thread';
import { OtlpProtobufSpanExporter, OtlpProtobufSpanProcessor, encodeTraceExportRequest } from './otlp-protobuf';
import { otlpProtobufSpans, startReceiver } from './test-support';
import type { Receiver } from './test-support';

/** Attributes of every type OTel allows, with values that hit every varint and string path. */
const EVERY_TYPE: Attributes = {
  'str.ascii': 'GET /products/:sku',
  'str.empty': '',
  'str.utf8': 'Grüße, 東京 🚀',
  'str.long': 'x'.repeat(300),
  'bool.true': true,
  'bool.false': false,
  'int.zero': 0,
  'int.small': 200,
  'int.port': 3000,
  'int.negative': -42,
  'int.big': 2 ** 40 + 7,
  'int.max-safe': Number.MAX_SAFE_INTEGER,
  'int.beyond-safe': 2 ** 60,
  'double.fraction': 3.25,
  'double.negative': -0.001,
  'double.huge': 1e300,
  'arr.str': ['a', 'ü', ''],
  'arr.int': [1, -1, 2 ** 33],
  'arr.double': [0.5, 1.5],
  'arr.bool': [true, false],
  'arr.empty': [],
};

function provider(resourceAttributes: Attributes, spanLimits = {}) {
  const exporter = new InMemorySpanExporter();
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'encoder-test', 'service.version': '1.2.3', 'host.arch': 'x64', ...resourceAttributes }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits,
  });
  return { provider: p, exporter };
}

/** A varied batch: two resources, several scopes (with version, schema URL), spans of every kind. */
function variedSpans(): ReadableSpan[] {
  const a = provider({ 'deployment.environment.name': 'test', 'res.int': 7, 'res.bool': true });
  const b = provider({ 'service.instance.id': 'ümlaut-instance' }, { attributeCountLimit: 3, eventCountLimit: 1, linkCountLimit: 1 });
  const plain = a.provider.getTracer('@archbench/observability', '0.1.0');
  const versionless = a.provider.getTracer('no-version');
  const schemaScoped = a.provider.getTracer('with-schema', '2.0.0', { schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' });
  const limited = b.provider.getTracer('limited', '0.0.1');

  const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=abc,other=x-1'),
  });
  const server = plain.startSpan('GET /products/:sku', { kind: SpanKind.SERVER, attributes: EVERY_TYPE }, remoteParent);
  const child = plain.startSpan(
    'SELECT products',
    { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT' } },
    trace.setSpan(ROOT_CONTEXT, server),
  );
  child.addEvent('row read', { rows: 1, 'cache.hit': false });
  child.addEvent('no attributes');
  child.addEvent('timed', { at: 'start' }, [1_700_000_000, 123_456_789]);
  child.recordException(new Error('boom: überlastet'));
  child.setStatus({ code: SpanStatusCode.ERROR, message: 'query failed — timeout' });
  child.end();

  const links: Link[] = [
    { context: { traceId: 'ABCDEF0123456789abcdef0123456789', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE } },
    {
      context: {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState('k=v'),
      },
      attributes: { 'link.kind': 'follows', 'link.n': 2 },
    },
  ];
  const consumer = versionless.startSpan('process orders.commands', { kind: SpanKind.CONSUMER, links, startTime: [1_700_000_001, 5] });
  consumer.setStatus({ code: SpanStatusCode.OK });
  consumer.end([1_700_000_002, 999_999_999]);

  const internal = schemaScoped.startSpan('internal work', { kind: SpanKind.INTERNAL, attributes: { 'big.string': 'é'.repeat(20_000) } });
  internal.end();
  const producer = schemaScoped.startSpan('send orders.commands', { kind: SpanKind.PRODUCER });
  producer.end();

  // Past the limits: dropped attribute, event and link counts are non-zero.
  const over = limited.startSpan('over limits', {
    attributes: { a: 1, b: 2, c: 3, d: 4, e: 5 },
    links: [{ context: links[0]!.context }, { context: links[1]!.context, attributes: { x: 1 } }],
  });
  over.addEvent('one');
  over.addEvent('two');
  over.addEvent('three');
  over.end();

  server.setAttribute('http.response.status_code', 503);
  server.setStatus({ code: SpanStatusCode.ERROR });
  server.end();

  // Interleave resources and scopes so grouping by first appearance is exercised.
  const fromA = a.exporter.getFinishedSpans();
  const fromB = b.exporter.getFinishedSpans();
  return [fromA[0]!, fromB[0]!, ...fromA.slice(1)];
}

const official = (spans: ReadableSpan[]) => Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!);

describe('encodeTraceExportRequest', () => {
  it('writes the same bytes as the official ProtobufTraceSerializer for attributes of every type, events, links, status, resources and scopes', () => {
    const spans = variedSpans();
    expect(spans.length).toBe(6);
    const ours = encodeTraceExportRequest(spans);
    expect(ours.equals(official(spans))).toBe(true);
    // And it is a real export: the names read back from the bytes.
    expect(new Set(otlpProtobufSpans(ours))).toEqual(
      new Set(['GET /products/:sku', 'SELECT products', 'process orders.commands', 'internal work', 'send orders.commands', 'over limits']),
    );
  });

  it('matches for one span, an empty batch, and a batch far above 16 KiB and 2 MiB (multi-byte lengths)', () => {
    const spans = variedSpans();
    for (const batch of [[spans[1]!], [] as ReadableSpan[]]) expect(encodeTraceExportRequest(batch).equals(official(batch))).toBe(true);
    const { provider: p, exporter } = provider({});
    const tracer = p.getTracer('bulk');
    for (let i = 0; i < 600; i++) {
      const s = tracer.startSpan(`span ${i}`, { kind: SpanKind.SERVER, attributes: { 'url.path': `/products/SKU-${i}`, 'server.port': 3000 + i } });
      s.end();
    }
    const huge = tracer.startSpan('huge', { attributes: { blob: 'z'.repeat(3 * 1024 * 1024) } });
    huge.end();
    const bulk = exporter.getFinishedSpans();
    expect(encodeTraceExportRequest(bulk).equals(official(bulk))).toBe(true);
  });

  it('refuses a span whose event name is not a string, leaving the next batch as it would be', () => {
    const { provider: p, exporter } = provider({});
    const bad = p.getTracer('bad').startSpan('bad');
    bad.addEvent(404 as unknown as string);
    bad.end();
    // Refused before anything is reserved for it: node's writer would throw too, but only after the
    // buffer was sized from the NaN length (doubled on every such span).
    expect(() => encodeTraceExportRequest(exporter.getFinishedSpans())).toThrow(/expected a string, got number/);
    const spans = variedSpans();
    expect(encodeTraceExportRequest(spans).equals(official(spans))).toBe(true);
  });

  it('gives the same bytes again for the same spans (resource, scope and repeated attributes encoded once are reused)', () => {
    const spans = variedSpans();
    const first = encodeTraceExportRequest(spans);
    const second = encodeTraceExportRequest(spans);
    expect(second.equals(first)).toBe(true);
    expect(second.equals(official(spans))).toBe(true);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter(undefined)).toBeUndefined();
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter('0')).toBe(0);
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    expect(parseRetryAfter(inAMinute)).toBeGreaterThan(50_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

/** The receiver of the running test, closed after it. */
let opened: Receiver | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

describe('OtlpProtobufSpanExporter', () => {
  /** A receiver answering its n-th request with the n-th status (the last one from then on). */
  async function receiver(statuses: Array<[number, Record<string, string>?]>): Promise<{ url: string; requests: Receiver['requests'] }> {
    opened = await startReceiver((_req, res, index) => {
      const [status, headers] = statuses[Math.min(index, statuses.length - 1)]!;
      res.writeHead(status, { 'content-type': 'application/x-protobuf', ...headers }).end(status >= 400 ? 'nope' : '');
    });
    return { url: opened.tracesUrl, requests: opened.requests };
  }

  const exportOnce = (exporter: OtlpProtobufSpanExporter, spans: ReadableSpan[]) => new Promise<ExportResult>((resolve) => exporter.export(spans, resolve));

  it('POSTs the encoded spans as application/x-protobuf with the configured headers', async () => {
    const { url, requests } = await receiver([[200]]);
    const exporter = new OtlpProtobufSpanExporter({ url, headers: { authorization: 'Bearer k' } });
    const spans = variedSpans();
    const result = await exportOnce(exporter, spans);
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(requests).toHaveLength(1);
    expect(requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests[0]!.headers.authorization).toBe('Bearer k');
    expect(requests[0]!.body.equals(official(spans))).toBe(true);
    await exporter.shutdown();
    expect((await exportOnce(exporter, spans)).code).toBe(ExportResultCode.FAILED);
  });

  it('retries 503 and 429 (honouring Retry-After) and succeeds when the receiver recovers', async () => {
    const { url, requests } = await receiver([[503, { 'retry-after': '0' }], [429, { 'retry-after': '0' }], [200]]);
    const exporter = new OtlpProtobufSpanExporter({ url });
    const result = await exportOnce(exporter, variedSpans());
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(requests).toHaveLength(3);
    expect(requests[2]!.body.equals(requests[0]!.body)).toBe(true);
    await exporter.shutdown();
  });

  it('does not retry a 400 and reports the failure with the status', async () => {
    const { url, requests } = await receiver([[400]]);
    const exporter = new OtlpProtobufSpanExporter({ url });
    const result = await exportOnce(exporter, variedSpans());
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(result.error?.message).toContain('400');
    expect(requests).toHaveLength(1);
    await exporter.shutdown();
  });

  it('gives up when retries would pass the timeout', async () => {
    const { url, requests } = await receiver([[503, { 'retry-after': '30' }]]);
    const exporter = new OtlpProtobufSpanExporter({ url, timeoutMillis: 2000 });
    const started = Date.now();
    const result = await exportOnce(exporter, variedSpans());
    expect(result.code).toBe(ExportResultCode.FAILED);
    expect(requests).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1500);
    await exporter.shutdown();
  });
});

describe('OtlpProtobufSpanProcessor', () => {
  async function collector(): Promise<{ url: string; bodies: Buffer[] }> {
    opened = await startReceiver();
    return { url: opened.tracesUrl, bodies: opened.bodies };
  }

  /** A provider exporting through the processor and, beside it, keeping the same spans in memory. */
  function setup(url: string, options: ConstructorParameters<typeof OtlpProtobufSpanProcessor>[1], sampled = true) {
    const memory = new InMemorySpanExporter();
    const processor = new OtlpProtobufSpanProcessor(new OtlpProtobufSpanExporter({ url }), options);
    const p = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'processor-test' }),
      sampler: sampled ? new AlwaysOnSampler() : new ParentBasedSampler({ root: new AlwaysOffSampler() }),
      spanProcessors: [processor, new SimpleSpanProcessor(memory)],
    });
    return { provider: p, memory, processor };
  }

  it('sends what the official serializer would for the same batch, on forceFlush', async () => {
    const { url, bodies } = await collector();
    const { provider: p, memory } = setup(url, { scheduledDelayMillis: 60_000 });
    const a = p.getTracer('scope-a', '1.0.0');
    const b = p.getTracer('scope-b');
    const root = a.startSpan('GET /products/:sku', { kind: SpanKind.SERVER, attributes: EVERY_TYPE });
    const child = b.startSpan('SELECT products', { kind: SpanKind.CLIENT, attributes: { 'db.system.name': 'sqlite' } }, trace.setSpan(ROOT_CONTEXT, root));
    child.addEvent('read', { rows: 1 });
    child.end();
    root.setStatus({ code: SpanStatusCode.ERROR, message: 'failed' });
    root.end();
    a.startSpan('after').end();
    expect(bodies).toHaveLength(0);
    await p.forceFlush();
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.equals(official(memory.getFinishedSpans()))).toBe(true);
    await p.shutdown();
  });

  it('sends a batch as soon as maxExportBatchSize spans ended, and the rest after scheduledDelayMillis', async () => {
    const { url, bodies } = await collector();
    const { provider: p, memory } = setup(url, { maxExportBatchSize: 2, scheduledDelayMillis: 50 });
    const tracer = p.getTracer('batches');
    for (let i = 0; i < 5; i++) tracer.startSpan(`span ${i}`).end();
    await new Promise((resolve) => setTimeout(resolve, 400));
    const spans = memory.getFinishedSpans();
    expect(bodies.map((body) => otlpProtobufSpans(body))).toEqual([['span 0', 'span 1'], ['span 2', 'span 3'], ['span 4']]);
    expect(bodies[1]!.equals(official(spans.slice(2, 4)))).toBe(true);
    await p.shutdown();
  });

  it('encodes ended spans in runs: a batch across several runs, and one span that cannot be encoded, give the official bytes of the others', async () => {
    const { url, bodies } = await collector();
    const { provider: p, memory } = setup(url, { scheduledDelayMillis: 60_000 });
    const tracers = [p.getTracer('scope-a', '1.0.0'), p.getTracer('scope-b')];
    // 100 spans: three full runs of 32 and four spans waiting when the batch is flushed.
    for (let i = 0; i < 100; i++) {
      const span = tracers[i % 2]!.startSpan(`span ${i}`, { kind: SpanKind.CLIENT, attributes: { i, 'db.system.name': 'sqlite' } });
      // One in the middle of the second run fails to encode (an event name that is not a string).
      if (i === 40) span.addEvent(404 as unknown as string);
      span.end();
    }
    await p.forceFlush();
    expect(bodies).toHaveLength(1);
    const good = memory.getFinishedSpans().filter((s) => s.name !== 'span 40');
    expect(good).toHaveLength(99);
    expect(bodies[0]!.equals(official(good))).toBe(true);
    await p.shutdown();
  });

  it('exports no unsampled span, and drops spans beyond maxQueueSize', async () => {
    const { url, bodies } = await collector();
    const unsampled = setup(url, { scheduledDelayMillis: 60_000 }, false);
    unsampled.provider.getTracer('t').startSpan('not sampled').end();
    await unsampled.provider.forceFlush();
    expect(bodies).toHaveLength(0);
    await unsampled.provider.shutdown();

    const small = setup(url, { maxQueueSize: 3, scheduledDelayMillis: 60_000 });
    for (let i = 0; i < 5; i++) small.provider.getTracer('t').startSpan(`span ${i}`).end();
    await small.provider.forceFlush();
    expect(bodies.flatMap((body) => otlpProtobufSpans(body))).toEqual(['span 0', 'span 1', 'span 2']);
    await small.provider.shutdown();
  });
});
