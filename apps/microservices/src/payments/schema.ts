import type { Kysely, Migration, SqlBool } from 'kysely';
import { SqliteAdapter, sql } from 'kysely';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';

/** The payments service's own database. */
export interface PaymentsTables {
  /** One charge and at most one refund per order (unique order_id + kind): at most one capture. */
  payments: {
    id: string;
    order_id: string;
    kind: string;
    /**
     * PENDING while the provider call runs; SUCCEEDED, DECLINED, FAILED or UNAVAILABLE after;
     * EXPIRED or VOIDED when refused past the saga's deadline (no call); LATE_CAPTURED for a
     * charge captured after another process had settled it FAILED (refunded by payments).
     */
    status: string;
    amount_cents: number;
    provider_ref: string | null;
    /** The command that wrote the row; `late-capture:<orderId>` on a refund payments sent of its own accord (LATE_CAPTURE_REFUND). */
    command_id: string;
    created_at: string;
    /**
     * While PENDING: the end of the lease of the process calling the provider, renewed while the
     * call runs (CALL_LEASE_MS); a lapsed lease is a dead process's call. Null on rows from before
     * 0003 (their call counts as running for ORPHAN_AFTER_MS after `created_at`) and on rows that
     * never call (EXPIRED, VOIDED).
     */
    claimed_until: string | null;
  };
  /**
   * Transactional outbox (0004), as the orders service's: events written with the change that
   * caused them, sent by the relay. One event of a type per order (unique order_id + type): a late
   * capture is announced once (LateCaptureRefunded) however many times it is found.
   */
  outbox: {
    id: string;
    order_id: string;
    type: string;
    payload: string;
    /** Trace context of the change (JSON), so delivery joins the order's trace. */
    headers: string;
    created_at: string;
    published_at: string | null;
  };
}

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('payments')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('kind', 'varchar(10)', (c) => c.notNull())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('amount_cents', 'bigint', (c) => c.notNull())
        .addColumn('provider_ref', 'varchar(60)')
        .addColumn('command_id', 'varchar(80)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addUniqueConstraint('payments_once_per_kind', ['order_id', 'kind'])
        .execute();
    },
  },
  '0002_sqlite_tables_keyed_by_id': {
    // As the monolith's 0002: a charge (and a refund) is inserted and updated by its text id; on
    // SQLite, WITHOUT ROWID keeps the rows in the primary key's b-tree instead of a rowid table
    // plus a primary-key index. PostgreSQL: nothing to do.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['payments']);
    },
  },
  '0003_call_leases': {
    // A provider call's lease (see claimed_until): two payments processes on one PostgreSQL (a
    // second replica, or the new pod of a rolling update) tell a live call from a dead one.
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('payments').addColumn('claimed_until', 'varchar(30)').execute();
    },
  },
  '0004_outbox': {
    // Events of payments' own (a late capture's refund, which no command answers: the orders service
    // must hear of it), written in the transaction that records what they announce and sent by a
    // relay. Keyed by text: WITHOUT ROWID on SQLite, as 0002 made the other tables; the relay reads
    // the unsent ones through a partial index, as the orders outbox does (its 0003).
    async up(db: Kysely<unknown>) {
      const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('type', 'varchar(40)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('published_at', 'varchar(30)')
        .addUniqueConstraint('outbox_once_per_order', ['order_id', 'type'])
        .$call((table) => (sqlite ? table.modifyEnd(sql`without rowid`) : table))
        .execute();
      await db.schema.createIndex('outbox_unsent').on('outbox').column('id').where(sql.ref('published_at'), 'is', null).execute();
    },
  },
  '0005_late_capture_index': {
    // What a payments process reads at start (resumeLateCaptureRefunds): late captures not refunded
    // or not announced yet, among every payment ever made. A partial index of the rare rows that can
    // be one (a LATE_CAPTURED charge, a refund of one: command id `late-capture:<orderId>`) answers
    // both scans without reading the table, and gets no entry when a charge or a customer's refund
    // is written. Keyed by order id, the order the unannounced scan lists them in (SQLite scanned
    // the whole table in that order otherwise). The queries repeat the predicate's terms as literals
    // (the repository's LATE_CAPTURED_LITERAL): SQLite cannot match a bound parameter against it.
    // SQLite and PostgreSQL; existing databases get it with this migration.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('payments_late_captures')
        .on('payments')
        .column('order_id')
        .where(sql<SqlBool>`status = 'LATE_CAPTURED' or command_id like 'late-capture:%'`)
        .execute();
    },
  },
  '0006_pending_refunds_index': {
    // What each scrape of /metrics reads (archbench_refund_oldest_pending_seconds): the oldest
    // refund still PENDING, a late capture's or one the saga asked for, among every payment ever
    // made. As the monolith's index of the same name: a partial index of pending refunds only,
    // keyed by created_at, answers min(created_at) from its first entry; a charge or a made
    // refund leaves it. SQLite and PostgreSQL; existing databases get it with this migration.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createIndex('payments_pending_refunds')
        .on('payments')
        .column('created_at')
        .where(sql<SqlBool>`kind = 'refund' and status = 'PENDING'`)
        .execute();
    },
  },
};
