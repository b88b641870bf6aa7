import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db';
import type { Database, SqliteLockingMode } from './db';

interface Tables {
  orders: { id: number; note: string };
  lines: { order_id: number; sku: string };
}

const dirs: string[] = [];
const open: Array<Database<Tables>> = [];

/**
 * A fresh database. Shared locking by default, so that committedIds can look at the file from a
 * second connection while the first is open; the servers' exclusive mode has its own test below.
 */
async function fresh(lockingMode: SqliteLockingMode = 'normal'): Promise<{ database: Database<Tables>; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-group-commit-'));
  dirs.push(dir);
  const database = openDatabase<Tables>({ dataDir: dir, fileName: 'test.db', lockingMode });
  open.push(database);
  await sql`create table orders (id integer primary key, note text not null)`.execute(database.db);
  // A deferred foreign key is checked at COMMIT: the one way to make a COMMIT itself fail here.
  await sql`create table lines (order_id integer not null references orders (id) deferrable initially deferred, sku text not null)`.execute(database.db);
  return { database, file: join(dir, 'test.db') };
}

/** What another connection (another process, a backup tool) sees in the file: committed rows only. */
function committedIds(file: string): number[] {
  const reader = new BetterSqlite3(file, { readonly: true });
  try {
    return (reader.prepare('select id from orders order by id').all() as Array<{ id: number }>).map((row) => row.id);
  } finally {
    reader.close();
  }
}

afterEach(async () => {
  for (const database of open.splice(0)) await database.close().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite group commit', () => {
  it('commits transactions that arrive together with fewer COMMITs, each durable when it resolves', async () => {
    const { database, file } = await fresh();
    const before = { ...database.commitStats! };
    const ids = Array.from({ length: 40 }, (_, i) => i + 1);
    await Promise.all(
      ids.map((id) =>
        database.db.transaction().execute(async (trx) => {
          await trx
            .insertInto('orders')
            .values({ id, note: `order ${id}` })
            .execute();
          await trx.insertInto('lines').values({ order_id: id, sku: 'SKU-0001' }).execute();
        }),
      ),
    );
    const transactions = database.commitStats!.transactions - before.transactions;
    const commits = database.commitStats!.commits - before.commits;
    expect(transactions).toBe(40);
    expect(commits).toBeGreaterThanOrEqual(1);
    expect(commits).toBeLessThan(transactions);
    expect(committedIds(file)).toEqual(ids);
  });

  it("groups and rolls back the same on an exclusive connection (the servers' default); what it committed is in the file after close", async () => {
    const { database, file } = await fresh('exclusive');
    const before = { ...database.commitStats! };
    const ids = Array.from({ length: 20 }, (_, i) => i + 1);
    const results = await Promise.allSettled(
      ids.map((id) =>
        database.db.transaction().execute(async (trx) => {
          await trx.insertInto('orders').values({ id, note: 'x' }).execute();
          if (id === 7) throw new Error('business rule says no');
        }),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toHaveLength(1);
    expect(database.commitStats!.commits - before.commits).toBeLessThan(database.commitStats!.transactions - before.transactions);
    await database.close();
    expect(committedIds(file)).toEqual(ids.filter((id) => id !== 7));
  });

  it('a transaction resolves only after its COMMIT: another connection sees its row by then', async () => {
    const { database, file } = await fresh();
    const seen = new Map<number, number[]>();
    await Promise.all(
      [1, 2, 3].map((id) =>
        database.db
          .transaction()
          .execute((trx) => trx.insertInto('orders').values({ id, note: 'x' }).execute())
          .then(() => seen.set(id, committedIds(file))),
      ),
    );
    for (const id of [1, 2, 3]) expect(seen.get(id)).toContain(id);
  });

  it('rolls back only the transaction that failed; the others of its group are kept', async () => {
    const { database, file } = await fresh();
    const results = await Promise.allSettled(
      [1, 2, 3, 4].map((id) =>
        database.db.transaction().execute(async (trx) => {
          await trx.insertInto('orders').values({ id, note: 'x' }).execute();
          if (id === 2) throw new Error('business rule says no');
          // A constraint error inside the transaction, as a duplicate key would give.
          if (id === 3) await trx.insertInto('orders').values({ id: 1, note: 'duplicate' }).execute();
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(committedIds(file)).toEqual([1, 4]);
  });

  it('a statement outside a transaction never reads uncommitted work, and commits on its own', async () => {
    const { database, file } = await fresh();
    const pending = database.db.transaction().execute((trx) => trx.insertInto('orders').values({ id: 7, note: 'x' }).execute());
    // Issued while the transaction waits for its group COMMIT: it commits that group first.
    const rows = await database.db.selectFrom('orders').select('id').execute();
    expect(rows.map((row) => row.id)).toEqual([7]);
    expect(committedIds(file)).toEqual([7]);
    await pending;
    await database.db.insertInto('orders').values({ id: 8, note: 'autocommit' }).execute();
    expect(committedIds(file)).toEqual([7, 8]);
  });

  it('when the group COMMIT fails, every transaction of the group rejects and none is kept', async () => {
    const { database, file } = await fresh();
    await database.db.insertInto('orders').values({ id: 1, note: 'committed before' }).execute();
    const results = await Promise.allSettled([
      database.db.transaction().execute((trx) => trx.insertInto('orders').values({ id: 2, note: 'x' }).execute()),
      // Violates the deferred foreign key: only the COMMIT finds out.
      database.db.transaction().execute((trx) => trx.insertInto('lines').values({ order_id: 999, sku: 'SKU-0001' }).execute()),
      database.db.transaction().execute((trx) => trx.insertInto('orders').values({ id: 3, note: 'x' }).execute()),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/i);
    expect(committedIds(file)).toEqual([1]);
    // The connection is usable afterwards.
    await database.db.transaction().execute((trx) => trx.insertInto('orders').values({ id: 4, note: 'after' }).execute());
    expect(committedIds(file)).toEqual([1, 4]);
  });

  it('closing commits the transactions still waiting for their group', async () => {
    const { database, file } = await fresh();
    const pending = database.db.transaction().execute((trx) => trx.insertInto('orders').values({ id: 5, note: 'x' }).execute());
    await database.close();
    await pending;
    expect(committedIds(file)).toEqual([5]);
  });

  it('reuses its connection objects: 300 transactions, in turn and together, see a handful', async () => {
    const { database, file } = await fresh();
    const seen = new Set<unknown>();
    const order = (id: number) =>
      database.db.transaction().execute(async (trx) => {
        seen.add(await trx.getExecutor().provideConnection(async (connection) => connection));
        await trx.insertInto('orders').values({ id, note: 'reused' }).execute();
      });
    for (let id = 1; id <= 100; id++) await order(id);
    for (let batch = 0; batch < 10; batch++) await Promise.all(Array.from({ length: 20 }, (_, i) => order(101 + batch * 20 + i)));
    // Kysely adds every new connection object to a weak set: one per transaction was a young key in
    // a weak table each time, for the GC to clear. Reused, the 300 transactions share a few.
    expect(seen.size).toBeLessThanOrEqual(21);
    expect(committedIds(file)).toHaveLength(300);
  });

  it('controlled transactions: savepoints inside, commit and rollback', async () => {
    const { database, file } = await fresh();
    const trx = await database.db.startTransaction().execute();
    await trx.insertInto('orders').values({ id: 1, note: 'outer' }).execute();
    const inner = await trx.savepoint('inner').execute();
    await inner.insertInto('orders').values({ id: 2, note: 'inner' }).execute();
    await inner.rollbackToSavepoint('inner').execute();
    await trx.commit().execute();
    const dropped = await database.db.startTransaction().execute();
    await dropped.insertInto('orders').values({ id: 3, note: 'dropped' }).execute();
    await dropped.rollback().execute();
    expect(committedIds(file)).toEqual([1]);
  });
});
