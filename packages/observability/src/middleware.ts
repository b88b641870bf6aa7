// Internal: the one request middleware behind observe(), tracingMiddleware() and requestLogging().
// Tracing, metrics and request ids share one async frame, one clock read and one route lookup,
// instead of three nested middleware each paying for its own.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, Context as OtelContext, Span, TextMapGetter } from '@opentelemetry/api';
import type { Context, MiddlewareHandler } from 'hono';
import { HonoRequest } from 'hono/request';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import { RequestContext, ensureContextManager, propagator, withContext } from './context';
import type { BoundHistogram } from './histogram';
import type { Metrics } from './metrics';
import { statusClass } from './metrics';
import { requestHeader, setResponseHeader } from './response-headers';
import type { Tracing } from './tracing';

/** What the middleware puts on the Hono context: `c.var.logger`, `c.var.requestId`. */
export interface ObservabilityVariables {
  logger: Logger;
  requestId: string;
}
export interface ObservabilityEnv {
  Variables: ObservabilityVariables;
}

export interface HttpObservabilityOptions {
  /** Server spans; omitted or disabled: none. */
  tracing?: Tracing;
  /** `http_server_request_duration_seconds`; omitted: not recorded. */
  metrics?: Pick<Metrics, 'httpServerDuration'>;
  /** Set as `c.var.logger`; its lines carry trace, span and request id. */
  logger?: Logger;
  /** Level of the one line per finished request, or false for none; default `debug`. */
  accessLog?: 'info' | 'debug' | false;
  /** Paths neither traced, timed nor access-logged; default /health, /ready, /metrics. */
  ignorePaths?: readonly string[];
}

export const DEFAULT_IGNORED_PATHS = ['/health', '/ready', '/metrics'] as const;

/** Characters a request id may carry through to logs and peers (no header or log injection). */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

const SERVER_SPAN = { kind: SpanKind.SERVER } as const;

const honoGetter: TextMapGetter<Context> = {
  keys: () => [],
  get: (c, key) => requestHeader(c, key),
};

interface RouteInfo {
  route: string;
  /** The request method this info names spans for (`ALL` routes: the first method seen). */
  method: string;
  spanName: string;
  /** Histogram series of this route by method + status class, bound once. */
  series: Map<string, BoundHistogram>;
  /** The series the last request of this route went to, with its method and status: most requests repeat it. */
  lastMethod?: string;
  lastStatus?: number;
  lastSeries?: BoundHistogram;
  /** The server span attributes of this route by status (see serverAttributes). */
  spanAttributes?: Map<number, ServerAttributes>;
}

/** A frozen attributes object for the server spans of one route, method, status, scheme and Host header. */
interface ServerAttributes {
  method: string;
  host: string | undefined;
  https: boolean;
  attributes: Attributes;
}
/** Statuses a route keeps attributes for; more are made per span (only a route answering dozens of statuses). */
const STATUSES_KEPT = 16;

/**
 * The key of Hono's match result on a request (a symbol-keyed getter of HonoRequest, which
 * `matchedRoutes` reads): its first element, the list of matched handlers, is the same array for
 * every request of a route under Hono's default router, so the route found for it is kept by it.
 */
const MATCH_RESULT: symbol | undefined = Object.getOwnPropertySymbols(HonoRequest.prototype).find(
  (key) => typeof Object.getOwnPropertyDescriptor(HonoRequest.prototype, key)?.get === 'function',
);

/** The handlers Hono matched for this request, when they can be read (see MATCH_RESULT). */
function matchedHandlers(c: Context): object | undefined {
  const result = MATCH_RESULT === undefined ? undefined : (c.req as unknown as Record<symbol, unknown>)[MATCH_RESULT];
  const handlers = Array.isArray(result) ? (result[0] as unknown) : undefined;
  return Array.isArray(handlers) ? handlers : undefined;
}

/**
 * The route template that answered: the last matched route that is not a `*` middleware.
 * Router route objects are stable per registration, so the label strings are made once, and the
 * answer is kept by the matched handler list, so a repeat costs one lookup.
 */
function routeInfo(c: Context, method: string, cache: WeakMap<object, RouteInfo>, unmatched: RouteInfo, byHandlers: WeakMap<object, RouteInfo>): RouteInfo {
  const handlers = matchedHandlers(c);
  if (handlers !== undefined) {
    const known = byHandlers.get(handlers);
    if (known !== undefined && known.method === method) return known;
  }
  const info = findRoute(c, method, cache, unmatched);
  if (handlers !== undefined && info.method === method) byHandlers.set(handlers, info);
  return info;
}

function findRoute(c: Context, method: string, cache: WeakMap<object, RouteInfo>, unmatched: RouteInfo): RouteInfo {
  const routes = matchedRoutes(c);
  for (let i = routes.length - 1; i >= 0; i--) {
    const r = routes[i]!;
    if (r.method === 'ALL' && r.path.endsWith('*')) continue;
    let info = cache.get(r);
    if (info === undefined) {
      info = {
        route: r.path,
        method: r.method === 'ALL' ? method : r.method,
        spanName: `${r.method === 'ALL' ? method : r.method} ${r.path}`,
        series: new Map(),
        lastMethod: undefined,
        lastStatus: undefined,
        lastSeries: undefined,
        spanAttributes: undefined,
      };
      cache.set(r, info);
    }
    // HEAD is served by GET routes; keep the name honest without caching a second entry.
    return info.method === method ? info : { route: info.route, method, spanName: `${method} ${info.route}`, series: info.series };
  }
  return unmatched;
}

/** Host and port of a Host header (`[::1]:3000` keeps its brackets); made once per route attributes object. */
function hostParts(host: string | undefined): [string | undefined, number | undefined] {
  if (!host) return [undefined, undefined];
  const colon = host.lastIndexOf(':');
  if (colon > 0 && !host.endsWith(']')) {
    const port = Number(host.slice(colon + 1));
    return [host.slice(0, colon), Number.isInteger(port) ? port : undefined];
  }
  return [host, undefined];
}

/**
 * The attributes of a recorded server span but its path, as one frozen object per route, method,
 * status, scheme and Host header: the same object for nearly every span of a route, which the span
 * takes in one step and the OTLP encoder copies as bytes encoded once (light-span.ts).
 */
function serverAttributes(info: RouteInfo, matched: boolean, method: string, status: number, host: string | undefined, https: boolean): Attributes {
  const known = info.spanAttributes?.get(status);
  if (known !== undefined && known.method === method && known.host === host && known.https === https) return known.attributes;
  const [address, port] = hostParts(host);
  const attributes: Attributes = { 'http.request.method': method, 'url.scheme': https ? 'https' : 'http' };
  if (address !== undefined) attributes['server.address'] = address;
  if (port !== undefined) attributes['server.port'] = port;
  if (matched) attributes['http.route'] = info.route;
  attributes['http.response.status_code'] = status;
  if (status >= 500) attributes['error.type'] = String(status);
  Object.freeze(attributes);
  info.spanAttributes ??= new Map();
  if (info.spanAttributes.size < STATUSES_KEPT || info.spanAttributes.has(status)) info.spanAttributes.set(status, { method, host, https, attributes });
  return attributes;
}

/**
 * One middleware for request id, server span, duration histogram and request logger.
 * Install it first so it covers every other middleware.
 * @example app.use(httpObservability({ tracing, metrics, logger }))
 */
export function httpObservability(options: HttpObservabilityOptions): MiddlewareHandler<ObservabilityEnv> {
  const tracer = options.tracing?.enabled ? options.tracing.tracer : undefined;
  const histogram = options.metrics?.httpServerDuration;
  const logger = options.logger;
  const accessLevel = options.accessLog ?? 'debug';
  const ignored = new Set(options.ignorePaths ?? DEFAULT_IGNORED_PATHS);
  // The active context feeds spans, log correlation and the trace context of outgoing calls. A
  // request with no traceparent, no tracer and a silent logger needs none of it: no context then.
  const useContext = tracer !== undefined || (logger !== undefined && logger.level !== 'silent');
  if (useContext) ensureContextManager();
  const cache = new WeakMap<object, RouteInfo>();
  const unmatched: RouteInfo = {
    route: 'unmatched',
    method: '',
    spanName: '',
    series: new Map(),
    lastMethod: undefined,
    lastStatus: undefined,
    lastSeries: undefined,
    spanAttributes: undefined,
  };
  const byHandlers = new WeakMap<object, RouteInfo>();

  return async function observability(c, next) {
    const incoming = requestHeader(c, 'x-request-id');
    const requestId = incoming !== undefined && REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    setResponseHeader(c, 'x-request-id', requestId);
    c.set('requestId', requestId);
    if (logger) c.set('logger', logger);
    const path = c.req.path;
    if (ignored.has(path)) return next();

    const method = c.req.method;
    // Only the histogram and the access line use the duration; spans keep their own times.
    const logAccess = logger !== undefined && accessLevel !== false && logger.isLevelEnabled(accessLevel);
    const start = histogram !== undefined || logAccess ? performance.now() : 0;
    let parent: OtelContext = ROOT_CONTEXT;
    let span: Span | undefined;
    // The caller's trace context is kept whether or not this service makes spans of its own, so
    // log lines carry the caller's trace id and outgoing calls pass it on (W3C: a hop that does
    // not trace forwards the traceparent it was given).
    const traced = requestHeader(c, 'traceparent') !== undefined;
    if (traced) {
      parent = propagator.extract(parent, c, honoGetter);
      if (!useContext) ensureContextManager();
    }
    // The samplers archbench configures (parent-based, ratio) decide on the trace alone, so the
    // attributes are worked out only for a span that is recorded (1 in 10 by default), at its end.
    if (tracer) span = tracer.startSpan(method, SERVER_SPAN, parent);
    // No context at all for a request nothing reads it for (no tracer, silent logs, no traceparent).
    const ctx = useContext || traced ? new RequestContext(requestId, span, parent) : undefined;

    let threw = false;
    try {
      if (ctx !== undefined) await withContext(ctx, next);
      else await next();
    } catch (error) {
      threw = true;
      span?.recordException(error instanceof Error ? error : String(error));
      throw error;
    } finally {
      const status = threw ? 500 : c.res.status;
      const recording = span !== undefined && span.isRecording();
      // The route template names spans, labels the histogram and goes in the access line.
      const info = recording || histogram !== undefined || logAccess ? routeInfo(c, method, cache, unmatched, byHandlers) : unmatched;
      if (span !== undefined) {
        if (recording) {
          const matched = info !== unmatched;
          if (matched) span.updateName(info.spanName);
          span.setAttributes(serverAttributes(info, matched, method, status, requestHeader(c, 'host'), c.req.url.startsWith('https:')));
          span.setAttribute('url.path', path);
          if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      }
      const seconds = histogram !== undefined || logAccess ? (performance.now() - start) / 1000 : 0;
      if (histogram !== undefined) {
        let series = info.lastSeries;
        if (series === undefined || info.lastStatus !== status || info.lastMethod !== method) {
          const cls = statusClass(status);
          const key = method + cls;
          series = info.series.get(key);
          if (series === undefined) {
            series = histogram.bind({ route: info.route, method, status_class: cls });
            info.series.set(key, series);
          }
          info.lastMethod = method;
          info.lastStatus = status;
          info.lastSeries = series;
        }
        series.observe(seconds);
      }
      if (logAccess) {
        const line = () =>
          logger[accessLevel]({ req: { method, path, route: info.route }, res: { status }, duration_ms: Math.round(seconds * 1e5) / 100 }, 'request completed');
        if (ctx !== undefined) withContext(ctx, line);
        else line();
      }
    }
  };
}
