import { Hono } from 'hono';
import { toProblem } from './errors';
import { AppError } from '@archbench/domain/errors';

/** A readiness check: true when the dependency answers. Throwing counts as failing. */
export type HealthCheck = () => Promise<boolean> | boolean;

export interface HealthOptions {
  service: string;
  /** Checks run by /ready, in parallel, e.g. `{ database: () => ping(db), broker: () => amqp.ready() }`. */
  checks?: Record<string, HealthCheck>;
  /** A check slower than this fails, ms (default READY_CHECK_TIMEOUT_MS, 2000). */
  timeoutMs?: number;
}

/** How long `/ready` waits for a check by default before it counts as failed, ms. */
export const READY_CHECK_TIMEOUT_MS = 2000;

type CheckState = 'ok' | 'failed' | 'timeout';

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckState>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
    timer.unref();
  });
  try {
    const result = Promise.resolve()
      .then(check)
      .then((ok): CheckState => (ok ? 'ok' : 'failed'))
      .catch((): CheckState => 'failed');
    return await Promise.race([result, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `/health` (liveness: the process answers) and `/ready` (every check passes; otherwise a 503
 * `not-ready` problem naming the failed checks). Mount with `app.route('/', healthRoutes(…))`.
 * @example app.route('/', healthRoutes({ service: 'orders', checks: { database: () => ping(db) } }))
 */
export function healthRoutes(options: HealthOptions): Hono {
  const checks = Object.entries(options.checks ?? {});
  const timeoutMs = options.timeoutMs ?? READY_CHECK_TIMEOUT_MS;
  const app = new Hono();
  app.get('/health', (c) => c.json({ status: 'ok', service: options.service }));
  app.get('/ready', async (c) => {
    const states = await Promise.all(checks.map(([, check]) => runCheck(check, timeoutMs)));
    const results: Record<string, string> = {};
    const failed: string[] = [];
    checks.forEach(([name], i) => {
      results[name] = states[i]!;
      if (states[i] !== 'ok') failed.push(name);
    });
    if (failed.length === 0) return c.json({ status: 'ok', service: options.service, checks: results });
    const error = new AppError('not-ready', `not ready: ${failed.map((name) => `${name} ${results[name]}`).join(', ')}`, {
      errors: failed.map((name) => ({ path: name, message: results[name] === 'timeout' ? `no answer within ${timeoutMs} ms` : 'check failed' })),
      headers: { 'retry-after': '1' },
    });
    const problem = toProblem(error, c.req.path);
    return c.body(JSON.stringify(problem.body), 503, problem.headers);
  });
  return app;
}
