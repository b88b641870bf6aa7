import type { Kysely, Migration } from 'kysely';
import { kyselyObserver } from '@archbench/observability/database';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import type { Env, ServiceName } from '../env';
import type { Observability } from './service-app';

const SPECIFIC = {
  inventory: 'DATABASE_URL_INVENTORY',
  orders: 'DATABASE_URL_ORDERS',
  payments: 'DATABASE_URL_PAYMENTS',
  shipping: 'DATABASE_URL_SHIPPING',
} as const satisfies Record<ServiceName, keyof Env>;

/**
 * Where a service keeps its data: DATABASE_URL_<SERVICE> when set; else, when DATABASE_URL is
 * set, a database named `<its name>_<service>` on the same server (created when missing); else
 * undefined, meaning the SQLite file `<service>.db` in DATA_DIR.
 * @example await databaseUrlFor(env, 'orders') // 'postgres://postgres@127.0.0.1:5432/archbench_orders'
 */
async function databaseUrlFor(env: Env, service: ServiceName): Promise<string | undefined> {
  const specific = env[SPECIFIC[service]];
  if (specific) return specific;
  if (!env.DATABASE_URL) return undefined;
  const url = new URL(env.DATABASE_URL);
  const name = `${decodeURIComponent(url.pathname.slice(1)) || 'archbench'}_${service}`;
  await ensurePostgresDatabase(env.DATABASE_URL, name);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Creates a PostgreSQL database unless it exists (connecting to the server's `postgres` database). */
export async function ensurePostgresDatabase(serverUrl: string, name: string): Promise<void> {
  if (!/^[\w-]{1,63}$/.test(name)) throw new Error(`database name ${JSON.stringify(name)} is not allowed (letters, digits, _ and -, at most 63)`);
  const admin = new URL(serverUrl);
  admin.pathname = '/postgres';
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await client.query(`create database "${name}"`).catch((error: { code?: string }) => {
        // Created concurrently (replicas starting together): 42P04 once the other committed,
        // 23505 on pg_database's unique name index while it was still committing.
        if (error.code !== '42P04' && error.code !== '23505') throw error;
      });
    }
  } finally {
    await client.end();
  }
}

/** Opens a service's own database and brings its schema up to date. */
export async function openServiceDatabase<T>(env: Env, service: ServiceName, migrations: Record<string, Migration>): Promise<Database<T>> {
  const database = openDatabase<T>({
    databaseUrl: await databaseUrlFor(env, service),
    dataDir: env.DATA_DIR,
    fileName: `${service}.db`,
    lockingMode: env.SQLITE_LOCKING_MODE,
  });
  await migrate(database.db, migrations);
  return database;
}

/**
 * The instance services query through: every query gets a span and a histogram sample when
 * tracing or metrics are on (as in the monolith, so both topologies pay the same), else the plain one.
 */
export function observedDb<T>(db: Kysely<T>, obs: Pick<Observability, 'tracing' | 'metrics'>, dialect: 'sqlite' | 'postgres'): Kysely<T> {
  if (!obs.tracing?.enabled && !obs.metrics) return db;
  return db.withPlugin(kyselyObserver({ tracing: obs.tracing, metrics: obs.metrics, system: dialect === 'postgres' ? 'postgresql' : 'sqlite' }));
}
