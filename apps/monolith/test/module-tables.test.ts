import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { forModule, openMonolithDatabase } from '../src/db';
import type { CatalogTables } from '../src/modules/catalog';
import type { ShippingTables } from '../src/modules/shipping';
import { loadEnv } from '../src/env';

/**
 * Each module's database handle is typed with its own tables only: `pnpm typecheck` compiles this
 * file, and every `@ts-expect-error` below fails the typecheck if the other module's table
 * became reachable. At run time the handle is the same pool.
 */
describe('module database handles', () => {
  it('see their own tables and not the others', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-tables-'));
    const database = await openMonolithDatabase(loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir }));
    try {
      const catalog = forModule<CatalogTables>(database.db);
      const shipping = forModule<ShippingTables>(database.db);
      expect(await catalog.selectFrom('products').select('sku').execute()).toEqual([]);
      expect(await shipping.selectFrom('shipments').select('id').execute()).toEqual([]);
      // @ts-expect-error shipments belong to shipping, not to catalog
      expect(() => catalog.selectFrom('shipments').compile()).not.toThrow();
      // @ts-expect-error orders belong to the orders module
      expect(() => shipping.selectFrom('orders').compile()).not.toThrow();
      // @ts-expect-error a table the schema does not have cannot become a module's
      forModule<{ invoices: { id: string } }>(database.db);
    } finally {
      await database.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
