import { createHmac, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import { AppError } from '@archbench/domain/errors';
import { observe } from '@archbench/observability/hono';
import type { HealthCheck } from '@archbench/observability/health';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import type { Tracing } from '@archbench/observability/tracing';

/** What every process's app is built with (made once per process by run.ts; tests pass their own). */
export interface Observability {
  logger: Logger;
  metrics?: Metrics;
  tracing?: Tracing;
  accessLog?: 'info' | 'debug' | false;
}

export interface ServiceAppOptions extends Observability {
  service: string;
  /** Readiness checks by name (database, broker, peers). */
  checks?: Record<string, HealthCheck>;
  /** When set, every route but /health, /ready and /metrics needs this `x-archbench-internal` value. */
  internalToken?: string;
  /** Middleware that must run for every route, /health included (secure headers, shedding). */
  middleware?: MiddlewareHandler[];
}

/**
 * The token services use to tell calls from inside the system (the gateway, other services)
 * from anything else that reaches their port. Derived from AUTH_SECRET, so there is nothing more
 * to configure.
 * @example internalToken(env.AUTH_SECRET) // '3f1c…'
 */
export function internalToken(authSecret: string): string {
  return createHmac('sha256', authSecret).update('archbench-internal-v1').digest('hex');
}

/**
 * The customer a gateway call acts for (the verified token's subject); only the gateway sets it,
 * percent-encoded (`customerHeader`): a header value loses surrounding whitespace and cannot carry
 * control or non-Latin-1 characters, and a subject may hold any of them (" alice" is not "alice").
 */
export const CUSTOMER_HEADER = 'x-archbench-customer';

/** The CUSTOMER_HEADER value for a token subject: every character kept, whatever it is. */
export function customerHeader(sub: string): string {
  return encodeURIComponent(sub);
}

/** The token subject a CUSTOMER_HEADER value carries, or undefined when it is missing or not one `customerHeader` wrote. */
export function customerFromHeader(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return decodeURIComponent(value);
  } catch {
    return undefined;
  }
}

const OPEN_PATHS = new Set(['/health', '/ready', '/metrics']);

function requireInternal(token: string): MiddlewareHandler {
  const expected = Buffer.from(token);
  return createMiddleware(async (c, next) => {
    if (OPEN_PATHS.has(c.req.path)) return next();
    const given = Buffer.from(c.req.header('x-archbench-internal') ?? '');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new AppError('unauthorized', 'internal endpoint: calls must come from inside the system');
    }
    await next();
  });
}

/**
 * A Hono app with what every process has, through @archbench/observability: problem+json errors,
 * a server span per request (continuing the caller's trace), request metrics and `/metrics`,
 * `/health`, `/ready`; for services also the internal-caller check.
 * @example const app = createServiceApp({ service: 'inventory', logger, metrics, tracing, checks: { database: () => ping(db) }, internalToken: token })
 */
export function createServiceApp(options: ServiceAppOptions): Hono {
  const app = new Hono();
  observe(app, {
    service: options.service,
    logger: options.logger,
    metrics: options.metrics,
    tracing: options.tracing,
    accessLog: options.accessLog,
    health: { checks: options.checks },
    use: [...(options.middleware ?? []), ...(options.internalToken === undefined ? [] : [requireInternal(options.internalToken)])],
  });
  return app;
}
