import type { Kysely, Transaction } from 'kysely';
import type { Product } from '@archbench/contracts/schemas';
import { seedProductRowChunks } from '@archbench/domain/catalog';
import { prepareQuery } from '@archbench/server-kit/prepared';
import { nowIso } from '@archbench/domain/ids';
import type { PricedItem } from '@archbench/domain/orders';
import type { InventoryTables } from './schema';

export type Db = Kysely<InventoryTables> | Transaction<InventoryTables>;

const toProduct = (row: InventoryTables['products']): Product => ({
  sku: row.sku,
  name: row.name,
  priceCents: Number(row.price_cents),
  currency: 'EUR',
  stock: Number(row.stock),
});

/** Table access of the inventory service. */
export function createInventoryRepository(db: Kysely<InventoryTables>) {
  // The product page and every reservation run these: compiled once, as in the monolith's catalog.
  const productBySku = prepareQuery(db, (q, $: { sku: string }) => q.selectFrom('products').selectAll().where('sku', '=', $.sku));
  const takeStock = prepareQuery(db, (q, $: { sku: string; quantity: number }) =>
    q
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '-', $.quantity) }))
      .where('sku', '=', $.sku)
      .where('stock', '>=', $.quantity),
  );
  const giveStock = prepareQuery(db, (q, $: { sku: string; quantity: number }) =>
    q
      .updateTable('products')
      .set((eb) => ({ stock: eb('stock', '+', $.quantity) }))
      .where('sku', '=', $.sku),
  );
  return {
    db,
    /** Runs `work` in one database transaction; the service never reaches for the Kysely handle to do it. */
    transaction<T>(work: (trx: Transaction<InventoryTables>) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },
    async listProducts(limit: number, afterSku?: string) {
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
    async getProduct(sku: string): Promise<Product | undefined> {
      const row = await productBySku.executeTakeFirst(db, { sku });
      return row ? toProduct(row) : undefined;
    },
    async prices(trx: Db, skus: string[]): Promise<Map<string, number>> {
      const rows = await trx.selectFrom('products').select(['sku', 'price_cents']).where('sku', 'in', skus).execute();
      return new Map(rows.map((r) => [r.sku, Number(r.price_cents)]));
    },
    /** Takes units out of stock unless fewer are left; false when there were not enough. */
    async take(trx: Db, sku: string, quantity: number): Promise<boolean> {
      return (await takeStock.executeAffected(trx, { sku, quantity })) === 1;
    },
    async give(trx: Db, sku: string, quantity: number): Promise<number> {
      return giveStock.executeAffected(trx, { sku, quantity });
    },
    async reservation(trx: Db, orderId: string): Promise<{ status: string; items: PricedItem[] } | undefined> {
      const row = await trx.selectFrom('reservations').select(['status', 'items']).where('order_id', '=', orderId).executeTakeFirst();
      return row ? { status: row.status, items: JSON.parse(row.items) as PricedItem[] } : undefined;
    },
    async insertReservation(trx: Db, orderId: string, status: 'RESERVED' | 'RELEASED', items: PricedItem[]): Promise<void> {
      await trx
        .insertInto('reservations')
        .values({ order_id: orderId, status, items: JSON.stringify(items), updated_at: nowIso() })
        .execute();
    },
    async markReleased(trx: Db, orderId: string): Promise<boolean> {
      const result = await trx
        .updateTable('reservations')
        .set({ status: 'RELEASED', updated_at: nowIso() })
        .where('order_id', '=', orderId)
        .where('status', '=', 'RESERVED')
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async processedReply(trx: Db, commandId: string): Promise<string | undefined> {
      const row = await trx.selectFrom('processed_commands').select('reply').where('command_id', '=', commandId).executeTakeFirst();
      return row?.reply;
    },
    async recordReply(trx: Db, commandId: string, reply: unknown): Promise<void> {
      await trx
        .insertInto('processed_commands')
        .values({ command_id: commandId, reply: JSON.stringify(reply), created_at: nowIso() })
        .execute();
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

export type InventoryRepository = ReturnType<typeof createInventoryRepository>;
