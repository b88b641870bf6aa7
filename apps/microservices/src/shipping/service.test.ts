import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import type { DomainEvent } from '../shared/messages';
import { migrations } from './schema';
import type { ShippingTables } from './schema';
import { createShipping } from './service';

const confirmed = (orderId: string): DomainEvent => ({ type: 'OrderConfirmed', id: `confirmed:${orderId}`, orderId, customerId: 'c1', totalCents: 500 });
const cancelled = (orderId: string): DomainEvent => ({ type: 'OrderCancelled', id: `cancelled:${orderId}`, orderId, customerId: 'c1' });

/**
 * Shipping on a real database: an order's confirm and cancel can arrive together (a relay sends
 * up to 16 events at once, RabbitMQ's prefetch is 32), and whichever commits second must still
 * take effect. On PostgreSQL both transactions see no shipment; before the fix the second one's
 * INSERT failed on the order's unique key and was dropped as a duplicate event.
 */
function suite(open: () => Promise<{ database: Database<ShippingTables>; close: () => Promise<void> }>) {
  let database: Database<ShippingTables>;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ database, close } = await open());
    await migrate(database.db, migrations);
  });
  afterAll(() => close());

  it('a cancel delivered at the same time as its confirm leaves the shipment CANCELLED, for every order', async () => {
    const shipping = createShipping(database.db);
    const orders = Array.from({ length: 40 }, (_, i) => `ord_together_${i}`);
    // Half confirm first, half cancel first: both orders of arrival, all at once.
    const applied = await Promise.all(
      orders.flatMap((id, i) => (i % 2 === 0 ? [confirmed(id), cancelled(id)] : [cancelled(id), confirmed(id)]).map((event) => shipping.apply(event))),
    );
    expect(applied.every(Boolean)).toBe(true);
    const statuses = await Promise.all(orders.map(async (id) => (await shipping.get(id))?.status));
    expect(statuses).toEqual(orders.map(() => 'CANCELLED'));
  });

  it('drops a redelivered event, also when it arrives beside the first delivery', async () => {
    const shipping = createShipping(database.db);
    const applied = await Promise.all([shipping.apply(confirmed('ord_twice')), shipping.apply(confirmed('ord_twice'))]);
    expect(applied.sort()).toEqual([false, true]);
    expect(await shipping.apply(cancelled('ord_twice'))).toBe(true);
    expect(await shipping.apply(cancelled('ord_twice'))).toBe(false);
    expect(await shipping.apply(confirmed('ord_twice'))).toBe(false);
    expect((await shipping.get('ord_twice'))?.status).toBe('CANCELLED');
  });

  it('a confirm alone makes one PREPARING shipment; a cancel that overtook it is not revived', async () => {
    const shipping = createShipping(database.db);
    await shipping.apply(confirmed('ord_alone'));
    expect((await shipping.get('ord_alone'))?.status).toBe('PREPARING');
    await shipping.apply(cancelled('ord_overtaken'));
    await shipping.apply(confirmed('ord_overtaken'));
    expect((await shipping.get('ord_overtaken'))?.status).toBe('CANCELLED');
  });
}

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

describe.skipIf(skipPostgres)('shipping on PostgreSQL', () => {
  let test: TestDatabase;
  suite(async () => {
    test = await createTestDatabase('archbench_shipping');
    const database = openDatabase<ShippingTables>({ dataDir: 'unused', fileName: 'unused', databaseUrl: test.url, poolSize: 10 });
    return {
      database,
      close: async () => {
        await database.close();
        await test.drop();
      },
    };
  });
});

describe('shipping on SQLite', () => {
  suite(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-shipping-'));
    const database = openDatabase<ShippingTables>({ dataDir: dir, fileName: 'shipping.db' });
    return {
      database,
      close: async () => {
        await database.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  });
});
