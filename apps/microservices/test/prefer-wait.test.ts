import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { createLogger } from '@archbench/observability/logging';
import type { Database } from '@archbench/server-kit/db';
import { postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { CUSTOMER_HEADER } from '../src/shared/service-app';
import { createOutboxRelay } from '../src/orders/outbox-relay';
import { createOrdersRepository } from '../src/orders/repository';
import { orderRoutes } from '../src/orders/routes';
import type { OrdersTables } from '../src/orders/schema';
import { createOrders } from '../src/orders/service';
import { freshOrdersDatabase, scriptedTransport } from './orders-in-process';

/**
 * `Prefer: wait` on the first POST /orders: when the saga driver of this request gives up (a real
 * database error in the step that confirms the order) the order is left to the sweeper, and the
 * request waits for it, by its status, for the rest of the wait instead of answering PENDING at
 * once. In-process orders service over a scripted inventory and payments, on SQLite and PostgreSQL.
 */
const silent = createLogger({ service: 'prefer-wait-test', level: 'silent' });
const DEADLINE_MS = 1000;
const SWEEP_MS = 100;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && skipPostgres)(`orders: Prefer: wait on POST /orders (${dialect})`, () => {
    async function boot() {
      const { database, close } = await freshOrdersDatabase(dialect, 'orders-wait');
      // Inventory reserves and releases, payments captures every charge and refunds it on a void.
      const scripted = scriptedTransport({ voidOutcome: 'REFUNDED' });
      const repo = createOrdersRepository(database.db);
      const relay = createOutboxRelay({ repo, transport: scripted.transport, logger: silent });
      const orders = createOrders({ repo, transport: scripted.transport, relay, logger: silent, deadlineMs: DEADLINE_MS });
      // The periodic sweep, as the orders app runs it (SAGA_SWEEP_MS).
      const sweeper = setInterval(() => void orders.sweep().catch(() => undefined), SWEEP_MS);
      cleanups.push(async () => {
        clearInterval(sweeper);
        await orders.drain();
        await close();
      });
      return { orders, database, sent: scripted.sent, app: orderRoutes(orders) };
    }

    /** A real database error in every transaction that would confirm an order. */
    async function failConfirmations(database: Database<OrdersTables>) {
      if (dialect === 'sqlite') {
        await sql`create trigger fail_confirm before update of status on orders when new.status = 'CONFIRMED' begin select raise(abort, 'injected: confirm failed'); end`.execute(
          database.db,
        );
      } else {
        await sql`create function fail_confirm() returns trigger language plpgsql as $$ begin if new.status = 'CONFIRMED' then raise exception 'injected: confirm failed'; end if; return new; end $$`.execute(
          database.db,
        );
        await sql`create trigger fail_confirm before update on orders for each row execute function fail_confirm()`.execute(database.db);
      }
    }

    it('a POST whose saga driver fails answers the order the sweeper ends within the wait (REJECTED at the deadline), not PENDING at once', async () => {
      const { app, database, sent } = await boot();
      await failConfirmations(database);
      const started = Date.now();
      const res = await app.request('/orders', {
        method: 'POST',
        body: JSON.stringify({ items: [{ sku: 'SKU-0201', quantity: 1 }], payment: { token: 'tok_ok' } }),
        headers: { [CUSTOMER_HEADER]: 'wait-customer', 'content-type': 'application/json', prefer: 'wait=10' },
      });
      expect(res.headers.get('preference-applied')).toBe('wait=10');
      const order = (await res.json()) as Order;
      // The confirm failed at once and again on every re-drive by the sweeper, until the deadline
      // (DEADLINE_MS after creation) rejected the order.
      expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_unavailable' });
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect(sent.ChargePayment ?? 0, 'charges sent by the first driver and the sweeper').toBeGreaterThan(1);
    });

    it('without Prefer: wait the POST still answers PENDING at once', async () => {
      const { app, database } = await boot();
      await failConfirmations(database);
      const res = await app.request('/orders', {
        method: 'POST',
        body: JSON.stringify({ items: [{ sku: 'SKU-0202', quantity: 1 }], payment: { token: 'tok_ok' } }),
        headers: { [CUSTOMER_HEADER]: 'wait-customer', 'content-type': 'application/json' },
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('preference-applied')).toBeNull();
      expect(await res.json()).toMatchObject({ status: 'PENDING' });
    });
  });
}
