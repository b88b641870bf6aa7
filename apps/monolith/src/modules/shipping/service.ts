import type { Kysely } from 'kysely';
import type { Shipment } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { Tables } from '../../db/schema';
import type { EventBus } from '../../shared/events';
import { nowIso } from '../../shared/events';

/** Shipping: creates a shipment when an order is confirmed, cancels it when the order is. Owns `shipments`. */
export function createShipping(db: Kysely<Tables>, events: EventBus) {
  // One per confirmed order: compiled once.
  const insertShipment = prepareQuery(db, (q, $: { id: string; order_id: string; created_at: string }) =>
    q.insertInto('shipments').values({ id: $.id, order_id: $.order_id, status: 'PREPARING', created_at: $.created_at }),
  );
  const shipping = {
    /** Idempotent: a second OrderConfirmed for the same order creates nothing. */
    async createFor(orderId: string): Promise<void> {
      try {
        await insertShipment.execute(db, { id: newId('shp'), order_id: orderId, created_at: nowIso() });
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    },
    async cancelFor(orderId: string): Promise<void> {
      await db.updateTable('shipments').set({ status: 'CANCELLED' }).where('order_id', '=', orderId).execute();
    },
    async get(orderId: string): Promise<Shipment | undefined> {
      const row = await db.selectFrom('shipments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
      return row ? { id: row.id, orderId: row.order_id, status: row.status as Shipment['status'], createdAt: row.created_at } : undefined;
    },
  };
  events.subscribe('OrderConfirmed', (e) => shipping.createFor(e.orderId));
  events.subscribe('OrderCancelled', (e) => shipping.cancelFor(e.orderId));
  return shipping;
}

export type Shipping = ReturnType<typeof createShipping>;
