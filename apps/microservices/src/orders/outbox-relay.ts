import type { Logger } from '@archbench/observability/logging';
import type { Tracing } from '@archbench/observability/tracing';
import { createOutboxRelay as createRelay } from '@archbench/server-kit/outbox';
import type { DomainEvent } from '../shared/messages';
import type { Transport } from '../shared/transport';
import type { OrdersRepository } from './repository';

export interface OutboxRelayOptions {
  repo: Pick<OrdersRepository, 'unpublished' | 'markPublished'>;
  transport: Pick<Transport, 'publish'>;
  logger: Logger;
  tracing?: Tracing;
  /** Poll interval when nothing kicks the relay, ms. */
  intervalMs?: number;
  /** Age of the oldest event not handed over yet, seconds (0 when none), at every round (metrics). */
  onLag?: (seconds: number) => void;
}

/**
 * The orders service's outbox relay: the shared relay (`@archbench/server-kit/outbox`, the one the
 * hybrid's core runs too) over the service's `outbox` table. An event is marked sent once the
 * transport took it (HTTP: the subscriber answered; AMQP: the broker confirmed); at least once,
 * never lost; consumers deduplicate by event id.
 * @example const relay = createOutboxRelay({ repo, transport, logger }); relay.start(); relay.kick()
 */
export function createOutboxRelay({ repo, transport, logger, tracing, intervalMs = 500, onLag }: OutboxRelayOptions) {
  return createRelay<DomainEvent>({
    unpublished: (limit) => repo.unpublished(limit),
    markPublished: (ids) => repo.markPublished(ids),
    publish: (event) => transport.publish(event),
    spanName: 'orders.outbox',
    logger,
    tracing,
    intervalMs,
    onLag,
  });
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
