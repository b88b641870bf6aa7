import type { InternalHttpClient } from '@archbench/microservices/http-client';
import type { DomainEvent } from '@archbench/microservices/messages';
import type { Observability } from '@archbench/microservices/service-app';
import { createTransport } from '@archbench/microservices/transport';
import type { Transport } from '@archbench/microservices/transport';
import type { Env } from '../env';

export interface EventPublisher {
  readonly kind: 'http' | 'amqp';
  /** Hands an event to shipping; throws when it could not (the relay retries). */
  publish(event: DomainEvent): Promise<void>;
  close(): Promise<void>;
}

/**
 * The microservices app's transport, used only to publish: over HTTP (`POST /internal/events` on
 * the shipping service) or RabbitMQ (the `<prefix>.events` exchange shipping's queue is bound
 * to). The core starts even when the broker is not reachable yet: the outbox keeps the events
 * and the next delivery round connects again (the transport itself reconnects after that).
 * @example const publisher = createEventPublisher({ env, obs, client }); await publisher.publish(event)
 */
export function createEventPublisher({ env, obs, client }: { env: Env; obs: Observability; client: InternalHttpClient }): EventPublisher {
  const kind = env.TRANSPORT ?? (env.AMQP_URL ? 'amqp' : 'http');
  let transport: Promise<Transport> | undefined;
  let closed = false;

  const connect = (): Promise<Transport> => {
    transport ??= createTransport({
      env,
      // The core plays the orders service's part on the transport: it publishes order events.
      self: 'orders',
      obs,
      client,
    }).catch((error: unknown) => {
      transport = undefined;
      throw error;
    });
    return transport;
  };

  return {
    kind,
    async publish(event) {
      if (closed) throw new Error('publisher closed');
      await (await connect()).publish(event);
    },
    async close() {
      closed = true;
      const current = transport;
      transport = undefined;
      if (current) await (await current.catch(() => undefined))?.close();
    },
  };
}
