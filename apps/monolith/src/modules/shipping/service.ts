import type { Kysely } from 'kysely';
import type { Shipment } from '@archbench/contracts/schemas';
import type { OrderCancelled, OrderConfirmed } from '@archbench/domain/orders';
import { newId } from '@archbench/domain/ids';
import { prepareQuery } from '@archbench/server-kit/prepared';
import { nowIso } from '../../shared/events';
import { joinTransaction } from '../../shared/transaction';
import type { SharedTransaction } from '../../shared/transaction';
import type { ShippingTables } from './tables';

/** Ids per query when recovery asks about many orders (well under SQLite's bound-parameter limit). */
const CHUNK = 500;

async function inChunks(ids: readonly string[], query: (chunk: string[]) => Promise<string[]>): Promise<string[]> {
  const found: string[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) found.push(...(await query(ids.slice(i, i + CHUNK))));
  return found;
}

/**
 * Shipping: creates an order's shipment in the transaction that confirms the order and cancels
 * it in the transaction that cancels the order (one commit for both, each time). Owns `shipments`.
 */
export function createShipping(db: Kysely<ShippingTables>) {
  // One per confirmed order: compiled once. A repeat (restart recovery) inserts nothing; `on
  // conflict do nothing` rather than catching the violation, which would abort a PostgreSQL transaction.
  const insertShipment = prepareQuery(db, (q, $: { id: string; order_id: string; created_at: string }) =>
    q
      .insertInto('shipments')
      .values({ id: $.id, order_id: $.order_id, status: 'PREPARING', created_at: $.created_at })
      .onConflict((oc) => oc.column('order_id').doNothing()),
  );
  const cancelShipment = prepareQuery(db, (q, $: { order_id: string }) =>
    q.updateTable('shipments').set({ status: 'CANCELLED' }).where('order_id', '=', $.order_id),
  );
  return {
    /**
     * In the transaction that confirms the order (orders opens it and shares it): the order's
     * shipment commits with its confirmation, so no crash can leave a confirmed order unshipped.
     * Idempotent: a second call for the same order creates nothing.
     */
    async createIn(trx: SharedTransaction, order: Omit<OrderConfirmed, 'type'>): Promise<void> {
      await insertShipment.execute(joinTransaction<ShippingTables>(trx), { id: newId('shp'), order_id: order.orderId, created_at: nowIso() });
    },
    /** In the transaction that cancels the order: its shipment is cancelled in the same commit. Idempotent. */
    async cancelIn(trx: SharedTransaction, order: Omit<OrderCancelled, 'type'>): Promise<void> {
      await cancelShipment.execute(joinTransaction<ShippingTables>(trx), { order_id: order.orderId });
    },
    async get(orderId: string): Promise<Shipment | undefined> {
      const row = await db.selectFrom('shipments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
      return row ? { id: row.id, orderId: row.order_id, status: row.status as Shipment['status'], createdAt: row.created_at } : undefined;
    },
    /** Of these confirmed orders, the ones shipping has no shipment for (restart recovery creates theirs). */
    async unshipped(orderIds: readonly string[]): Promise<string[]> {
      const known = new Set(
        await inChunks(orderIds, async (chunk) =>
          (await db.selectFrom('shipments').select('order_id').where('order_id', 'in', chunk).execute()).map((r) => r.order_id),
        ),
      );
      return orderIds.filter((id) => !known.has(id));
    },
    /** Of these cancelled orders, the ones whose shipment is not cancelled yet (restart recovery cancels theirs). */
    async stillShipping(orderIds: readonly string[]): Promise<string[]> {
      return inChunks(orderIds, async (chunk) =>
        (await db.selectFrom('shipments').select('order_id').where('order_id', 'in', chunk).where('status', '!=', 'CANCELLED').execute()).map(
          (r) => r.order_id,
        ),
      );
    },
  };
}

export type Shipping = ReturnType<typeof createShipping>;
