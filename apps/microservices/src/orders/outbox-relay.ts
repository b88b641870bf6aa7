import type { Logger } from '@archbench/observability/logging';
import { withConsumerSpan } from '@archbench/observability/tracing';
import type { Tracing } from '@archbench/observability/tracing';
import type { DomainEvent } from '../shared/messages';
import type { Transport } from '../shared/transport';
import type { OrdersRepository } from './repository';

export interface OutboxRelayOptions {
  repo: OrdersRepository;
  transport: Transport;
  logger: Logger;
  tracing?: Tracing;
  /** Poll interval when nothing kicks the relay, ms. */
  intervalMs?: number;
  /** Seconds the oldest event waited before it was handed over (metrics). */
  onLag?: (seconds: number) => void;
}

/**
 * Sends outbox events in id order, one at a time, and marks each sent once the transport took it
 * (HTTP: the subscriber answered; AMQP: the broker confirmed). A failure stops the batch and is
 * retried on the next tick, so events are delivered at least once and never lost; consumers
 * deduplicate by event id.
 * @example const relay = createOutboxRelay({ repo, transport, logger }); relay.start(); relay.kick()
 */
export function createOutboxRelay({ repo, transport, logger, tracing, intervalMs = 500, onLag }: OutboxRelayOptions) {
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  async function drain(): Promise<void> {
    do {
      again = false;
      const batch = await repo.unpublished(100);
      for (const row of batch) {
        try {
          // Delivered inside the trace of the change that wrote the event (one trace per order).
          const event = JSON.parse(row.payload) as DomainEvent;
          await withConsumerSpan('orders.outbox', JSON.parse(row.headers) as Record<string, unknown>, () => transport.publish(event), {
            tracing,
            system: 'outbox',
          });
          failures = 0;
        } catch (error) {
          failures++;
          if (failures === 1 || failures % 20 === 0)
            logger.warn({ err: error, eventId: row.id, failures }, 'outbox relay could not hand over an event; retrying');
          return;
        }
        await repo.markPublished(row.id);
        onLag?.((Date.now() - Date.parse(row.created_at)) / 1000);
      }
      if (batch.length === 100) again = true;
    } while (again);
  }

  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = drain()
      .catch((error: unknown) => logger.error({ err: error }, 'outbox relay failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    kick,
    start() {
      timer = setInterval(() => void kick(), intervalMs);
      timer.unref();
      void kick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      await running;
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
