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
  seen.length = 0;

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
