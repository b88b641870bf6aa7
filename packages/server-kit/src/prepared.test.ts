import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Kysely, KyselyPlugin } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from './db';
import type { Database } from './db';
import { prepareQuery } from './prepared';
import { createTestDatabase, postgresReachable, shouldSkip } from './testing';

interface Tables {
  items: { sku: string; stock: number };
}

/** Counts what plugins are shown: prepared runs must look like freshly built queries to them. */
function countingPlugin(seen: string[]): KyselyPlugin {
  return {
    transformQuery: (args) => {
      seen.push(args.node.kind);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
}

async function exercise(database: Database<Tables>) {
  const raw = database.db;
  await raw.schema
    .createTable('items')
    .addColumn('sku', 'varchar(20)', (c) => c.primaryKey())
    .addColumn('stock', 'integer', (c) => c.notNull())
    .execute();
  await raw
    .insertInto('items')
    .values([
      { sku: 'A', stock: 5 },
      { sku: 'B', stock: 1 },
    ])
    .execute();
  const seen: string[] = [];
  const db: Kysely<Tables> = raw.withPlugin(countingPlugin(seen));

  const bySku = prepareQuery(db, (q, $: { sku: string }) => q.selectFrom('items').selectAll().where('sku', '=', $.sku));
  const take = prepareQuery(db, (q, $: { sku: string; n: number }) =>
    q
      .updateTable('items')
      .set((eb) => ({ stock: eb('stock', '-', $.n) }))
      .where('sku', '=', $.sku)
      .where('stock', '>=', $.n)
      .returning('stock'),
  );
  const add = prepareQuery(db, (q, $: { sku: string; n: number }) =>
    q
      .updateTable('items')
      .set((eb) => ({ stock: eb('stock', '+', $.n) }))
      .where('sku', '=', $.sku),
  );
  // Constants are written into the SQL (escaped), so only the placeholders are bound per call.
  const restock = prepareQuery(db, (q, $: { stock: number }) => q.insertInto('items').values({ sku: "O'K", stock: $.stock }));
  const quoted = prepareQuery(db, (q, $: { min: number }) =>
    q.selectFrom('items').select(['sku', 'stock']).where('sku', '=', "O'K").where('stock', '>=', $.min).where('sku', 'is not', null).limit(1),
  );
  seen.length = 0;

  expect(restock.sql).toContain(`('O''K', `);
  expect(restock.sql.match(/\?|\$\d/g)).toHaveLength(1);
  expect(quoted.sql).toMatch(/"sku" = 'O''K' and "stock" >= (\?|\$1) and "sku" is not null limit 1$/);
  expect(await restock.executeAffected(db, { stock: 9 })).toBe(1);
  expect(await quoted.executeTakeFirst(db, { min: 9 })).toEqual({ sku: "O'K", stock: 9 });
  expect(await quoted.executeTakeFirst(db, { min: 10 })).toBeUndefined();
  await raw.deleteFrom('items').where('sku', '=', "O'K").execute();

  // Each call binds its own values into the one compiled statement.
  expect(await bySku.executeTakeFirst(db, { sku: 'A' })).toEqual({ sku: 'A', stock: 5 });
  expect(await bySku.executeTakeFirst(db, { sku: 'B' })).toEqual({ sku: 'B', stock: 1 });
  expect(await bySku.executeTakeFirst(db, { sku: 'nope' })).toBeUndefined();
  expect(bySku.sql).toMatch(/where "sku" = (\?|\$1)$/);

  // A parameter used twice (SET and WHERE) gets the same value in both places.
  expect(await take.executeTakeFirst(db, { sku: 'A', n: 2 })).toEqual({ stock: 3 });
  expect(await take.executeTakeFirst(db, { sku: 'B', n: 2 })).toBeUndefined();
  expect(await add.executeAffected(db, { sku: 'B', n: 4 })).toBe(1);
  expect(await add.executeAffected(db, { sku: 'nope', n: 4 })).toBe(0);

  // Inside a transaction the prepared query is part of it: a rollback undoes it.
  await expect(
    db.transaction().execute(async (trx) => {
      await take.execute(trx, { sku: 'A', n: 3 });
      expect(await bySku.executeTakeFirst(trx, { sku: 'A' })).toEqual({ sku: 'A', stock: 0 });
      throw new Error('roll back');
    }),
  ).rejects.toThrow('roll back');
  expect(await bySku.executeTakeFirst(db, { sku: 'A' })).toEqual({ sku: 'A', stock: 3 });
  expect((await sql<{ stock: number }>`select stock from items where sku = 'B'`.execute(raw)).rows[0]?.stock).toBe(5);

  // Plugins saw every run, as the query kind it is.
  expect(seen).toEqual([
    'InsertQueryNode',
    'SelectQueryNode',
    'SelectQueryNode',
    'SelectQueryNode',
    'SelectQueryNode',
    'SelectQueryNode',
    'UpdateQueryNode',
    'UpdateQueryNode',
    'UpdateQueryNode',
    'UpdateQueryNode',
    'UpdateQueryNode',
    'SelectQueryNode',
    'SelectQueryNode',
  ]);
}

describe('prepareQuery on SQLite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-prepared-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs one compiled query with new values each call, in and out of transactions', async () => {
    const database = openDatabase<Tables>({ dataDir: dir, fileName: 'prepared.db' });
    try {
      await exercise(database);
    } finally {
      await database.close();
    }
  });
});

describe('prepareQuery on SQLite, run straight on the connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-prepared-direct-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function setUp(name: string) {
    const database = openDatabase<Tables>({ dataDir: dir, fileName: `${name}.db` });
    await database.db.schema
      .createTable('items')
      .addColumn('sku', 'varchar(20)', (c) => c.primaryKey())
      .addColumn('stock', 'integer', (c) => c.notNull())
      .execute();
    await database.db.insertInto('items').values({ sku: 'A', stock: 5 }).execute();
    const seen: string[] = [];
    const results: unknown[] = [];
    const db = database.db.withPlugin({
      transformQuery: (args) => {
        seen.push(args.node.kind);
        return args.node;
      },
      transformResult: async (args) => {
        results.push(args.result.rows);
        return args.result;
      },
    });
    const stockOf = prepareQuery(db, (q, $: { sku: string }) => q.selectFrom('items').select('stock').where('sku', '=', $.sku));
    const setStock = prepareQuery(db, (q, $: { sku: string; stock: number }) => q.updateTable('items').set({ stock: $.stock }).where('sku', '=', $.sku));
    // Preparing compiles each query once, which plugins see too; count the runs only.
    seen.length = 0;
    /**
     * Opens a transaction that sets A's stock and then holds the connection until `release()`;
     * resolves once it holds it. `done` settles with the transaction (rejected when `rollBack`).
     */
    const holdTransaction = async (stock: number, rollBack: boolean) => {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inside!: () => void;
      const started = new Promise<void>((resolve) => (inside = resolve));
      const done = db.transaction().execute(async (trx) => {
        await setStock.executeAffected(trx, { sku: 'A', stock });
        inside();
        await held;
        if (rollBack) throw new Error('roll back');
      });
      await started;
      return { done, release };
    };
    return { database, db, seen, results, stockOf, setStock, holdTransaction };
  }

  it('does not let a query outside a transaction read or join what the transaction has not committed', async () => {
    const { database, db, stockOf, setStock, holdTransaction } = await setUp('isolation');
    try {
      const transaction = await holdTransaction(0, true);
      // The transaction holds the connection: this read waits its turn instead of seeing stock 0.
      const read = stockOf.executeTakeFirst(db, { sku: 'A' });
      const write = setStock.executeAffected(db, { sku: 'A', stock: 7 });
      transaction.release();
      await expect(transaction.done).rejects.toThrow('roll back');
      expect(await read).toEqual({ stock: 5 });
      expect(await write).toBe(1);
      expect(await stockOf.executeTakeFirst(db, { sku: 'A' })).toEqual({ stock: 7 });
    } finally {
      await database.close();
    }
  });

  it('refuses a transaction that is over, as Kysely does, instead of running in whatever runs now', async () => {
    const { database, db, stockOf, setStock, holdTransaction } = await setUp('stale');
    try {
      let stale: Parameters<Parameters<ReturnType<typeof db.transaction>['execute']>[0]>[0] | undefined;
      await db.transaction().execute(async (trx) => {
        stale = trx;
        await stockOf.executeTakeFirst(trx, { sku: 'A' });
      });
      const other = await holdTransaction(1, false);
      await expect(setStock.executeAffected(stale!, { sku: 'A', stock: 99 })).rejects.toThrow(/already committed/);
      other.release();
      await other.done;
      expect(await stockOf.executeTakeFirst(db, { sku: 'A' })).toEqual({ stock: 1 });
    } finally {
      await database.close();
    }
  });

  it('shows plugins every query and its result, inside and outside transactions', async () => {
    const { database, db, seen, results, stockOf, setStock } = await setUp('plugins');
    try {
      await stockOf.executeTakeFirst(db, { sku: 'A' });
      await db.transaction().execute(async (trx) => {
        await setStock.executeAffected(trx, { sku: 'A', stock: 2 });
        await stockOf.executeTakeFirst(trx, { sku: 'A' });
      });
      expect(seen).toEqual(['SelectQueryNode', 'UpdateQueryNode', 'SelectQueryNode']);
      expect(results).toEqual([[{ stock: 5 }], [], [{ stock: 2 }]]);
    } finally {
      await database.close();
    }
  });
});

describe('prepareQuery on PostgreSQL', () => {
  it('runs one compiled query with new values each call, in and out of transactions', async () => {
    if (await shouldSkip('PostgreSQL', postgresReachable)) return;
    const test = await createTestDatabase('archbench_prepared');
    const database = openDatabase<Tables>({ databaseUrl: test.url, dataDir: '.', fileName: 'unused' });
    try {
      await exercise(database);
    } finally {
      await database.close();
      await test.drop();
    }
  });
});
