import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import type { Attributes, Link, Span, SpanOptions } from '@opentelemetry/api';
import { TraceState, hrTimeToMilliseconds, otperformance } from '@opentelemetry/core';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, SpanLimits } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LightSpan } from './light-span';
import { startReceiver } from './test-support';
import type { Receiver } from './test-support';
import { encodeTraceExportRequest } from './otlp-protobuf';
import { initTracing } from './tracing';

const EVERY_TYPE: Attributes = {
  'str.ascii': 'GET /products/:sku',
  'str.empty': '',
  'str.utf8': 'Grüße, 東京 🚀',
  'bool.true': true,
  'int.small': 200,
  'int.negative': -42,
  'int.big': 2 ** 40 + 7,
  'double.fraction': 3.25,
  'arr.str': ['a', 'ü', ''],
  'arr.int': [1, -1, 2 ** 33],
  'arr.empty': [],
};

const LINKS: Link[] = [
  { context: { traceId: 'abcdef0123456789abcdef0123456789', spanId: '00f067aa0ba902b7', traceFlags: TraceFlags.NONE } },
  {
    context: {
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId: '00f067aa0ba902b7',
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
      traceState: new TraceState('k=v'),
    },
    attributes: { 'link.kind': 'follows', 'link.n': 2, 'link.long': 'y'.repeat(40) },
  },
];

/** Frozen attributes objects, as the query observer and the request middleware pass them: taken as one block. */
const QUERY_SHAPE: Attributes = Object.freeze({ 'db.system.name': 'sqlite', 'db.operation.name': 'SELECT', 'db.collection.name': undefined });
const ROUTE_BLOCK: Attributes = Object.freeze({
  'http.request.method': 'GET',
  'url.scheme': 'http',
  'server.port': 3000,
  'http.route': '/products/:sku',
  'http.response.status_code': 200,
});
/** Frozen but not a block: an array value (the span copies arrays). */
const NOT_A_BLOCK: Attributes = Object.freeze({ 'db.system.name': 'sqlite', 'arr.str': ['a', 'b'] });

// Made once: a stack trace names the line an error was made on.
const BOOM = new Error('boom: überlastet');
const CODED = Object.assign(new Error('coded'), { code: 'E_CODE' });

interface Scenario {
  name: string;
  options: SpanOptions;
  parent?: boolean;
  act: (span: Span) => void;
}

/** What the middleware, the query observer, the messaging helpers and error handling do to spans, with explicit times. */
const SCENARIOS: Scenario[] = [
  {
    name: 'GET',
    options: { kind: SpanKind.SERVER, startTime: [1_700_000_000, 100] },
    act: (s) => {
      // A key a plain object never holds, which the SDK still counts against the attribute limit.
      s.setAttribute('__proto__', 'ignored');
      s.setAttributes({ 'http.request.method': 'GET', 'url.path': '/products/SKU-1', 'server.address': undefined, 'server.port': 3000 });
      s.updateName('GET /products/:sku');
      s.setAttribute('http.route', '/products/:sku');
      // A key an object lists first (array index).
      s.setAttribute('7', 'seventh');
      s.setAttribute('http.response.status_code', 503);
      s.setAttribute('error.type', '503');
      s.setStatus({ code: SpanStatusCode.ERROR });
      s.setStatus({ code: SpanStatusCode.UNSET });
      s.end([1_700_000_000, 900_000_100]);
    },
  },
  {
    name: 'SELECT products',
    parent: true,
    options: {
      kind: SpanKind.CLIENT,
      startTime: 1_700_000_000_123.456,
      attributes: { 'db.system.name': 'sqlite', 'db.collection.name': 'products', 'bad.value': {} as never },
    },
    act: (s) => {
      s.addEvent('row read', { rows: 1, 'cache.hit': false }, new Date(1_700_000_000_200));
      s.addEvent('timed', [1_700_000_000, 5]);
      s.recordException(BOOM, [1_700_000_000, 7]);
      s.recordException('a string', [1_700_000_000, 8]);
      s.recordException(CODED, [1_700_000_000, 9]);
      s.setStatus({ code: SpanStatusCode.ERROR, message: 'query failed — timeout' });
      s.end(1_700_000_000_456.5);
    },
  },
  {
    name: 'process orders.commands',
    options: { kind: SpanKind.CONSUMER, links: LINKS, attributes: EVERY_TYPE, startTime: [1_700_000_001, 5] },
    act: (s) => {
      s.addLink({ context: LINKS[0]!.context, attributes: { late: true } });
      s.addLinks([{ context: LINKS[1]!.context }]);
      s.setStatus({ code: SpanStatusCode.OK });
      s.setStatus({ code: SpanStatusCode.ERROR, message: 'ignored after OK' });
      s.end([1_700_000_002, 999_999_999]);
      // After end: ignored (with a warning), as by the SDK.
      s.setAttribute('late', 1);
      s.updateName('renamed late');
      s.end();
    },
  },
  {
    name: 'SELECT (a frozen block)',
    options: { kind: SpanKind.CLIENT, startTime: [1_700_000_004, 0], attributes: QUERY_SHAPE },
    act: (s) => s.end([1_700_000_004, 5_000]),
  },
  {
    name: 'GET (a block, then more)',
    options: { kind: SpanKind.SERVER, startTime: [1_700_000_005, 0] },
    act: (s) => {
      s.setAttributes(ROUTE_BLOCK);
      s.setAttribute('url.path', '/products/SKU-2');
      s.setAttributes(QUERY_SHAPE);
      s.end([1_700_000_005, 7_000]);
    },
  },
  {
    name: 'GET (a block, one of its keys set again)',
    options: { kind: SpanKind.SERVER, startTime: [1_700_000_006, 0] },
    act: (s) => {
      s.setAttributes(ROUTE_BLOCK);
      s.setAttribute('http.response.status_code', 503);
      s.end([1_700_000_006, 7_000]);
    },
  },
  {
    name: 'not frozen',
    options: { startTime: [1_700_000_008, 0], attributes: { 'db.system.name': 'sqlite' } },
    act: (s) => s.end([1_700_000_008, 1]),
  },
  {
    name: 'frozen, not a block',
    options: { startTime: [1_700_000_007, 0], attributes: NOT_A_BLOCK },
    act: (s) => s.end([1_700_000_007, 1]),
  },
  {
    name: 'over limits',
    options: { startTime: [1_700_000_003, 0], attributes: { a: 1, b: 'long string value', c: 3, d: 4, e: 5 }, links: [...LINKS, ...LINKS] },
    act: (s) => {
      s.setAttribute('a', 'replaced (existing key, kept)');
      s.setAttribute('z', 'new key past the limit');
      for (let i = 0; i < 4; i++) s.addEvent(`event ${i}`, { i, x: 1, y: 2, z: 3 }, [1_700_000_003, i]);
      s.end([1_700_000_002, 0]); // before the start: duration 0, end = start
    },
  },
];

function sdkProvider(spanLimits: SpanLimits) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'light-span-test', 'service.version': '1.0.0' }),
    sampler: new AlwaysOnSampler(),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits,
  });
  return { provider, exporter };
}

/** The same calls on the SDK's spans and on LightSpans made with the SDK's ids, resource, scope and limits. */
function bothWays(spanLimits: SpanLimits): { sdk: ReadableSpan[]; light: ReadableSpan[] } {
  const { provider, exporter } = sdkProvider(spanLimits);
  const tracer = provider.getTracer('@archbench/observability', '0.1.0');
  const light: ReadableSpan[] = [];
  const setupFor = (s: ReadableSpan) => ({
    resource: s.resource,
    scope: s.instrumentationScope,
    limits: (tracer as unknown as { _spanLimits: SpanLimits })._spanLimits,
    processor: { onEnd: (span: ReadableSpan) => light.push(span) },
  });
  const remote = trace.setSpanContext(ROOT_CONTEXT, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    traceFlags: TraceFlags.SAMPLED,
    isRemote: true,
    traceState: new TraceState('vendor=abc'),
  });
  let parentSdk: Span | undefined;
  for (const scenario of SCENARIOS) {
    const ctx = scenario.parent && parentSdk ? trace.setSpan(ROOT_CONTEXT, parentSdk) : remote;
    const sdkSpan = tracer.startSpan(scenario.name, scenario.options, ctx);
    parentSdk ??= sdkSpan;
    const readable = sdkSpan as unknown as ReadableSpan;
    const lightSpan = new LightSpan(
      setupFor(readable),
      sdkSpan.spanContext(),
      scenario.name,
      scenario.options.kind ?? SpanKind.INTERNAL,
      readable.parentSpanContext,
      scenario.options.attributes,
      scenario.options.links,
      scenario.options.startTime,
    );
    scenario.act(sdkSpan);
    scenario.act(lightSpan);
  }
  return { sdk: exporter.getFinishedSpans(), light };
}

describe('LightSpan', () => {
  it('holds the same span data as the SDK span for the same calls, so both encode to the same bytes (and as the official serializer does)', () => {
    for (const limits of [
      {},
      { attributeCountLimit: 3 },
      { attributeCountLimit: 3, eventCountLimit: 2, linkCountLimit: 2, attributePerEventCountLimit: 2, attributeValueLengthLimit: 10 },
    ]) {
      const { sdk, light } = bothWays(limits);
      expect(light).toHaveLength(SCENARIOS.length);
      for (let i = 0; i < sdk.length; i++) {
        const [a, b] = [sdk[i]!, light[i]!];
        expect({ ...b, attributes: b.attributes, events: b.events, links: b.links, status: b.status, duration: b.duration }).toMatchObject({
          name: a.name,
          kind: a.kind,
          startTime: a.startTime,
          endTime: a.endTime,
          duration: a.duration,
          attributes: a.attributes,
          events: a.events,
          links: a.links,
          status: a.status,
          droppedAttributesCount: a.droppedAttributesCount,
          droppedEventsCount: a.droppedEventsCount,
          droppedLinksCount: a.droppedLinksCount,
          ended: true,
        });
        expect(b.parentSpanContext).toEqual(a.parentSpanContext);
      }
      const expected = Buffer.from(ProtobufTraceSerializer.serializeRequest(sdk)!);
      expect(encodeTraceExportRequest(light).equals(expected)).toBe(true);
      expect(Buffer.from(ProtobufTraceSerializer.serializeRequest(light)!).equals(expected)).toBe(true);
    }
  });

  it('takes a frozen attributes object as one block only while setting its entries one by one would keep them all', () => {
    const block = (limits: SpanLimits) => {
      const light = bothWays(limits).light as LightSpan[];
      return Object.fromEntries(light.map((span) => [span.name, span.attributeBlock === undefined ? 0 : span.attributeBlockSize]));
    };
    expect(block({ attributeValueLengthLimit: Infinity })).toMatchObject({
      'SELECT (a frozen block)': 2,
      'GET (a block, then more)': 5,
      'GET (a block, one of its keys set again)': 0,
      'frozen, not a block': 0,
      // An object that can still change is never taken as a block (its bytes are kept by object).
      'not frozen': 0,
    });
    // Past the count limit (5 keys, limit 3) or the value length limit (a 14-character route, limit 10): one by one.
    expect(block({ attributeCountLimit: 3, attributeValueLengthLimit: Infinity })).toMatchObject({
      'SELECT (a frozen block)': 2,
      'GET (a block, then more)': 0,
    });
    expect(block({ attributeValueLengthLimit: 10 })).toMatchObject({ 'SELECT (a frozen block)': 2, 'GET (a block, then more)': 0 });
  });

  it('times a span without explicit times from the wall clock at start plus the monotonic time elapsed', async () => {
    const { sdk } = bothWays({});
    const before = Date.now();
    const span = new LightSpan(
      { resource: sdk[0]!.resource, scope: sdk[0]!.instrumentationScope, limits: { attributeValueLengthLimit: Infinity }, processor: { onEnd: () => {} } },
      sdk[0]!.spanContext(),
      'timed',
      SpanKind.INTERNAL,
      undefined,
      undefined,
      undefined,
      undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    span.end();
    const start = hrTimeToMilliseconds(span.startTime);
    expect(start).toBeGreaterThanOrEqual(before);
    expect(start).toBeLessThanOrEqual(before + 10);
    const elapsed = hrTimeToMilliseconds(span.duration);
    expect(elapsed).toBeGreaterThanOrEqual(18);
    expect(hrTimeToMilliseconds(span.endTime) - start).toBeCloseTo(elapsed, 3);
    expect(span.isRecording()).toBe(false);
  });
});

describe('LightSpan clock reads', () => {
  const setup = {
    resource: resourceFromAttributes({}),
    scope: { name: 'test' },
    limits: { attributeValueLengthLimit: Infinity },
    processor: { onEnd: () => {} },
  };
  const context = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED };
  afterEach(() => vi.restoreAllMocks());

  it('reads no clock for a span given its start and end as epoch milliseconds (what the query observer makes)', () => {
    const dateNow = vi.spyOn(Date, 'now');
    const performanceNow = vi.spyOn(otperformance, 'now');
    // As the observer gives them: the time origin plus performance timestamps taken around the query.
    const start = Math.floor(otperformance.timeOrigin) + 1000.5;
    const span = new LightSpan(setup, context, 'SELECT products', SpanKind.CLIENT, undefined, undefined, undefined, start);
    span.end(start + 2.25);
    expect(dateNow).not.toHaveBeenCalled();
    expect(performanceNow).not.toHaveBeenCalled();
    expect(hrTimeToMilliseconds(span.startTime)).toBeCloseTo(start, 6);
    expect(hrTimeToMilliseconds(span.duration)).toBeCloseTo(2.25, 6);
  });

  it('still corrects a performance timestamp on a span given its start time, by the offset taken when first needed', () => {
    const span = new LightSpan(setup, context, 'consume', SpanKind.CONSUMER, undefined, undefined, undefined, [1_700_000_000, 0]);
    const before = Date.now();
    span.addEvent('received', otperformance.now());
    const at = hrTimeToMilliseconds(span.events[0]!.time);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('reads the wall clock once and the monotonic clock once at the start of a span not given its start time', () => {
    const dateNow = vi.spyOn(Date, 'now');
    const performanceNow = vi.spyOn(otperformance, 'now');
    const span = new LightSpan(setup, context, 'GET', SpanKind.SERVER, undefined, undefined, undefined, undefined);
    expect(dateNow).toHaveBeenCalledTimes(1);
    expect(performanceNow).toHaveBeenCalledTimes(1);
    span.end();
    expect(performanceNow).toHaveBeenCalledTimes(2);
    expect(dateNow).toHaveBeenCalledTimes(1);
  });
});

describe('initTracing with OTLP protobuf export', () => {
  let receiver: Receiver | undefined;
  afterEach(() => receiver?.close());

  it('makes recorded spans as LightSpans, child of their parent, and exports them as the official serializer would', async () => {
    receiver = await startReceiver();
    const { bodies } = receiver;
    // Parent-based (children follow the parent) and plain always_on (children decided alike).
    for (const name of ['parentbased_always_on', 'always_on'] as const) {
      const tracing = initTracing({
        serviceName: 'light',
        serviceVersion: '0.1.0',
        otlpEndpoint: receiver.url,
        otlpProtocol: 'http/protobuf',
        sampler: { name },
        registerGlobal: false,
      });
      const root = tracing.tracer.startSpan('GET /products/:sku', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } }, ROOT_CONTEXT);
      const child = tracing.tracer.startSpan('SELECT products', { kind: SpanKind.CLIENT }, trace.setSpan(ROOT_CONTEXT, root));
      // The usual recorded span: ids from the pool, a block of attributes, no events.
      const query = tracing.tracer.startSpan('SELECT orders', { kind: SpanKind.CLIENT, attributes: QUERY_SHAPE }, trace.setSpan(ROOT_CONTEXT, root));
      // A kind past the API's (a varint of two bytes): written as the official serializer writes it.
      const odd = tracing.tracer.startSpan('odd kind', { kind: 200 as SpanKind }, ROOT_CONTEXT);
      expect(root).toBeInstanceOf(LightSpan);
      expect(child).toBeInstanceOf(LightSpan);
      expect(child.spanContext().traceId).toBe(root.spanContext().traceId);
      expect(root.spanContext().traceFlags).toBe(TraceFlags.SAMPLED);
      expect((child as LightSpan).parentSpanContext?.spanId).toBe(root.spanContext().spanId);
      // A span under a caller's context: its trace id arrives as hex, not from the id pool.
      const remoteParent = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
        isRemote: true,
        traceState: new TraceState('vendor=abc'),
      };
      const served = tracing.tracer.startSpan('GET /orders/:id', { kind: SpanKind.SERVER }, trace.setSpanContext(ROOT_CONTEXT, remoteParent));
      expect(served).toBeInstanceOf(LightSpan);
      expect(served.spanContext().traceId).toBe(remoteParent.traceId);
      expect(served.spanContext().spanId).toMatch(/^[0-9a-f]{16}$/);
      expect((served as LightSpan).parentSpanContext?.spanId).toBe(remoteParent.spanId);
      child.recordException(new Error('slow'));
      child.end();
      query.end();
      odd.end();
      root.setStatus({ code: SpanStatusCode.ERROR });
      root.end();
      served.end();
      await tracing.forceFlush();
      expect(bodies).toHaveLength(name === 'always_on' ? 2 : 1);
      const spans = [child, query, odd, root, served] as LightSpan[];
      expect(spans.map((s) => s.resource.attributes)).toEqual([
        { 'service.name': 'light', 'service.version': '0.1.0' },
        { 'service.name': 'light', 'service.version': '0.1.0' },
        { 'service.name': 'light', 'service.version': '0.1.0' },
        { 'service.name': 'light', 'service.version': '0.1.0' },
        { 'service.name': 'light', 'service.version': '0.1.0' },
      ]);
      expect(bodies.at(-1)!.equals(Buffer.from(ProtobufTraceSerializer.serializeRequest(spans)!))).toBe(true);
      await tracing.shutdown();
    }
  });
});
