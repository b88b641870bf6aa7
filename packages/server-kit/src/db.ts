import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Migration } from 'kysely';
import { Migrator } from 'kysely';
import type { Pool } from 'pg';
import { GroupCommitSqliteDialect } from './sqlite-group-commit';
import type { BaseEnv } from './env';
import type { GroupCommitStats, SqliteHandle } from './sqlite-group-commit';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseOptions {
  /** PostgreSQL connection string; when absent a SQLite file in `dataDir` is used. */
  databaseUrl?: string;
  dataDir: string;
  /** SQLite file name inside dataDir, e.g. `monolith.db`. */
  fileName: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** Told when an idle PostgreSQL connection is lost (the pool replaces it). */
  onIdleClientError?: (error: Error) => void;
  /**
   * SQLite's locking mode (`SQLITE_LOCKING_MODE`). `exclusive` (default): this process holds the
   * file's lock from open to close, so no other process can open it, and no query takes or drops
   * a file lock (two `fcntl` system calls per read transaction, more per write, saved). `normal`:
   * other processes (the `sqlite3` shell, a backup) may read the file while the server runs.
   */
  lockingMode?: SqliteLockingMode;
}

/** `SQLITE_LOCKING_MODE`, as the base server env parses it. */
export type SqliteLockingMode = BaseEnv['SQLITE_LOCKING_MODE'];

/** How long a connection waits for a lock another connection holds. */
const BUSY_TIMEOUT_MS = 5000;

export interface Database<DB> {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Where the data lives, for logs (`file:...` or the URL without password). */
  location: string;
  /** SQLite only: transactions committed and the COMMITs they shared (group commit). */
  commitStats?: Readonly<GroupCommitStats>;
  close(): Promise<void>;
}

/**
 * Throws a clear error where better-sqlite3 cannot run: its binary is built for Node-API 10, which
 * Node has since 22.14, and on an older Node the first `new Database()` kills the process with a
 * segmentation fault instead of an error.
 */
export function assertSqliteRuntime(versions: { node: string; napi?: string } = process.versions): void {
  if (Number(versions.napi) >= 10) return;
  throw new Error(
    `SQLite (better-sqlite3) needs Node.js >= 22.14 (Node-API 10); this is Node ${versions.node} (Node-API ${versions.napi ?? 'none'}). ` +
      'Run it on Node.js 24 LTS: `. scripts/node24.sh` fetches it into ~/.cache/archbench and puts it first on PATH.',
  );
}

/**
 * Opens the database of a server: better-sqlite3 in WAL mode by default, PostgreSQL when a URL is
 * given. Every query goes through Kysely, so queries are parameterised and dialect-neutral.
 * @example const { db } = openDatabase<Tables>({ dataDir: 'data', fileName: 'monolith.db' })
 */
export function openDatabase<DB>(options: DatabaseOptions): Database<DB> {
  if (options.databaseUrl) {
    const { databaseUrl, poolSize, onIdleClientError } = options;
    // pg is loaded when the first query needs the pool: a SQLite server never loads it (1.3 MB of heap).
    const pool = async (): Promise<Pool> => {
      const { default: pg } = await import('pg');
      const created = new pg.Pool({ connectionString: databaseUrl, max: poolSize ?? 10 });
      // An idle client that loses its connection (server restart, terminated backend) is dropped
      // from the pool and emits 'error' here; unhandled, that would crash the process. The next
      // query simply takes a fresh client, and a real outage shows up in that query and /ready.
      created.on('error', (error) => onIdleClientError?.(error));
      return created;
    };
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    const url = new URL(databaseUrl);
    url.password = '';
    return { db, dialect: 'postgres', location: url.toString(), close: () => db.destroy() };
  }
  assertSqliteRuntime();
  mkdirSync(options.dataDir, { recursive: true });
  const file = join(options.dataDir, options.fileName);
  const lockingMode = options.lockingMode ?? 'exclusive';
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  // Before the first WAL access: in exclusive mode WAL keeps its index in this process's memory
  // instead of a shared-memory file, and no transaction locks or unlocks the file.
  sqlite.pragma(`locking_mode = ${lockingMode.toUpperCase()}`);
  try {
    sqlite.pragma('journal_mode = WAL');
  } catch (error) {
    sqlite.close();
    if (!String((error as { code?: unknown }).code).startsWith('SQLITE_BUSY')) throw error;
    throw new Error(
      `${file} is held by another process (waited ${BUSY_TIMEOUT_MS / 1000} s): another server on this DATA_DIR, or the sqlite3 shell or a backup tool. ` +
        `This one opens it in SQLITE_LOCKING_MODE=${lockingMode}; a server in the default (exclusive) mode holds its file alone. ` +
        'Stop the other process or give each server its own DATA_DIR; to share the file, set SQLITE_LOCKING_MODE=normal on the server.',
      { cause: error },
    );
  }
  // An exclusive connection builds its WAL index from the WAL file at open. With no commit in the
  // WAL yet (a database reopened: closing checkpoints and removes it), the index does not know the
  // database's size, and SQLite asks the file system (fstat) at the start of every read
  // transaction until the first write: a system call on each GET of a server that has only read
  // since it started (a point query took 2.4 µs with it and 1.4 µs without, ADR 0010). Rewriting
  // user_version with its own value commits one frame, and reads stop asking.
  if (lockingMode === 'exclusive') sqlite.pragma(`user_version = ${Number(sqlite.pragma('user_version', { simple: true }))}`);
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  // Savepoint journals in memory. An exclusive connection keeps a journal that once spilled to a
  // temporary file open for good, and every later savepoint then writes it page by page: about 30
  // pwrite calls per order (strace) and POST /orders 40 % slower, until this. It also keeps sorts
  // in memory (CREATE INDEX, ORDER BY without an index): a migration that indexes a large table
  // takes memory outside V8's heap for it (about 55 MB more for a 110 MB table, measured).
  sqlite.pragma('temp_store = MEMORY');
  // Transactions that arrive together share one COMMIT (see sqlite-group-commit.ts).
  const dialect = new GroupCommitSqliteDialect(withStatementCache(sqlite));
  const db = new Kysely<DB>({ dialect });
  return { db, dialect: 'sqlite', location: `file:${file}`, commitStats: dialect.driver.stats, close: () => db.destroy() };
}

/**
 * Kysely's SQLite driver prepares every query afresh, and preparing costs more than running a
 * point query. Statements are reusable, so keep them by SQL text (bounded: `in (...)` lists of
 * many lengths would otherwise grow the cache without end).
 */
function withStatementCache(sqlite: BetterSqlite3.Database, maxEntries = 1000): SqliteHandle {
  const cache = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => sqlite.close(),
    get inTransaction() {
      return sqlite.inTransaction;
    },
    prepare(sqlText: string) {
      let statement = cache.get(sqlText);
      if (!statement) {
        if (cache.size >= maxEntries) cache.clear();
        statement = sqlite.prepare(sqlText);
        cache.set(sqlText, statement);
      }
      return statement;
    },
  };
}

/** Runs migrations given in code (name → migration), in name order; throws on failure. */
export async function migrate<DB>(db: Kysely<DB>, migrations: Record<string, Migration>): Promise<void> {
  const migrator = new Migrator({ db: db as Kysely<unknown>, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`migration ${failed ?? ''} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/** True when the database answers a trivial query (for readiness). */
export async function ping<DB>(db: Kysely<DB>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}

/** Postgres error code for unique violations, and SQLite's equivalent, normalised. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: string } | null;
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
