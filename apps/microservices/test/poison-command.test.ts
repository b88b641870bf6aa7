import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'amqplib';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import type { Logger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { AMQP_TEST_URL, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { ServiceName } from '../src/env';
import { inProcessWiring } from './in-process-wiring';
import { PoisonMessageError } from '../src/shared/messages';
import type { Command } from '../src/shared/messages';
import { CUSTOMER_HEADER, createServiceApp } from '../src/shared/service-app';
import { amqpNames, bindService, deleteAmqpTopology } from '../src/shared/transport';
import { createInventoryRepository } from '../src/inventory/repository';
import { migrations as inventoryMigrations } from '../src/inventory/schema';
import type { InventoryTables } from '../src/inventory/schema';
import { createInventory } from '../src/inventory/service';
import { createOrdersApp } from '../src/orders/app';
import { migrations as ordersMigrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { createPaymentsRepository } from '../src/payments/repository';
import { migrations as paymentsMigrations } from '../src/payments/schema';
import type { PaymentsTables } from '../src/payments/schema';
import { createPayments } from '../src/payments/service';

/**
 * A command the receiving service refuses as poison (its handler throws PoisonMessageError: a
 * command it cannot take, whatever the copy) fails `send` at once on both transports: HTTP answers
 * 422, RabbitMQ dead-letters it and answers a poison reply. A refused charge is given up: the order
 * ends as its deadline leaves it (which is how the saga ended it on RabbitMQ before, resending a
 * copy per timeout until then), without waiting for that deadline. A refused compensation is
 * resent until the service takes it (giving it up would keep stock or money): once the service is
 * fixed the order ends as it would have.
 *
 * Inventory, orders (its app: routes, saga, sweeper) and payments in-process on a real transport
 * (HTTP servers on loopback, or a fresh RabbitMQ prefix) and SQLite; inventory and payments are the
 * real services behind their real service apps, with a test hook that refuses chosen commands as
 * poison, as a service would that cannot take them (another version, a command routed to it by
 * mistake).
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOKEN = 'poison-command-test';
const CUSTOMER = 'alice';
/** Long enough that an order rejected within a few seconds was not rejected by its deadline. */
const DEADLINE_MS = 30_000;

for (const kind of ['http', 'amqp'] as const) {
  const skip = await skipUnlessReachable({ transport: kind, database: 'sqlite' });

  describe.skipIf(skip)(`a command refused as poison (${kind})`, () => {
    /** `deadlineMs` and the provider's latency: a charge slower than the deadline expires its order. */
    async function system({ deadlineMs = DEADLINE_MS, providerLatencyMs = 0 } = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-poison-command-'));
      const prefix = `archbench-poison-${randomUUID().slice(0, 8)}`;
      /** What every process logged at error level (message texts). */
      const errors: string[] = [];
      const logger = createLogger({ service: 'poison-command-test', level: 'silent' });
      const spy = Object.assign(Object.create(logger) as Logger, { error: (_details: unknown, message?: string) => void errors.push(message ?? '') });
      const obs = { logger: spy };
      // attempts 4 as INTERNAL_ATTEMPTS: the reserve the POST waits for is retried by the transport.
      const wiring = inProcessWiring(kind, { prefix, internalToken: TOKEN, attempts: 4, logger: spy });
      const { transportOf, listen } = wiring;
      const databases: Array<Database<unknown>> = [];
      const stops: Array<() => Promise<void>> = [];
      cleanups.push(async () => {
        for (const stop of stops.reverse()) await stop();
        await wiring.close();
        for (const database of databases) await database.close();
        if (kind === 'amqp') await deleteAmqpTopology(AMQP_TEST_URL, prefix);
        rmSync(dir, { recursive: true, force: true });
      });

      const open = <T>(service: ServiceName) => {
        const database = openDatabase<T>({ dataDir: dir, fileName: `${service}.db` });
        databases.push(database as Database<unknown>);
        return database.db;
      };

      /** Commands received by inventory and payments, by type; `refuse` picks those a service refuses as poison. */
      const received: Partial<Record<Command['type'], number>> = {};
      const refused = new Set<Command['type']>();
      const receive = (command: Command) => {
        received[command.type] = (received[command.type] ?? 0) + 1;
        if (refused.has(command.type)) throw new PoisonMessageError(`this service cannot take ${command.type}`);
      };

      const inventoryDb = open<InventoryTables>('inventory');
      await migrate(inventoryDb, inventoryMigrations);
      const inventory = createInventory(createInventoryRepository(inventoryDb));
      await inventory.seed();
      const inventoryApp = createServiceApp({ service: 'inventory', logger: spy, internalToken: TOKEN });
      const startInventory = bindService(inventoryApp, await transportOf('inventory'), 'inventory', {
        command: async (command) => {
          receive(command);
          return inventory.handle(command);
        },
      });
      await listen('inventory', inventoryApp);
      await startInventory();

      const paymentsDb = open<PaymentsTables>('payments');
      await migrate(paymentsDb, paymentsMigrations);
      const payments = createPayments({
        repo: createPaymentsRepository(paymentsDb),
        provider: { latencyMs: providerLatencyMs },
        timeoutMs: 4000,
        breaker: { windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 },
        logger: spy,
      });
      stops.push(() => payments.drain());
      const paymentsApp = createServiceApp({ service: 'payments', logger: spy, internalToken: TOKEN });
      const startPayments = bindService(paymentsApp, await transportOf('payments'), 'payments', {
        command: async (command) => {
          receive(command);
          return payments.handle(command);
        },
      });
      await listen('payments', paymentsApp);
      await startPayments();

      const ordersDb = open<OrdersTables>('orders');
      await migrate(ordersDb, ordersMigrations);
      // The sweeper runs often: a saga given up on must not be resent by it.
      const orders = createOrdersApp({
        db: ordersDb,
        obs: { ...obs, metrics: createMetrics({ service: 'orders', defaultMetrics: false }) },
        dialect: 'sqlite',
        transport: await transportOf('orders'),
        internalToken: TOKEN,
        sweepMs: 100,
        deadlineMs,
      });
      await listen('orders', orders.app);
      await orders.start();
      stops.push(() => orders.stop());

      const headers = { 'x-archbench-internal': TOKEN, [CUSTOMER_HEADER]: CUSTOMER, 'content-type': 'application/json' };
      return {
        received,
        refused,
        errors,
        /** POST /orders on the orders service, as the gateway forwards it. */
        place: async (token: string, quantity = 2) => {
          const response = await orders.app.request('/orders', {
            method: 'POST',
            headers,
            body: JSON.stringify({ items: [{ sku: 'SKU-0007', quantity }], payment: { token } }),
          });
          return { status: response.status, body: (await response.json()) as Order & { code?: string } };
        },
        cancel: async (id: string) => {
          const response = await orders.app.request(`/orders/${id}/cancel`, { method: 'POST', headers });
          return { status: response.status, body: (await response.json()) as Order & { detail?: string } };
        },
        /** The order once `done` holds of it, or as it is after `ms`. */
        orderOnce: async (id: string, done: (order: Order) => boolean, ms = 5000): Promise<Order> => {
          for (const until = Date.now() + ms; ; await sleep(20)) {
            const order = await orders.orders.get(CUSTOMER, id);
            if (done(order) || Date.now() >= until) return order;
          }
        },
        saga: async (id: string) => (await ordersDb.selectFrom('sagas').select('state').where('order_id', '=', id).executeTakeFirst())?.state,
        sagaOnce: async (id: string, states: string[], ms = 5000) => {
          let state: string | undefined;
          for (const until = Date.now() + ms; Date.now() < until; await sleep(20)) {
            state = (await ordersDb.selectFrom('sagas').select('state').where('order_id', '=', id).executeTakeFirst())?.state;
            if (state !== undefined && states.includes(state)) break;
          }
          return state;
        },
        sagas: () => orders.orders.sagaCounts(),
        /** archbench_saga_oldest_open_seconds{state} on the orders service's /metrics, as Prometheus scrapes it. */
        sagaAge: async (state: string): Promise<number | undefined> => {
          const text = await (await orders.app.request('/metrics')).text();
          for (const [, labels, value] of text.matchAll(/^archbench_saga_oldest_open_seconds\{([^}]*)\} (\S+)$/gm))
            if (labels!.includes(`state="${state}"`)) return Number(value);
          return undefined;
        },
        stock: async () => (await inventory.get('SKU-0007'))!.stock,
        payments: (id: string) => payments.listForOrder(id),
        /** Messages in the dead-letter queue (RabbitMQ only). */
        deadLettered: async (): Promise<number> => {
          const connection = await connect(AMQP_TEST_URL);
          try {
            const channel = await connection.createChannel();
            const { messageCount } = await channel.checkQueue(amqpNames(prefix).dlq);
            await channel.close();
            return messageCount;
          } finally {
            await connection.close();
          }
        },
      };
    }

    it('a charge refused as poison is sent once and the order is rejected at once, as its deadline rejects it: payment FAILED, provider unavailable, stock back', async () => {
      const s = await system();
      const initial = await s.stock();
      s.refused.add('ChargePayment');
      const started = Date.now();
      const placed = await s.place('tok_ok');
      expect(placed.status).toBe(202);
      const order = await s.orderOnce(placed.body.id, (o) => o.status !== 'PENDING' && o.paymentStatus !== 'PENDING');
      // Well before the 30 s deadline (before: resent until the deadline, every ≤ 2 s over HTTP, every timeout on RabbitMQ).
      expect(Date.now() - started).toBeLessThan(10_000);
      expect([order.status, order.paymentStatus, order.rejectionReason]).toEqual(['REJECTED', 'FAILED', 'payment_provider_unavailable']);
      expect(await s.sagaOnce(placed.body.id, ['EXPIRED'])).toBe('EXPIRED');
      await sleep(1500); // time for copies a retry would send
      expect(s.received.ChargePayment).toBe(1);
      expect(await s.stock()).toBe(initial);
      // The void that followed took the order's charge slot: nothing can charge it later.
      expect((await s.payments(placed.body.id)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:FAILED']);
      expect(s.errors).toContain('charge refused as poison (dead-lettered); order rejected, stock release and void follow');
      if (kind === 'amqp') expect(await s.deadLettered()).toBe(1);
    });

    it('a stock release refused as poison is resent until inventory takes it (its age in RELEASING grows on /metrics), and the order then ends as it would have: REJECTED, stock back, age 0', async () => {
      const s = await system();
      const initial = await s.stock();
      s.refused.add('ReleaseStock');
      const placed = await s.place('tok_decline');
      await sleep(1500);
      // Resent (every ≤ 2 s), the order waiting for its stock as for a slow inventory, well before the deadline.
      expect(s.received.ReleaseStock).toBeGreaterThanOrEqual(2);
      expect(await s.saga(placed.body.id)).toBe('RELEASING');
      expect((await s.orderOnce(placed.body.id, () => true, 0)).status).toBe('PENDING');
      expect(await s.stock()).toBe(initial - 2);
      expect(s.errors).toContain(`release ${placed.body.id} refused as poison (dead-lettered); resent until the service takes it`);
      if (kind === 'amqp') expect(await s.deadLettered()).toBeGreaterThanOrEqual(2);
      // What an operator sees: the saga's age in RELEASING on /metrics, growing while inventory refuses.
      const stuck = await s.sagaAge('RELEASING');
      expect(stuck).toBeGreaterThan(1);
      await sleep(500);
      expect(await s.sagaAge('RELEASING')).toBeGreaterThan(stuck! + 0.4);
      expect(await s.saga(placed.body.id)).toBe('RELEASING');
      s.refused.delete('ReleaseStock'); // inventory fixed
      const order = await s.orderOnce(placed.body.id, (o) => o.status !== 'PENDING');
      expect([order.status, order.paymentStatus, order.rejectionReason]).toEqual(['REJECTED', 'DECLINED', 'payment_declined']);
      expect(await s.sagaOnce(placed.body.id, ['REJECTED'])).toBe('REJECTED');
      expect(await s.stock()).toBe(initial);
      expect(await s.sagaAge('RELEASING')).toBe(0);
    });

    it('an expired order whose stock release is refused still has its captured charge refunded: the void does not wait for the release, which is resent until taken', async () => {
      const s = await system({ deadlineMs: 1500, providerLatencyMs: 3000 });
      const initial = await s.stock();
      s.refused.add('ReleaseStock');
      const placed = await s.place('tok_ok');
      // The deadline passes during the charge: REJECTED at once, then the void waits for the charge, which captures, and refunds it.
      for (const until = Date.now() + 15_000; Date.now() < until; await sleep(50))
        if ((await s.payments(placed.body.id)).some((p) => p.kind === 'refund' && p.status !== 'PENDING')) break;
      expect((await s.payments(placed.body.id)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect((await s.orderOnce(placed.body.id, () => true, 0)).status).toBe('REJECTED');
      expect(await s.saga(placed.body.id)).toBe('EXPIRING'); // the release is still refused
      expect(await s.stock()).toBe(initial - 2);
      s.refused.delete('ReleaseStock'); // inventory fixed
      expect(await s.sagaOnce(placed.body.id, ['EXPIRED'])).toBe('EXPIRED');
      const order = await s.orderOnce(placed.body.id, (o) => o.paymentStatus !== 'PENDING');
      expect([order.status, order.paymentStatus]).toEqual(['REJECTED', 'REFUNDED']);
      expect(await s.stock()).toBe(initial);
    });

    it('a refund refused as poison is resent until payments takes it (its age in CANCELLING grows on /metrics): the cancel completes once it does, refunded once, stock back, age 0', async () => {
      const s = await system();
      const initial = await s.stock();
      const placed = await s.place('tok_ok');
      expect((await s.orderOnce(placed.body.id, (o) => o.status !== 'PENDING')).status).toBe('CONFIRMED');
      s.refused.add('RefundPayment');
      const cancelling = s.cancel(placed.body.id);
      await sleep(1500);
      expect(s.received.RefundPayment).toBeGreaterThanOrEqual(2);
      expect(await s.saga(placed.body.id)).toBe('CANCELLING');
      // What an operator sees: the saga's age in CANCELLING on /metrics, growing while payments refuses.
      const stuck = await s.sagaAge('CANCELLING');
      expect(stuck).toBeGreaterThan(1);
      await sleep(500);
      expect(await s.sagaAge('CANCELLING')).toBeGreaterThan(stuck! + 0.4);
      expect(await s.saga(placed.body.id)).toBe('CANCELLING');
      expect((await s.orderOnce(placed.body.id, () => true, 0)).status).toBe('CONFIRMED');
      s.refused.delete('RefundPayment'); // payments fixed, within the time a cancel waits
      const cancel = await cancelling;
      expect([cancel.status, cancel.body.status, cancel.body.paymentStatus]).toEqual([200, 'CANCELLED', 'REFUNDED']);
      expect((await s.payments(placed.body.id)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(await s.stock()).toBe(initial);
      expect(await s.sagaAge('CANCELLING')).toBe(0);
    });

    it('a reserve refused as poison: the POST answers 502 at once with the reserve sent once (RabbitMQ waited for INTERNAL_ATTEMPTS timeouts), the saga aborted', async () => {
      const s = await system();
      s.refused.add('ReserveStock');
      const started = Date.now();
      const placed = await s.place('tok_ok');
      expect([placed.status, placed.body.code]).toEqual([502, 'dependency-failed']);
      expect(Date.now() - started).toBeLessThan(1500);
      expect(s.received.ReserveStock).toBe(1);
      for (const until = Date.now() + 5000; Date.now() < until && !(await s.sagas()).ABORTED;) await sleep(20);
      expect(await s.sagas()).toEqual({ ABORTED: 1 });
    });
  });
}
