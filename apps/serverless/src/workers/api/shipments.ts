import type { D1Database } from '@cloudflare/workers-types';
import type { Order, Shipment } from '@archbench/contracts/schemas';

/**
 * How long GET /orders/{id}/shipment waits for shipping to apply an event the order's status
 * already implies, ms: the hybrid's SHIPMENT_CATCH_UP_MS and the microservices gateway's wait.
 */
export const SHIPMENT_CATCH_UP_MS = 3000;

interface ShipmentRow {
  id: string;
  order_id: string;
  status: string;
  created_at: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * The shipment of an order, as the customer who was just told the order's status expects it.
 * Shipping learns of a confirmation or cancellation from a queue message, after the API answered;
 * so for a CONFIRMED order without a shipment, or a CANCELLED one whose shipment is not CANCELLED
 * yet, this polls D1 (10 ms, doubling to 100 ms) for up to `catchUpMs` before answering what is
 * there. Other statuses are answered from one read.
 */
export async function shipmentOf(db: D1Database, order: Pick<Order, 'id' | 'status'>, catchUpMs = SHIPMENT_CATCH_UP_MS): Promise<Shipment | undefined> {
  const query = db.prepare('SELECT id, order_id, status, created_at FROM shipments WHERE order_id = ?1').bind(order.id);
  const expected = order.status === 'CONFIRMED' || order.status === 'CANCELLED';
  const deadline = Date.now() + (expected ? catchUpMs : 0);
  let delay = 10;
  for (;;) {
    const row = await query.first<ShipmentRow>();
    const caughtUp = !expected || (row !== null && (order.status !== 'CANCELLED' || row.status === 'CANCELLED'));
    const left = deadline - Date.now();
    if (caughtUp || left <= 0)
      return row ? { id: row.id, orderId: row.order_id, status: row.status as Shipment['status'], createdAt: row.created_at } : undefined;
    await sleep(Math.min(delay, left));
    delay = Math.min(delay * 2, 100);
  }
}
