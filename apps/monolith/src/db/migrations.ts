import { SqliteAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';

/** Schema migrations, run at start. Text timestamps (ISO 8601) keep SQLite and PostgreSQL alike. */
export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('products')
        .addColumn('sku', 'varchar(20)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('price_cents', 'integer', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('stock', 'integer', (c) => c.notNull().check(sqlCheck('stock >= 0')))
        .execute();
      await db.schema
        .createTable('orders')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('customer_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('total_cents', 'bigint', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('payment_token', 'varchar(40)', (c) => c.notNull())
        .addColumn('payment_status', 'varchar(20)', (c) => c.notNull())
        .addColumn('rejection_reason', 'varchar(60)')
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('orders_customer_id').on('orders').columns(['customer_id', 'id']).execute();
      await db.schema.createIndex('orders_status').on('orders').columns(['status']).execute();
      await db.schema
        .createTable('order_items')
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull().references('orders.id'))
        .addColumn('sku', 'varchar(20)', (c) => c.notNull())
        .addColumn('quantity', 'integer', (c) => c.notNull())
        .addColumn('unit_price_cents', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_items_pk', ['order_id', 'sku'])
        .execute();
      await db.schema
        .createTable('idempotency_keys')
        .addColumn('customer_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('key', 'varchar(200)', (c) => c.notNull())
        .addColumn('request_hash', 'varchar(64)', (c) => c.notNull())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addPrimaryKeyConstraint('idempotency_keys_pk', ['customer_id', 'key'])
        .execute();
      await db.schema
        .createTable('payments')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('kind', 'varchar(10)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('amount_cents', 'bigint', (c) => c.notNull())
        .addColumn('provider_ref', 'varchar(60)')
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addUniqueConstraint('payments_once_per_kind', ['order_id', 'kind'])
        .execute();
      await db.schema
        .createTable('shipments')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull().unique())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .execute();
    },
  },
  '0002_sqlite_tables_keyed_by_id': {
    // SQLite stores a table keyed by text in two b-trees, the rows by a hidden rowid and the
    // primary key as an index; WITHOUT ROWID keeps the rows in the primary key's b-tree. Every
    // order inserts into and updates these three tables by id: one b-tree fewer each means
    // fewer pages written per commit (half the WAL writes per order in the bench). PostgreSQL
    // tables are heaps either way: nothing to do there.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      // order_items references orders: the foreign key check is off while orders is rebuilt and
      // run over every row before the commit (see rebuildTablesWithoutRowid).
      await rebuildTablesWithoutRowid(db, ['orders', 'payments', 'shipments']);
    },
  },
  '0003_orders_pending_index': {
    // The deadline sweeper and resume() look up PENDING orders by age; nothing reads the other
    // statuses through an index (resume's CONFIRMED and CANCELLED passes read them once at start).
    // An index of PENDING orders only gets one entry per order, removed when it settles, instead
    // of an entry per status it passes through.
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('orders_status').execute();
      await db.schema.createIndex('orders_pending').on('orders').column('created_at').where(sql.ref('status'), '=', 'PENDING').execute();
    },
  },
  '0004_sqlite_items_and_keys_keyed': {
    // As 0002 for the two other tables every order inserts into, keyed by text pairs (order and
    // sku; customer and idempotency key): the rows in the primary key's b-tree, one b-tree fewer
    // per insert. The microservices' orders service does the same to its copies of these tables.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['order_items', 'idempotency_keys']);
    },
  },
  '0005_refund_claims': {
    // A refund is claimed before its provider call (`claimed_until`), so two processes (or a cancel
    // beside startup recovery) never refund one order twice, and one the provider failed stays
    // PENDING to be tried again. The deadline sweeper looks for those every pass: an index of
    // PENDING refunds only.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('payments').addColumn('claimed_until', 'varchar(30)').execute();
      await db.schema
        .createIndex('payments_pending_refunds')
        .on('payments')
        .column('created_at')
        .where(sql<boolean>`kind = 'refund' and status = 'PENDING'`)
        .execute();
    },
  },
};

function sqlCheck(expression: string) {
  return sql.raw(expression);
}
