import { transportOf } from '../../env';
import type { Env, ServiceName } from '../../env';
import type { InternalHttpClient } from '../http-client';
import type { Observability } from '../service-app';
import { createAmqpTransport } from './amqp';
import { createHttpTransport } from './http';
import type { Transport } from './types';

export type { Handlers, SendOptions, Transport } from './types';
export { internalRoutes } from './http';
export { amqpNames, deleteAmqpTopology } from './amqp';

export interface CreateTransportOptions {
  env: Env;
  self: ServiceName | 'gateway';
  obs: Observability;
  client: InternalHttpClient;
}

/**
 * The transport configuration asks for: RabbitMQ when TRANSPORT=amqp (or AMQP_URL is set and
 * TRANSPORT is not), HTTP otherwise.
 * @example const transport = await createTransport({ env, self: 'orders', logger, client })
 */
export async function createTransport(options: CreateTransportOptions): Promise<Transport> {
  const { env } = options;
  if (transportOf(env) === 'http') return createHttpTransport({ client: options.client });
  if (!env.AMQP_URL) throw new Error('TRANSPORT=amqp needs AMQP_URL');
  return createAmqpTransport({
    url: env.AMQP_URL,
    prefix: env.AMQP_PREFIX,
    self: options.self,
    prefetch: env.AMQP_PREFETCH,
    maxDeliveries: env.AMQP_MAX_DELIVERIES,
    timeoutMs: env.INTERNAL_TIMEOUT_MS,
    attempts: env.INTERNAL_ATTEMPTS,
    obs: options.obs,
    reconnectMinMs: env.AMQP_RECONNECT_MIN_MS,
    reconnectMaxMs: env.AMQP_RECONNECT_MAX_MS,
  });
}
