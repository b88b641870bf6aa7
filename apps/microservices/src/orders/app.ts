import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import { ping } from '@archbench/server-kit/db';
import { createServiceApp } from '../shared/service-app';
import type { Transport } from '../shared/transport';
import { createOutboxRelay } from './outbox-relay';
import { createOrdersRepository } from './repository';
import { orderRoutes } from './routes';
import type { OrdersTables } from './schema';
import { createOrders } from './service';

export interface OrdersAppDeps {
  db: Kysely<OrdersTables>;
  logger: Logger;
  transport: Transport;
  internalToken: string;
  sweepMs: number;
  onOutcome?: (outcome: 'confirmed' | 'rejected' | 'cancelled') => void;
  onCompensation?: () => void;
  onOutboxLag?: (seconds: number) => void;
}

/** The orders service: orders, the saga orchestrator, the outbox relay. */
export function createOrdersApp({ db, logger, transport, internalToken, sweepMs, onOutcome, onCompensation, onOutboxLag }: OrdersAppDeps) {
  const repo = createOrdersRepository(db);
  const relay = createOutboxRelay({ repo, transport, logger, onLag: onOutboxLag });
  const orders = createOrders({ repo, transport, relay, logger, onOutcome, onCompensation });
  const app = createServiceApp({ service: 'orders', logger, internalToken, checks: { database: () => ping(db), transport: () => transport.healthy() } });
  app.route('/', orderRoutes(orders));
  let sweeper: NodeJS.Timeout | undefined;
  return {
    app,
    orders,
    /** Resumes unfinished sagas and starts the relay and the periodic sweep. */
    async start(): Promise<number> {
      relay.start();
      const resumed = await orders.sweep();
      sweeper = setInterval(() => void orders.sweep().catch((error: unknown) => logger.error({ err: error }, 'saga sweep failed')), sweepMs);
      sweeper.unref();
      return resumed;
    },
    async stop(): Promise<void> {
      if (sweeper) clearInterval(sweeper);
      await orders.drain();
      await relay.stop();
    },
  };
}
