import type { Kysely } from 'kysely';
import { ping } from '@archbench/server-kit/db';
import { unroutedHandler } from '@archbench/server-kit/http';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { observedDb } from '../shared/database';
import { bindService } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { createOutboxRelay } from './outbox-relay';
import { createOrdersRepository } from './repository';
import { orderRoutes } from './routes';
import { registerSagaAge } from './saga-age';
import type { OrdersTables } from './schema';
import { createOrders } from './service';

export interface OrdersAppDeps {
  db: Kysely<OrdersTables>;
  obs: Observability;
  dialect: 'sqlite' | 'postgres';
  transport: Transport;
  internalToken: string;
  sweepMs: number;
  /** SAGA_DEADLINE_MS. */
  deadlineMs?: number;
}

/** The orders service: orders, the saga orchestrator, the outbox relay. */
export function createOrdersApp({ db: rawDb, obs, dialect, transport, internalToken, sweepMs, deadlineMs }: OrdersAppDeps) {
  const { logger, metrics, tracing } = obs;
  const repo = createOrdersRepository(observedDb(rawDb, obs, dialect));
  const relay = createOutboxRelay({ repo, transport, logger, tracing, onLag: (seconds) => metrics?.outboxLagSeconds.set(seconds) });
  const orders = createOrders({
    repo,
    transport,
    relay,
    logger,
    onOutcome: (outcome) => metrics?.ordersTotal.inc({ outcome }),
    onCompensation: () => metrics?.sagaCompensationsTotal.inc(),
    deadlineMs,
  });
  // archbench_saga_oldest_open_seconds{state}: a compensation resent without end shows as a growing age.
  if (metrics) registerSagaAge(metrics, createOrdersRepository(rawDb), logger);
  const app = createServiceApp({ service: 'orders', ...obs, internalToken, checks: { database: () => ping(rawDb), transport: () => transport.healthy() } });
  app.route('/', orderRoutes(orders));
  // A wrong method on one of its routes (admin, internal): 405 with Allow, as on the public API.
  app.notFound(unroutedHandler(app, obs));
  // Events for orders: payments' LateCaptureRefunded.
  const listen = bindService(app, transport, 'orders', { event: (event) => orders.handleEvent(event) });
  let sweeper: NodeJS.Timeout | undefined;
  return {
    app,
    orders,
    /** Resumes unfinished sagas, starts the relay and the periodic sweep, and takes events. */
    async start(): Promise<number> {
      relay.start();
      const resumed = await orders.sweep();
      sweeper = setInterval(() => void orders.sweep().catch((error: unknown) => logger.error({ err: error }, 'saga sweep failed')), sweepMs);
      sweeper.unref();
      await listen();
      return resumed;
    },
    async stop(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      await orders.drain();
      await relay.stop();
    },
  };
}
