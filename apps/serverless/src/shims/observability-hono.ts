import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { AppError, toProblem } from '@archbench/observability/errors';

/**
 * Stand-in for `@archbench/observability/hono` in the worker bundles (esbuild `alias`, and the
 * same `alias` in the wrangler configs). `@archbench/server-kit/http` re-exports its problem
 * handlers from there, and the real module pulls in prom-client, pino and OpenTelemetry's Node
 * context manager, none of which run on workerd. The workers install their own handlers (see
 * shared/observe.ts); these two keep the same problem+json answers should anything call them.
 */
function respond(c: Context, error: unknown): Response {
  const problem = toProblem(error, c.req.path);
  return c.body(JSON.stringify(problem.body), problem.status as 500, problem.headers);
}

export function problemHandler(): ErrorHandler {
  return (error, c) => respond(c, error);
}

export function notFoundHandler(): NotFoundHandler {
  return (c) => respond(c, new AppError('not-found', `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`));
}
