import { createMiddleware } from 'hono/factory';
import { AppError } from '@archbench/domain/errors';
import { SECURITY_HEADERS } from '@archbench/server-kit/portable';

/**
 * The workers' HTTP helpers. The contract helpers and the public edge come from
 * @archbench/server-kit/portable, the runtime-neutral part of server-kit (Fetch API, Hono and
 * the error model only; its Node part loads prom-client, pino and OpenTelemetry's Node context
 * manager, none of which load on workerd), so workerd and the Node servers run the same code.
 */
export {
  EXPOSED_HEADERS,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  SECURITY_HEADERS,
  openApiHandler,
  placedOrderResponse,
  publicEdge,
  readCursor,
  readIdempotencyKey,
  readJson,
  validate,
  within,
} from '@archbench/server-kit/portable';

/**
 * Sheds load past `maxInFlight` concurrent requests of this isolate with 503 + Retry-After.
 * Superseded by `publicEdge({ corsOrigins, maxInFlight: () => limit })`, which also sets the
 * security headers, CORS and the body limit in one layer; kept until workers/api/app.ts moves.
 */
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

/** The API security headers every archbench server sends (superseded by publicEdge, see above). */
export function apiSecurityHeaders() {
  return createMiddleware(async (c, next) => {
    for (const [name, value] of SECURITY_HEADERS) c.header(name, value);
    await next();
  });
}
