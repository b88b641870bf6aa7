import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Hono } from 'hono';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order, PaymentToken } from '@archbench/contracts/schemas';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { AMQP_TEST_URL, captureQueries, createTestDatabase, queryPlan, skipUnlessReachable } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import type { ServiceName } from '../src/env';
import { loadEnv } from '../src/env';
import { IDLE_TRANSPORT as idle, inProcessWiring } from './in-process-wiring';
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
import { oldestPendingRefund } from '../src/payments/repository';
import { migrations as paymentsMigrations } from '../src/payments/schema';
import type { PaymentsTables } from '../src/payments/schema';

/**
 * `archbench_refund_oldest_pending_seconds` on the payments service's /metrics, as the monolith
 * reports it: the age of the oldest refund still to be made (a PENDING refund row), read from the
 * payments database at each scrape. A late capture's refund, which payments owes and retries by
 * itself (no saga asks for it, so archbench_saga_oldest_open_seconds never shows it), and a
 * cancel's, which the saga resends, both count: money owed to a customer, whoever tries again.
 *
 * The system in-process as the late-capture tests run it (late-capture-order.test.ts): real
 * transports (HTTP servers on loopback, or a fresh RabbitMQ prefix), real databases (SQLite files
 * or fresh PostgreSQL databases), inventory, orders and payments process A as its main.ts builds
 * it (createPaymentsApp, with metrics); B, a second payments process on A's database, takes A's
 * stalled charge over (a redelivered copy) once its lease is set into the past. The provider
 * fails every call through the runtime switch (PUT /admin/provider), as in a drill.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const silent = createLogger({ service: 'refund-age-test', level: 'silent' });
const TOKEN = 'refund-age-test';
const CUSTOMER = 'alice';
const internal = { 'x-archbench-internal': TOKEN, [CUSTOMER_HEADER]: CUSTOMER, 'content-type': 'application/json' };

/** archbench_refund_oldest_pending_seconds on a /metrics text; undefined when the series is not there. */
function refundAge(text: string): number | undefined {
  const match = /^archbench_refund_oldest_pending_seconds\{service="payments"\} (\S+)$/m.exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The simulated provider; its charges wait for `open()`. */
class HeldProvider extends PaymentProvider {
  chargeCalls = 0;
  #open!: () => void;
  readonly #opened = new Promise<void>((resolve) => (this.#open = resolve));
  override async charge(token: PaymentToken, amountCents: number): ReturnType<PaymentProvider['charge']> {
    this.chargeCalls++;
    await this.#opened;
    return super.charge(token, amountCents);
  }
  open() {
    this.#open();
  }
}

/** A pool of its own to a database, closed once (by the test, or at cleanup). */
function closable<T>(database: Database<T>) {
  let closed = false;
  return {
    db: database.db,
    close: async () => {
      if (!closed) await database.close();
      closed = true;
    },
  };
}

const combinations = [
  { transport: 'http', dialect: 'sqlite' },
  { transport: 'http', dialect: 'postgres' },
  { transport: 'amqp', dialect: 'sqlite' },
  { transport: 'amqp', dialect: 'postgres' },
] as const;

for (const { transport: kind, dialect } of combinations) {
  const skip = await skipUnlessReachable({ transport: kind, database: dialect });

  describe.skipIf(skip)(`the age of the oldest pending refund on the payments service's /metrics (${kind}, ${dialect})`, () => {
    async function system() {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-ms-refund-age-'));
      const prefix = `archbench-refund-age-${randomUUID().slice(0, 8)}`;
      const wiring = inProcessWiring(kind, { prefix, internalToken: TOKEN, attempts: 1, logger: silent });
      const { transportOf, listen } = wiring;
      const testDatabases: TestDatabase[] = [];
      const pools: Array<{ close: () => Promise<void> }> = [];
      const stops: Array<() => Promise<void>> = [];
      cleanups.push(async () => {
        for (const stop of stops.reverse()) await stop();
        await wiring.close();
        for (const pool of pools) await pool.close();
        for (const testDatabase of testDatabases) await testDatabase.drop();
        if (kind === 'amqp') await deleteAmqpTopology(AMQP_TEST_URL, prefix);
        rmSync(dir, { recursive: true, force: true });
      });
      const pgUrls: Partial<Record<ServiceName, string>> = {};
      for (const service of ['inventory', 'orders', 'payments'] as const) {
        if (dialect !== 'postgres') continue;
        const testDatabase = await createTestDatabase(`archbench_msra_${service}`);
        testDatabases.push(testDatabase);
        pgUrls[service] = testDatabase.url;
      }
      const open = <T>(service: ServiceName) => {
        const pool = closable(openDatabase<T>({ databaseUrl: pgUrls[service], dataDir: dir, fileName: `${service}.db`, poolSize: 2, lockingMode: 'normal' }));
        pools.push(pool);
        return pool;
      };

      const inventoryDb = open<InventoryTables>('inventory').db;
      await migrate(inventoryDb, inventoryMigrations);
      const inventory = createInventory(createInventoryRepository(inventoryDb));
      await inventory.seed();
      const inventoryApp = new Hono();
      const inventoryStart = bindService(inventoryApp, await transportOf('inventory'), 'inventory', { command: (command) => inventory.handle(command) });
      await listen('inventory', inventoryApp);
      await inventoryStart();

      const ordersDb = open<OrdersTables>('orders').db;
      await migrate(ordersDb, ordersMigrations);
      const orders = createOrdersApp({
        db: ordersDb,
        obs: { logger: silent },
        dialect,
        transport: await transportOf('orders'),
        internalToken: TOKEN,
        sweepMs: 60_000,
      });
      await listen('orders', orders.app);
      await orders.start();
      stops.push(() => orders.stop());

      const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
      const paymentsDb = open<PaymentsTables>('payments').db;
      await migrate(paymentsDb, paymentsMigrations);
      /** A payments process as its main.ts builds it, with its own metrics and pool; `transport` given: it takes commands. */
      const paymentsProcess = async (provider?: PaymentProvider, transport?: Transport) => {
        const pool = open<PaymentsTables>('payments');
        const service = createPaymentsApp({
          env,
          db: pool.db,
          obs: { logger: silent, metrics: createMetrics({ service: 'payments', defaultMetrics: false }) },
          dialect,
          transport: transport ?? (await transportOf('payments')),
          internalToken: TOKEN,
          providerInstance: provider,
        });
        stops.push(() => service.stop());
        /** What Prometheus scrapes: /metrics answers 200, with or without the series. */
        const scrape = async () => {
          const response = await service.app.request('/metrics');
          expect(response.status).toBe(200);
          return response.text();
        };
        /** The provider switch of a drill (internal route; the gateway forwards /admin/payments/provider to it). */
        const failureRate = async (rate: number) =>
          expect((await service.app.request('/admin/provider', { method: 'PUT', headers: internal, body: JSON.stringify({ failureRate: rate }) })).status).toBe(
            200,
          );
        return { ...service, pool, scrape, age: async () => refundAge(await scrape()), failureRate };
      };

      // A takes the commands; its provider holds charges until opened.
      const provider = new HeldProvider();
      const a = await paymentsProcess(provider, await transportOf('payments'));
      await listen('payments', a.app);
      await a.start();
      // B: a second payments process on A's database (not taking commands: a redelivered copy is handed to it).
      const b = await paymentsProcess();

      const records = async (id: string) => (await a.payments.listForOrder(id)).map((r) => `${r.kind}:${r.status}`).sort();
      /** The order's payment records once they read `expected`, or as they are after 15 s. */
      const recordsOnce = async (id: string, expected: string[]): Promise<string[]> => {
        for (const until = Date.now() + 15_000; Date.now() < until; await sleep(20)) {
          const now = await records(id);
          if (now.join() === expected.join()) return now;
        }
        return records(id);
      };
      /** The refund rows of an order (the gauge's rows): status and command id. */
      const refundRow = (id: string) =>
        paymentsDb.selectFrom('payments').select(['status', 'command_id']).where('order_id', '=', id).where('kind', '=', 'refund').executeTakeFirst();
      return { orders, provider, a, b, records, recordsOnce, refundRow };
    }

    it("a late capture's refund the provider keeps failing (payments retries it by itself): the age grows past 1 s on payments' /metrics, also on a process that never sent it, and is 0 once the refund is made", async () => {
      const s = await system();
      expect(await s.a.age()).toBe(0);
      // The late capture: A's charge stalls at its provider, its lease lapses, B settles it FAILED
      // (the order is rejected), then A's provider captures after all.
      const { order } = await s.orders.orders.place(CUSTOMER, { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } }, {});
      while (s.provider.chargeCalls === 0) await sleep(5);
      await s.a.pool.db
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
      expect(await s.b.payments.handle(redelivered)).toEqual({ ok: true, outcome: 'FAILED' });
      await s.a.failureRate(1); // the provider fails every call from now on: the late capture's refund too
      s.provider.open();
      const rejected = await s.orders.orders.get(CUSTOMER, order.id, 10);
      expect(rejected.status).toBe('REJECTED');
      for (const until = Date.now() + 10_000; Date.now() < until && (await s.refundRow(order.id)) === undefined;) await sleep(20);
      expect(await s.refundRow(order.id)).toEqual({ status: 'PENDING', command_id: `late-capture:${order.id}` });

      // What an operator sees: the refund's age on payments' /metrics, growing while the provider fails it.
      await sleep(1300);
      const scraped = await s.a.scrape();
      expect(scraped).toMatch(/^archbench_payments_total\{result="refund_failed",service="payments"\} [1-9]/m);
      const stuck = refundAge(scraped)!;
      expect(stuck).toBeGreaterThan(1);
      await sleep(500);
      expect(await s.a.age()).toBeGreaterThan(stuck + 0.4);
      // B never sent it (a replica, the process after a restart): it reads the same age from the database.
      expect(await s.b.age()).toBeGreaterThan(stuck + 0.4);
      // No saga will ever resend it: the order's saga is done.
      expect(await s.records(order.id)).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);

      await s.a.failureRate(0); // the provider is back: payments' next try (1 s, 2 s, 4 s … after the first) makes the refund
      expect(await s.recordsOnce(order.id, ['charge:SUCCEEDED', 'refund:SUCCEEDED'])).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(await s.a.age()).toBe(0);
      expect(await s.b.age()).toBe(0);
    });

    it("a cancel's refund the provider keeps failing (the saga resends it) counts too: the age grows while it is owed, 0 once the cancel completes", async () => {
      const s = await system();
      const { order } = await s.orders.orders.place(CUSTOMER, { items: [{ sku: 'SKU-0002', quantity: 1 }], payment: { token: 'tok_ok' } }, {});
      s.provider.open();
      expect((await s.orders.orders.get(CUSTOMER, order.id, 10)).status).toBe('CONFIRMED');
      await s.a.failureRate(1);
      const cancelling = s.orders.app.request(`/orders/${order.id}/cancel`, { method: 'POST', headers: internal });
      await sleep(1300);
      // The saga's refund, PENDING between its copies (not a late capture's).
      const row = await s.refundRow(order.id);
      expect([row?.status, row?.command_id.startsWith('late-capture:')]).toEqual(['PENDING', false]);
      const stuck = (await s.a.age())!;
      expect(stuck).toBeGreaterThan(1);
      await sleep(500);
      expect(await s.a.age()).toBeGreaterThan(stuck + 0.4);
      await s.a.failureRate(0); // the saga's next copy (within 2 s) makes it
      const cancelled = await cancelling;
      expect(cancelled.status).toBe(200);
      expect(((await cancelled.json()) as Order).status).toBe('CANCELLED');
      expect(await s.records(order.id)).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect(await s.a.age()).toBe(0);
    });
  });
}

/** 20,000 finished payments (and a charge in flight for an hour) beside a cancel's refund pending for 10 minutes and a late capture's for 3. */
const FINISHED = 20_000;
const ago = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

for (const dialect of ['sqlite', 'postgres'] as const) {
  const skip = await skipUnlessReachable({ database: dialect });

  describe.skipIf(skip)(`the pending-refund age read from the payments database (${dialect})`, () => {
    async function seeded() {
      const dir = mkdtempSync(join(tmpdir(), 'archbench-ms-refund-age-'));
      const pg = dialect === 'postgres' ? await createTestDatabase('archbench_msra_seed') : undefined;
      const pool = closable(openDatabase<PaymentsTables>({ databaseUrl: pg?.url, dataDir: dir, fileName: 'payments.db', poolSize: 2 }));
      cleanups.push(async () => {
        await pool.close();
        await pg?.drop();
        rmSync(dir, { recursive: true, force: true });
      });
      const db: Kysely<PaymentsTables> = pool.db;
      await migrate(db, paymentsMigrations);
      const payment = (i: number, kind: string, status: string, createdAt: string, commandId = `${kind}:ord_${i}`, claimedUntil: string | null = null) => ({
        id: `pay_${String(i).padStart(6, '0')}`,
        order_id: `ord_${String(i).padStart(6, '0')}`,
        kind,
        status,
        amount_cents: 100,
        provider_ref: null,
        command_id: commandId,
        created_at: createdAt,
        claimed_until: claimedUntil,
      });
      const finished = [
        ['charge', 'SUCCEEDED'],
        ['charge', 'DECLINED'],
        ['charge', 'FAILED'],
        ['refund', 'SUCCEEDED'],
      ] as const;
      for (let i = 0; i < FINISHED; i += 1000)
        await db
          .insertInto('payments')
          .values(
            Array.from({ length: 1000 }, (_, j) => {
              const [kind, status] = finished[(i + j) % finished.length]!;
              return payment(i + j, kind, status, ago(60));
            }),
          )
          .execute();
      await db
        .insertInto('payments')
        .values([
          payment(FINISHED, 'charge', 'PENDING', ago(60), undefined, ago(59)),
          payment(FINISHED + 1, 'refund', 'PENDING', ago(10), undefined, new Date(0).toISOString()),
          payment(FINISHED + 2, 'refund', 'PENDING', ago(3), `late-capture:ord_${FINISHED + 2}`, ago(-0.5)),
        ])
        .execute();
      if (dialect === 'postgres') await sql`analyze payments`.execute(db);
      return { db, close: pool.close };
    }

    it('a payments process that never sent the refunds reports the oldest (600 s, not the charge in flight), and leaves the series out while the database is gone', async () => {
      const { db, close } = await seeded();
      const metrics = createMetrics({ service: 'payments', defaultMetrics: false });
      const payments = createPaymentsApp({
        env: loadEnv({ NODE_ENV: 'test' }),
        db,
        obs: { logger: silent, metrics },
        dialect,
        transport: idle,
        internalToken: TOKEN,
      });
      const scrape = async () => {
        const response = await payments.app.request('/metrics');
        expect(response.status).toBe(200);
        return response.text();
      };
      // 600 s from the row's created_at, plus however long the setup took on a busy machine.
      const first = refundAge(await scrape())!;
      expect(first).toBeGreaterThanOrEqual(600);
      expect(first).toBeLessThan(630);
      // registry.resetMetrics() (a test harness, a hot reload): nothing to reset, the next scrape reads the database again.
      metrics.registry.resetMetrics();
      expect(refundAge(await scrape())!).toBeGreaterThanOrEqual(first);
      // The cancel's refund made: the late capture's, pending for 3 minutes, is the oldest.
      await db
        .updateTable('payments')
        .set({ status: 'SUCCEEDED' })
        .where('id', '=', `pay_${String(FINISHED + 1).padStart(6, '0')}`)
        .execute();
      const late = refundAge(await scrape())!;
      expect(late).toBeGreaterThanOrEqual(180);
      expect(late).toBeLessThan(first - 400);
      // The database gone: /metrics still answers, without this series (an alert on it does not fire on a guess).
      await close();
      const text = await scrape();
      expect(text).toContain('# TYPE archbench_payments_total counter');
      expect(refundAge(text)).toBeUndefined();
      expect(text).not.toContain('archbench_refund_oldest_pending_seconds{');
    });

    it("the scrape's query reads the payments_pending_refunds index (0006), not every payment", async () => {
      const { db } = await seeded();
      const capture = captureQueries(db);
      expect(await oldestPendingRefund(capture.db)).toBeDefined();
      const compiled = capture.take();
      expect(compiled).toHaveLength(1);
      const plan = await queryPlan(db, compiled[0]!, dialect);
      if (dialect === 'sqlite') expect(plan).toBe('SEARCH payments USING COVERING INDEX payments_pending_refunds');
      else {
        expect(plan).toMatch(/Index (Only )?Scan (on|using) payments_pending_refunds/);
        expect(plan).not.toMatch(/Seq Scan on payments/);
      }
    });
  });
}
