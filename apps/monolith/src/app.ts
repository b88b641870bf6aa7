import { Hono } from 'hono';
import type { Kysely } from 'kysely';
import type { PaymentProvider } from '@archbench/domain/payment-provider';
import { kyselyObserver } from '@archbench/observability/database';
import { observe } from '@archbench/observability/hono';
import type { Logger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import type { Metrics } from '@archbench/observability/metrics';
import type { Tracing } from '@archbench/observability/tracing';
import { authenticate, requireAdmin } from '@archbench/server-kit/auth';
import { ping } from '@archbench/server-kit/db';
import { openApiHandler, publicEdge } from '@archbench/server-kit/edge';
import { unroutedHandler } from '@archbench/server-kit/http';
import { forModule } from './db';
import type { Tables } from './db';
import type { Env } from './env';
import { catalogAdminRoutes, catalogRoutes, createCatalog } from './modules/catalog';
import type { CatalogTables } from './modules/catalog';
import { createOrders, orderRoutes } from './modules/orders';
import type { OrdersTables } from './modules/orders';
import { createPayments, paymentsAdminRoutes, registerRefundAge } from './modules/payments';
import type { PaymentsTables } from './modules/payments';
import { createShipping } from './modules/shipping';
import type { ShippingSeam, ShippingTables } from './modules/shipping';
import { EventBus } from './shared/events';

/** What a shipping implementation is built from: the database as shipping sees it (its tables only) and the event bus. */
export interface ShippingContext {
  db: Kysely<ShippingTables>;
  events: EventBus;
}

export interface AppDeps {
  env: Env;
  db: Kysely<Tables>;
  logger: Logger;
  /** Replace the simulated provider (tests); `PUT /admin/payments/provider` swaps it for one with the new settings. */
  provider?: PaymentProvider;
  /** Server and query spans; made by main.ts (one per process). Omitted: no spans. */
  tracing?: Tracing;
  /** Omitted: made here unless METRICS_ENABLED=false. */
  metrics?: Metrics;
  /**
   * Where an order's shipment is created and cancelled (in the transaction that confirms or
   * cancels the order: `createIn`, `cancelIn`) and where `GET /orders/{id}/shipment` reads from.
   * Omitted: the in-process shipping module. The hybrid passes an outbox to its extracted
   * shipping service here; the other modules do not notice the difference.
   */
  shipping?: (context: ShippingContext) => ShippingSeam;
  /** Names the app in its OpenAPI title. Default: monolith. */
  name?: string;
}

/**
 * Composes the modular monolith: four modules wired in-process over one database.
 * Serving is done by main.ts; tests call `app.request()`.
 */
export function createApp({
  env,
  db: rawDb,
  logger,
  provider,
  tracing,
  metrics = env.METRICS_ENABLED ? createMetrics({ service: env.SERVICE_NAME }) : undefined,
  shipping: makeShipping = ({ db }) => createShipping(db),
  name = 'monolith',
}: AppDeps) {
  // Every module query gets a span and a histogram sample; without either, the plain instance.
  const db = tracing?.enabled || metrics ? rawDb.withPlugin(kyselyObserver({ tracing, metrics, system: env.DATABASE_URL ? 'postgresql' : 'sqlite' })) : rawDb;
  const events = new EventBus(logger);
  // Each module gets the one database typed with its own tables only (see forModule).
  const catalog = createCatalog(forModule<CatalogTables>(db));
  const payments = createPayments(
    forModule<PaymentsTables>(db),
    { settings: { latencyMs: env.PAYMENT_LATENCY_MS, slowMs: env.PAYMENT_SLOW_MS, failureRate: env.PAYMENT_FAILURE_RATE }, provider },
    metrics,
    logger,
  );
  // archbench_refund_oldest_pending_seconds: a refund the provider keeps failing shows as a growing age.
  if (metrics) registerRefundAge(metrics, forModule<PaymentsTables>(rawDb), logger);
  const shipping = makeShipping({ db: forModule<ShippingTables>(db), events });
  const orders = createOrders({ db: forModule<OrdersTables>(db), catalog, payments, shipping, events, logger, metrics, deadlineMs: env.SAGA_DEADLINE_MS });

  const app = new Hono();
  // Errors, request span/metrics/logger, the public edge (shared with every public server), /metrics, /health, /ready.
  observe(app, {
    service: env.SERVICE_NAME,
    logger,
    metrics,
    tracing,
    accessLog: env.ACCESS_LOG === 'off' ? false : env.ACCESS_LOG,
    health: { checks: { database: () => ping(rawDb) } },
    use: [publicEdge({ corsOrigins: env.CORS_ORIGINS, maxInFlight: env.MAX_IN_FLIGHT })],
  });
  // A path some route serves, asked with a method none does: 405 with Allow (this app's routes, admin ones too), not observe()'s 404.
  app.notFound(unroutedHandler(app, { logger, metrics }));
  app.get('/openapi.json', openApiHandler(`archbench order API (${name})`));

  app.route('/', catalogRoutes(catalog));

  const auth = authenticate(env.AUTH_SECRET);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.route('/', orderRoutes(orders, shipping));

  app.use('/admin/*', auth, requireAdmin());
  app.route('/admin', catalogAdminRoutes(catalog));
  app.route('/admin', paymentsAdminRoutes(payments));

  return { app, catalog, orders, metrics };
}

export type MonolithApp = ReturnType<typeof createApp>;
