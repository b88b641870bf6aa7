import { performance } from 'node:perf_hooks';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { activeIds, propagator, recordSetter } from './context';
import { DependencyError } from '@archbench/domain/errors';
import type { Metrics } from './metrics';
import { statusClass } from './metrics';
import type { Tracing } from './tracing';

export interface HttpClientOptions {
  /** Origin of the peer, e.g. `http://127.0.0.1:4001` (a path prefix is kept). */
  baseUrl: string;
  /** Peer name: the `peer` metric label, `peer.service` on spans, and in error messages. */
  name: string;
  /** Bound on a whole call, response body included, ms (default 5000). */
  timeoutMs?: number;
  /** Bound on opening a connection, ms (default 2000). */
  connectTimeoutMs?: number;
  /** Keep-alive connections kept to the peer (default 64). */
  connections?: number;
  /** Headers sent with every request (e.g. internal auth). */
  headers?: Record<string, string>;
  /** Client spans and `traceparent`; omitted: the global tracer; disabled: none. */
  tracing?: Tracing;
  /** `http_client_request_duration_seconds` and `archbench_internal_calls_total{transport="http"}`. */
  metrics?: Pick<Metrics, 'httpClientDuration' | 'internalCallsTotal'>;
  /** Count calls in `archbench_internal_calls_total` (default true). */
  countAsInternalCall?: boolean;
}

export interface HttpRequestOptions {
  /** Values for `:name` segments of the path template; encoded. */
  params?: Record<string, string | number>;
  /** Query string parameters; undefined values are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  headers?: Record<string, string>;
  /** Sent as JSON with `content-type: application/json`. */
  json?: unknown;
  /** Raw body (when not `json`). */
  body?: string | Uint8Array;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  ok: boolean;
  headers: Record<string, string | string[] | undefined>;
  /** The whole body, read eagerly so the connection goes back to the pool. */
  text: string;
  /** Parses `text` as JSON; undefined for an empty body. */
  json<T = unknown>(): T;
}

/** A non-2xx answer from a peer, raised by the JSON helpers. Maps to a 502 problem. */
export class HttpStatusError extends DependencyError {
  /** The peer's status (the error itself answers 502, like any dependency failure). */
  readonly peerStatus: number;
  /** The peer's problem+json body, when it sent one. */
  readonly problem?: { code?: string; detail?: string; [key: string]: unknown };
  constructor(peer: string, method: string, route: string, response: HttpResponse) {
    let problem: HttpStatusError['problem'];
    try {
      problem = response.text ? (JSON.parse(response.text) as HttpStatusError['problem']) : undefined;
    } catch {
      problem = undefined;
    }
    super(peer, `${peer} answered ${response.status} to ${method} ${route}${problem?.detail ? `: ${problem.detail}` : ''}`);
    this.name = 'HttpStatusError';
    this.peerStatus = response.status;
    this.problem = problem;
  }
}

export interface HttpClient {
  readonly name: string;
  /** Any method; never throws on status, only on timeout or connection failure (DependencyError). */
  request(method: string, path: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  getJson<T>(path: string, options?: HttpRequestOptions): Promise<T>;
  postJson<T>(path: string, json?: unknown, options?: HttpRequestOptions): Promise<T>;
  putJson<T>(path: string, json?: unknown, options?: HttpRequestOptions): Promise<T>;
  deleteJson<T>(path: string, options?: HttpRequestOptions): Promise<T>;
  /** Closes the keep-alive connections. */
  close(): Promise<void>;
}

const PARAM_RE = /:([A-Za-z0-9_]+)/g;

function expand(template: string, params: HttpRequestOptions['params'], query: HttpRequestOptions['query']): string {
  let path = template;
  if (params !== undefined) {
    path = template.replace(PARAM_RE, (_, name: string) => {
      const value = params[name];
      if (value === undefined) throw new TypeError(`no value for :${name} in ${template}`);
      return encodeURIComponent(String(value));
    });
  }
  if (query !== undefined) {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) search.append(key, String(value));
    const qs = search.toString();
    if (qs) path += (path.includes('?') ? '&' : '?') + qs;
  }
  return path;
}

function failureMessage(name: string, error: unknown): string {
  const code = (error as { code?: string } | null)?.code ?? '';
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return `${name} did not accept a connection in time`;
  if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${name} is unreachable (${code})`;
  if ((error as { name?: string } | null)?.name === 'AbortError') return `call to ${name} was aborted`;
  return `call to ${name} failed: ${error instanceof Error ? error.message : String(error)}`;
}

/**
 * An HTTP client for one peer service: keep-alive pool, timeouts, JSON helpers, W3C trace
 * context and request id propagated, one CLIENT span and one histogram sample per call.
 * @example
 * const inventory = createHttpClient({ baseUrl: 'http://127.0.0.1:4001', name: 'inventory', timeoutMs: 2000, tracing, metrics })
 * const product = await inventory.getJson<Product>('/products/:sku', { params: { sku } })
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base = new URL(options.baseUrl);
  const prefix = base.pathname.replace(/\/+$/, '');
  const pool = new Pool(base.origin, {
    connections: options.connections ?? 64,
    keepAliveTimeout: 30_000,
    connect: { timeout: options.connectTimeoutMs ?? 2000 },
  });
  const defaultTimeout = options.timeoutMs ?? 5000;
  const tracer: Tracer | undefined = options.tracing
    ? options.tracing.enabled
      ? options.tracing.tracer
      : undefined
    : trace.getTracer('@archbench/observability');
  const histogram = options.metrics?.httpClientDuration;
  const calls = options.countAsInternalCall === false ? undefined : options.metrics?.internalCallsTotal;
  const peer = options.name;
  const serverAddress = base.hostname;
  const serverPort = Number(base.port || (base.protocol === 'https:' ? 443 : 80));

  async function request(method: string, template: string, req: HttpRequestOptions = {}): Promise<HttpResponse> {
    method = method.toUpperCase();
    const path = prefix + expand(template, req.params, req.query);
    const timeoutMs = req.timeoutMs ?? defaultTimeout;
    const headers: Record<string, string> = { ...options.headers, ...req.headers };
    let body: string | Uint8Array | undefined = req.body;
    if (req.json !== undefined) {
      body = JSON.stringify(req.json);
      headers['content-type'] ??= 'application/json';
    }
    headers.accept ??= 'application/json, application/problem+json';

    const parent = context.active();
    let span: Span | undefined;
    if (tracer !== undefined) {
      span = tracer.startSpan(
        `${method} ${template}`,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            'http.request.method': method,
            'server.address': serverAddress,
            'server.port': serverPort,
            'url.full': base.origin + path,
            'url.template': template,
            'peer.service': peer,
          },
        },
        parent,
      );
      propagator.inject(trace.setSpan(parent, span), headers, recordSetter);
    } else {
      // No client spans here: pass on the trace context this call runs in (a caller's traceparent).
      propagator.inject(parent, headers, recordSetter);
    }
    const requestId = activeIds(parent).requestId;
    if (requestId !== undefined) headers['x-request-id'] ??= requestId;
    calls?.inc({ transport: 'http' });

    const start = performance.now();
    let status = 0;
    let errorType: string | undefined;
    // undici's own headers/body timeouts tick at a 1 s resolution; an abort signal is exact.
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      const res = await pool.request({
        method: method as Dispatcher.HttpMethod,
        path,
        headers,
        body,
        signal: req.signal ? AbortSignal.any([deadline, req.signal]) : deadline,
      });
      const text = await res.body.text();
      status = res.statusCode;
      if (status >= 500) errorType = String(status);
      return {
        status,
        ok: status >= 200 && status < 300,
        headers: res.headers,
        text,
        json: <T>() => (text === '' ? undefined : JSON.parse(text)) as T,
      };
    } catch (error) {
      const timedOut = deadline.aborted && !req.signal?.aborted;
      errorType = timedOut ? 'timeout' : ((error as { code?: string } | null)?.code ?? (error instanceof Error ? error.name : 'error'));
      span?.recordException(error instanceof Error ? error : String(error));
      throw new DependencyError(peer, timedOut ? `${peer} did not answer within ${timeoutMs} ms` : failureMessage(peer, error), { cause: error });
    } finally {
      histogram?.observe({ peer, route: template, method, status_class: statusClass(status) }, (performance.now() - start) / 1000);
      if (span !== undefined) {
        if (status !== 0) span.setAttribute('http.response.status_code', status);
        if (errorType !== undefined) {
          span.setAttribute('error.type', errorType);
          span.setStatus({ code: SpanStatusCode.ERROR });
        }
        span.end();
      }
    }
  }

  async function expectJson<T>(method: string, path: string, req: HttpRequestOptions): Promise<T> {
    const res = await request(method, path, req);
    if (!res.ok) throw new HttpStatusError(peer, method, path, res);
    try {
      return res.json<T>();
    } catch (error) {
      throw new DependencyError(peer, `${peer} answered ${method} ${path} with a body that is not JSON`, { cause: error });
    }
  }

  return {
    name: peer,
    request,
    getJson: (path, req = {}) => expectJson('GET', path, req),
    postJson: (path, json, req = {}) => expectJson('POST', path, { ...req, json: json ?? {} }),
    putJson: (path, json, req = {}) => expectJson('PUT', path, { ...req, json: json ?? {} }),
    deleteJson: (path, req = {}) => expectJson('DELETE', path, req),
    close: () => pool.close(),
  };
}
