import type { D1Database } from '@cloudflare/workers-types';
import { newId } from '@archbench/domain/ids';
import type { OrderEvent } from '../../shared/messages';

/**
 * Shipping as a consumer of order events. Both handlers are idempotent and order-independent
 * (queues neither deduplicate nor keep order): a confirmed order gets at most one shipment, and a
 * cancellation wins over a late or repeated confirmation.
 */
export function createShipping(db: D1Database) {
  return {
    async handle(event: OrderEvent): Promise<void> {
      const now = new Date().toISOString();
      if (event.type === 'OrderConfirmed') {
        await db
          .prepare("INSERT INTO shipments (id, order_id, status, created_at) VALUES (?1, ?2, 'PREPARING', ?3) ON CONFLICT (order_id) DO NOTHING")
          .bind(newId('shp'), event.orderId, now)
          .run();
        return;
      }
      await db
        .prepare("INSERT INTO shipments (id, order_id, status, created_at) VALUES (?1, ?2, 'CANCELLED', ?3) ON CONFLICT (order_id) DO UPDATE SET status = 'CANCELLED'")
        .bind(newId('shp'), event.orderId, now)
        .run();
    },
  };
}
