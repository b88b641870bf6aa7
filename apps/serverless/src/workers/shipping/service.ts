import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import { newId } from '@archbench/domain/ids';
import type { OrderEvent } from '../../shared/messages';

/**
 * Shipping as a consumer of order events. Both writes are idempotent and order-independent
 * (queues neither deduplicate nor keep order): a confirmed order gets at most one shipment, and a
 * cancellation wins over a late or repeated confirmation. A whole batch is one D1 round trip.
 */
export function createShipping(db: D1Database) {
  function statement(event: OrderEvent, now: string): D1PreparedStatement {
    if (event.type === 'OrderConfirmed') {
      return db
        .prepare("INSERT INTO shipments (id, order_id, status, created_at) VALUES (?1, ?2, 'PREPARING', ?3) ON CONFLICT (order_id) DO NOTHING")
        .bind(newId('shp'), event.orderId, now);
    }
    return db
      .prepare(
        "INSERT INTO shipments (id, order_id, status, created_at) VALUES (?1, ?2, 'CANCELLED', ?3) ON CONFLICT (order_id) DO UPDATE SET status = 'CANCELLED'",
      )
      .bind(newId('shp'), event.orderId, now);
  }

  return {
    async handle(events: readonly OrderEvent[]): Promise<void> {
      if (events.length === 0) return;
      const now = new Date().toISOString();
      await db.batch(events.map((event) => statement(event, now)));
    },
  };
}
