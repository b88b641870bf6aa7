import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { secureHeaders } from 'hono/secure-headers';
import type { Kysely } from 'kysely';
import { buildOpenApiDocument } from '@archbench/contracts/openapi';
import { LIMITS } from '@archbench/contracts/schemas';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { AppError } from '@archbench/observability/errors';
import type { Logger } from '@archbench/observability/logging';
import { authenticate, requireAdmin } from '@archbench/server-kit/auth';
import { ping } from '@archbench/server-kit/db';
import { installProblemHandlers, overloadGuard } from '@archbench/server-kit/http';
import type { Tables } from './db/schema';
import type { Env } from './env';
import { catalogAdminRoutes, catalogRoutes, createCatalog } from './modules/catalog';
import { createOrders, orderRoutes } from './modules/orders';
import { createPayments, paymentsAdminRoutes } from './modules/payments';
import { createShipping } from './modules/shipping';
import { EventBus } from './shared/events';

export interface AppDeps {
  env: Env;
  db: Kysely<Tables>;
  logger: Logger;
  /** Replace the simulated provider's settings (tests). */
  provider?: PaymentProvider;
}

/**
 * Composes the modular monolith: four modules wired in-process over one database.
 * Serving is done by main.ts; tests call `app.request()`.
 */
export function createApp({ env, db, logger, provider }: AppDeps) {
  const events = new EventBus(logger);
  const catalog = createCatalog(db);
  const payments = createPayments(
    db,
    provider ?? new PaymentProvider({ latencyMs: env.PAYMENT_LATENCY_MS, slowMs: env.PAYMENT_SLOW_MS, failureRate: env.PAYMENT_FAILURE_RATE }),
  );
  const shipping = createShipping(db, events);
  const orders = createOrders({ db, catalog, payments, events, logger });
  const openapi = JSON.stringify(buildOpenApiDocument({ title: 'archbench order API (monolith)' }));

  const app = new Hono();
  installProblemHandlers(app, logger);
  app.use(secureHeaders());
  if (env.CORS_ORIGINS.length > 0) app.use(cors({ origin: env.CORS_ORIGINS, credentials: false, exposeHeaders: ['Location', 'Retry-After', 'Preference-Applied'] }));
  app.use(overloadGuard({ maxInFlight: env.MAX_IN_FLIGHT }));
  app.use(
    bodyLimit({
      maxSize: LIMITS.maxBodyBytes,
      onError: () => {
        // The body is left unread, so the connection cannot be reused safely: close it.
        throw new AppError('payload-too-large', `request body is over the ${LIMITS.maxBodyBytes}-byte limit`, { headers: { connection: 'close' } });
      },
    }),
  );

  app.get('/health', (c) => c.json({ status: 'ok', service: env.SERVICE_NAME }));
  app.get('/ready', async (c) => {
    if (!(await ping(db))) throw new AppError('not-ready', 'database is not reachable');
    return c.json({ status: 'ok', service: env.SERVICE_NAME, checks: { database: 'ok' } });
  });
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'content-type': 'application/json' }));

  app.route('/', catalogRoutes(catalog));

  const auth = authenticate(env.AUTH_SECRET);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.route('/', orderRoutes(orders, shipping));

  app.use('/admin/*', auth, requireAdmin());
  app.route('/admin', catalogAdminRoutes(catalog));
  app.route('/admin', paymentsAdminRoutes(payments));

  return { app, catalog, orders };
}

export type MonolithApp = ReturnType<typeof createApp>;
