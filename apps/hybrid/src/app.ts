import type { Kysely } from 'kysely';
import type { InternalHttpClient } from '@archbench/microservices/http-client';
import { createApp as createMonolithApp } from '@archbench/monolith/app';
import type { PaymentProvider } from '@archbench/domain/payment-provider';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import type { Tracing } from '@archbench/observability/tracing';
import type { Tables } from './db';
import type { Env } from './env';
import { createOutboxRelay } from './shipping/outbox-relay';
import { createShippingOutbox } from './shipping/outbox';
import type { EventPublisher } from './shipping/publisher';

export interface AppDeps {
  env: Env;
  /** The core database (openCoreDatabase). */
  db: Kysely<Tables>;
  logger: Logger;
  /** Hands outbox events to the shipping service (HTTP or RabbitMQ). */
  publisher: Pick<EventPublisher, 'publish'>;
  /** Reaches the shipping service (peer `shipping`) to read shipments. */
  client: InternalHttpClient;
  provider?: PaymentProvider;
  tracing?: Tracing;
  metrics?: Metrics;
}

/**
 * Composes the hybrid's core: the monolith's composition (catalog, orders and payments modules
 * over one database, the same routes and middleware), with shipping replaced by an outbox to the
 * extracted shipping service. Serving is done by main.ts; call `relay.start()` once it listens.
 */
export function createApp({ env, db, logger, publisher, client, provider, tracing, metrics }: AppDeps) {
  const relay = createOutboxRelay({
    db,
    publish: (event) => publisher.publish(event),
    logger,
    tracing,
    intervalMs: env.OUTBOX_INTERVAL_MS,
    // archbench_outbox_lag_seconds, as the microservices' orders service reports it.
    onLag: (seconds) => core.metrics?.outboxLagSeconds.set(seconds),
  });
  const core = createMonolithApp({
    env,
    db,
    logger,
    provider,
    tracing,
    metrics,
    name: 'hybrid',
    shipping: (context) => createShippingOutbox({ ...context, client, onEnqueued: () => void relay.kick(), catchUpMs: env.SHIPMENT_CATCH_UP_MS }),
  });
  return { ...core, relay };
}

export type HybridApp = ReturnType<typeof createApp>;
