import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { DependencyError } from '@archbench/observability/errors';

export interface InternalHttpClientOptions {
  /** Per-attempt timeout (headers and body), ms. */
  timeoutMs: number;
  /** Attempts per call, including the first. */
  attempts: number;
  /** Sent as `x-archbench-internal` so services accept only calls from inside the system. */
  internalToken: string;
  /** Keep-alive connections per target. */
  connections?: number;
  /** Called once per attempt (metrics: internal calls by transport). */
  onAttempt?: (target: string) => void;
  /** Extra headers per call, e.g. the trace context of the current span. */
  contextHeaders?: () => Record<string, string>;
}

export interface InternalRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  headers?: Record<string, string | undefined>;
  body?: string;
  /**
   * `always`: the call is idempotent, retry on any transport failure and on 502/503/504.
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

const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** Failures where the request certainly never reached the peer. */
function notSent(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ENOTFOUND';
}

/**
 * Calls between services over keep-alive connection pools (one undici Pool per target), with a
 * timeout per attempt and retries with exponential backoff and jitter. Gives up with a
 * DependencyError naming the target.
 * @example const client = new InternalHttpClient({ timeoutMs: 5000, attempts: 4, internalToken })
 *          const res = await client.request('http://127.0.0.1:3101', { method: 'GET', path: '/products' })
 */
export class InternalHttpClient {
  readonly #pools = new Map<string, Pool>();
  readonly #options: InternalHttpClientOptions;

  constructor(options: InternalHttpClientOptions) {
    this.#options = options;
  }

  #pool(origin: string): Pool {
    let pool = this.#pools.get(origin);
    if (!pool) {
      pool = new Pool(origin, {
        connections: this.#options.connections ?? 64,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 60_000,
        pipelining: 1,
      });
      this.#pools.set(origin, pool);
    }
    return pool;
  }

  async request(baseUrl: string, request: InternalRequest): Promise<InternalResponse> {
    const attempts = request.attempts ?? this.#options.attempts;
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs;
    const pool = this.#pool(baseUrl);
    const headers: Record<string, string> = { 'x-archbench-internal': this.#options.internalToken, ...this.#options.contextHeaders?.() };
    for (const [name, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[name] = value;
    if (request.body !== undefined) headers['content-type'] ??= 'application/json';
    let lastError: unknown;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      this.#options.onAttempt?.(baseUrl);
      try {
        const response = await pool.request({
          origin: baseUrl,
          method: request.method,
          path: request.path,
          headers,
          body: request.body,
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        });
        const text = await response.body.text();
        const result = { status: response.statusCode, headers: flatten(response.headers), text };
        if (request.retry === 'always' && RETRYABLE_STATUS.has(result.status) && attempt < attempts) {
          lastError = new Error(`${baseUrl}${request.path} answered ${result.status}`);
          await backoff(attempt);
          continue;
        }
        return result;
      } catch (error) {
        lastError = error;
        const retryable = request.retry === 'always' || (request.retry === 'connect' && notSent(error));
        if (!retryable || attempt >= attempts) break;
        await backoff(attempt);
      }
    }
    throw new DependencyError(serviceOf(baseUrl), `${request.method} ${baseUrl}${request.path} failed: ${describe(lastError)}`, { cause: lastError });
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#pools.values()].map((pool) => pool.close()));
    this.#pools.clear();
  }
}

function flatten(headers: Dispatcher.ResponseData['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** 50 ms, 100 ms, 200 ms ... capped at 1 s, with full jitter so retries of many callers spread out. */
export function backoff(attempt: number, baseMs = 50, capMs = 1000): Promise<void> {
  const ceiling = Math.min(capMs, baseMs * 2 ** (attempt - 1));
  return sleep(ceiling / 2 + Math.random() * (ceiling / 2));
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    return code ? `${code} ${error.message}` : error.message;
  }
  return String(error);
}

function serviceOf(baseUrl: string): string {
  return new URL(baseUrl).host;
}
