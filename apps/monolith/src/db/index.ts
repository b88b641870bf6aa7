import type { Kysely } from 'kysely';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import type { DatabaseEnv } from '@archbench/server-kit/env';
import { migrations } from './migrations';
import type { Tables } from './schema';

export { migrations };
export type { Tables };

/** Opens the monolith's database (SQLite file or PostgreSQL) and brings its schema up to date. */
export async function openMonolithDatabase(env: DatabaseEnv): Promise<Database<Tables>> {
  const database = openDatabase<Tables>({
    databaseUrl: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    fileName: 'monolith.db',
    lockingMode: env.SQLITE_LOCKING_MODE,
  });
  await migrate(database.db, migrations);
  return database;
}

/**
 * The database as one module sees it: the same pool, typed with that module's tables only, so a
 * query on another module's table does not compile. `T` must be part of the schema.
 * @example createCatalog(forModule<CatalogTables>(db))
 */
export function forModule<T>(db: Kysely<Tables & T>): Kysely<T> {
  return db as unknown as Kysely<T>;
}
