import { transportOf } from '../../env';
import type { Env, ServiceName } from '../../env';
import type { InternalHttpClient } from '../http-client';
import type { Observability } from '../service-app';
import { createAmqpTransport } from './amqp';
import { createHttpTransport } from './http';
import type { Hono } from 'hono';
import { internalRoutes } from './http';
import type { Handlers, Transport } from './types';

export type { Handlers, SendOptions, Transport } from './types';
export { amqpNames, deleteAmqpTopology } from './amqp';
export { PoisonCommandError } from './poison';

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
  if (transportOf(env) === 'http') return createHttpTransport({ client: options.client, logger: options.obs.logger });
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

/**
 * Binds a service's command/event handlers to the transport in one call: the same handlers serve
 * `/internal/*` on the service's app (the HTTP transport's receiving side) and, once started, the
 * transport's consumers (RabbitMQ queues), so the two can never disagree. Call the returned `start`
 * after the server listens.
 * @example const start = bindService(app, transport, 'inventory', { command: (c) => inventory.handle(c) })
 */
export function bindService(app: Hono, transport: Transport, service: ServiceName, handlers: Handlers): () => Promise<void> {
  app.route('/', internalRoutes(handlers));
  return () => transport.listen(service, handlers);
}
