import { SelectQueryNode, SqliteDialect } from 'kysely';
import type { CompiledQuery, DialectAdapter, QueryExecutor } from 'kysely';
import type { DatabaseConnection, Driver, QueryResult, TransactionSettings } from 'kysely';

/** What the driver needs of a better-sqlite3 database (the statement cache in db.ts provides it). */
export interface SqliteHandle {
  prepare(sql: string): {
    reader: boolean;
    all(parameters: readonly unknown[]): unknown[];
    run(parameters: readonly unknown[]): { changes: number; lastInsertRowid: number | bigint };
    iterate(parameters: readonly unknown[]): IterableIterator<unknown>;
  };
  /** True while a transaction is open on the connection (better-sqlite3's `inTransaction`). */
  readonly inTransaction: boolean;
  close(): void;
}

/** Counters of the commits the driver made, for tests and benchmarks. */
export interface GroupCommitStats {
  /** Transactions (Kysely `transaction()` calls) committed. */
  transactions: number;
  /** COMMIT statements issued: fewer than `transactions` when several shared one. */
  commits: number;
}

const UNIT = 'archbench_unit';

const quoteName = (name: string) => `"${name.replaceAll('"', '""')}"`;

/**
 * One turn on the single SQLite connection. The driver reuses leases once Kysely has released
 * them (see GroupCommitSqliteDriver.#spare); `turn` tells one acquisition from every other.
 */
class Lease implements DatabaseConnection {
  released = false;
  /** The driver's count of acquisitions when this one was made: a transaction remembers it. */
  turn = 0;
  /** In the driver's spare list (a second release must not list it twice). */
  spare = false;
  constructor(private readonly driver: GroupCommitSqliteDriver) {}
  executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(this.driver.run<R>(query));
  }
  streamQuery<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    return this.driver.stream<R>(query);
  }
}

/** A FIFO lock: the connection is handed on in the order it was asked for. */
class FifoLock {
  #held = false;
  readonly #queue: Array<() => void> = [];
  get held(): boolean {
    return this.#held;
  }
  lock(): Promise<void> {
    if (!this.#held) {
      this.#held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }
  unlock(): void {
    const next = this.#queue.shift();
    if (next) next();
    else this.#held = false;
  }
}

interface Waiter {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit for the one SQLite connection of a server. A commit costs far more than the
 * statements of a small transaction (every dirty page is written to the WAL, two syscalls a
 * page), and SQLite runs one transaction at a time anyway; so transactions that arrive while
 * others run are grouped: each runs as a savepoint inside one open SQLite transaction, and one
 * COMMIT, issued once no other transaction is waiting for the connection, makes them all durable.
 *
 * What callers see does not change:
 * - `transaction().execute()` resolves only after the COMMIT that contains it succeeded; when that
 *   COMMIT fails, every transaction of the group rejects with its error and none of them is kept.
 * - A transaction that throws is rolled back to its savepoint; the others of the group stay.
 * - A statement outside a transaction first commits the open group, so it never runs inside (or
 *   reads) work that is not committed, and it commits on its own as before.
 * - Inside a transaction, reads see the transactions before it in the group, as they would after
 *   their commits in a serial run; all of them commit or fail together.
 */
class GroupCommitSqliteDriver implements Driver {
  readonly #db: SqliteHandle;
  readonly #lock = new FifoLock();
  readonly #waiters: Waiter[] = [];
  /** A SQLite transaction is open, holding released savepoints not yet committed. */
  #open = false;
  /** A Kysely transaction is running on the connection (its savepoint is open). */
  #inUnit = false;
  /** The lease of the Kysely transaction running now (set while `#inUnit`). */
  #unitLease: Lease | undefined;
  #flushScheduled = false;
  /**
   * Leases Kysely has released, for the next acquisitions. Kysely remembers every connection a
   * driver hands out in a WeakSet; a new lease per transaction was a young key added to that weak
   * table each time, which every scavenge then had to clear (about 1 % of an order's CPU in
   * V8's ephemeron code). A few leases reused stay old and known.
   */
  readonly #spare: Lease[] = [];
  /** Acquisitions so far: each gets its own turn number, whichever lease it reuses. */
  #turns = 0;
  readonly stats: GroupCommitStats = { transactions: 0, commits: 0 };

  constructor(db: SqliteHandle) {
    this.#db = db;
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#lock.lock();
    const lease = this.#spare.pop() ?? new Lease(this);
    lease.spare = false;
    lease.released = false;
    lease.turn = ++this.#turns;
    return lease;
  }

  /** Kysely's release, once per acquisition and last: the lease is free for the next one. */
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const lease = connection as Lease;
    this.#unlock(lease);
    if (!lease.spare && this.#spare.length < SPARE_LEASES) {
      lease.spare = true;
      this.#spare.push(lease);
    }
  }

  /** Hands the connection on (once per acquisition: a committed transaction's lease is unlocked early). */
  #unlock(lease: Lease): void {
    if (lease.released) return;
    lease.released = true;
    this.#lock.unlock();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    if (settings.isolationLevel || settings.accessMode) throw new Error('SQLite transactions are serializable; isolation level and access mode cannot be set');
    if (!this.#open) {
      this.#exec('begin');
      this.#open = true;
    }
    this.#exec(`savepoint ${UNIT}`);
    this.#inUnit = true;
    this.#unitLease = connection as Lease;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    this.#exec(`release ${UNIT}`);
    this.#inUnit = false;
    this.#unitLease = undefined;
    this.stats.transactions++;
    const done = new Promise<void>((resolve, reject) => this.#waiters.push({ resolve, reject }));
    // Hand the connection on now: the next transaction joins this group while we wait for its COMMIT.
    this.#unlock(connection as Lease);
    this.#scheduleFlush();
    return done;
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // Already handed on: the group COMMIT failed and rolled back everything; nothing to undo here.
    if ((connection as Lease).released) return;
    this.#inUnit = false;
    this.#unitLease = undefined;
    if (!this.#db.inTransaction) {
      // SQLite rolled the whole transaction back by itself (disk full, I/O error): the group is gone.
      this.#failGroup(new Error('SQLite rolled back the open transaction after an error; its transactions were not committed'));
      return;
    }
    this.#exec(`rollback to ${UNIT}`);
    this.#exec(`release ${UNIT}`);
  }

  async savepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#exec(`savepoint ${quoteName(name)}`);
  }

  async rollbackToSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#exec(`rollback to ${quoteName(name)}`);
  }

  async releaseSavepoint(_connection: DatabaseConnection, name: string): Promise<void> {
    this.#exec(`release ${quoteName(name)}`);
  }

  /** Commits what is pending, then closes the database. */
  async destroy(): Promise<void> {
    await this.#lock.lock();
    try {
      this.#flush();
    } finally {
      this.#db.close();
    }
  }

  /** Runs one statement on the connection (the caller holds the lock). */
  run<R>(query: CompiledQuery): QueryResult<R> {
    if (!this.#inUnit) this.#flush();
    const statement = this.#db.prepare(query.sql);
    if (statement.reader) return { rows: statement.all(query.parameters) as R[] };
    const { changes, lastInsertRowid } = statement.run(query.parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  }

  /**
   * Runs a query now, without waiting for the connection, when that is what the lock would give:
   * inside the transaction that holds the connection on `turn`, or, with no turn, when nobody
   * holds the connection. Undefined when the query must wait its turn (the caller then goes
   * through Kysely).
   */
  tryRun<R>(query: CompiledQuery, turn: number | undefined): QueryResult<R> | undefined {
    const unit = this.#unitLease;
    if (turn === undefined ? this.#lock.held : unit === undefined || unit.released || unit.turn !== turn) return undefined;
    return this.run<R>(query);
  }

  async *stream<R>(query: CompiledQuery): AsyncIterableIterator<QueryResult<R>> {
    if (!SelectQueryNode.is(query.query)) throw new Error('the SQLite driver streams select queries only');
    if (!this.#inUnit) this.#flush();
    for (const row of this.#db.prepare(query.sql).iterate(query.parameters)) yield { rows: [row as R] };
  }

  #exec(sql: string): void {
    this.#db.prepare(sql).run([]);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // After the I/O callbacks of this turn, so the requests that arrived with this one can join.
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.#lock.lock().then(() => {
        try {
          this.#flush();
        } finally {
          this.#lock.unlock();
        }
      });
    });
  }

  /** COMMITs the open group and settles its waiters (the caller holds the lock). */
  #flush(): void {
    if (!this.#open) return;
    const waiters = this.#waiters.splice(0);
    try {
      this.#exec('commit');
    } catch (error) {
      this.#waiters.unshift(...waiters);
      this.#failGroup(error);
      return;
    }
    this.#open = false;
    this.stats.commits++;
    for (const waiter of waiters) waiter.resolve();
  }

  #failGroup(error: unknown): void {
    if (this.#db.inTransaction) this.#exec('rollback');
    this.#open = false;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(error);
  }
}

/** The group-commit driver behind each adapter our dialect made (Kysely shares one adapter per database). */
const drivers = new WeakMap<DialectAdapter, GroupCommitSqliteDriver>();
/**
 * Where a transaction's executor keeps the turn of the lease it runs on, learnt on its first
 * direct query. On the executor itself rather than in a WeakMap: an executor per transaction
 * would be one more young key in a weak table per transaction (see #spare).
 */
const TURN = Symbol('archbench.lease.turn');
type TurnCarrier = QueryExecutor & { [TURN]?: number };

/** Leases a driver keeps for reuse: more than the transactions waiting on one group commit is rare. */
const SPARE_LEASES = 64;

/** Kysely's SQLite dialect with the group-commit driver. */
export class GroupCommitSqliteDialect extends SqliteDialect {
  readonly driver: GroupCommitSqliteDriver;
  constructor(db: SqliteHandle) {
    super({ database: db });
    this.driver = new GroupCommitSqliteDriver(db);
  }
  override createDriver(): Driver {
    return this.driver;
  }
  override createAdapter(): DialectAdapter {
    const adapter = super.createAdapter();
    drivers.set(adapter, this.driver);
    return adapter;
  }
}

/**
 * Runs a compiled query on the group-commit SQLite connection directly when it can: better-sqlite3
 * is synchronous, and Kysely's way to a connection (a connection provider, an executor and a few
 * promises per query, per layer) cost more than a point query itself and made most of the
 * garbage of a request. Inside a transaction the query runs at once on the transaction's
 * connection; outside one it runs at once when nobody holds the connection. Plugins see it as
 * Kysely shows them a query (the caller has called `transformQuery`; here `transformResult`).
 * Undefined when the executor is not on this driver: the caller runs the query through Kysely.
 */
export function executeDirect<R>(executor: QueryExecutor, query: CompiledQuery, inTransaction: boolean): Promise<QueryResult<R>> | undefined {
  const driver = drivers.get(executor.adapter);
  if (driver === undefined) return undefined;
  if (!inTransaction) return finish(executor, query, driver.tryRun<R>(query, undefined));
  const turn = (executor as TurnCarrier)[TURN];
  return turn === undefined ? learnTurnAndRun<R>(driver, executor, query) : finish(executor, query, driver.tryRun<R>(query, turn));
}

/** The first direct query of a transaction: Kysely's own way to its connection (which also checks it is still open), once. */
async function learnTurnAndRun<R>(driver: GroupCommitSqliteDriver, executor: TurnCarrier, query: CompiledQuery): Promise<QueryResult<R>> {
  const lease = await executor.provideConnection(async (connection) => connection as Lease);
  executor[TURN] = lease.turn;
  return finish(executor, query, driver.tryRun<R>(query, lease.turn));
}

/** Hands a direct result to the plugins, as Kysely does (no promise per layer when there is nothing to await). */
function finish<R>(executor: QueryExecutor, query: CompiledQuery, direct: QueryResult<R> | undefined): Promise<QueryResult<R>> {
  // Not run directly (the connection is busy, or the transaction is over): Kysely queues it or says why not.
  if (direct === undefined) return executor.executeQuery<R>(query);
  const plugins = executor.plugins;
  if (plugins.length === 0) return Promise.resolve(direct);
  const transform = (plugin: (typeof plugins)[number], result: QueryResult<R>) =>
    plugin.transformResult({ result: result as QueryResult<Record<string, unknown>>, queryId: query.queryId }) as Promise<QueryResult<R>>;
  if (plugins.length === 1) return transform(plugins[0]!, direct);
  return plugins.reduce((previous, plugin) => previous.then((result) => transform(plugin, result)), Promise.resolve(direct));
}
