import type { Kysely, Migration } from 'kysely';
import { SqliteAdapter, sql } from 'kysely';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';

/** The orders service's own database: orders, idempotency keys, saga state and the outbox. */
export interface OrdersTables {
  orders: {
    id: string;
    customer_id: string;
    status: string;
    total_cents: number;
    currency: string;
    payment_token: string;
    payment_status: string;
    rejection_reason: string | null;
    created_at: string;
    updated_at: string;
  };
  order_items: { order_id: string; sku: string; quantity: number; unit_price_cents: number };
  idempotency_keys: { customer_id: string; key: string; request_hash: string; order_id: string; created_at: string };
  /** One saga per order id; `state` says which step runs next (the states and moves are SAGA_TRANSITIONS in saga.ts). */
  sagas: {
    order_id: string;
    customer_id: string;
    state: string;
    /** The requested items (JSON), needed to reserve before any order row exists. */
    items: string;
    payment_token: string;
    total_cents: number | null;
    /** Outcome of the charge once known (drives REJECTED's payment status and reason). */
    charge_outcome: string | null;
    created_at: string;
    updated_at: string;
    /**
     * When payments announced a late capture of this order and its refund (LateCaptureRefunded,
     * 0004): the order, once REJECTED, shows its payment REFUNDED, whichever of the saga's
     * rejection and the event comes first.
     */
    late_refund_at: string | null;
  };
  /** Transactional outbox: events written with the change that caused them, sent by the relay. */
  outbox: {
    id: string;
    type: string;
    payload: string;
    /** Trace context of the change (JSON), so delivery joins the order's trace. */ headers: string;
    created_at: string;
    published_at: string | null;
  };
}

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
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
        .createTable('sagas')
        .addColumn('order_id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('customer_id', 'varchar(200)', (c) => c.notNull())
        .addColumn('state', 'varchar(20)', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('payment_token', 'varchar(40)', (c) => c.notNull())
        .addColumn('total_cents', 'bigint')
        .addColumn('charge_outcome', 'varchar(20)')
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sagas_state').on('sagas').columns(['state']).execute();
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(40)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('published_at', 'varchar(30)')
        .execute();
      await db.schema.createIndex('outbox_unpublished').on('outbox').columns(['published_at', 'id']).execute();
    },
  },
  '0002_sqlite_tables_keyed_by_id': {
    // As the monolith's migrations 0002 and 0004: every order inserts into (and mostly updates)
    // these tables by their text keys; a SQLite table keyed by text is a rowid b-tree plus a
    // primary-key index, WITHOUT ROWID keeps the rows in the primary key's b-tree, one b-tree
    // fewer written per change. order_items references orders (the foreign key check is off while
    // they are rebuilt, and run over every row before the commit). PostgreSQL: nothing to do.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['orders', 'order_items', 'idempotency_keys', 'sagas', 'outbox']);
    },
  },
  '0003_outbox_unpublished_only': {
    // The relay reads unpublished events in id order (published_at is null order by id); nothing
    // reads published ones through an index. An index of the unpublished ones only gets an entry
    // per event, removed when it is published, instead of keeping every event forever (SQLite and
    // PostgreSQL). sagas_state stays an index of every state: the sweeper's query binds the active
    // states as parameters (state in (?, ...)), which SQLite cannot match against a partial index's
    // `state in ('PAYING', ...)` (EXPLAIN QUERY PLAN: it reads the primary key instead).
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('outbox_unpublished').execute();
      await db.schema.createIndex('outbox_unsent').on('outbox').column('id').where(sql.ref('published_at'), 'is', null).execute();
    },
  },
  '0004_saga_late_refund': {
    // Payments tells the orders service of a late capture's refund (LateCaptureRefunded); it may
    // arrive before the saga rejected the order, so it is kept on the saga (see late_refund_at).
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('sagas').addColumn('late_refund_at', 'varchar(30)').execute();
    },
  },
};
