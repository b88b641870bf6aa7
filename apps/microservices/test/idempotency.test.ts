import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { requestHash } from '@archbench/domain/orders';
import { createLogger } from '@archbench/observability/logging';
import { postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { Reply } from '../src/shared/messages';
import { createOutboxRelay } from '../src/orders/outbox-relay';
import { createOrdersRepository } from '../src/orders/repository';
import { createOrders } from '../src/orders/service';
import { freshOrdersDatabase, scriptedTransport } from './orders-in-process';

/**
 * The orders service claims an order's Idempotency-Key with its saga, before the reserve: a copy
 * of the request sent meanwhile waits for the first one's order instead of reserving too, and a
 * saga that ends without an order gives its key back. In-process, over a scripted inventory.
 */
const silent = createLogger({ service: 'idempotency-test', level: 'silent' });
const order = { items: [{ sku: 'SKU-0990', quantity: 3 }], payment: { token: 'tok_ok' as const } };
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const reserved = (): Reply => ({ ok: true, items: order.items.map((item) => ({ ...item, unitPriceCents: 1000 })) });
const short = (): Reply => ({ ok: false, code: 'insufficient-stock', detail: 'not enough stock of SKU-0990 for 3 units' });

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && skipPostgres)(`orders: Idempotency-Key claimed before the reserve (${dialect})`, () => {
    async function boot(reserve: (n: number) => Reply) {
      const { database, close } = await freshOrdersDatabase(dialect, 'orders-idem');
      const inventory = scriptedTransport({ reserve, gated: true });
      const repo = createOrdersRepository(database.db);
      const relay = createOutboxRelay({ repo, transport: inventory.transport, logger: silent });
      const orders = createOrders({ repo, transport: inventory.transport, relay, logger: silent });
      cleanups.push(async () => {
        inventory.open();
        await orders.drain();
        await close();
      });
      /** Resolves once `n` reserves were sent. */
      const reserveSent = async (n: number) => {
        while ((inventory.sent.ReserveStock ?? 0) < n) await sleep(5);
      };
      return { orders, repo, inventory, reserveSent };
    }

    it('a copy sent while the first reserves waits for its order and replays it; the stock is reserved once', async () => {
      const app = await boot(reserved);
      const first = app.orders.place('c-1', order, { idempotencyKey: 'k-1', waitSeconds: 5 });
      await app.reserveSent(1);
      const copy = app.orders.place('c-1', order, { idempotencyKey: 'k-1', waitSeconds: 5 });
      await sleep(100);
      app.inventory.open();
      const [a, b] = await Promise.all([first, copy]);
      expect(a).toMatchObject({ replayed: false, order: { status: 'CONFIRMED' } });
      expect(b).toMatchObject({ replayed: true, order: { id: a.order.id, status: 'CONFIRMED' } });
      expect(app.inventory.sent.ReserveStock).toBe(1);
      expect(app.inventory.sent.ReleaseStock ?? 0).toBe(0);
    });

    it('a copy answers idempotency-in-progress when the first is still reserving after 2 s', async () => {
      const app = await boot(reserved);
      const first = app.orders.place('c-2', order, { idempotencyKey: 'k-2' });
      await app.reserveSent(1);
      const copy = app.orders.place('c-2', order, { idempotencyKey: 'k-2' }).catch((error: unknown) => error);
      // Answered while the first still waits for inventory, not by reserving behind it.
      expect(await Promise.race([copy, sleep(4000, 'no answer after 4 s')])).toMatchObject({ code: 'idempotency-in-progress' });
      app.inventory.open();
      expect((await first).replayed).toBe(false);
      expect(app.inventory.sent.ReserveStock).toBe(1);
    });

    it('a keyed order refused for stock gives its key back: the same key places the order once there is stock, and a waiting copy places it', async () => {
      const app = await boot((n) => (n === 1 ? short() : reserved()));
      const first = app.orders.place('c-3', order, { idempotencyKey: 'k-3', waitSeconds: 5 });
      await app.reserveSent(1);
      // Waits on the key; when the first is refused the key is free and this copy reserves itself.
      const copy = app.orders.place('c-3', order, { idempotencyKey: 'k-3', waitSeconds: 5 });
      await sleep(100);
      app.inventory.open();
      await expect(first).rejects.toMatchObject({ code: 'insufficient-stock' });
      const placed = await copy;
      expect(placed).toMatchObject({ replayed: false, order: { status: 'CONFIRMED' } });
      const retry = await app.orders.place('c-3', order, { idempotencyKey: 'k-3' });
      expect(retry).toMatchObject({ replayed: true, order: { id: placed.order.id } });
      expect(app.inventory.sent.ReserveStock).toBe(2);
    });

    it('a saga left RESERVING (a crash after the claim) is aborted by the sweeper and gives its key back', async () => {
      const app = await boot(reserved);
      app.inventory.open();
      await app.repo.insertSaga(
        { order_id: 'ord_crashed', customer_id: 'c-4', state: 'RESERVING', items: JSON.stringify(order.items), payment_token: 'tok_ok' },
        { key: 'k-4', hash: requestHash(order) },
      );
      expect(await app.orders.sweep()).toBe(1);
      for (let i = 0; i < 100 && (await app.repo.saga('ord_crashed'))?.state !== 'ABORTED'; i++) await sleep(20);
      expect((await app.repo.saga('ord_crashed'))?.state).toBe('ABORTED');
      expect(await app.repo.idempotencyKey('c-4', 'k-4')).toBeUndefined();
      const placed = await app.orders.place('c-4', order, { idempotencyKey: 'k-4', waitSeconds: 5 });
      expect(placed).toMatchObject({ replayed: false, order: { status: 'CONFIRMED' } });
    });
  });
}
