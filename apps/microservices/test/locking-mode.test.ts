import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsSeenBySecond } from '@archbench/server-kit/testing';
import { loadEnv } from '../src/env';
import { migrations as inventoryMigrations } from '../src/inventory/schema';
import { openServiceDatabase } from '../src/shared/database';

const dataDir = mkdtempSync(join(tmpdir(), 'archbench-services-locking-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('SQLITE_LOCKING_MODE', () => {
  it('reaches each service database: in normal mode a second connection opens inventory.db beside the first (exclusive would refuse it)', async () => {
    const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, SQLITE_LOCKING_MODE: 'normal' });
    const first = await openServiceDatabase(env, 'inventory', inventoryMigrations);
    const second = await openServiceDatabase(env, 'inventory', inventoryMigrations);
    try {
      expect(await rowsSeenBySecond(first.db, second.db)).toEqual([{ v: 'from the first' }]);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
