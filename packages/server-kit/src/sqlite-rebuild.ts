import { sql } from 'kysely';
import type { Kysely } from 'kysely';

/**
 * Recreates a SQLite table as WITHOUT ROWID with the same columns, constraints, rows, indexes
 * and triggers; does nothing when it already is one. SQLite stores a table keyed by text in two
 * b-trees, the rows by a hidden rowid and the primary key as an index; WITHOUT ROWID keeps the
 * rows in the primary key's b-tree, so an insert or a key change writes one b-tree fewer.
 *
 * SQLite only: callers skip it on PostgreSQL (heap tables either way). Run it inside a
 * transaction; a table that other tables reference needs `pragma foreign_keys = off` around that
 * transaction (see {@link rebuildTablesWithoutRowid}).
 * @example await db.transaction().execute((trx) => rebuildWithoutRowid(trx, 'orders'))
 */
export async function rebuildWithoutRowid(db: Kysely<unknown>, table: string): Promise<void> {
  const schema = await sql<{ type: string; sql: string | null }>`select type, sql from sqlite_master where tbl_name = ${table}`.execute(db);
  const created = schema.rows.find((row) => row.type === 'table')?.sql;
  if (!created) throw new Error(`no table ${table}`);
  if (/without rowid\s*$/i.test(created)) return;
  // Indexes the constraints do not create themselves (those have no SQL of their own), and triggers:
  // dropping the table drops both.
  const recreate = schema.rows.filter((row) => (row.type === 'index' || row.type === 'trigger') && row.sql !== null).map((row) => row.sql!);
  const rebuilt = `${table}_rebuilt`;
  await sql`${sql.raw(`create table "${rebuilt}" ${created.slice(created.indexOf('('))} without rowid`)}`.execute(db);
  await sql`insert into ${sql.table(rebuilt)} select * from ${sql.table(table)}`.execute(db);
  await sql`drop table ${sql.table(table)}`.execute(db);
  await sql`alter table ${sql.table(rebuilt)} rename to ${sql.table(table)}`.execute(db);
  for (const statement of recreate) await sql`${sql.raw(statement)}`.execute(db);
}

/**
 * Rebuilds `tables` as WITHOUT ROWID (see {@link rebuildWithoutRowid}) in one transaction. The
 * foreign key check is off while they are rebuilt (a pragma that only takes effect outside a
 * transaction), so a referenced table can be dropped and recreated, and every row is checked
 * with `pragma foreign_key_check` before the commit: a violation rolls it all back. The
 * check is back as it was afterwards. SQLite only.
 * @example if (db.getExecutor().adapter instanceof SqliteAdapter) await rebuildTablesWithoutRowid(db, ['orders', 'payments'])
 */
export async function rebuildTablesWithoutRowid(db: Kysely<unknown>, tables: readonly string[]): Promise<void> {
  const before = await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db);
  await sql`pragma foreign_keys = off`.execute(db);
  try {
    await db.transaction().execute(async (trx) => {
      for (const table of tables) await rebuildWithoutRowid(trx, table);
      const violations = await sql`pragma foreign_key_check`.execute(trx);
      if (violations.rows.length > 0) throw new Error(`foreign key violations after rebuilding the tables: ${JSON.stringify(violations.rows)}`);
    });
  } finally {
    if (before.rows[0]?.foreign_keys) await sql`pragma foreign_keys = on`.execute(db);
  }
}
