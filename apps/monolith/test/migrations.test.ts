import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { migrations } from '../src/db';
import type { Tables } from '../src/db';

const at = '2026-11-30T12:00:00.000Z';

describe('SQLite schema upgrade (0002: orders, payments and shipments keyed by id; 0003: an index of pending orders)', () => {
  it('keeps the rows, constraints and indexes of a database written before it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-migrations-'));
    const open = () => openDatabase<Tables>({ dataDir, fileName: 'monolith.db' });
    try {
      const before = open();
      await migrate(before.db, { '0001_initial': migrations['0001_initial']! });
      await before.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('orders')
          .values({
            id: 'ord_1',
            customer_id: 'alice',
            status: 'CONFIRMED',
            total_cents: 1200,
            currency: 'EUR',
            payment_token: 'tok_ok',
            payment_status: 'CAPTURED',
            rejection_reason: null,
            created_at: at,
            updated_at: at,
          })
          .execute();
        await trx.insertInto('order_items').values({ order_id: 'ord_1', sku: 'SKU-0001', quantity: 2, unit_price_cents: 600 }).execute();
        await trx
          .insertInto('payments')
          .values({ id: 'pay_1', order_id: 'ord_1', kind: 'charge', status: 'SUCCEEDED', amount_cents: 1200, provider_ref: 'ref', created_at: at })
          .execute();
        await trx.insertInto('shipments').values({ id: 'shp_1', order_id: 'ord_1', status: 'PENDING', created_at: at }).execute();
      });
      await before.close();

      const after = open();
      try {
        await migrate(after.db, migrations);
        const { db } = after;
        expect(await db.selectFrom('orders').select(['id', 'customer_id', 'status', 'total_cents']).execute()).toEqual([
          { id: 'ord_1', customer_id: 'alice', status: 'CONFIRMED', total_cents: 1200 },
        ]);
        expect(await db.selectFrom('order_items').select(['order_id', 'quantity']).execute()).toEqual([{ order_id: 'ord_1', quantity: 2 }]);
        expect(await db.selectFrom('payments').select(['id', 'status']).execute()).toEqual([{ id: 'pay_1', status: 'SUCCEEDED' }]);
        expect(await db.selectFrom('shipments').select(['id', 'order_id']).execute()).toEqual([{ id: 'shp_1', order_id: 'ord_1' }]);

        const tables = await sql<{
          name: string;
          sql: string;
        }>`select name, sql from sqlite_master where type = 'table' and name in ('orders', 'payments', 'shipments')`.execute(db);
        expect(tables.rows.map((t) => [t.name, /without rowid$/i.test(t.sql)]).sort()).toEqual([
          ['orders', true],
          ['payments', true],
          ['shipments', true],
        ]);
        const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null order by name`.execute(db);
        expect(indexes.rows.map((i) => i.name)).toEqual(['orders_customer_id', 'orders_pending', 'payments_pending_refunds']);
        // 0003: the deadline sweeper's query (PENDING orders by age) reads the index of pending orders, not the table.
        const plan = await sql<{
          detail: string;
        }>`explain query plan select id from orders where status = ${'PENDING'} and created_at < ${at} order by created_at limit 100`.execute(db);
        expect(plan.rows.map((r) => r.detail)).toEqual(['SEARCH orders USING COVERING INDEX orders_pending (created_at<?)']);
        // 0005: the payment written before it holds no claim, and the sweeper's query (PENDING refunds no one holds) reads their index.
        expect(await db.selectFrom('payments').select(['id', 'claimed_until']).execute()).toEqual([{ id: 'pay_1', claimed_until: null }]);
        const refundsPlan = await sql<{
          detail: string;
        }>`explain query plan select id, amount_cents from payments where kind = ${'refund'} and status = ${'PENDING'} and (claimed_until is null or claimed_until < ${at}) order by created_at limit 100`.execute(
          db,
        );
        expect(refundsPlan.rows.map((r) => r.detail)).toEqual(['SCAN payments USING INDEX payments_pending_refunds']);

        // The constraints came along: one charge per order, one shipment per order, items only of known orders.
        const charge = db
          .insertInto('payments')
          .values({
            id: 'pay_2',
            order_id: 'ord_1',
            kind: 'charge',
            status: 'PENDING',
            amount_cents: 1,
            provider_ref: null,
            created_at: at,
            claimed_until: null,
          })
          .execute();
        await expect(charge).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
        const shipment = db.insertInto('shipments').values({ id: 'shp_2', order_id: 'ord_1', status: 'PENDING', created_at: at }).execute();
        await expect(shipment).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
        const orphan = db.insertInto('order_items').values({ order_id: 'ord_404', sku: 'SKU-0001', quantity: 1, unit_price_cents: 1 }).execute();
        await expect(orphan).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
      } finally {
        await after.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
