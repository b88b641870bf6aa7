import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from './db';
import type { Database } from './db';
import { rebuildTablesWithoutRowid, rebuildWithoutRowid } from './sqlite-rebuild';

interface Tables {
  parents: { id: string; name: string; status: string };
  children: { parent_id: string; sku: string; quantity: number };
  audit: { n: number; parent_id: string };
}

let dataDir: string;
let database: Database<Tables>;
let db: Kysely<unknown>;

beforeEach(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'archbench-rebuild-'));
  database = openDatabase<Tables>({ dataDir, fileName: 'rebuild.db' });
  db = database.db as Kysely<unknown>;
  await sql`create table parents (id varchar(40) primary key, name varchar(20) not null check (length(name) > 0), status varchar(20) not null, unique (name))`.execute(
    db,
  );
  await sql`create index parents_pending on parents (name) where status = 'PENDING'`.execute(db);
  await sql`create table children (parent_id varchar(40) not null references parents (id), sku varchar(20) not null, quantity integer not null, primary key (parent_id, sku))`.execute(
    db,
  );
  await sql`create table audit (n integer primary key, parent_id varchar(40) not null)`.execute(db);
  await sql`create trigger parents_audit after insert on parents begin insert into audit (parent_id) values (new.id); end`.execute(db);
  await sql`insert into parents values ('p1', 'one', 'PENDING'), ('p2', 'two', 'DONE')`.execute(db);
  await sql`insert into children values ('p1', 'A', 1), ('p1', 'B', 2), ('p2', 'A', 3)`.execute(db);
});

afterEach(async () => {
  await database.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const tableSql = async (table: string) =>
  (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db)).rows[0]?.sql ?? '';
const schemaOf = async (table: string) =>
  (await sql<{ type: string; name: string }>`select type, name from sqlite_master where tbl_name = ${table} order by type, name`.execute(db)).rows;

describe('rebuildWithoutRowid', () => {
  it('keeps the columns, rows, constraints, indexes and triggers of a table keyed by text, now WITHOUT ROWID', async () => {
    expect(await schemaOf('parents')).toEqual([
      { type: 'index', name: 'parents_pending' },
      { type: 'index', name: 'sqlite_autoindex_parents_1' },
      { type: 'index', name: 'sqlite_autoindex_parents_2' },
      { type: 'table', name: 'parents' },
      { type: 'trigger', name: 'parents_audit' },
    ]);
    await rebuildTablesWithoutRowid(db, ['parents', 'children']);

    expect(await tableSql('parents')).toMatch(/without rowid$/i);
    expect(await tableSql('children')).toMatch(/without rowid$/i);
    // The primary key's own index is gone (the rows are that b-tree now); the unique constraint's, the partial index and the trigger are kept.
    expect(await schemaOf('parents')).toEqual([
      { type: 'index', name: 'parents_pending' },
      { type: 'index', name: 'sqlite_autoindex_parents_2' },
      { type: 'table', name: 'parents' },
      { type: 'trigger', name: 'parents_audit' },
    ]);
    const parents = await sql`select id, name, status from parents order by id`.execute(db);
    expect(parents.rows).toEqual([
      { id: 'p1', name: 'one', status: 'PENDING' },
      { id: 'p2', name: 'two', status: 'DONE' },
    ]);
    const children = await sql`select * from children order by parent_id, sku`.execute(db);
    expect(children.rows).toEqual([
      { parent_id: 'p1', sku: 'A', quantity: 1 },
      { parent_id: 'p1', sku: 'B', quantity: 2 },
      { parent_id: 'p2', sku: 'A', quantity: 3 },
    ]);
    const plan = await sql<{ detail: string }>`explain query plan select name from parents where status = 'PENDING' order by name`.execute(db);
    expect(plan.rows.map((r) => r.detail)).toEqual(['SCAN parents USING COVERING INDEX parents_pending']);

    // Primary key, unique, check, foreign key (back on afterwards) and the trigger all still act.
    await expect(sql`insert into parents values ('p1', 'other', 'DONE')`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    await expect(sql`insert into parents values ('p3', 'one', 'DONE')`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_UNIQUE' });
    await expect(sql`insert into parents values ('p3', '', 'DONE')`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_CHECK' });
    await expect(sql`insert into children values ('p1', 'A', 9)`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    await expect(sql`insert into children values ('p404', 'A', 1)`.execute(db)).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    await sql`insert into parents values ('p3', 'three', 'PENDING')`.execute(db);
    const audit = await sql`select parent_id from audit order by n`.execute(db);
    expect(audit.rows).toEqual([{ parent_id: 'p1' }, { parent_id: 'p2' }, { parent_id: 'p3' }]);
  });

  it('does nothing to a table that already is WITHOUT ROWID', async () => {
    await rebuildTablesWithoutRowid(db, ['parents']);
    const rebuilt = await tableSql('parents');
    const pages = await sql<{ root: number }>`select rootpage as root from sqlite_master where name = 'parents'`.execute(db);
    await rebuildTablesWithoutRowid(db, ['parents']);
    expect(await tableSql('parents')).toBe(rebuilt);
    // Not recreated: the table's b-tree is the same one.
    expect((await sql<{ root: number }>`select rootpage as root from sqlite_master where name = 'parents'`.execute(db)).rows).toEqual(pages.rows);
  });

  it('rolls every table back when rows would break a foreign key, and refuses a table that does not exist', async () => {
    // A child whose parent is gone (written while the check was off): the rebuild must not commit it as is.
    await sql`pragma foreign_keys = off`.execute(db);
    await sql`insert into children values ('p404', 'A', 1)`.execute(db);
    await sql`pragma foreign_keys = on`.execute(db);

    await expect(rebuildTablesWithoutRowid(db, ['parents', 'children'])).rejects.toThrow(/foreign key violations/);
    expect(await tableSql('parents')).not.toMatch(/without rowid/i);
    expect(await tableSql('children')).not.toMatch(/without rowid/i);
    expect((await sql<{ foreign_keys: number }>`pragma foreign_keys`.execute(db)).rows).toEqual([{ foreign_keys: 1 }]);

    await expect(db.transaction().execute((trx) => rebuildWithoutRowid(trx, 'nothing'))).rejects.toThrow('no table nothing');
  });
});
