import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import type { Env } from '../env';
import { migrations } from './migrations';
import type { Tables } from './schema';

export { migrations };
export type { Tables };

/** Opens the monolith's database (SQLite file or PostgreSQL) and brings its schema up to date. */
export async function openMonolithDatabase(env: Pick<Env, 'DATABASE_URL' | 'DATA_DIR'>): Promise<Database<Tables>> {
  const database = openDatabase<Tables>({ databaseUrl: env.DATABASE_URL, dataDir: env.DATA_DIR, fileName: 'monolith.db' });
  await migrate(database.db, migrations);
  return database;
}
