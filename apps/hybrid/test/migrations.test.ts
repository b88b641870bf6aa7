import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, Migrator, sql } from 'kysely';
import type { Compilable, Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { migrations as monolithMigrations } from '@archbench/monolith/db';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { hybridMigrations, openCoreDatabase, withOutbox } from '../src/db';
import type { CoreTables } from '../src/db';

const at = '2026-11-30T12:00:00.000Z';

/** The core's database as the previous release left it: the monolith's 0001-0003 and the hybrid's 0001. */
async function migrateToPreviousRelease(db: Kysely<unknown>): Promise<void> {
  const { '0001_initial': initial, '0002_sqlite_tables_keyed_by_id': keyed, '0003_orders_pending_index': pending } = monolithMigrations;
  await migrate(db, { '0001_initial': initial!, '0002_sqlite_tables_keyed_by_id': keyed!, '0003_orders_pending_index': pending! });
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => ({ '0001_outbox': hybridMigrations['0001_outbox']! }) },
    migrationTableName: 'hybrid_migration',
    migrationLockTableName: 'hybrid_migration_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}

async function plan<T>(db: Kysely<T>, query: Compilable): Promise<string[]> {
  const compiled = query.compile();
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return result.rows.map((r) => r.detail);
}

describe('core database upgrade on SQLite (hybrid 0002: outbox WITHOUT ROWID, 0003: an index of unpublished events; monolith 0004: items and keys)', () => {
  it('keeps the rows, constraints and indexes of a database the previous release wrote', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-hybrid-migrations-'));
    try {
      const before = openDatabase<CoreTables>({ dataDir, fileName: 'core.db' });
      await migrateToPreviousRelease(before.db as Kysely<unknown>);
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
        await trx.insertInto('idempotency_keys').values({ customer_id: 'alice', key: 'k1', request_hash: 'h', order_id: 'ord_1', created_at: at }).execute();
        await trx.insertInto('shipments').values({ id: 'shp_1', order_id: 'ord_1', status: 'PENDING', created_at: at }).execute();
        const event = { type: 'OrderConfirmed', order_id: 'ord_1', payload: '{}', headers: '{}', created_at: at };
        await trx
          .insertInto('outbox')
          .values([
            { ...event, id: 'evt_1', published_at: at },
            { ...event, id: 'evt_2', published_at: null },
          ])
          .execute();
      });
      const previous = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and sql like '%without rowid'`.execute(before.db);
      expect(previous.rows.map((r) => r.name).sort()).toEqual(['orders', 'payments', 'shipments']);
      await before.close();

      const after = await openCoreDatabase({ DATABASE_URL: undefined, DATA_DIR: dataDir });
      try {
        const db = withOutbox(after.db);
        const keyed = await sql<{ name: string }>`select name from sqlite_master where type = 'table' and sql like '%without rowid'`.execute(db);
        expect(keyed.rows.map((r) => r.name).sort()).toEqual(['idempotency_keys', 'order_items', 'orders', 'outbox', 'payments', 'shipments']);
        const indexes = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null order by name`.execute(db);
        expect(indexes.rows.map((i) => i.name)).toEqual(['orders_customer_id', 'orders_pending', 'outbox_unsent', 'payments_pending_refunds']);

        expect(await db.selectFrom('order_items').selectAll().execute()).toEqual([{ order_id: 'ord_1', sku: 'SKU-0001', quantity: 2, unit_price_cents: 600 }]);
        expect(await db.selectFrom('idempotency_keys').select(['customer_id', 'key', 'order_id']).execute()).toEqual([
          { customer_id: 'alice', key: 'k1', order_id: 'ord_1' },
        ]);
        expect(await db.selectFrom('outbox').select(['id', 'order_id', 'published_at']).orderBy('id').execute()).toEqual([
          { id: 'evt_1', order_id: 'ord_1', published_at: at },
          { id: 'evt_2', order_id: 'ord_1', published_at: null },
        ]);
        // The relay's query (unpublished events in id order) and its backlog count read the index of unpublished events.
        const relayQuery = db
          .selectFrom('outbox')
          .select(['id', 'payload', 'headers', 'created_at'])
          .where('published_at', 'is', null)
          .orderBy('id')
          .limit(100);
        expect(await relayQuery.execute()).toEqual([{ id: 'evt_2', payload: '{}', headers: '{}', created_at: at }]);
        expect(await plan(db, relayQuery)).toEqual(['SCAN outbox USING INDEX outbox_unsent']);
        const backlog = db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('published_at', 'is', null);
        expect(await plan(db, backlog)).toEqual(['SCAN outbox USING INDEX outbox_unsent']);

        // Constraints: one event per id, one item per sku, items only of known orders, one key per customer.
        const event = db
          .insertInto('outbox')
          .values({ id: 'evt_2', type: 'OrderConfirmed', order_id: 'ord_1', payload: '{}', headers: '{}', created_at: at, published_at: null })
          .execute();
        await expect(event).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
        const item = db.insertInto('order_items').values({ order_id: 'ord_1', sku: 'SKU-0001', quantity: 1, unit_price_cents: 1 }).execute();
        await expect(item).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
        const orphan = db.insertInto('order_items').values({ order_id: 'ord_404', sku: 'SKU-0002', quantity: 1, unit_price_cents: 1 }).execute();
        await expect(orphan).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
        const key = db
          .insertInto('idempotency_keys')
          .values({ customer_id: 'alice', key: 'k1', request_hash: 'x', order_id: 'ord_1', created_at: at })
          .execute();
        await expect(key).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      } finally {
        await after.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

describe.skipIf(skipPostgres)('core database upgrade on PostgreSQL', () => {
  it('migrates a database the previous release wrote: the outbox index holds the unpublished events only', async () => {
    const test = await createTestDatabase('archbench_hybrid_mig');
    try {
      const before = openDatabase<CoreTables>({ databaseUrl: test.url, dataDir: 'unused', fileName: 'core.db' });
      await migrateToPreviousRelease(before.db as Kysely<unknown>);
      await before.close();
      const after = await openCoreDatabase({ DATABASE_URL: test.url, DATA_DIR: 'unused' });
      try {
        const index = await sql<{
          indexname: string;
          indexdef: string;
        }>`select indexname, indexdef from pg_indexes where tablename = 'outbox' and indexname <> 'outbox_pkey'`.execute(after.db);
        expect(index.rows.map((r) => [r.indexname, /WHERE \(published_at IS NULL\)/.test(r.indexdef)])).toEqual([['outbox_unsent', true]]);
        const hybrid = await sql<{ name: string }>`select name from hybrid_migration order by name`.execute(after.db);
        expect(hybrid.rows.map((r) => r.name)).toEqual(Object.keys(hybridMigrations).sort());
      } finally {
        await after.close();
      }
    } finally {
      await test.drop();
    }
  });
});
