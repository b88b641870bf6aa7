import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CompiledQuery, SqliteAdapter, sql } from 'kysely';
import type { Compilable, Kysely, Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { captureQueries, createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { migrations as inventoryMigrations } from '../src/inventory/schema';
import type { InventoryTables } from '../src/inventory/schema';
import { createOrdersRepository } from '../src/orders/repository';
import { ACTIVE_SAGA_STATES } from '../src/orders/saga';
import { migrations as ordersMigrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { createPaymentsRepository } from '../src/payments/repository';
import { migrations as paymentsMigrations } from '../src/payments/schema';
import type { PaymentsTables } from '../src/payments/schema';
import { migrations as shippingMigrations } from '../src/shipping/schema';
import type { ShippingTables } from '../src/shipping/schema';

const at = '2026-11-30T12:00:00.000Z';

let dataDir: string;
const opened: Database<unknown>[] = [];
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'archbench-ms-migrations-'));
});
afterEach(async () => {
  for (const database of opened.splice(0)) await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/**
 * A service database written at migration 0001 by `seed`, closed, then opened again and brought
 * up to date with every migration, as a deployed service's restart does.
 */
async function upgraded<T>(service: string, migrations: Record<string, Migration>, seed: (db: Kysely<T>) => Promise<void>): Promise<Kysely<T>> {
  const open = () => openDatabase<T>({ dataDir, fileName: `${service}.db` });
  const before = open();
  await migrate(before.db, { '0001_initial': migrations['0001_initial']! });
  await before.db.transaction().execute((trx) => seed(trx));
  await before.close();
  const after = open();
  opened.push(after as Database<unknown>);
  await migrate(after.db, migrations);
  return after.db;
}

/** Each table of the database and whether it is WITHOUT ROWID. */
async function tables<T>(db: Kysely<T>): Promise<Record<string, boolean>> {
  const rows = await sql<{ name: string; sql: string }>`select name, sql from sqlite_master where type = 'table' and name not like 'kysely_%'`.execute(db);
  return Object.fromEntries(rows.rows.map((t) => [t.name, /without rowid$/i.test(t.sql)]));
}

/** Indexes with SQL of their own (not the ones constraints make). */
async function indexes<T>(db: Kysely<T>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from sqlite_master where type = 'index' and sql is not null order by name`.execute(db);
  return rows.rows.map((i) => i.name);
}

/** SQLite's plan for a query as the service builds it, with its parameters bound. */
async function plan<T>(db: Kysely<T>, query: Compilable): Promise<string[]> {
  const compiled = query.compile();
  const result = await db.executeQuery<{ detail: string }>(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
  return result.rows.map((r) => r.detail);
}

/**
 * The queries a call of the payments repository runs, compiled as the database gets them (SQL and
 * parameters): the scans at start, to EXPLAIN as they are.
 */
async function queriesOf(db: Kysely<PaymentsTables>, run: (repo: ReturnType<typeof createPaymentsRepository>) => Promise<unknown>): Promise<CompiledQuery[]> {
  const capture = captureQueries(db);
  const repo = createPaymentsRepository(capture.db);
  capture.take(); // not the statements the repository prepares when it is made
  await run(repo);
  return capture.take();
}

/**
 * A payments table of `settled` charges of the past and a few late captures: ord_late1's refund
 * still PENDING, ord_late2's refund never written (nor announced), ord_late3's refund made and
 * announced, and a customer's refund PENDING (not a late capture's).
 */
async function paymentsHistory(db: Kysely<PaymentsTables>, settled: number) {
  const row = { amount_cents: 500, provider_ref: null, created_at: at, claimed_until: null };
  await db
    .insertInto('payments')
    .values([
      { ...row, id: 'pay_l1c', order_id: 'ord_late1', kind: 'charge', status: 'LATE_CAPTURED', command_id: 'charge:ord_late1' },
      { ...row, id: 'pay_l1r', order_id: 'ord_late1', kind: 'refund', status: 'PENDING', command_id: 'late-capture:ord_late1' },
      { ...row, id: 'pay_l2c', order_id: 'ord_late2', kind: 'charge', status: 'LATE_CAPTURED', command_id: 'charge:ord_late2' },
      { ...row, id: 'pay_l3c', order_id: 'ord_late3', kind: 'charge', status: 'LATE_CAPTURED', command_id: 'charge:ord_late3' },
      { ...row, id: 'pay_l3r', order_id: 'ord_late3', kind: 'refund', status: 'SUCCEEDED', command_id: 'late-capture:ord_late3' },
      { ...row, id: 'pay_c1c', order_id: 'ord_cancel', kind: 'charge', status: 'SUCCEEDED', command_id: 'charge:ord_cancel' },
      { ...row, id: 'pay_c1r', order_id: 'ord_cancel', kind: 'refund', status: 'PENDING', command_id: 'refund:ord_cancel' },
    ])
    .execute();
  const event = { type: 'LateCaptureRefunded', payload: '{}', headers: '{}', created_at: at, published_at: at };
  await db
    .insertInto('outbox')
    .values([
      { ...event, id: 'evt_l1', order_id: 'ord_late1' },
      { ...event, id: 'evt_l3', order_id: 'ord_late3' },
    ])
    .execute();
  // Every charge of the past, settled: what a scan without the index reads in full.
  const postgres = !(db.getExecutor().adapter instanceof SqliteAdapter);
  const numbers = postgres
    ? sql`select i from generate_series(1, ${settled}) as i`
    : sql`with recursive n(i) as (select 1 union all select i + 1 from n where i < ${settled}) select i from n`;
  await sql`insert into payments (id, order_id, kind, status, amount_cents, provider_ref, command_id, created_at, claimed_until)
    select 'pay_' || i, 'ord_' || i, 'charge', 'SUCCEEDED', 500, 'prov', 'charge:ord_' || i, ${at}, null from (${numbers}) as numbers`.execute(db);
  if (postgres) await sql`analyze payments`.execute(db);
}

describe('SQLite schema upgrade of the microservices (0002: tables keyed by text are WITHOUT ROWID; orders 0003: an index of unpublished events)', () => {
  it('orders: keeps orders, items, idempotency keys, sagas and outbox with their constraints; the relay and the sweeper read the same rows', async () => {
    const db = await upgraded<OrdersTables>('orders', ordersMigrations, async (trx) => {
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
      const saga = { customer_id: 'alice', items: '[]', payment_token: 'tok_ok', total_cents: 1200, charge_outcome: null, created_at: at, updated_at: at };
      await trx
        .insertInto('sagas')
        .values([
          { ...saga, order_id: 'ord_1', state: 'CONFIRMED' },
          { ...saga, order_id: 'ord_2', state: 'PAYING' },
        ])
        .execute();
      const event = { type: 'OrderConfirmed', payload: '{}', headers: '{}', created_at: at };
      await trx
        .insertInto('outbox')
        .values([
          { ...event, id: 'evt_1', published_at: at },
          { ...event, id: 'evt_2', published_at: null },
          { ...event, id: 'evt_3', published_at: null },
        ])
        .execute();
    });

    expect(await tables(db)).toEqual({ orders: true, order_items: true, idempotency_keys: true, sagas: true, outbox: true });
    expect(await indexes(db)).toEqual(['orders_customer_id', 'outbox_unsent', 'sagas_state']);
    expect(await db.selectFrom('orders').select(['id', 'customer_id', 'status', 'total_cents']).execute()).toEqual([
      { id: 'ord_1', customer_id: 'alice', status: 'CONFIRMED', total_cents: 1200 },
    ]);
    expect(await db.selectFrom('order_items').selectAll().execute()).toEqual([{ order_id: 'ord_1', sku: 'SKU-0001', quantity: 2, unit_price_cents: 600 }]);
    expect(await db.selectFrom('idempotency_keys').select(['customer_id', 'key', 'order_id']).execute()).toEqual([
      { customer_id: 'alice', key: 'k1', order_id: 'ord_1' },
    ]);

    // The relay still gets the unpublished events in id order, the sweeper the active sagas.
    const repo = createOrdersRepository(db);
    expect((await repo.unpublished(10)).map((e) => e.id)).toEqual(['evt_2', 'evt_3']);
    expect((await repo.activeSagas(10)).map((s) => [s.order_id, s.state])).toEqual([['ord_2', 'PAYING']]);
    // The relay's query reads the index of unpublished events (the full table otherwise: every event ever sent).
    expect(await plan(db, db.selectFrom('outbox').select(['id', 'payload']).where('published_at', 'is', null).orderBy('id').limit(100))).toEqual([
      'SCAN outbox USING INDEX outbox_unsent',
    ]);
    // The sweeper's query binds its states as parameters, which a partial index on `state in (...)`
    // cannot match: it keeps the index of every state (see 0003's comment in schema.ts).
    const sweep = db
      .selectFrom('sagas')
      .selectAll()
      .where('state', 'in', [...ACTIVE_SAGA_STATES])
      .where('order_id', '>', '')
      .orderBy('order_id')
      .limit(500);
    expect((await plan(db, sweep)).join(' | ')).toContain('USING INDEX sagas_state');

    // The constraints came along: one item per sku, items only of known orders, one key per customer.
    const item = db.insertInto('order_items').values({ order_id: 'ord_1', sku: 'SKU-0001', quantity: 1, unit_price_cents: 1 }).execute();
    await expect(item).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const orphan = db.insertInto('order_items').values({ order_id: 'ord_404', sku: 'SKU-0001', quantity: 1, unit_price_cents: 1 }).execute();
    await expect(orphan).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    const key = db.insertInto('idempotency_keys').values({ customer_id: 'alice', key: 'k1', request_hash: 'x', order_id: 'ord_2', created_at: at }).execute();
    await expect(key).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const saga = db
      .insertInto('sagas')
      .values({
        order_id: 'ord_2',
        customer_id: 'b',
        state: 'PAYING',
        items: '[]',
        payment_token: 't',
        total_cents: null,
        charge_outcome: null,
        created_at: at,
        updated_at: at,
      })
      .execute();
    await expect(saga).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
  });

  it('payments: keeps the payments and one charge per order', async () => {
    const db = await upgraded<PaymentsTables>('payments', paymentsMigrations, async (trx) => {
      await trx
        .insertInto('payments')
        .values({
          id: 'pay_1',
          order_id: 'ord_1',
          kind: 'charge',
          status: 'SUCCEEDED',
          amount_cents: 1200,
          provider_ref: 'ref',
          command_id: 'cmd_1',
          created_at: at,
        })
        .execute();
    });
    // 0004: the outbox of payments' own events, keyed by text, its unsent events indexed as the orders outbox's.
    expect(await tables(db)).toEqual({ payments: true, outbox: true });
    // 0005: the partial index of late captures, for the scans at start; 0006: of pending refunds, for /metrics.
    expect(await indexes(db)).toEqual(['outbox_unsent', 'payments_late_captures', 'payments_pending_refunds']);
    expect(await db.selectFrom('payments').select(['id', 'order_id', 'status', 'command_id']).execute()).toEqual([
      { id: 'pay_1', order_id: 'ord_1', status: 'SUCCEEDED', command_id: 'cmd_1' },
    ]);
    const charge = db
      .insertInto('payments')
      .values({ id: 'pay_2', order_id: 'ord_1', kind: 'charge', status: 'PENDING', amount_cents: 1, provider_ref: null, command_id: 'cmd_2', created_at: at })
      .execute();
    await expect(charge).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    // The service finds a payment by order and kind: the unique constraint's index answers it.
    expect(await plan(db, db.selectFrom('payments').selectAll().where('order_id', '=', 'ord_1').where('kind', '=', 'charge'))).toEqual([
      'SEARCH payments USING INDEX sqlite_autoindex_payments_2 (order_id=? AND kind=?)',
    ]);
  });

  it('payments: the scans at start for late captures not refunded or not announced read the partial index of late captures, not every payment (0005)', async () => {
    // A database from before 0005 gets the index by migrating, as a deployed service's restart does.
    const db = await upgraded<PaymentsTables>('payments', paymentsMigrations, async () => {});
    await paymentsHistory(db, 20_000);
    const repo = createPaymentsRepository(db);
    expect(await repo.unrefundedLateCaptures()).toEqual([
      { order_id: 'ord_late1', amount_cents: 500 },
      { order_id: 'ord_late2', amount_cents: 500 },
    ]);
    expect(await repo.unannouncedLateCaptures()).toEqual(['ord_late2']);

    const [pending, unstarted] = await queriesOf(db, (repo) => repo.unrefundedLateCaptures());
    const [unannounced] = await queriesOf(db, (repo) => repo.unannouncedLateCaptures());
    // Each reads the index (SCAN … USING INDEX over its few rows), the refund or the event of an
    // order by the unique constraints' indexes; without the index, SQLite scans every payment.
    // The pending late captures' refunds: the pending refunds' index (0006) holds them too, in created_at order.
    expect(await plan(db, { compile: () => pending! })).toEqual(['SCAN payments USING INDEX payments_pending_refunds']);
    expect(await plan(db, { compile: () => unstarted! })).toEqual([
      'SCAN c USING INDEX payments_late_captures',
      'CORRELATED SCALAR SUBQUERY 1',
      'SEARCH r USING INDEX sqlite_autoindex_payments_2 (order_id=? AND kind=?)',
      'USE TEMP B-TREE FOR ORDER BY',
    ]);
    expect(await plan(db, { compile: () => unannounced! })).toEqual([
      'SCAN p USING INDEX payments_late_captures',
      'CORRELATED SCALAR SUBQUERY 1',
      'SEARCH o USING INDEX sqlite_autoindex_outbox_2 (order_id=? AND type=?)',
    ]);
  });

  it('inventory: keeps reservations and processed commands; products (only updated in place) stay a rowid table', async () => {
    const db = await upgraded<InventoryTables>('inventory', inventoryMigrations, async (trx) => {
      await trx.insertInto('products').values({ sku: 'SKU-0001', name: 'Thing', price_cents: 600, currency: 'EUR', stock: 5 }).execute();
      await trx.insertInto('reservations').values({ order_id: 'ord_1', status: 'RESERVED', items: '[]', updated_at: at }).execute();
      await trx.insertInto('processed_commands').values({ command_id: 'cmd_1', reply: '{}', created_at: at }).execute();
    });
    expect(await tables(db)).toEqual({ products: false, reservations: true, processed_commands: true });
    expect(await indexes(db)).toEqual([]);
    expect(await db.selectFrom('reservations').select(['order_id', 'status']).execute()).toEqual([{ order_id: 'ord_1', status: 'RESERVED' }]);
    expect(await db.selectFrom('processed_commands').select(['command_id', 'reply']).execute()).toEqual([{ command_id: 'cmd_1', reply: '{}' }]);
    const twice = db.insertInto('processed_commands').values({ command_id: 'cmd_1', reply: '{}', created_at: at }).execute();
    await expect(twice).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const reservation = db.insertInto('reservations').values({ order_id: 'ord_1', status: 'RESERVED', items: '[]', updated_at: at }).execute();
    await expect(reservation).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    const oversold = db.updateTable('products').set({ stock: -1 }).where('sku', '=', 'SKU-0001').execute();
    await expect(oversold).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
  });

  it('shipping: keeps shipments (one per order) and the inbox', async () => {
    const db = await upgraded<ShippingTables>('shipping', shippingMigrations, async (trx) => {
      await trx.insertInto('shipments').values({ id: 'shp_1', order_id: 'ord_1', status: 'PENDING', created_at: at }).execute();
      await trx.insertInto('inbox').values({ event_id: 'evt_1', type: 'OrderConfirmed', received_at: at }).execute();
    });
    expect(await tables(db)).toEqual({ shipments: true, inbox: true });
    expect(await db.selectFrom('shipments').select(['id', 'order_id', 'status']).execute()).toEqual([{ id: 'shp_1', order_id: 'ord_1', status: 'PENDING' }]);
    expect(await db.selectFrom('inbox').select(['event_id', 'type']).execute()).toEqual([{ event_id: 'evt_1', type: 'OrderConfirmed' }]);
    const shipment = db.insertInto('shipments').values({ id: 'shp_2', order_id: 'ord_1', status: 'PENDING', created_at: at }).execute();
    await expect(shipment).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    const event = db.insertInto('inbox').values({ event_id: 'evt_1', type: 'OrderConfirmed', received_at: at }).execute();
    await expect(event).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    // The service finds a shipment by order: the unique constraint's index answers it.
    expect(await plan(db, db.selectFrom('shipments').selectAll().where('order_id', '=', 'ord_1'))).toEqual([
      'SEARCH shipments USING INDEX sqlite_autoindex_shipments_2 (order_id=?)',
    ]);
  });

  it('migrates a database that is already up to date without touching it', async () => {
    const db = await upgraded<OrdersTables>('orders', ordersMigrations, async () => {});
    const before = await sql`select name, rootpage, sql from sqlite_master order by name`.execute(db);
    await migrate(db, ordersMigrations);
    expect((await sql`select name, rootpage, sql from sqlite_master order by name`.execute(db)).rows).toEqual(before.rows);
  });
});

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

describe.skipIf(skipPostgres)('microservices schemas on PostgreSQL', () => {
  it('migrate from scratch and from 0001; the outbox index holds the unpublished events only', async () => {
    for (const [service, migrations] of Object.entries({
      orders: ordersMigrations,
      payments: paymentsMigrations,
      inventory: inventoryMigrations,
      shipping: shippingMigrations,
    })) {
      for (const from of ['scratch', '0001'] as const) {
        const pgDb = await createTestDatabase(`archbench_ms_mig_${service}`);
        const database = openDatabase<unknown>({ databaseUrl: pgDb.url, dataDir: 'unused', fileName: 'unused.db' });
        try {
          if (from === '0001') await migrate(database.db, { '0001_initial': migrations['0001_initial']! });
          await migrate(database.db, migrations);
          const done = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(database.db);
          expect(done.rows.map((r) => r.name)).toEqual(Object.keys(migrations).sort());
          if (service === 'orders' || service === 'payments') {
            const index = await sql<{
              indexname: string;
              indexdef: string;
            }>`select indexname, indexdef from pg_indexes where tablename = 'outbox' and indexname <> 'outbox_pkey' order by indexname`.execute(database.db);
            // Payments' outbox (0004) also keeps one event of a type per order.
            const once = service === 'payments' ? [['outbox_once_per_order', false]] : [];
            expect(index.rows.map((r) => [r.indexname, /WHERE \(published_at IS NULL\)/.test(r.indexdef)])).toEqual([...once, ['outbox_unsent', true]]);
          }
        } finally {
          await database.close();
          await pgDb.drop();
        }
      }
    }
  });

  it('payments: the scans at start read the partial index of late captures (0005), also in a database from before it', async () => {
    const pgDb = await createTestDatabase('archbench_ms_mig_late');
    const database = openDatabase<PaymentsTables>({ databaseUrl: pgDb.url, dataDir: 'unused', fileName: 'unused.db' });
    try {
      // Up to 0004, with the payments of the past, then migrated: 0005 indexes what was there.
      await migrate(database.db, Object.fromEntries(Object.entries(paymentsMigrations).filter(([name]) => name < '0005')));
      await paymentsHistory(database.db, 20_000);
      await migrate(database.db, paymentsMigrations);
      await sql`analyze payments`.execute(database.db);
      const repo = createPaymentsRepository(database.db);
      expect(await repo.unrefundedLateCaptures()).toEqual([
        { order_id: 'ord_late1', amount_cents: '500' },
        { order_id: 'ord_late2', amount_cents: '500' },
      ]);
      expect(await repo.unannouncedLateCaptures()).toEqual(['ord_late2']);
      const scans = [
        ...(await queriesOf(database.db, (repo) => repo.unrefundedLateCaptures())),
        ...(await queriesOf(database.db, (repo) => repo.unannouncedLateCaptures())),
      ];
      expect(scans).toHaveLength(3);
      for (const scan of scans) {
        // PostgreSQL's EXPLAIN of the query with its parameters bound: payments read through the index, never in full.
        const explained = await database.db.executeQuery<{ 'QUERY PLAN': string }>(CompiledQuery.raw(`explain ${scan.sql}`, [...scan.parameters]));
        const text = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
        // (the pending late captures' refunds may be read through the pending refunds' index, 0006)
        expect(text, scan.sql).toMatch(/Index Scan using payments_(late_captures|pending_refunds) on payments/);
        expect(text, scan.sql).not.toMatch(/Seq Scan on payments/);
      }
      const index = await sql<{ indexdef: string }>`select indexdef from pg_indexes where indexname = 'payments_late_captures'`.execute(database.db);
      expect(index.rows.map((r) => r.indexdef)).toEqual([
        "CREATE INDEX payments_late_captures ON public.payments USING btree (order_id) WHERE (((status)::text = 'LATE_CAPTURED'::text) OR ((command_id)::text ~~ 'late-capture:%'::text))",
      ]);
    } finally {
      await database.close();
      await pgDb.drop();
    }
  });
});
