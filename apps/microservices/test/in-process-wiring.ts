import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from '@archbench/observability/logging';
import { AMQP_TEST_URL } from '@archbench/server-kit/testing';
import type { ServiceName } from '../src/env';
import { InternalHttpClient } from '../src/shared/http-client';
import type { Transport } from '../src/shared/transport';
import { createAmqpTransport } from '../src/shared/transport/amqp';
import { createHttpTransport } from '../src/shared/transport/http';

/**
 * The transports between services started in one test process: over HTTP each service's app
 * listens on loopback and the others call it there; over AMQP they share a fresh `prefix`.
 * `attempts` per send (4 as INTERNAL_ATTEMPTS, or 1 where the saga alone retries).
 * @example const wiring = inProcessWiring('http', { prefix, internalToken, attempts: 4, logger }); await wiring.listen('orders', app)
 */
export function inProcessWiring(kind: 'http' | 'amqp', o: { prefix: string; internalToken: string; attempts: number; logger: Logger }) {
  const urls: Record<string, string> = {};
  const transports: Transport[] = [];
  const servers: Server[] = [];
  return {
    /** A transport for `self` (closed by `close`). */
    async transportOf(self: ServiceName): Promise<Transport> {
      const transport =
        kind === 'http'
          ? createHttpTransport({
              client: new InternalHttpClient({ peers: urls, timeoutMs: 2000, attempts: o.attempts, internalToken: o.internalToken }),
              logger: o.logger,
            })
          : await createAmqpTransport({
              url: AMQP_TEST_URL,
              prefix: o.prefix,
              self,
              prefetch: 32,
              maxDeliveries: 5,
              timeoutMs: 2000,
              attempts: o.attempts,
              obs: { logger: o.logger },
            });
      transports.push(transport);
      return transport;
    },
    /** Over HTTP, serves the service's app on a loopback port the others call; over AMQP nothing. */
    async listen(service: ServiceName, app: Hono): Promise<void> {
      if (kind !== 'http') return;
      const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
      await once(server, 'listening');
      servers.push(server);
      urls[service] = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    /** Closes the transports, then the servers. */
    async close(): Promise<void> {
      for (const t of transports) await t.close();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A transport for a service under test that sends no commands and hears nothing (its saga or relay idle). */
export const IDLE_TRANSPORT: Transport = {
  kind: 'http',
  send: () => Promise.reject(new Error('no commands here')),
  publish: async () => {},
  listen: async () => {},
  healthy: () => true,
  stopReceiving: async () => {},
  close: async () => {},
};
