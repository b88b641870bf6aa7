import type { Kysely } from 'kysely';
import type { Shipment } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { nowIso } from '@archbench/domain/ids';
import type { DomainEvent } from '../shared/messages';
import type { ShippingTables } from './schema';

/**
 * Shipping: a shipment per confirmed order, cancelled when the order is. Events arrive at least
 * once and possibly out of order, so each is applied once (inbox) and both effects commute:
 * a cancel that overtakes its confirm leaves a CANCELLED shipment the confirm does not revive.
 */
export function createShipping(db: Kysely<ShippingTables>) {
  async function apply(event: DomainEvent): Promise<boolean> {
    try {
      return await db.transaction().execute(async (trx) => {
        await trx.insertInto('inbox').values({ event_id: event.id, type: event.type, received_at: nowIso() }).execute();
        const existing = await trx.selectFrom('shipments').select(['id', 'status']).where('order_id', '=', event.orderId).executeTakeFirst();
        if (event.type === 'OrderConfirmed') {
          if (!existing)
            await trx
              .insertInto('shipments')
              .values({ id: newId('shp'), order_id: event.orderId, status: 'PREPARING', created_at: nowIso() })
              .execute();
        } else if (!existing) {
          await trx
            .insertInto('shipments')
            .values({ id: newId('shp'), order_id: event.orderId, status: 'CANCELLED', created_at: nowIso() })
            .execute();
        } else {
          await trx.updateTable('shipments').set({ status: 'CANCELLED' }).where('order_id', '=', event.orderId).execute();
        }
        return true;
      });
    } catch (error) {
      // Already in the inbox (or a concurrent duplicate created the shipment): nothing more to do.
      if (isUniqueViolation(error)) return false;
      throw error;
    }
  }

  return {
    /** Applies an event once; false when it was a duplicate. */
    apply,
    async get(orderId: string): Promise<Shipment | undefined> {
      const row = await db.selectFrom('shipments').selectAll().where('order_id', '=', orderId).executeTakeFirst();
      return row ? { id: row.id, orderId: row.order_id, status: row.status as Shipment['status'], createdAt: row.created_at } : undefined;
    },
  };
}

export type Shipping = ReturnType<typeof createShipping>;
