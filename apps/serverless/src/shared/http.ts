import type { Context } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { LIMITS, toFieldErrors } from '@archbench/contracts/schemas';
import type { Order } from '@archbench/contracts/schemas';
import { decodeCursor, isTerminal } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';

/**
 * The HTTP contract helpers of @archbench/server-kit/http, for workerd. That module also exports
 * the Node apps' problem handlers and response-header fast paths, which import prom-client, pino
 * and OpenTelemetry's Node context manager; none of them load on Workers, so the few helpers a
 * worker needs are kept here, with the same behaviour (the conformance suite checks both).
 */

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads a JSON request body: 415 unless the content type is JSON, 413 past the size limit
 * (declared length and bytes actually read), 400 for malformed JSON, 422 with field errors when
 * the schema rejects it.
 */
export async function readJson<S extends z.ZodType>(c: Context, schema: S, maxBytes: number = LIMITS.maxBodyBytes): Promise<z.infer<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!JSON_TYPE.test(type)) {
    throw new AppError('unsupported-media-type', `expected Content-Type: application/json, got ${type ? JSON.stringify(type.slice(0, 100)) : 'none'}`);
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw new AppError('payload-too-large', `request body is ${declared} bytes; the limit is ${maxBytes}`);
  const buffer = await c.req.arrayBuffer();
  if (buffer.byteLength > maxBytes) throw new AppError('payload-too-large', `request body is over the ${maxBytes}-byte limit`);
  let data: unknown;
  try {
    data = JSON.parse(UTF8.decode(buffer));
  } catch {
    throw new AppError('malformed-json', 'request body is not valid JSON');
  }
  return validate(schema, data);
}

/** Validates data with a schema or throws a 422 (or 400 for queries) problem naming each field. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, code: 'validation-failed' | 'invalid-query' = 'validation-failed'): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) {
    const errors = toFieldErrors(result.error);
    throw new AppError(code, errors.slice(0, 3).map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  }
  return result.data;
}

/** Sheds load past `maxInFlight` concurrent requests of this isolate with 503 + Retry-After. */
export function overloadGuard(maxInFlight: () => number) {
  let inFlight = 0;
  return createMiddleware(async (c, next) => {
    if (c.req.path === '/health' || c.req.path === '/ready' || c.req.path === '/metrics') return next();
    const limit = maxInFlight();
    if (inFlight >= limit) throw new AppError('overloaded', `more than ${limit} requests in flight; retry later`, { headers: { 'retry-after': '1' } });
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });
}

const SECURITY_HEADERS: ReadonlyArray<[string, string]> = [
  ['x-content-type-options', 'nosniff'],
  ['x-frame-options', 'DENY'],
  ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
  ['referrer-policy', 'no-referrer'],
  ['strict-transport-security', 'max-age=15552000; includeSubDomains'],
];

/** The API security headers every archbench server sends. */
export function apiSecurityHeaders() {
  return createMiddleware(async (c, next) => {
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
    await next();
  });
}

/** Longest Idempotency-Key accepted (the contract's limit). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** The request's Idempotency-Key, or undefined; 422 when it is empty or too long. */
export function readIdempotencyKey(c: Context): string | undefined {
  const key = c.req.header('idempotency-key');
  if (key !== undefined && (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH)) {
    const message = `must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters`;
    throw new AppError('validation-failed', `Idempotency-Key ${message}`, { errors: [{ path: 'header.Idempotency-Key', message }] });
  }
  return key;
}

/** Decodes a page cursor; 400 invalid-query when it was sent but is not one of ours. */
export function readCursor(cursor: string | undefined): string | undefined {
  if (cursor === undefined) return undefined;
  const value = decodeCursor(cursor);
  if (value === undefined) throw new AppError('invalid-query', 'cursor is not valid');
  return value;
}

/** POST /orders answer: 200 replay, 201 terminal, else 202; Location, Preference-Applied, Idempotent-Replayed. */
export function placedOrderResponse(c: Context, placed: { order: Order; replayed: boolean }, waitSeconds: number | undefined) {
  if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
  if (placed.replayed) c.header('idempotent-replayed', 'true');
  c.header('location', `/orders/${placed.order.id}`);
  return c.json(placed.order, placed.replayed ? 200 : isTerminal(placed.order.status) ? 201 : 202);
}
