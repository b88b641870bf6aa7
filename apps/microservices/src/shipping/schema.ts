import type { Kysely, Migration } from 'kysely';
import { SqliteAdapter } from 'kysely';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';

/** The shipping service's own database. */
export interface ShippingTables {
  shipments: { id: string; order_id: string; status: string; created_at: string };
  /** Inbox: ids of events already applied, written in the same transaction as their effect. */
  inbox: { event_id: string; type: string; received_at: string };
}

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('shipments')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull().unique())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('inbox')
        .addColumn('event_id', 'varchar(60)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(40)', (c) => c.notNull())
        .addColumn('received_at', 'varchar(30)', (c) => c.notNull())
        .execute();
    },
  },
  '0002_sqlite_tables_keyed_by_id': {
    // As the monolith's 0002: every shipment event inserts an inbox row and a shipment (or updates
    // it), both keyed by text; on SQLite, WITHOUT ROWID keeps the rows in the primary key's b-tree
    // instead of a rowid table plus a primary-key index. PostgreSQL: nothing to do.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['shipments', 'inbox']);
    },
  },
};
