import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Context, Env, ErrorHandler, Hono, MiddlewareHandler, NotFoundHandler, Schema } from 'hono';
import type { Logger } from 'pino';
import { classifyError, toProblem } from './errors';
import { AppError } from '@archbench/domain/errors';
import { healthRoutes } from './health';
import type { HealthCheck } from './health';
import type { Metrics } from './metrics';
import { metricsHandler } from './metrics';
import { DEFAULT_IGNORED_PATHS, httpObservability } from './middleware';
import type { HttpObservabilityOptions, ObservabilityEnv, ObservabilityVariables } from './middleware';
import { requestHeader, setResponseHeader, setResponseHeaders } from './response-headers';
import type { Tracing } from './tracing';

export { httpObservability, DEFAULT_IGNORED_PATHS, requestHeader, setResponseHeader, setResponseHeaders };
export type { HttpObservabilityOptions, ObservabilityEnv, ObservabilityVariables };

export interface ProblemHandlerOptions {
  logger: Logger;
  /** Counts `archbench_errors_total{kind,code}`; omitted: not counted. */
  metrics?: Pick<Metrics, 'errorsTotal'>;
}

function respond(c: Context, error: unknown, metrics: ProblemHandlerOptions['metrics']): Response {
  const problem = toProblem(error, c.req.path);
  const { kind, code } = classifyError(error);
  metrics?.errorsTotal.inc({ kind, code });
  return c.body(JSON.stringify(problem.body), problem.status as 500, problem.headers);
}

/**
 * The one `onError` of a server: any thrown value becomes problem+json (`toProblem`), counted
 * in `archbench_errors_total{kind,code}`; server and dependency errors are logged with their
 * cause and recorded on the active span. Unknown errors answer a generic 500, never the message.
 * @example app.onError(problemHandler({ logger, metrics }))
 */
export function problemHandler(options: ProblemHandlerOptions): ErrorHandler {
  const { logger, metrics } = options;
  return (error, c) => {
    const { kind, status, code } = classifyError(error);
    if (kind !== 'client') {
      const span = trace.getActiveSpan();
      if (span?.isRecording()) {
        span.recordException(error);
        span.setStatus({ code: SpanStatusCode.ERROR, message: code });
      }
      // 503 is load shedding or a not-ready dependency: expected under stress, so not an error line each time.
      const level = status === 503 ? 'debug' : 'error';
      if (logger.isLevelEnabled(level)) {
        logger[level]({ err: error, kind, code, method: c.req.method, path: c.req.path }, kind === 'dependency' ? 'dependency failed' : 'request failed');
      }
    }
    return respond(c, error, metrics);
  };
}

/**
 * Unknown routes: a 404 `not-found` problem, counted like any client error.
 * @example app.notFound(notFoundHandler({ metrics }))
 */
export function notFoundHandler(options: Pick<ProblemHandlerOptions, 'metrics'> = {}): NotFoundHandler {
  return (c) => respond(c, new AppError('not-found', `no route for ${c.req.method} ${c.req.path.slice(0, 200)}`), options.metrics);
}

export interface ObserveOptions {
  service: string;
  logger: Logger;
  /** Histograms, error counter and `GET /metrics`; omitted: none of them. */
  metrics?: Metrics;
  /** Server spans; omitted or disabled: none. */
  tracing?: Tracing;
  /** Level of one line per request, or false; default `debug` (silent at `info`). */
  accessLog?: HttpObservabilityOptions['accessLog'];
  /** `/health` and `/ready` with these checks; false to mount neither. Default: no checks. */
  health?: { checks?: Record<string, HealthCheck>; timeoutMs?: number } | false;
  /** Paths neither traced nor timed; default /health, /ready, /metrics. */
  ignorePaths?: readonly string[];
  /**
   * Middleware to run inside the request middleware and before /metrics, /health and /ready
   * (secure headers, CORS, load shedding), so those routes get it too.
   */
  use?: MiddlewareHandler[];
}

/**
 * Installs all of observability on an app, in order: problem+json error and not-found
 * handlers, the request middleware (request id, server span, duration histogram,
 * `c.var.logger`), the `use` middleware, `GET /metrics`, `GET /health` and `GET /ready`. Call it
 * right after `new Hono()`, before any other `app.use`, so the span covers every other middleware.
 * @example observe(app, { service: 'orders', logger, metrics, tracing, health: { checks: { database: () => ping(db) } } })
 */
export function observe<E extends Env, S extends Schema, B extends string>(target: Hono<E, S, B>, options: ObserveOptions): Hono<E, S, B> {
  // Installation does not depend on the app's own bindings; erase them once here.
  const app = target as unknown as Hono<ObservabilityEnv>;
  app.onError(problemHandler({ logger: options.logger, metrics: options.metrics }));
  app.notFound(notFoundHandler({ metrics: options.metrics }));
  app.use(
    httpObservability({
      tracing: options.tracing,
      metrics: options.metrics,
      logger: options.logger,
      accessLog: options.accessLog,
      ignorePaths: options.ignorePaths,
    }),
  );
  for (const middleware of options.use ?? []) app.use(middleware);
  if (options.metrics) app.get('/metrics', metricsHandler(options.metrics));
  if (options.health !== false) {
    app.route('/', healthRoutes({ service: options.service, checks: options.health?.checks, timeoutMs: options.health?.timeoutMs }));
  }
  return target;
}
