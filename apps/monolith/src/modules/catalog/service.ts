import type { Kysely } from 'kysely';
import type { Product } from '@archbench/contracts/schemas';
import { seedProductRowChunks } from '@archbench/domain/catalog';
import type { PricedItem } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { QueryTarget } from '@archbench/server-kit/prepared';
import { joinTransaction } from '../../shared/transaction';
import type { SharedTransaction } from '../../shared/transaction';
import type { CatalogTables, ProductsTable } from './tables';

export type { PricedItem } from '@archbench/domain/orders';

const toProduct = (row: ProductsTable): Product => ({
  sku: row.sku,
  name: row.name,
  priceCents: Number(row.price_cents),
  currency: 'EUR',
  stock: Number(row.stock),
});

/** The items in SKU order (a copy only when there is more than one). */
function bySku<T extends { sku: string }>(items: readonly T[]): readonly T[] {
  return items.length < 2 ? items : [...items].sort((a, b) => (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0));
}

/** Catalog and inventory: products, prices and available stock. Owns the `products` table. */
export function createCatalog(db: Kysely<CatalogTables>) {
  // The hot paths (product page, stock reservation) run queries compiled once.
  const productBySku = prepareQuery(db, (q, $: { sku: string }) => q.selectFrom('products').selectAll().where('sku', '=', $.sku));
  const takeStock = prepareQuery(db, (q, $: { sku: string; quantity: number }) =>
    q
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '-', $.quantity) }))
      .where('sku', '=', $.sku)
      .where('stock', '>=', $.quantity)
      .returning('price_cents'),
  );
  const putBackStock = prepareQuery(db, (q, $: { sku: string; quantity: number }) =>
    q
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '+', $.quantity) }))
      .where('sku', '=', $.sku),
  );

  return {
    async list(limit: number, afterSku?: string): Promise<{ items: Product[]; next: string | null }> {
      let query = db
        .selectFrom('products')
        .selectAll()
        .orderBy('sku')
        .limit(limit + 1);
      if (afterSku) query = query.where('sku', '>', afterSku);
      const rows = await query.execute();
      const items = rows.slice(0, limit).map(toProduct);
      return { items, next: rows.length > limit ? items[items.length - 1]!.sku : null };
    },

    async get(sku: string): Promise<Product | undefined> {
      const row = await productBySku.executeTakeFirst(db, { sku });
      return row ? toProduct(row) : undefined;
    },

    /**
     * Prices the items and takes them out of available stock, inside the caller's transaction.
     * Throws unknown-sku (422) or insufficient-stock (409); the caller's rollback undoes any
     * partial reservation.
     */
    async reserve(shared: SharedTransaction, items: Array<{ sku: string; quantity: number }>): Promise<PricedItem[]> {
      const trx = joinTransaction<CatalogTables>(shared);
      const priced: PricedItem[] = [];
      // Sorted by SKU so concurrent orders lock rows in the same order (no deadlocks on PostgreSQL).
      // One conditional update per item both takes the stock and reads the price; only when it
      // matches nothing do we look closer to say whether the SKU is unknown or short of stock.
      for (const item of bySku(items)) {
        const row = await takeStock.executeTakeFirst(trx, item);
        if (row) {
          priced.push({ sku: item.sku, quantity: item.quantity, unitPriceCents: Number(row.price_cents) });
          continue;
        }
        const known = new Set(
          (
            await trx
              .selectFrom('products')
              .select('sku')
              .where(
                'sku',
                'in',
                items.map((i) => i.sku),
              )
              .execute()
          ).map((r) => r.sku),
        );
        const unknown = items.flatMap((i, index) => (known.has(i.sku) ? [] : [{ path: `items.${index}.sku`, message: `unknown SKU ${i.sku}` }]));
        if (unknown.length > 0) throw new AppError('unknown-sku', unknown.map((u) => u.message).join('; '), { errors: unknown });
        throw new AppError('insufficient-stock', `not enough stock of ${item.sku} for ${item.quantity} units`);
      }
      return priced;
    },

    /** Puts units back into available stock (rejected or cancelled orders), in the caller's transaction. */
    async release(trx: QueryTarget, items: Array<{ sku: string; quantity: number }>): Promise<void> {
      for (const item of bySku(items)) await putBackStock.execute(trx, { sku: item.sku, quantity: item.quantity });
    },

    async restock(sku: string, quantity: number): Promise<Product> {
      await this.release(db, [{ sku, quantity }]);
      const product = await this.get(sku);
      if (!product) throw new AppError('not-found', `unknown SKU ${sku}`);
      return product;
    },

    /** Inserts the deterministic catalog where missing; existing products keep their stock. */
    async seed(): Promise<number> {
      let count = 0;
      for (const chunk of seedProductRowChunks()) {
        await db
          .insertInto('products')
          .values(chunk)
          .onConflict((oc) => oc.column('sku').doNothing())
          .execute();
        count += chunk.length;
      }
      return count;
    },
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
