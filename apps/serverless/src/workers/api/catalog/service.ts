import type { D1Database } from '@cloudflare/workers-types';
import type { Product } from '@archbench/contracts/schemas';
import { seedProductRowChunks } from '@archbench/domain/catalog';
import { AppError } from '@archbench/domain/errors';

interface ProductRow {
  sku: string;
  name: string;
  price_cents: number;
  stock: number;
}

const toProduct = (row: ProductRow): Product => ({
  sku: row.sku,
  name: row.name,
  priceCents: Number(row.price_cents),
  currency: 'EUR',
  stock: Number(row.stock),
});

/** D1 allows 100 bound parameters per statement: 20 rows of 5 columns. */
const SEED_ROWS_PER_STATEMENT = 20;

/** Catalog and inventory on D1: products, prices and available stock. */
export function createCatalog(db: D1Database) {
  return {
    async list(limit: number, afterSku?: string): Promise<{ items: Product[]; next: string | null }> {
      const rows = afterSku
        ? await db
            .prepare('SELECT sku, name, price_cents, stock FROM products WHERE sku > ?1 ORDER BY sku LIMIT ?2')
            .bind(afterSku, limit + 1)
            .all<ProductRow>()
        : await db
            .prepare('SELECT sku, name, price_cents, stock FROM products ORDER BY sku LIMIT ?1')
            .bind(limit + 1)
            .all<ProductRow>();
      const items = rows.results.slice(0, limit).map(toProduct);
      return { items, next: rows.results.length > limit ? items[items.length - 1]!.sku : null };
    },

    async get(sku: string): Promise<Product | undefined> {
      const row = await db.prepare('SELECT sku, name, price_cents, stock FROM products WHERE sku = ?1').bind(sku).first<ProductRow>();
      return row ? toProduct(row) : undefined;
    },

    async restock(sku: string, quantity: number): Promise<Product> {
      await db.prepare('UPDATE products SET stock = stock + ?1 WHERE sku = ?2').bind(quantity, sku).run();
      const product = await this.get(sku);
      if (!product) throw new AppError('not-found', `unknown SKU ${sku.slice(0, 40)}`);
      return product;
    },

    /** Inserts the deterministic catalog where missing (existing products keep their stock), in one batch, and marks the database seeded. */
    async seed(): Promise<number> {
      const rows = seedProductRowChunks(SEED_ROWS_PER_STATEMENT);
      const statements = rows.map((chunk) =>
        db
          .prepare(
            `INSERT INTO products (sku, name, price_cents, currency, stock) VALUES ${chunk.map((_, i) => `(?${i * 5 + 1}, ?${i * 5 + 2}, ?${i * 5 + 3}, ?${i * 5 + 4}, ?${i * 5 + 5})`).join(', ')} ON CONFLICT (sku) DO NOTHING`,
          )
          .bind(...chunk.flatMap((r) => [r.sku, r.name, r.price_cents, r.currency, r.stock])),
      );
      statements.push(
        db.prepare("INSERT INTO meta (key, value) VALUES ('seeded', ?1) ON CONFLICT (key) DO UPDATE SET value = excluded.value").bind(new Date().toISOString()),
      );
      await db.batch(statements);
      return rows.reduce((sum, chunk) => sum + chunk.length, 0);
    },

    /** True once the schema exists and the catalog was seeded (GET /ready). */
    async seeded(): Promise<boolean> {
      try {
        return (await db.prepare("SELECT value FROM meta WHERE key = 'seeded'").first()) !== null;
      } catch {
        return false;
      }
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
