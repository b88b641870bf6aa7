import { ProxyTracerProvider, ROOT_CONTEXT, SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { Attributes, Context, Span, Tracer } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import type { ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan, Sampler, SpanExporter, SpanLimits, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { MiddlewareHandler } from 'hono';
import type { LightSpanSetup } from './light-span';
import { activeIds, ensureContextManager, propagator, recordGetter, recordSetter } from './context';
import type { Metrics } from './metrics';
import { httpObservability } from './middleware';
import { OtlpProtobufSpanExporter, OtlpProtobufSpanProcessor } from './otlp-protobuf';
import { PresetIdGenerator, SamplingFirstTracer } from './sampling-first';
import type { HttpObservabilityOptions } from './middleware';

export { InMemorySpanExporter };
export { OtlpProtobufSpanExporter, OtlpProtobufSpanProcessor, encodeTraceExportRequest } from './otlp-protobuf';
export type { OtlpProtobufExporterOptions, OtlpProtobufSpanProcessorOptions } from './otlp-protobuf';
export type { ReadableSpan, SpanExporter, Sampler };

/** Sampler names of OTEL_TRACES_SAMPLER that archbench understands. */
export const OTEL_SAMPLER_NAMES = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type SamplerName = (typeof OTEL_SAMPLER_NAMES)[number];

/** Values of OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL that archbench can export with. */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

export interface SamplerConfig {
  name: SamplerName;
  /** Ratio in [0, 1] for the `*traceidratio` samplers (default 1). */
  arg?: number;
}

export interface TracingOptions {
  serviceName: string;
  serviceVersion?: string;
  /** False turns tracing off entirely: no spans, no propagation (OTEL_SDK_DISABLED=true). */
  enabled?: boolean;
  /** Base OTLP/HTTP endpoint; spans go to `<endpoint>/v1/traces` in batches. */
  otlpEndpoint?: string;
  /** Full traces URL; wins over `otlpEndpoint` (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). */
  otlpTracesEndpoint?: string;
  /** Extra headers for the OTLP exporter, e.g. an API key of a hosted backend. */
  otlpHeaders?: Record<string, string>;
  /**
   * OTLP/HTTP encoding: `http/protobuf` (the default here and in OTel; written straight to bytes,
   * several times cheaper per span than JSON) or `http/json`. `tracingOptionsFromEnv` picks JSON
   * outside production.
   */
  otlpProtocol?: OtlpProtocol;
  /** A custom exporter (tests: `new InMemorySpanExporter()`). */
  exporter?: SpanExporter;
  /** How spans reach `exporter`: `simple` exports each span at end (default for a custom exporter). */
  processor?: 'batch' | 'simple';
  /** A sampler or its OTel env-style description; default parent-based always-on. */
  sampler?: Sampler | SamplerConfig;
  /** Extra resource attributes (OTEL_RESOURCE_ATTRIBUTES), e.g. `deployment.environment.name`. */
  resourceAttributes?: Record<string, string>;
  /**
   * How OTLP export batches spans (OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
   * OTEL_BSP_MAX_QUEUE_SIZE); default: a batch every 1,000 ms or 512 spans, at most 8,192 waiting.
   */
  batch?: BatchOptions;
  /** Register as the global tracer provider and propagator (default true). */
  registerGlobal?: boolean;
}

/** Batching of OTLP span export. */
export interface BatchOptions {
  /** Longest wait before a batch leaves, ms. */
  scheduledDelayMillis?: number;
  /** Spans per export request at most; a full batch leaves at once. */
  maxExportBatchSize?: number;
  /** Spans waiting at most; more are dropped (with a warning). */
  maxQueueSize?: number;
}

/** archbench's batching: one POST per 512 spans or 1 s, keeping export off the request path. */
const DEFAULT_BATCH: Readonly<Required<BatchOptions>> = Object.freeze({ scheduledDelayMillis: 1000, maxExportBatchSize: 512, maxQueueSize: 8192 });

/** A tracing setup: pass it to middleware and helpers; `shutdown()` flushes pending spans. */
export interface Tracing {
  readonly enabled: boolean;
  readonly serviceName: string;
  readonly tracer: Tracer;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

export class TracingConfigError extends Error {
  override readonly name = 'TracingConfigError';
}

// A provider with no delegate hands out no-op tracers, whatever is registered globally later.
const DISABLED_TRACER = new ProxyTracerProvider().getTracer('disabled');

function samplerFrom(config: Sampler | SamplerConfig | undefined): Sampler {
  if (config === undefined) return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  if (!('name' in config) || typeof config.name !== 'string' || !OTEL_SAMPLER_NAMES.includes(config.name as SamplerName)) {
    return config as Sampler;
  }
  const ratio = (config as SamplerConfig).arg ?? 1;
  switch ((config as SamplerConfig).name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
  }
}

/**
 * The official OTLP/JSON exporter, loaded with its dependencies (1.3 MB of heap) when the first
 * batch leaves: most processes export protobuf, or nothing, and never need it.
 */
class LazyOtlpJsonExporter implements SpanExporter {
  #exporter: Promise<SpanExporter> | undefined;
  constructor(private readonly config: { url: string; headers?: Record<string, string> }) {}

  #load(): Promise<SpanExporter> {
    this.#exporter ??= import('@opentelemetry/exporter-trace-otlp-http').then(({ OTLPTraceExporter }) => new OTLPTraceExporter(this.config));
    return this.#exporter;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.#load().then(
      (exporter) => exporter.export(spans, resultCallback),
      (error: unknown) => resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) }),
    );
  }

  async shutdown(): Promise<void> {
    if (this.#exporter) await (await this.#exporter).shutdown();
  }

  async forceFlush(): Promise<void> {
    if (this.#exporter) await (await this.#exporter).forceFlush?.();
  }
}

/**
 * Sets up tracing for one service: resource (service.name, service.version), sampler, and
 * an exporter (OTLP/HTTP in batches when an endpoint is given, a custom one otherwise). Without
 * an exporter spans are still made, so trace ids reach logs and peers.
 * @example const tracing = initTracing({ serviceName: 'orders', ...tracingOptionsFromEnv(env) })
 */
export function initTracing(options: TracingOptions): Tracing {
  if (options.enabled === false) {
    return { enabled: false, serviceName: options.serviceName, tracer: DISABLED_TRACER, forceFlush: async () => {}, shutdown: async () => {} };
  }
  ensureContextManager();
  const processors: SpanProcessor[] = [];
  const tracesUrl = options.otlpTracesEndpoint ?? (options.otlpEndpoint ? `${options.otlpEndpoint.replace(/\/+$/, '')}/v1/traces` : undefined);
  if (tracesUrl) {
    const config = { url: tracesUrl, headers: options.otlpHeaders };
    // Batching keeps export off the request path: one POST per 512 spans or 1 s by default.
    const batching = { ...DEFAULT_BATCH, ...options.batch };
    if (options.otlpProtocol === 'http/json') processors.push(new BatchSpanProcessor(new LazyOtlpJsonExporter(config), batching));
    // Protobuf: spans are encoded soon after they end, 32 at a time, by archbench's encoder (the
    // same bytes as the official exporter's, at a fraction of the CPU, and no batch of span objects
    // queued for the GC to promote; see otlp-protobuf.ts), and sent in the same batches.
    else processors.push(new OtlpProtobufSpanProcessor(new OtlpProtobufSpanExporter(config), batching));
  }
  if (options.exporter) {
    processors.push(options.processor === 'batch' ? new BatchSpanProcessor(options.exporter) : new SimpleSpanProcessor(options.exporter));
  }
  const sampler = samplerFrom(options.sampler);
  // The samplers built here decide on parent and trace id alone, so they can be asked first.
  const ownSampler = options.sampler === undefined || sampler !== options.sampler;
  const ids = new PresetIdGenerator();
  const provider = new BasicTracerProvider({
    idGenerator: ids,
    resource: resourceFromAttributes({
      ...options.resourceAttributes,
      [ATTR_SERVICE_NAME]: options.serviceName,
      ...(options.serviceVersion ? { [ATTR_SERVICE_VERSION]: options.serviceVersion } : {}),
    }),
    sampler,
    spanProcessors: processors,
  });
  if (options.registerGlobal !== false) {
    // Both return false when already set (a second setup in one process); this one stays usable.
    trace.setGlobalTracerProvider(provider);
    propagation.setGlobalPropagator(propagator);
  }
  const sdkTracer = provider.getTracer('@archbench/observability', '0.1.0');
  const named = options.sampler !== undefined && 'name' in options.sampler ? (options.sampler as SamplerConfig) : undefined;
  const rootRatio = named?.name === 'traceidratio' || named?.name === 'parentbased_traceidratio' ? (named.arg ?? 1) : undefined;
  // samplerFrom builds every parentbased_* sampler with the default delegates (follow the parent).
  const parentDecides = options.sampler === undefined || (named?.name.startsWith('parentbased_') ?? false);
  // Spans going only to the protobuf processor are made as LightSpans (same data, same bytes).
  const light = processors.length === 1 && processors[0] instanceof OtlpProtobufSpanProcessor ? lightSetup(sdkTracer, processors[0]) : undefined;
  // always_on / always_off and their parent-based forms decide every root span alike.
  const rootName = options.sampler === undefined ? 'always_on' : named?.name.replace(/^parentbased_/, '');
  const rootRecords = rootName === 'always_on' ? true : rootName === 'always_off' ? false : undefined;
  const tracer = ownSampler ? new SamplingFirstTracer(sdkTracer, sampler, ids, rootRatio, parentDecides, light, rootRecords) : sdkTracer;
  return {
    enabled: true,
    serviceName: options.serviceName,
    tracer,
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}

/** The SDK tracer's resource, scope and limits (as the provider resolved them), for LightSpans; undefined if it has none. */
function lightSetup(sdkTracer: Tracer, processor: OtlpProtobufSpanProcessor): LightSpanSetup | undefined {
  const t = sdkTracer as unknown as { _resource?: LightSpanSetup['resource']; instrumentationScope?: LightSpanSetup['scope']; _spanLimits?: SpanLimits };
  if (t._resource === undefined || t.instrumentationScope === undefined || t._spanLimits === undefined) return undefined;
  return { resource: t._resource, scope: t.instrumentationScope, limits: t._spanLimits, processor };
}

/**
 * The sampler when spans are exported with NODE_ENV=production and OTEL_TRACES_SAMPLER is not set:
 * parent-based, 10 % of new traces. OTEL_TRACES_SAMPLER_ARG alone changes the ratio;
 * OTEL_TRACES_SAMPLER=parentbased_always_on keeps every trace.
 */
export const DEFAULT_EXPORT_SAMPLER: Readonly<SamplerConfig> = Object.freeze({ name: 'parentbased_traceidratio', arg: 0.1 });

/** The OpenTelemetry variables `tracingOptionsFromEnv` reads. */
export interface TracingEnv {
  /** `production` selects the production defaults (10 % sampling, protobuf); see tracingOptionsFromEnv. */
  NODE_ENV?: string;
  OTEL_SDK_DISABLED?: string | boolean;
  OTEL_SERVICE_NAME?: string;
  OTEL_EXPORTER_OTLP_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?: string;
  OTEL_EXPORTER_OTLP_HEADERS?: string;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string;
  OTEL_TRACES_SAMPLER?: string;
  OTEL_TRACES_SAMPLER_ARG?: string | number;
  OTEL_RESOURCE_ATTRIBUTES?: string;
  OTEL_BSP_SCHEDULE_DELAY?: string | number;
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE?: string | number;
  OTEL_BSP_MAX_QUEUE_SIZE?: string | number;
}

export type TracingEnvOptions = Pick<
  TracingOptions,
  'enabled' | 'otlpEndpoint' | 'otlpTracesEndpoint' | 'otlpHeaders' | 'otlpProtocol' | 'sampler' | 'resourceAttributes' | 'batch'
> & {
  serviceName?: string;
};

function parseKeyValues(raw: string, variable: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of raw.split(',')) {
    if (part.trim() === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new TracingConfigError(`${variable}: expected key=value pairs separated by commas, got ${JSON.stringify(part.slice(0, 60))}`);
    out[decodeURIComponent(part.slice(0, eq).trim())] = decodeURIComponent(part.slice(eq + 1).trim());
  }
  return out;
}

function checkUrl(value: string, variable: string): string {
  try {
    const url = new URL(value);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return value;
  } catch {
    throw new TracingConfigError(`${variable} must be an http(s) URL, got ${JSON.stringify(value.slice(0, 100))}`);
  }
}

/** A whole number of at least `min` from an OTEL_BSP_* variable, or undefined when unset. */
function wholeNumber(
  env: TracingEnv,
  variable: 'OTEL_BSP_SCHEDULE_DELAY' | 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE' | 'OTEL_BSP_MAX_QUEUE_SIZE',
  min: number,
): number | undefined {
  const raw = env[variable];
  if (raw === undefined || String(raw).trim() === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min)
    throw new TracingConfigError(`${variable} must be a whole number ≥ ${min}, got ${JSON.stringify(String(raw).slice(0, 40))}`);
  return value;
}

/**
 * Maps the OpenTelemetry environment variables (as named by the OTel spec) to `initTracing`
 * options. Call it from an app's env.ts, which is the one place reading `process.env`.
 * Throws TracingConfigError naming the variable on a bad value.
 * @example initTracing({ serviceName: 'orders', ...tracingOptionsFromEnv(process.env) })
 */
export function tracingOptionsFromEnv(env: TracingEnv): TracingEnvOptions {
  const out: TracingEnvOptions = {};
  const disabled = env.OTEL_SDK_DISABLED;
  if (disabled !== undefined && disabled !== '') {
    const value = String(disabled).trim().toLowerCase();
    if (value !== 'true' && value !== 'false') throw new TracingConfigError(`OTEL_SDK_DISABLED must be true or false, got ${JSON.stringify(String(disabled))}`);
    out.enabled = value !== 'true';
  }
  if (out.enabled === undefined && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
    // No exporter configured: spans would be made only to be dropped, at 15-30 % of a cheap
    // request's throughput. OTEL_SDK_DISABLED=false turns them on anyway (trace ids in logs).
    out.enabled = false;
  }
  const exporting = Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const production = env.NODE_ENV === 'production';
  if (env.OTEL_SERVICE_NAME) out.serviceName = env.OTEL_SERVICE_NAME;
  if (env.OTEL_EXPORTER_OTLP_ENDPOINT) out.otlpEndpoint = checkUrl(env.OTEL_EXPORTER_OTLP_ENDPOINT, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) out.otlpTracesEndpoint = checkUrl(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  if (env.OTEL_EXPORTER_OTLP_HEADERS) out.otlpHeaders = parseKeyValues(env.OTEL_EXPORTER_OTLP_HEADERS, 'OTEL_EXPORTER_OTLP_HEADERS');
  for (const variable of ['OTEL_EXPORTER_OTLP_PROTOCOL', 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'] as const) {
    const value = env[variable]?.trim();
    if (!value) continue;
    if (!OTLP_PROTOCOLS.includes(value as OtlpProtocol)) {
      throw new TracingConfigError(
        `${variable} must be one of ${OTLP_PROTOCOLS.join(', ')} (grpc is not supported); got ${JSON.stringify(value.slice(0, 40))}`,
      );
    }
    // The traces-specific variable wins (it is read second).
    out.otlpProtocol = value as OtlpProtocol;
  }
  if (env.OTEL_RESOURCE_ATTRIBUTES) out.resourceAttributes = parseKeyValues(env.OTEL_RESOURCE_ATTRIBUTES, 'OTEL_RESOURCE_ATTRIBUTES');
  const batch: BatchOptions = {};
  const delay = wholeNumber(env, 'OTEL_BSP_SCHEDULE_DELAY', 0);
  if (delay !== undefined) batch.scheduledDelayMillis = delay;
  const batchSize = wholeNumber(env, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 1);
  if (batchSize !== undefined) batch.maxExportBatchSize = batchSize;
  const queueSize = wholeNumber(env, 'OTEL_BSP_MAX_QUEUE_SIZE', 1);
  if (queueSize !== undefined) batch.maxQueueSize = queueSize;
  if (Object.keys(batch).length > 0) out.batch = batch;
  if (env.OTEL_TRACES_SAMPLER) {
    const name = env.OTEL_TRACES_SAMPLER.trim().toLowerCase();
    if (!OTEL_SAMPLER_NAMES.includes(name as SamplerName)) {
      throw new TracingConfigError(`OTEL_TRACES_SAMPLER must be one of ${OTEL_SAMPLER_NAMES.join(', ')}; got ${JSON.stringify(env.OTEL_TRACES_SAMPLER)}`);
    }
    out.sampler = { name: name as SamplerName };
  }
  const rawArg = env.OTEL_TRACES_SAMPLER_ARG;
  if (rawArg !== undefined && rawArg !== '') {
    const arg = Number(rawArg);
    if (!Number.isFinite(arg) || arg < 0 || arg > 1)
      throw new TracingConfigError(`OTEL_TRACES_SAMPLER_ARG must be a number in [0, 1], got ${JSON.stringify(String(rawArg))}`);
    // The spec: the argument applies to the ratio samplers; the default sampler ignores it.
    out.sampler = {
      name: out.sampler && 'name' in out.sampler ? out.sampler.name : exporting && production ? DEFAULT_EXPORT_SAMPLER.name : 'parentbased_always_on',
      arg,
    };
  }
  // Exporting in production with no sampler chosen: keep 1 trace in 10 (and every trace a caller
  // sampled), so span export costs a few percent of a cheap request, not a quarter. Elsewhere
  // (development, tests) every trace is kept, as the OTel default says.
  if (exporting && production && out.sampler === undefined && out.enabled !== false) out.sampler = { ...DEFAULT_EXPORT_SAMPLER };
  // Protobuf is the OTel default protocol and much cheaper to write; outside production JSON stays
  // the default, readable by any HTTP receiver a developer points the endpoint at.
  if (exporting && out.otlpProtocol === undefined) out.otlpProtocol = production ? 'http/protobuf' : 'http/json';
  return out;
}

/**
 * Hono middleware making one SERVER span per request, named by route template
 * (`GET /orders/:id`), child of an incoming W3C `traceparent`.
 * `observe()` installs the combined middleware instead; use this one to trace only.
 * @example app.use(tracingMiddleware(tracing))
 */
export function tracingMiddleware(tracing: Tracing, options: Pick<HttpObservabilityOptions, 'ignorePaths'> = {}): MiddlewareHandler {
  return httpObservability({ tracing, ignorePaths: options.ignorePaths });
}

/** Trace and span id of the active span, and the request id, if any. */
export function currentTraceIds(): { traceId?: string; spanId?: string; requestId?: string } {
  return activeIds();
}

/**
 * Writes `traceparent` / `tracestate` of a context (the active one by default) into a header
 * table (AMQP message headers, a plain object of HTTP headers). Returns the same object.
 * @example channel.publish(ex, key, body, { headers: injectContext({}) })
 */
export function injectContext<H extends Record<string, unknown>>(headers: H, ctx: Context = context.active()): H {
  propagator.inject(ctx, headers, recordSetter);
  return headers;
}

/**
 * Reads `traceparent` / `tracestate` from a header table into a context to start spans under.
 * Missing or malformed headers give the root context (a new trace).
 * @example const parent = extractContext(msg.properties.headers)
 */
export function extractContext(headers: Record<string, unknown> | undefined | null): Context {
  if (!headers) return ROOT_CONTEXT;
  return propagator.extract(ROOT_CONTEXT, headers, recordGetter);
}

export interface MessagingSpanOptions {
  /** Defaults to the global tracer provider's tracer. */
  tracing?: Tracing;
  /** Counts `archbench_internal_calls_total{transport}` for each produced message. */
  metrics?: Pick<Metrics, 'internalCallsTotal'>;
  /** `messaging.system`, default `rabbitmq`. */
  system?: string;
  /** Counts as an internal call (default true for producers): set false for fan-out events you do not want counted as hops. */
  countAsInternalCall?: boolean;
  /** Extra span attributes (e.g. `messaging.message.conversation_id`). */
  attributes?: Attributes;
}

function tracerOf(tracing: Tracing | undefined): Tracer {
  if (tracing) return tracing.tracer;
  return trace.getTracer('@archbench/observability');
}

async function runInSpan<T>(span: Span, ctx: Context, fn: () => Promise<T>): Promise<T> {
  try {
    return await context.with(ctx, fn);
  } catch (error) {
    if (span.isRecording()) {
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
    }
    throw error;
  } finally {
    span.end();
  }
}

/**
 * Runs `fn` in a PRODUCER span named `send <destination>`; `fn` gets a header table already
 * carrying the span's `traceparent`, to publish the message with.
 * @example await withProducerSpan('orders.commands', (headers) => publish(body, { headers }), { tracing, metrics })
 */
export async function withProducerSpan<T>(
  destination: string,
  fn: (headers: Record<string, unknown>) => Promise<T> | T,
  options: MessagingSpanOptions = {},
): Promise<T> {
  if (options.countAsInternalCall !== false) options.metrics?.internalCallsTotal.inc({ transport: 'amqp' });
  // No spans here, but the trace this runs in (a caller's traceparent) still travels with the message.
  if (options.tracing && !options.tracing.enabled) return fn(injectContext({}));
  const span = tracerOf(options.tracing).startSpan(`send ${destination}`, {
    kind: SpanKind.PRODUCER,
    attributes: {
      'messaging.system': options.system ?? 'rabbitmq',
      'messaging.destination.name': destination,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      ...options.attributes,
    },
  });
  const ctx = trace.setSpan(context.active(), span);
  const headers = injectContext({}, ctx);
  return runInSpan(span, ctx, async () => fn(headers));
}

/**
 * Runs a message handler in a CONSUMER span named `process <source>`, child of the context the
 * producer put in the message headers, so the trace continues across the broker.
 * @example await withConsumerSpan('inventory.reserve', msg.properties.headers, () => handle(msg), { tracing })
 */
export async function withConsumerSpan<T>(
  source: string,
  headers: Record<string, unknown> | undefined | null,
  fn: () => Promise<T> | T,
  options: Omit<MessagingSpanOptions, 'metrics' | 'countAsInternalCall'> = {},
): Promise<T> {
  const parent = extractContext(headers);
  // No spans here, but the handler's log lines and onward calls keep the producer's trace.
  if (options.tracing && !options.tracing.enabled) {
    if (parent === ROOT_CONTEXT) return fn();
    ensureContextManager();
    return context.with(parent, fn);
  }
  const span = tracerOf(options.tracing).startSpan(
    `process ${source}`,
    {
      kind: SpanKind.CONSUMER,
      attributes: {
        'messaging.system': options.system ?? 'rabbitmq',
        'messaging.destination.name': source,
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        ...options.attributes,
      },
    },
    parent,
  );
  return runInSpan(span, trace.setSpan(parent, span), async () => fn());
}
