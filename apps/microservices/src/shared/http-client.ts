import { DependencyError } from '@archbench/domain/errors';
import { createHttpClient } from '@archbench/observability/http-client';
import type { HttpClient } from '@archbench/observability/http-client';
import type { Metrics } from '@archbench/observability/metrics';
import type { Tracing } from '@archbench/observability/tracing';
import { retryPolicy } from './retry';

export interface InternalHttpClientOptions {
  /** Base URL of each peer by name (the name labels metrics and spans). */
  peers: Record<string, string>;
  /** Per-attempt timeout, ms. */
  timeoutMs: number;
  /** Attempts per call, including the first. */
  attempts: number;
  /** Sent as `x-archbench-internal` so services accept only calls from inside the system. */
  internalToken: string;
  tracing?: Tracing;
  /** Client histogram and `archbench_internal_calls_total{transport="http"}` (one per attempt). */
  metrics?: Metrics;
}

export interface InternalRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Path template, e.g. `/orders/:id` (the metric label and span name); values in `params`. */
  path: string;
  params?: Record<string, string>;
  query?: Record<string, string | undefined>;
  headers?: Record<string, string | undefined>;
  body?: string;
  /**
   * `always`: the call is idempotent, retry on any transport failure and on 503/504 (not 502, see RETRYABLE_STATUS).
   * `connect`: retry only when the connection was refused (the request never left).
   */
  retry?: 'always' | 'connect';
  timeoutMs?: number;
  attempts?: number;
}

export interface InternalResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
}

/**
 * Answers worth another attempt: the peer refused the work (503: overloaded, not ready) or timed
 * out in front of it (504). Not 502: the peer's own dependency failed after the peer's own
 * retries, so resending would nest a second retry layer over the first (a POST /orders resent by
 * the gateway would repeat every reserve attempt orders already made).
 */
const RETRYABLE_STATUS = new Set([503, 504]);

/** Failures where the request certainly never reached the peer. */
function notSent(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } } | null)?.cause;
  const code = cause?.code ?? (error as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND';
}

/**
 * Calls between services: the observability HTTP client per peer (keep-alive undici pool,
 * trace context, client spans and metrics) plus a timeout per attempt and retries by the
 * services' one retry policy (shared/retry.ts). Gives up with a DependencyError naming the peer.
 * @example const client = new InternalHttpClient({ peers: { inventory: 'http://127.0.0.1:3101' }, timeoutMs: 5000, attempts: 4, internalToken })
 *          const res = await client.request('inventory', { method: 'GET', path: '/products/:sku', params: { sku } })
 */
export class InternalHttpClient {
  readonly #clients = new Map<string, HttpClient>();
  readonly #options: InternalHttpClientOptions;

  constructor(options: InternalHttpClientOptions) {
    this.#options = options;
  }

  #client(peer: string): HttpClient {
    let client = this.#clients.get(peer);
    if (!client) {
      const baseUrl = this.#options.peers[peer];
      if (!baseUrl) throw new Error(`no URL configured for ${peer}`);
      client = createHttpClient({
        baseUrl,
        name: peer,
        timeoutMs: this.#options.timeoutMs,
        connections: 64,
        headers: { 'x-archbench-internal': this.#options.internalToken },
        tracing: this.#options.tracing,
        metrics: this.#options.metrics,
      });
      this.#clients.set(peer, client);
    }
    return client;
  }

  async request(peer: string, request: InternalRequest): Promise<InternalResponse> {
    const client = this.#client(peer);
    const attempts = request.attempts ?? this.#options.attempts;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name] = value;
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    const policy = retryPolicy({
      attempts,
      retryable: (error) => request.retry === 'always' || (request.retry === 'connect' && notSent(error)),
      retryResult: (response) => request.retry === 'always' && RETRYABLE_STATUS.has((response as { status: number }).status),
    });
    // The error names every attempt and the whole wait: "did not answer within 5000 ms" alone hid
    // that the caller had waited four times that.
    let made = 0;
    const started = performance.now();
    try {
      const response = await policy.execute(() => {
        made++;
        return client.request(request.method, request.path, {
          params: request.params,
          query: request.query,
          headers,
          body: request.body,
          timeoutMs: request.timeoutMs ?? this.#options.timeoutMs,
        });
      });
      return { status: response.status, headers: flatten(response.headers), text: response.text };
    } catch (error) {
      const tries = made > 1 ? ` (${made} attempts in ${((performance.now() - started) / 1000).toFixed(1)} s)` : '';
      if (error instanceof DependencyError) throw tries ? new DependencyError(peer, `${error.message}${tries}`, { cause: error }) : error;
      throw new DependencyError(
        peer,
        `${request.method} ${request.path} to ${peer} failed: ${error instanceof Error ? error.message : String(error)}${tries}`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#clients.values()].map((client) => client.close()));
    this.#clients.clear();
  }
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}
