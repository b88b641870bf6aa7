import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { PG_ADMIN_URL, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import { ensurePostgresDatabase } from './database';

const skip = await shouldSkip('PostgreSQL', postgresReachable);
const created: string[] = [];

describe.skipIf(skip)('ensurePostgresDatabase', () => {
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    for (const name of created) await admin.query(`drop database if exists "${name}"`);
    await admin.end();
  });

  it('creates the database once when replicas start at the same moment (two inventory pods of a fresh cluster)', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `archbench_race_${randomBytes(4).toString('hex')}`;
      created.push(name);
      const results = await Promise.allSettled(Array.from({ length: 6 }, () => ensurePostgresDatabase(PG_ADMIN_URL, name)));
      expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason))).toEqual([]);
      const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
      await admin.connect();
      const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
      await admin.end();
      expect(found.rowCount).toBe(1);
    }
  });
});
