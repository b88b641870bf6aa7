import { SqliteAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';

/** The inventory service's own database: products and reservations by order. */
export interface InventoryTables {
  products: { sku: string; name: string; price_cents: number; currency: string; stock: number };
  /** One row per order: RESERVED (stock taken) or RELEASED (given back, or refused before it was taken). */
  reservations: { order_id: string; status: string; items: string; updated_at: string };
  /** Replies to commands already handled, by command id. */
  processed_commands: { command_id: string; reply: string; created_at: string };
}

export const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('products')
        .addColumn('sku', 'varchar(20)', (c) => c.primaryKey())
        .addColumn('name', 'varchar(200)', (c) => c.notNull())
        .addColumn('price_cents', 'integer', (c) => c.notNull())
        .addColumn('currency', 'varchar(3)', (c) => c.notNull())
        .addColumn('stock', 'integer', (c) => c.notNull().check(sql.raw('stock >= 0')))
        .execute();
      await db.schema
        .createTable('reservations')
        .addColumn('order_id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('status', 'varchar(20)', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'varchar(30)', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('processed_commands')
        .addColumn('command_id', 'varchar(80)', (c) => c.primaryKey())
        .addColumn('reply', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .execute();
    },
  },
  '0002_sqlite_tables_keyed_by_id': {
    // As the monolith's 0002: every order inserts a reservation and a processed command (and
    // updates the reservation when stock is given back), keyed by text; on SQLite, WITHOUT ROWID
    // keeps the rows in the primary key's b-tree instead of a rowid table plus a primary-key index.
    // products stays a rowid table, as in the monolith: an order only updates its stock in place,
    // which writes the one table page either way. PostgreSQL: nothing to do.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['reservations', 'processed_commands']);
    },
  },
};
