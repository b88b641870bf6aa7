import { Migrator, SqliteAdapter, sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { ensurePostgresDatabase } from '@archbench/microservices/database';
import { migrations as monolithMigrations } from '@archbench/monolith/db';
import type { Tables } from '@archbench/monolith/db';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import { rebuildTablesWithoutRowid } from '@archbench/server-kit/sqlite-rebuild';
import type { Database } from '@archbench/server-kit/db';
import type { DatabaseEnv } from '@archbench/server-kit/env';

/** Events waiting to be handed to the shipping service (written with the change that caused them). */
export interface OutboxTable {
  id: string;
  type: string;
  order_id: string;
  payload: string;
  /** Trace context of the change, so delivery continues the order's trace. */
  headers: string;
  created_at: string;
  published_at: string | null;
}

/**
 * The core's one database holds the monolith's tables, owned by its modules (the `shipments`
 * table is the outbox ledger here, see shipping/outbox.ts), plus the hybrid's `outbox`. The
 * modules get the database typed with their tables only; the outbox code widens it.
 */
export type CoreTables = Tables & { outbox: OutboxTable };
export type { Tables };

/** The same database, typed with the outbox too (the core's full handle, or shipping's narrowed one). */
export function withOutbox<DB>(db: Kysely<DB>): Kysely<DB & { outbox: OutboxTable }> {
  return db.withTables<{ outbox: OutboxTable }>();
}

/**
 * The hybrid's own migrations, tracked in their own table so the monolith's migration list can
 * grow without the two interleaving.
 */
export const hybridMigrations: Record<string, Migration> = {
  '0001_outbox': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('outbox')
        .addColumn('id', 'varchar(40)', (c) => c.primaryKey())
        .addColumn('type', 'varchar(40)', (c) => c.notNull())
        .addColumn('order_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('created_at', 'varchar(30)', (c) => c.notNull())
        .addColumn('published_at', 'varchar(30)')
        .execute();
      await db.schema.createIndex('outbox_unpublished').on('outbox').columns(['published_at', 'id']).execute();
    },
  },
  '0002_sqlite_outbox_keyed_by_id': {
    // As the monolith's 0002 (which the core runs for its own tables): every order inserts an
    // outbox event and marks it published by its text id; on SQLite, WITHOUT ROWID keeps the rows
    // in the primary key's b-tree instead of a rowid table plus a primary-key index. PostgreSQL:
    // nothing to do.
    async up(db: Kysely<unknown>) {
      if (!(db.getExecutor().adapter instanceof SqliteAdapter)) return;
      await rebuildTablesWithoutRowid(db, ['outbox']);
    },
  },
  '0003_outbox_unpublished_only': {
    // The relay reads unpublished events in id order and counts them (backlog); nothing reads
    // published ones through an index. An index of the unpublished ones only gets an entry per
    // event, removed when it is published, instead of keeping every event forever (SQLite and
    // PostgreSQL).
    async up(db: Kysely<unknown>) {
      await db.schema.dropIndex('outbox_unpublished').execute();
      await db.schema.createIndex('outbox_unsent').on('outbox').column('id').where(sql.ref('published_at'), 'is', null).execute();
    },
  },
};

/**
 * Opens the core's database (`core.db` in DATA_DIR, or DATABASE_URL) and brings both schemas up
 * to date. A PostgreSQL database that does not exist yet is created, as the shipping service
 * creates its own.
 */
export async function openCoreDatabase(env: DatabaseEnv): Promise<Database<Tables>> {
  try {
    return await openAndMigrate(env);
  } catch (error) {
    const missing = (error as { cause?: { code?: string } }).cause?.code === '3D000' || (error as { code?: string }).code === '3D000';
    if (!env.DATABASE_URL || !missing) throw error;
    await ensurePostgresDatabase(env.DATABASE_URL, decodeURIComponent(new URL(env.DATABASE_URL).pathname.slice(1)));
    return openAndMigrate(env);
  }
}

async function openAndMigrate(env: DatabaseEnv): Promise<Database<Tables>> {
  const database = openDatabase<Tables>({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, fileName: 'core.db', lockingMode: env.SQLITE_LOCKING_MODE });
  try {
    await migrate(database.db, monolithMigrations);
    const migrator = new Migrator({
      db: database.db as Kysely<unknown>,
      provider: { getMigrations: async () => hybridMigrations },
      migrationTableName: 'hybrid_migration',
      migrationLockTableName: 'hybrid_migration_lock',
    });
    const { error } = await migrator.migrateToLatest();
    if (error) throw new Error(`hybrid migration failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  } catch (error) {
    await database.close();
    throw error;
  }
  return database;
}
