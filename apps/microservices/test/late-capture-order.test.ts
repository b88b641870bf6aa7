import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order, PaymentToken } from '@archbench/contracts/schemas';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { AMQP_TEST_URL, createTestDatabase, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import type { ServiceName } from '../src/env';
import { loadEnv } from '../src/env';
import { inProcessWiring } from './in-process-wiring';
import type { Command, Reply } from '../src/shared/messages';
import { CUSTOMER_HEADER } from '../src/shared/service-app';
import { bindService, deleteAmqpTopology } from '../src/shared/transport';
import type { Transport } from '../src/shared/transport';
import { createInventoryRepository } from '../src/inventory/repository';
import { migrations as inventoryMigrations } from '../src/inventory/schema';
import type { InventoryTables } from '../src/inventory/schema';
import { createInventory } from '../src/inventory/service';
import { createOrdersApp } from '../src/orders/app';
import { migrations as ordersMigrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { createPaymentsApp } from '../src/payments/app';
import { createPaymentsRepository } from '../src/payments/repository';
import { migrations as paymentsMigrations } from '../src/payments/schema';
import type { PaymentsTables } from '../src/payments/schema';
import { createPayments } from '../src/payments/service';

/**
 * What a customer sees of a late capture found by a redelivered charge (src/payments/late-capture.test.ts
 * shows the payment records): the saga rejected the order (payment FAILED) because another
 * payments process settled the stalled charge FAILED, then the stalled call captured after all and
 * payments refunded it. The order must end as in the monolith: REJECTED, payment REFUNDED.
 *
 * The system in-process over a real transport (HTTP servers on loopback, or a fresh RabbitMQ
 * prefix) and real databases: inventory, orders (its saga and routes) and payments process A,
 * whose provider holds charges; process B is a second payments process on A's database, which
 * takes the stalled call over (a redelivered copy) once its lease is set into the past, as a stall
 * of 8 s would leave it.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const silent = createLogger({ service: 'late-capture-order-test', level: 'silent' });
const obs = { logger: silent };
const TOKEN = 'late-capture-order-test';
const CUSTOMER = 'alice';

/** A gate calls wait at until it is opened. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** The simulated provider; its charges wait for `open()`. */
class HeldProvider extends PaymentProvider {
  chargeCalls = 0;
  readonly #charges = gate();
  override async charge(token: PaymentToken, amountCents: number): ReturnType<PaymentProvider['charge']> {
    this.chargeCalls++;
    await this.#charges.opened;
    return super.charge(token, amountCents);
  }
  open() {
    this.#charges.open();
  }
}

const combinations = [
  { transport: 'http', dialect: 'sqlite' },
  { transport: 'http', dialect: 'postgres' },
  { transport: 'amqp', dialect: 'sqlite' },
  { transport: 'amqp', dialect: 'postgres' },
] as const;

for (const { transport: kind, dialect } of combinations) {
  const skip = await skipUnlessReachable({ transport: kind, database: dialect });

  describe.skipIf(skip)(`a late capture found by a redelivered charge, as the order shows it (${kind}, ${dialect})`, () => {
    async function system(options: { holdRelease?: boolean; relayOfA?: boolean } = {}) {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-late-capture-order-'));
      const prefix = `archbench-late-capture-${randomUUID().slice(0, 8)}`;
      const wiring = inProcessWiring(kind, { prefix, internalToken: TOKEN, attempts: 1, logger: silent });
      const { transportOf, listen } = wiring;
      const testDatabases: TestDatabase[] = [];
      const databases: Array<Database<unknown>> = [];
      const stops: Array<() => Promise<void>> = [];
      const release = gate();
      cleanups.push(async () => {
        // A test that failed while the release was held must not leave inventory's handler waiting (stops would hang on it).
        release.open();
        for (const stop of stops.reverse()) await stop();
        await wiring.close();
        for (const database of databases) await database.close();
        for (const testDatabase of testDatabases) await testDatabase.drop();
        if (kind === 'amqp') await deleteAmqpTopology(AMQP_TEST_URL, prefix);
        rmSync(dir, { recursive: true, force: true });
      });

      const pgUrls: Partial<Record<ServiceName, string>> = {};
      for (const service of ['inventory', 'orders', 'payments'] as const) {
        if (dialect !== 'postgres') continue;
        const testDatabase = await createTestDatabase(`archbench_lco_${service}`);
        testDatabases.push(testDatabase);
        pgUrls[service] = testDatabase.url;
      }
      /** A connection pool of its own to the service's database (two payments processes share one database). */
      const open = <T>(service: ServiceName) => {
        const database = openDatabase<T>({ databaseUrl: pgUrls[service], dataDir: dir, fileName: `${service}.db`, poolSize: 2, lockingMode: 'normal' });
        databases.push(database as Database<unknown>);
        return database.db;
      };

      // Inventory, its ReleaseStock held at a gate when asked (the saga is still releasing the order's stock).
      const inventoryDb = open<InventoryTables>('inventory');
      await migrate(inventoryDb, inventoryMigrations);
      const inventory = createInventory(createInventoryRepository(inventoryDb));
      await inventory.seed();
      if (!options.holdRelease) release.open();
      const inventoryApp = new Hono();
      const inventoryStart = bindService(inventoryApp, await transportOf('inventory'), 'inventory', {
        command: async (command: Command): Promise<Reply> => {
          if (command.type === 'ReleaseStock') await release.opened;
          return inventory.handle(command);
        },
      });
      await listen('inventory', inventoryApp);
      await inventoryStart();

      const ordersDb = open<OrdersTables>('orders');
      await migrate(ordersDb, ordersMigrations);
      const orders = createOrdersApp({ db: ordersDb, obs, dialect, transport: await transportOf('orders'), internalToken: TOKEN, sweepMs: 60_000 });
      await listen('orders', orders.app);
      await orders.start();
      stops.push(() => orders.stop());

      const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
      const paymentsDb = open<PaymentsTables>('payments');
      await migrate(paymentsDb, paymentsMigrations);
      /** A payments process as its main.ts runs it (relay included), on a pool of its own. */
      const paymentsProcess = async (provider?: PaymentProvider, transport?: Transport) => {
        const service = createPaymentsApp({
          env,
          db: open<PaymentsTables>('payments'),
          obs,
          dialect,
          transport: transport ?? (await transportOf('payments')),
          internalToken: TOKEN,
          providerInstance: provider,
        });
        stops.push(() => service.stop());
        return service;
      };
      /** The payments service alone, without the app's outbox relay: a process that stops before its relay runs. */
      const paymentsService = (provider?: PaymentProvider) => {
        const service = createPayments({
          repo: createPaymentsRepository(open<PaymentsTables>('payments')),
          provider: {},
          providerInstance: provider,
          timeoutMs: 30_000,
          breaker: { windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 },
          logger: silent,
        });
        stops.push(() => service.drain());
        return service;
      };

      // A: the charge's first delivery stalls at its provider.
      const provider = new HeldProvider();
      let a: { app: Hono; start: () => Promise<void>; stop: () => Promise<void> };
      const aTransport = await transportOf('payments');
      if (options.relayOfA === false) {
        const service = paymentsService(provider);
        const app = new Hono();
        a = { app, start: bindService(app, aTransport, 'payments', { command: (command) => service.handle(command) }), stop: () => service.drain() };
      } else a = await paymentsProcess(provider, aTransport);
      await listen('payments', a.app);
      await a.start();
      // B: a second payments process on A's database, which a redelivered copy of the charge reaches.
      const b = paymentsService();

      /** What the customer sees: GET /orders/{id} on the orders service (the gateway forwards it as is). */
      const seen = async (id: string): Promise<Order> => {
        const response = await orders.app.request(`/orders/${id}`, { headers: { 'x-archbench-internal': TOKEN, [CUSTOMER_HEADER]: CUSTOMER } });
        expect(response.status).toBe(200);
        return (await response.json()) as Order;
      };
      /** The order once `done` holds of it, or as it is after 10 s. */
      const seenOnce = async (id: string, done: (order: Order) => boolean): Promise<Order> => {
        for (const until = Date.now() + 10_000; Date.now() < until; await sleep(20)) {
          const order = await seen(id);
          if (done(order)) return order;
        }
        return seen(id);
      };
      const records = async (id: string) => (await b.listForOrder(id)).map((r) => `${r.kind}:${r.status}`).sort();
      /** The order's payment records once they read `expected` (the refund is made after orders may show REFUNDED), or as they are after 10 s. */
      const recordsOnce = async (id: string, expected: string[]): Promise<string[]> => {
        for (const until = Date.now() + 10_000; Date.now() < until; await sleep(20)) {
          const now = await records(id);
          if (now.join() === expected.join()) return now;
        }
        return records(id);
      };
      /**
       * Places an order whose charge A's provider holds, lets the lease of A's call lapse, has B take
       * the call over with a redelivered copy of the charge (B settles it FAILED without calling the
       * provider), then lets A's provider capture. Returns the order id.
       */
      const lateCapture = async (): Promise<string> => {
        const { order } = await orders.orders.place(CUSTOMER, { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } }, {});
        while (provider.chargeCalls === 0) await sleep(5);
        await paymentsDb
          .updateTable('payments')
          .set({ claimed_until: new Date(Date.now() - 1).toISOString() })
          .where('order_id', '=', order.id)
          .execute();
        const redelivered = {
          type: 'ChargePayment' as const,
          id: `charge:${order.id}`,
          orderId: order.id,
          token: 'tok_ok' as const,
          amountCents: order.totalCents,
        };
        expect(await b.handle(redelivered)).toEqual({ ok: true, outcome: 'FAILED' });
        provider.open();
        return order.id;
      };
      return {
        orders,
        /** The order's saga row (orders service database). */
        saga: (id: string) => ordersDb.selectFrom('sagas').selectAll().where('order_id', '=', id).executeTakeFirst(),
        release,
        seen,
        seenOnce,
        records,
        recordsOnce,
        lateCapture,
        paymentsProcess,
        /** Stops A as runProcess does: no more commands, then its calls drained. */
        async stopA() {
          await aTransport.stopReceiving();
          await a.stop();
        },
      };
    }

    it('the order the saga rejected with payment FAILED shows payment REFUNDED once payments refunds the late capture; only a REJECTED order changes, once', async () => {
      const { orders, saga, seen, seenOnce, recordsOnce, lateCapture } = await system();
      const id = await lateCapture();
      const rejected = await orders.orders.get(CUSTOMER, id, 10);
      expect([rejected.status, rejected.rejectionReason]).toEqual(['REJECTED', 'payment_provider_error']);
      const shown = await seenOnce(id, (o) => o.paymentStatus === 'REFUNDED');
      expect([shown.status, shown.paymentStatus, shown.rejectionReason]).toEqual(['REJECTED', 'REFUNDED', 'payment_provider_error']);
      // The money: captured, then refunded (the event is written with the late capture, so orders may show REFUNDED before the refund row exists).
      expect(await recordsOnce(id, ['charge:SUCCEEDED', 'refund:SUCCEEDED'])).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);

      // A redelivered event changes nothing; one for a confirmed order leaves it CONFIRMED.
      const event = { type: 'LateCaptureRefunded' as const, id: 'evt_again', orderId: id };
      await orders.orders.handleEvent(event);
      expect(await seen(id)).toEqual(shown);
      const { order: placed } = await orders.orders.place(
        CUSTOMER,
        { items: [{ sku: 'SKU-0002', quantity: 1 }], payment: { token: 'tok_ok' } },
        { waitSeconds: 10 },
      );
      expect([placed.status, placed.paymentStatus]).toEqual(['CONFIRMED', 'CAPTURED']);
      await orders.orders.handleEvent({ ...event, id: 'evt_confirmed', orderId: placed.id });
      expect(await seen(placed.id)).toEqual(placed);
      // Every step of the late capture's order is done.
      expect((await saga(id))?.state).toBe('REJECTED');
    });

    it('payments tells orders while the saga is still releasing the stock: the order turns REJECTED with payment REFUNDED', async () => {
      const { orders, saga, release, seen, lateCapture } = await system({ holdRelease: true });
      const id = await lateCapture();
      // The event arrived and was kept; the customer still sees the order PENDING. The event may
      // reach orders before the charge's FAILED answer moves the saga PAYING → RELEASING: wait for both.
      let kept = await saga(id);
      for (const until = Date.now() + 10_000; Date.now() < until && !(kept?.state === 'RELEASING' && kept.late_refund_at); await sleep(20))
        kept = await saga(id);
      expect({ state: kept?.state, lateRefund: Boolean(kept?.late_refund_at) }, `saga after 10 s: ${JSON.stringify(kept)}`).toEqual({
        state: 'RELEASING',
        lateRefund: true,
      });
      expect([(await seen(id)).status, (await seen(id)).paymentStatus]).toEqual(['PENDING', 'PENDING']);
      release.open();
      const settled = await orders.orders.get(CUSTOMER, id, 10);
      expect([settled.status, settled.paymentStatus, settled.rejectionReason]).toEqual(['REJECTED', 'REFUNDED', 'payment_provider_error']);
    });

    it('a payments process that stopped after the late capture, before it told orders: the next one tells it', async () => {
      const { orders, seen, seenOnce, recordsOnce, lateCapture, paymentsProcess, stopA } = await system({ relayOfA: false });
      const id = await lateCapture();
      expect((await orders.orders.get(CUSTOMER, id, 10)).status).toBe('REJECTED');
      expect(await recordsOnce(id, ['charge:SUCCEEDED', 'refund:SUCCEEDED'])).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      await sleep(200);
      expect((await seen(id)).paymentStatus).toBe('FAILED'); // nobody told orders yet
      await stopA();
      const next = await paymentsProcess();
      await next.start();
      const shown = await seenOnce(id, (o) => o.paymentStatus === 'REFUNDED');
      expect([shown.status, shown.paymentStatus]).toEqual(['REJECTED', 'REFUNDED']);
    });
  });
}
