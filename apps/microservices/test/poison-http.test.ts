import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import type { Logger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { createOutboxRelay } from '@archbench/server-kit/outbox';
import { InternalHttpClient } from '../src/shared/http-client';
import type { ServiceEvent } from '../src/shared/messages';
import { IDLE_TRANSPORT as idle } from './in-process-wiring';
import { createHttpTransport } from '../src/shared/transport/http';
import { createOrdersApp } from '../src/orders/app';
import { migrations as ordersMigrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { createShippingApp } from '../src/shipping/app';
import { migrations as shippingMigrations } from '../src/shipping/schema';
import type { ShippingTables } from '../src/shipping/schema';

/**
 * An event a service cannot take (its handler throws PoisonMessageError) is poison over HTTP as it
 * is over RabbitMQ: the receiver answers 422, and the sender drops it with an error log instead of
 * resending it forever (RabbitMQ dead-letters it at once).
 */
const TOKEN = 'poison-http-test';
const silent = createLogger({ service: 'poison-http-test', level: 'silent' });
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function database<T>(name: string) {
  const dir = mkdtempSync(join(tmpdir(), `archbench-poison-${name}-`));
  const opened = openDatabase<T>({ dataDir: dir, fileName: `${name}.db` });
  cleanups.push(async () => {
    await opened.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return opened.db;
}

async function ordersApp() {
  const db = database<OrdersTables>('orders');
  await migrate(db, ordersMigrations);
  const orders = createOrdersApp({ db, obs: { logger: silent }, dialect: 'sqlite', transport: idle, internalToken: TOKEN, sweepMs: 60_000 });
  cleanups.push(() => orders.stop());
  return orders;
}

const post = (app: { request: (path: string, init: RequestInit) => Response | Promise<Response> }, event: unknown) =>
  app.request('/internal/events', {
    method: 'POST',
    headers: { 'x-archbench-internal': TOKEN, 'content-type': 'application/json' },
    body: JSON.stringify(event),
  });
const confirmed: ServiceEvent = { type: 'OrderConfirmed', id: 'evt_1', orderId: 'ord_1', customerId: 'c-1', totalCents: 1000 };

describe('HTTP transport: an event the receiver cannot take', () => {
  it('answers 422 (not 500) when the handler throws PoisonMessageError: orders given OrderConfirmed, shipping given LateCaptureRefunded', async () => {
    const orders = await ordersApp();
    const toOrders = await post(orders.app, confirmed);
    expect([toOrders.status, (await toOrders.json()) as unknown]).toMatchObject([422, { code: 'validation-failed' }]);

    const db = database<ShippingTables>('shipping');
    await migrate(db, shippingMigrations);
    const shipping = createShippingApp({ db, obs: { logger: silent }, dialect: 'sqlite', transport: idle, internalToken: TOKEN });
    const toShipping = await post(shipping.app, { type: 'LateCaptureRefunded', id: 'evt_2', orderId: 'ord_1' });
    expect(toShipping.status).toBe(422);
  });

  it('the sender drops an event answered 422 with an error log: the outbox relay marks it sent and never resends it', async () => {
    const orders = await ordersApp();
    let received = 0;
    const server = serve({
      fetch: (request) => {
        received++;
        return orders.app.fetch(request);
      },
      port: 0,
      hostname: '127.0.0.1',
    }) as Server;
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    // OrderConfirmed goes to `shipping`: here that peer is the orders service, which does not take it.
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new InternalHttpClient({ peers: { shipping: url }, timeoutMs: 2000, attempts: 4, internalToken: TOKEN });
    const logged: string[] = [];
    const logger = { ...silent, error: (_details: unknown, message: string) => void logged.push(message) } as unknown as Logger;
    const transport = createHttpTransport({ client, logger });
    cleanups.push(() => transport.close());

    const outbox = [{ id: confirmed.id, payload: JSON.stringify(confirmed), headers: '{}', created_at: new Date().toISOString() }];
    const published: string[] = [];
    const relay = createOutboxRelay<ServiceEvent>({
      unpublished: async () => outbox.filter((row) => !published.includes(row.id)),
      markPublished: async (ids) => void published.push(...ids),
      publish: (event) => transport.publish(event),
      spanName: 'test.outbox',
      logger: silent,
      intervalMs: 60_000,
    });
    await relay.kick();
    await relay.kick();
    await relay.stop();
    expect(received).toBe(1);
    expect(published).toEqual([confirmed.id]);
    expect(logged).toEqual(['event refused as poison; dead-lettered (dropped)']);
  });
});
