import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { AMQP_TEST_URL, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { Database } from '@archbench/server-kit/db';
import { InternalHttpClient } from '../src/shared/http-client';
import type { Command, Reply } from '../src/shared/messages';
import { createAmqpTransport } from '../src/shared/transport/amqp';
import { deleteAmqpTopology } from '../src/shared/transport';
import { createHttpTransport } from '../src/shared/transport/http';
import type { Transport } from '../src/shared/transport';
import { createOutboxRelay } from '../src/orders/outbox-relay';
import { createOrdersRepository } from '../src/orders/repository';
import { migrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { createOrders } from '../src/orders/service';
import { createOrdersApp } from '../src/orders/app';
import { createGatewayApp } from '../src/gateway/app';
import { loadEnv } from '../src/env';

const silent = createLogger({ service: 'retries-test', level: 'silent' });

/** What the fake inventory + payments server received, by command type. */
type Received = Partial<Record<Command['type'], number>>;

/** Which requests of each command type the fake dependency answers 503 (n counts from 1). */
type Failures = Partial<Record<Command['type'], (n: number) => boolean>>;

/**
 * A real HTTP server standing in for inventory and payments (one port for both): it counts every
 * command request it receives and answers 503 (overloaded) to those `fails` picks.
 */
async function dependencies(fails: Failures): Promise<{ url: string; received: Received; server: Server }> {
  const received: Received = {};
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      if (req.url !== '/internal/commands') return void res.writeHead(204).end();
      const command = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Command;
      const n = (received[command.type] = (received[command.type] ?? 0) + 1);
      if (fails[command.type]?.(n)) return void res.writeHead(503, { 'content-type': 'text/plain' }).end('overloaded');
      const reply = (body: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      switch (command.type) {
        case 'ReserveStock':
          return reply({ ok: true, items: command.items.map((item) => ({ ...item, unitPriceCents: 1000 })) });
        case 'ChargePayment':
          return reply({ ok: true, outcome: 'SUCCEEDED' });
        case 'ReleaseStock':
          return reply({ ok: true, released: 1 });
        case 'VoidPayment':
          return reply({ ok: true, outcome: 'NOTHING_CAPTURED' });
        case 'RefundPayment':
          return reply({ ok: true, outcome: 'SUCCEEDED' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received, server };
}

/**
 * One retry layer for a saga step: the saga resends a command until it is answered, and the
 * transport underneath makes one attempt per send. Counted where a user of the system would see
 * it: the requests a struggling dependency receives, against the sends the saga made.
 */
describe('one retry layer per call, counted on a real dependency', async () => {
  const noBroker = await skipUnlessReachable({ transport: 'amqp' });
  let dir: string;
  let database: Database<OrdersTables>;
  let server: Server | undefined;
  let transport: Transport | undefined;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'archbench-orders-'));
    database = openDatabase<OrdersTables>({ dataDir: dir, fileName: 'orders.db' });
    await migrate(database.db, migrations);
  });
  afterEach(async () => {
    await transport?.close();
    await new Promise((resolve) => server?.close(resolve));
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The orders service in-process over `over` (the real transport), counting the sends the saga makes through it. */
  function ordersOver(over: Transport, deadlineMs: number) {
    const sent: Received = {};
    const counting: Transport = {
      ...over,
      send: (command, options) => {
        sent[command.type] = (sent[command.type] ?? 0) + 1;
        return over.send(command, options);
      },
    };
    const repo = createOrdersRepository(database.db);
    const relay = createOutboxRelay({ repo, transport: counting, logger: silent });
    const orders = createOrders({ repo, transport: counting, relay, logger: silent, deadlineMs });
    return { orders, sent };
  }

  /** The real HTTP transport, with the production INTERNAL_ATTEMPTS (4), to `dependencies(fails)`. */
  async function httpTo(fails: Failures) {
    const deps = await dependencies(fails);
    server = deps.server;
    const client = new InternalHttpClient({
      peers: { inventory: deps.url, payments: deps.url, shipping: deps.url },
      timeoutMs: 2000,
      attempts: 4,
      internalToken: 'test',
    });
    transport = createHttpTransport({ client });
    return { transport, received: deps.received };
  }

  async function ordersAgainst(fails: Failures, deadlineMs: number) {
    const http = await httpTo(fails);
    return { ...ordersOver(http.transport, deadlineMs), received: http.received };
  }

  const order = { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' as const } };

  it('payments failing with 503 until the deadline: it receives one charge request per saga attempt, not INTERNAL_ATTEMPTS of them', async () => {
    const { orders, received, sent } = await ordersAgainst({ ChargePayment: () => true }, 1500);
    const { order: placed } = await orders.place('c-1', order, { waitSeconds: 10 });
    expect(placed.status).toBe('REJECTED');
    expect(placed.rejectionReason).toBe('payment_provider_unavailable');
    await orders.drain(10_000);
    expect(sent.ChargePayment).toBeGreaterThanOrEqual(2); // the saga did retry
    expect(received.ChargePayment).toBe(sent.ChargePayment);
    expect(received.VoidPayment).toBe(1);
  });

  it('payments failing its first 3 charges: the saga retries, the order confirms after exactly 4 charge requests', async () => {
    const { orders, received, sent } = await ordersAgainst({ ChargePayment: (n) => n <= 3 }, 30_000);
    const { order: placed } = await orders.place('c-2', order, { waitSeconds: 10 });
    expect(placed.status).toBe('CONFIRMED');
    await orders.drain(10_000);
    expect(received.ChargePayment).toBe(4);
    expect(sent.ChargePayment).toBe(4);
    // The POST's reserve is not a saga step: the transport's bounded retries own it (one request here).
    expect(received.ReserveStock).toBe(1);
  });

  it('inventory failing with 503: a POST /orders with an Idempotency-Key through the gateway makes INTERNAL_ATTEMPTS reserve requests, not their square', async () => {
    const http = await httpTo({ ReserveStock: () => true });
    const obs = { logger: silent };
    const orders = createOrdersApp({ db: database.db, obs, dialect: 'sqlite', transport: http.transport, internalToken: 'test', sweepMs: 60_000 });
    const ordersServer = serve({ fetch: orders.app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(ordersServer, 'listening');
    const gatewayClient = new InternalHttpClient({
      peers: { orders: `http://127.0.0.1:${(ordersServer.address() as AddressInfo).port}` },
      timeoutMs: 5000,
      attempts: 4,
      internalToken: 'test',
    });
    try {
      const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
      const { app } = createGatewayApp({ env, obs, client: gatewayClient });
      const response = await app.request('/orders', {
        method: 'POST',
        headers: { authorization: `Bearer ${mintToken(env.AUTH_SECRET, { sub: 'c-3' })}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify(order),
      });
      expect(response.status).toBe(502);
      // Orders' transport retried the reserve; the gateway did not resend the POST on top of that.
      expect(http.received.ReserveStock).toBe(4);
    } finally {
      await orders.stop();
      await gatewayClient.close();
      await new Promise((resolve) => ordersServer.close(resolve));
    }
  });

  it.skipIf(noBroker)('RabbitMQ, payments slower than INTERNAL_TIMEOUT_MS: one charge message per saga attempt, not INTERNAL_ATTEMPTS of them', async () => {
    const prefix = `archbench-retries-${randomUUID().slice(0, 8)}`;
    const amqp = (self: 'orders' | 'payments') =>
      createAmqpTransport({ url: AMQP_TEST_URL, prefix, self, prefetch: 32, maxDeliveries: 5, timeoutMs: 200, attempts: 4, obs: { logger: silent } });
    const ordersSide = await amqp('orders');
    const dependency = await amqp('payments');
    try {
      let charges = 0;
      // Inventory and payments on one connection; the first 3 charges answer after the 200 ms send timeout.
      const handle = async (command: Command): Promise<Reply> => {
        if (command.type === 'ReserveStock') return { ok: true, items: command.items.map((item) => ({ ...item, unitPriceCents: 1000 })) };
        if (command.type !== 'ChargePayment') return { ok: true, released: 1 };
        if (++charges <= 3) await sleep(500);
        return { ok: true, outcome: 'SUCCEEDED' };
      };
      await dependency.listen('inventory', { command: handle });
      await dependency.listen('payments', { command: handle });
      const { orders, sent } = ordersOver(ordersSide, 30_000);
      const { order: placed } = await orders.place('c-4', order, { waitSeconds: 15 });
      expect(placed.status).toBe('CONFIRMED');
      await orders.drain(10_000);
      expect(sent.ChargePayment).toBeGreaterThanOrEqual(2); // the saga did retry
      expect(charges).toBe(sent.ChargePayment);
    } finally {
      await ordersSide.close();
      await dependency.close();
      await deleteAmqpTopology(AMQP_TEST_URL, prefix);
    }
  });
});
