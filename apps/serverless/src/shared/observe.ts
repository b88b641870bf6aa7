import type { Context, Env, Hono, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { classifyError, toProblem } from '@archbench/observability/errors';
import { AppError } from '@archbench/domain/errors';
import { unroutedError } from '@archbench/server-kit/unrouted';
import type { WorkerLogger } from './log';
import type { MetricsSnapshot, WorkerMetrics } from './metrics';

/** An incoming X-Request-Id is kept when it looks like one, as the Node apps do. */
const REQUEST_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;

/** Paths neither timed nor counted as requests (probes and scrapes). */
const IGNORED = new Set(['/health', '/ready', '/metrics']);

export interface ObserveWorkerOptions {
  service: string;
  metrics: WorkerMetrics;
  logger: (c: Context) => WorkerLogger;
  /** Readiness checks for GET /ready; each resolves true when fine. */
  ready?: Record<string, (c: Context) => Promise<boolean>>;
  /** Other workers' metrics to merge into GET /metrics. */
  peers?: (c: Context) => Promise<MetricsSnapshot[]>;
}

function respond(c: Context, error: unknown, metrics: WorkerMetrics): Response {
  const problem = toProblem(error, c.req.path);
  const { kind, code } = classifyError(error);
  metrics.inc('errors', { kind, code });
  return c.body(JSON.stringify(problem.body), problem.status as 500, problem.headers);
}

/**
 * What observe() of @archbench/observability gives the Node apps, for a worker: problem+json
 * errors (unknown errors a generic 500, cause logged), request duration histogram by route
 * template, /metrics (Prometheus text, peers merged), /health and /ready. A request no route
 * took is `unroutedError` of @archbench/server-kit/unrouted, as on the Node servers: 405 with
 * Allow for a path some route of the worker serves (public, admin or internal), else 404.
 */
export function observeWorker<E extends Env>(app: Hono<E>, options: ObserveWorkerOptions, use: MiddlewareHandler[] = []): void {
  const { metrics } = options;
  app.onError((error, c) => {
    const { kind, status } = classifyError(error);
    // 503 is load shedding or not-ready: expected under stress, not an error line each time.
    if (kind !== 'client') {
      const log = options.logger(c);
      const line = { err: error, method: c.req.method, path: c.req.path, requestId: c.res.headers.get('x-request-id') ?? c.req.header('x-request-id') };
      const message = kind === 'dependency' ? 'dependency failed' : 'request failed';
      if (status === 503) log.debug(line, message);
      else log.error(line, message);
    }
    return respond(c, error, metrics);
  });
  app.notFound((c) => respond(c, unroutedError(app, c), metrics));
  app.use(async (c, next) => {
    const started = Date.now();
    const incoming = c.req.header('x-request-id');
    c.header('x-request-id', incoming !== undefined && REQUEST_ID_RE.test(incoming) ? incoming : crypto.randomUUID());
    await next();
    if (IGNORED.has(c.req.path)) return;
    const route =
      matchedRoutes(c)
        .filter((r) => r.method !== 'ALL')
        .at(-1)?.path ?? 'unmatched';
    metrics.http(route, c.req.method, c.res.status, (Date.now() - started) / 1000);
  });
  for (const middleware of use) app.use(middleware);
  app.get('/metrics', async (c) => {
    const peers = options.peers ? await options.peers(c) : [];
    if (c.req.query('format') === 'json') return c.json(metrics.registry.snapshot());
    return c.body(metrics.registry.render(peers), 200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  });
  app.get('/health', (c) => c.json({ status: 'ok', service: options.service }));
  app.get('/ready', async (c) => {
    const entries = Object.entries(options.ready ?? {});
    const states = await Promise.all(
      entries.map(([, check]) =>
        check(c).then(
          (ok) => (ok ? 'ok' : 'failed'),
          () => 'failed',
        ),
      ),
    );
    const checks = Object.fromEntries(entries.map(([name], i) => [name, states[i]!]));
    const failed = entries.filter((_, i) => states[i] !== 'ok').map(([name]) => name);
    if (failed.length === 0) return c.json({ status: 'ok', service: options.service, checks });
    throw new AppError('not-ready', `not ready: ${failed.map((name) => `${name} ${checks[name]}`).join(', ')}`, {
      errors: failed.map((name) => ({ path: name, message: 'check failed' })),
      headers: { 'retry-after': '1' },
    });
  });
}

/** Fetches another worker's metrics snapshot over its service binding; a missing or failing peer is left out. */
export async function peerSnapshot(
  fetcher: { fetch: (input: string) => Promise<{ ok: boolean; json: () => Promise<unknown> }> } | undefined,
): Promise<MetricsSnapshot | undefined> {
  if (!fetcher) return undefined;
  try {
    const res = await fetcher.fetch('https://internal/metrics?format=json');
    return res.ok ? ((await res.json()) as MetricsSnapshot) : undefined;
  } catch {
    return undefined;
  }
}
