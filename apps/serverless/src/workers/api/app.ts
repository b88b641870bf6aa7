import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { buildOpenApiDocument } from '@archbench/contracts/openapi';
import { authenticate, requireAdmin } from '@archbench/server-kit/auth';
import type { ApiBindings } from '../../shared/bindings';
import { listVar, numberVar } from '../../shared/bindings';
import { nodeHeaderRules, publicEdge } from '../../shared/http';
import { createLogger } from '../../shared/log';
import type { WorkerMetrics } from '../../shared/metrics';
import { observeWorker, peerSnapshot } from '../../shared/observe';
import { adminRoutes } from './admin/routes';
import { catalogAdminRoutes, catalogRoutes } from './catalog/routes';
import { createCatalog } from './catalog/service';
import { orderRoutes } from './orders/routes';
import { createOrders } from './orders/service';
import { shipmentOf } from './shipments';

export interface AppDeps {
  service: string;
  metrics: WorkerMetrics;
  /** Origins allowed by CORS (the frontend console); empty: no CORS headers. Unset: the CORS_ORIGINS var (comma-separated). */
  corsOrigins?: string[];
}

/**
 * The HTTP API worker: the same public API as the monolith, on D1 and Queues. Bindings arrive
 * per request as `c.env`, so the app is built once per isolate and used as the worker's fetch.
 */
export function createApp({ service, metrics, corsOrigins }: AppDeps) {
  // Built on first use, not at isolate start: start-up time is what a cold start pays.
  let openapi: string | undefined;
  const app = new Hono<{ Bindings: ApiBindings }>();
  const logger = (env: ApiBindings) => createLogger(service, env.LOG_LEVEL);
  let maxInFlight = 512;
  // The CORS origins are a var, known from the first request on: the edge is built then, once per isolate.
  let edge: MiddlewareHandler | undefined;

  observeWorker(
    app,
    {
      service,
      metrics,
      logger: (c) => logger(c.env as ApiBindings),
      ready: { database: (c) => createCatalog((c.env as ApiBindings).DB).seeded() },
      peers: async (c) => {
        const env = c.env as ApiBindings;
        const snapshots = await Promise.all([peerSnapshot(env.PAYMENTS_WORKER), peerSnapshot(env.SHIPPING_WORKER)]);
        return snapshots.filter((s) => s !== undefined);
      },
    },
    [
      // What node's HTTP parser refuses before a Node topology's app runs (workerd lets it through).
      nodeHeaderRules(),
      // The limit is a var, known from the request's env; the count is per isolate, as per Node process.
      // Security headers, CORS (one exposed-headers list), body limit and overload guard: the same edge as the Node servers.
      async (c, next) => {
        const env = c.env as ApiBindings;
        maxInFlight = numberVar(env.MAX_IN_FLIGHT, 512);
        edge ??= publicEdge({ corsOrigins: corsOrigins ?? listVar(env.CORS_ORIGINS), maxInFlight: () => maxInFlight });
        return edge(c, next);
      },
    ],
  );

  app.get('/openapi.json', (c) =>
    c.body((openapi ??= JSON.stringify(buildOpenApiDocument({ title: 'archbench order API (serverless)' }))), 200, { 'content-type': 'application/json' }),
  );
  app.route('/', catalogRoutes());

  // The secret is a binding, known from the first request on; one middleware per isolate.
  let verify: ReturnType<typeof authenticate> | undefined;
  const auth = (c: Parameters<ReturnType<typeof authenticate>>[0], next: Parameters<ReturnType<typeof authenticate>>[1]) =>
    (verify ??= authenticate((c.env as ApiBindings).AUTH_SECRET))(c, next);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.route(
    '/',
    orderRoutes(
      (env) => createOrders({ env, metrics, logger: logger(env) }),
      // Waits (up to 3 s) for shipping to catch up with a CONFIRMED or CANCELLED order, as the hybrid and the gateway do.
      (env, order) => shipmentOf(env.DB, order),
    ),
  );

  app.use('/admin/*', auth, requireAdmin());
  app.route('/admin', catalogAdminRoutes());
  app.route('/admin', adminRoutes());
  return app;
}

export type ApiApp = ReturnType<typeof createApp>;
