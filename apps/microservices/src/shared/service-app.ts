import { createHmac, timingSafeEqual } from 'node:crypto';
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '@archbench/observability/errors';
import type { Logger } from '@archbench/observability/logging';
import { installProblemHandlers } from '@archbench/server-kit/http';

export type Check = () => boolean | Promise<boolean>;

export interface ServiceAppOptions {
  service: string;
  logger: Logger;
  /** Readiness checks by name (database, broker, peers). */
  checks?: Record<string, Check>;
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

const OPEN_PATHS = new Set(['/health', '/ready', '/metrics']);

/**
 * A Hono app with what every process has: problem+json errors, /health, /ready and, for
 * services, the internal-caller check.
 * @example const app = createServiceApp({ service: 'inventory', logger, checks: { database: () => ping(db) }, internalToken: token })
 */
export function createServiceApp(options: ServiceAppOptions): Hono {
  const app = new Hono();
  installProblemHandlers(app, options.logger);
  for (const middleware of options.middleware ?? []) app.use(middleware);
  if (options.internalToken !== undefined) {
    const expected = Buffer.from(options.internalToken);
    app.use(
      createMiddleware(async (c, next) => {
        if (OPEN_PATHS.has(c.req.path)) return next();
        const given = Buffer.from(c.req.header('x-archbench-internal') ?? '');
        if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
          throw new AppError('unauthorized', 'internal endpoint: calls must come from inside the system');
        }
        await next();
      }),
    );
  }
  app.get('/health', (c) => c.json({ status: 'ok', service: options.service }));
  app.get('/ready', async (c) => {
    const results = await Promise.all(
      Object.entries(options.checks ?? {}).map(async ([name, check]) => [name, await Promise.resolve(check()).catch(() => false)] as const),
    );
    const failed = results.filter(([, ok]) => !ok).map(([name]) => name);
    if (failed.length > 0) throw new AppError('not-ready', `not ready: ${failed.join(', ')} unavailable`);
    return c.json({ status: 'ok', service: options.service, checks: Object.fromEntries(results.map(([name]) => [name, 'ok'])) });
  });
  return app;
}
