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
        // Upserts, not a read then an insert: an order's confirm and cancel can be applied at the
        // same time (a relay sends several events at once), and on PostgreSQL both transactions
        // would read no shipment and the second insert fail on the order's unique key. The confirm
        // leaves any shipment as it is; the cancel wins whichever way round they commit.
        const shipment = { id: newId('shp'), order_id: event.orderId, created_at: nowIso() };
        if (event.type === 'OrderConfirmed') {
          await trx
            .insertInto('shipments')
            .values({ ...shipment, status: 'PREPARING' })
            .onConflict((oc) => oc.column('order_id').doNothing())
            .execute();
        } else {
          await trx
            .insertInto('shipments')
            .values({ ...shipment, status: 'CANCELLED' })
            .onConflict((oc) => oc.column('order_id').doUpdateSet({ status: 'CANCELLED' }))
            .execute();
        }
        return true;
      });
    } catch (error) {
      // Already in the inbox: a redelivery (possibly running beside the first delivery). The
      // shipment's own key cannot clash any more (the upserts above).
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
