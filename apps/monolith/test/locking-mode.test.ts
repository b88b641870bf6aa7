import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsSeenBySecond } from '@archbench/server-kit/testing';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';

const dataDir = mkdtempSync(join(tmpdir(), 'archbench-monolith-locking-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('SQLITE_LOCKING_MODE', () => {
  it('reaches the database: in normal mode a second connection opens monolith.db beside the first (exclusive would refuse it)', async () => {
    const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, SQLITE_LOCKING_MODE: 'normal' });
    expect(loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir }).SQLITE_LOCKING_MODE).toBe('exclusive');
    const first = await openMonolithDatabase(env);
    const second = await openMonolithDatabase(env);
    try {
      expect(await rowsSeenBySecond(first.db, second.db)).toEqual([{ v: 'from the first' }]);
    } finally {
      await second.close();
      await first.close();
    }
  });
});
