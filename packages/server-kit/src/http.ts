import type { Context, Env, Hono, Schema } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { LIMITS, toFieldErrors } from '@archbench/contracts/schemas';
import type { Order } from '@archbench/contracts/schemas';
import { decodeCursor, isTerminal } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import { notFoundHandler, problemHandler, setResponseHeader, setResponseHeaders } from '@archbench/observability/hono';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
/** Stateless with `stream` unset, so one decoder serves every request. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

function tooLarge(declared: number, maxBytes: number): AppError {
  // Answered before the body is read: close the connection so no client reuses it mid-body.
  return new AppError('payload-too-large', `request body is ${declared} bytes; the limit is ${maxBytes}`, { headers: { connection: 'close' } });
}

/**
 * The body's bytes, never more than `maxBytes` in memory. With a Content-Length the length is
 * known and checked up front, and the adapter reads exactly that many bytes (its fast path on
 * Node: no web stream); without one (chunked) the stream is read with a running count.
 */
async function readBody(c: Context, maxBytes: number): Promise<Uint8Array | ArrayBuffer> {
  const length = c.req.header('content-length');
  if (length !== undefined) {
    const declared = Number(length);
    if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared, maxBytes);
    return c.req.arrayBuffer();
  }
  const stream = c.req.raw.body;
  if (stream === null) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new AppError('payload-too-large', `request body is over the ${maxBytes}-byte limit`, { headers: { connection: 'close' } });
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

/**
 * Reads a JSON request body: 415 unless the content type is JSON, 413 past the size limit
 * (checked on the bytes actually read, not only Content-Length), 400 for malformed JSON (deeply
 * nested input included), 422 with field errors when the schema rejects it.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number = LIMITS.maxBodyBytes): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new AppError('unsupported-media-type', `expected Content-Type: application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}`);
  }
  const buffer = await readBody(c, maxBytes);
  if (buffer.byteLength > maxBytes) {
    throw new AppError('payload-too-large', `request body is over the ${maxBytes}-byte limit`);
  }
  let data: unknown;
  try {
    data = JSON.parse(UTF8.decode(buffer));
  } catch {
    throw new AppError('malformed-json', 'request body is not valid JSON');
  }
  return validate(schema, data);
}

/**
 * Bounds every request body at `maxBytes` (413 problem, connection closed) without reading it:
 * a declared Content-Length is checked up front; a chunked body is cut off while it streams.
 * Unlike hono/body-limit it leaves a body with a Content-Length untouched, so the Node adapter
 * keeps reading it on its fast path (no web stream per request). GET and HEAD pass through.
 * @example app.use(limitBody(LIMITS.maxBodyBytes))
 */
export function limitBody(maxBytes: number) {
  const chunked = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new AppError('payload-too-large', `request body is over the ${maxBytes}-byte limit`, { headers: { connection: 'close' } });
    },
  });
  return createMiddleware(async (c, next) => {
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length !== undefined) {
      const declared = Number(length);
      if (Number.isFinite(declared) && declared > maxBytes) throw tooLarge(declared, maxBytes);
      return next();
    }
    // Chunked: hono's body limit counts the bytes as they stream in.
    return c.req.raw.body === null ? next() : chunked(c, next);
  });
}

/** Validates data with a schema or throws a 422 validation problem naming each field. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, code: 'validation-failed' | 'invalid-query' = 'validation-failed'): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const errors = toFieldErrors(result.error);
    const summary = errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; ');
    throw new AppError(code, summary, { errors });
  }
  return result.data;
}

export interface OverloadGuardOptions {
  maxInFlight: number;
  retryAfterSeconds?: number;
  /** Paths never shed (health checks and metrics must answer under load). */
  exempt?: (path: string) => boolean;
}

/**
 * Sheds load past a bounded number of in-flight requests with 503 + Retry-After, so latency of
 * admitted requests stays bounded instead of collapsing for everyone.
 */
export function overloadGuard(options: OverloadGuardOptions) {
  let inFlight = 0;
  const retryAfter = String(options.retryAfterSeconds ?? 1);
  const exempt = options.exempt ?? ((path: string) => path === '/health' || path === '/ready' || path === '/metrics');
  return createMiddleware(async (c, next) => {
    if (exempt(c.req.path)) return next();
    if (inFlight >= options.maxInFlight) {
      throw new AppError('overloaded', `more than ${options.maxInFlight} requests in flight; retry later`, {
        headers: { 'retry-after': retryAfter },
      });
    }
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
}

/**
 * Installs the one error mapping of a server: typed errors become their problem+json, unknown
 * errors a generic 500 with the cause logged (never sent); unknown routes a 404 problem. Delegates
 * to @archbench/observability's problemHandler, so with `metrics` each answer is counted in
 * `archbench_errors_total{kind,code}` (observe() installs the same handlers).
 * @example installProblemHandlers(app, logger, { metrics })
 */
export function installProblemHandlers<E extends Env, S extends Schema, B extends string>(
  app: Hono<E, S, B>,
  logger: Logger,
  options: { metrics?: Pick<Metrics, 'errorsTotal'> } = {},
): void {
  app.onError(problemHandler({ logger, metrics: options.metrics }));
  app.notFound(notFoundHandler({ metrics: options.metrics }));
}

/**
 * The response headers OWASP recommends for a JSON API, set once per response: no sniffing, no
 * framing, no referrer, HTTPS pinning (ignored over plain HTTP) and a CSP that forbids any
 * content, since an API response is never a document. Leaner than a browser-app header set,
 * which matters on cheap requests.
 * @example app.use(apiSecurityHeaders())
 */
export function apiSecurityHeaders() {
  const headers: Array<[string, string]> = [
    ['x-content-type-options', 'nosniff'],
    ['x-frame-options', 'DENY'],
    ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
    ['referrer-policy', 'no-referrer'],
    ['strict-transport-security', 'max-age=15552000; includeSubDomains'],
  ];
  return createMiddleware(async (c, next) => {
    // Set before the handler builds its response: headers added afterwards would force a copy of
    // the finished response and lose the Node adapter's fast path.
    setResponseHeaders(c, headers);
    await next();
  });
}

/** Longest Idempotency-Key accepted (the contract's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** The request's Idempotency-Key, or undefined; 422 when it is empty or longer than the limit. */
export function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    const message = `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
    throw new AppError('validation-failed', `Idempotency-Key ${message}`, { errors: [{ path: 'header.Idempotency-Key', message }] });
  }
  return key;
}

/** Decodes a page cursor of the query string; 400 invalid-query when it was sent but is not one of ours. */
export function readCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const value = decodeCursor(cursor);
  if (value === undefined) throw new AppError('invalid-query', 'cursor is not valid');
  return value;
}

/**
 * Answers POST /orders as the contract says: 200 for an idempotent replay, 201 when the order
 * reached a terminal status, else 202; with Location, Preference-Applied and Idempotent-Replayed.
 */
export function placedOrderResponse(c: Context, placed: { order: Order; replayed: boolean }, waitSeconds: number | undefined) {
  if (waitSeconds !== undefined) setResponseHeader(c, 'preference-applied', `wait=${waitSeconds}`);
  if (placed.replayed) setResponseHeader(c, 'idempotent-replayed', 'true');
  setResponseHeader(c, 'location', `/orders/${placed.order.id}`);
  return c.json(placed.order, placed.replayed ? 200 : isTerminal(placed.order.status) ? 201 : 202);
}
