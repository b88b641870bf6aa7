import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { openCoreDatabase } from './db';

const skip = await shouldSkip('PostgreSQL', postgresReachable);

describe.skipIf(skip)('core database on PostgreSQL', () => {
  it('creates the database DATABASE_URL names when it does not exist, with the monolith tables and the outbox', async () => {
    const name = `archbench_hybrid_new_${randomBytes(4).toString('hex')}`;
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    try {
      const database = await openCoreDatabase({ DATABASE_URL: url.toString(), DATA_DIR: 'unused' });
      const tables = await sql<{ table_name: string }>`select table_name from information_schema.tables where table_schema = 'public'`.execute(database.db);
      await database.close();
      expect(tables.rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['orders', 'products', 'payments', 'shipments', 'outbox']));
    } finally {
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      await admin.query(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});

describe('core database on SQLite', () => {
  it('takes SQLITE_LOCKING_MODE: in normal mode a second connection opens core.db beside the first (exclusive would refuse it)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-core-locking-'));
    try {
      const env = { DATABASE_URL: undefined, DATA_DIR: dataDir, SQLITE_LOCKING_MODE: 'normal' } as const;
      const first = await openCoreDatabase(env);
      const second = await openCoreDatabase(env);
      const tables = await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(second.db);
      await second.close();
      await first.close();
      expect(tables.rows.map((r) => r.name)).toEqual(expect.arrayContaining(['orders', 'outbox']));
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
