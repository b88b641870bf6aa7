import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import type { Order, OrderStatus, PaymentStatus, RejectionReason } from '@archbench/contracts/schemas';
import { nowIso } from '@archbench/domain/ids';
import { orderFromRows } from '@archbench/domain/orders';
import type { OrderItemRow, OrderRow } from '@archbench/domain/orders';

/**
 * SQL on the orders tables shared by the API worker and the payment step (both are parts of the
 * order saga). D1 has no interactive transactions, so every multi-row change is one `batch()`
 * (atomic) whose statements are guarded by the order's status: whichever batch changes the status
 * first also does the stock and payment writes, and a second one changes nothing.
 */
// The one clock of every topology's repositories (@archbench/domain), re-exported for both workers.
export { nowIso } from '@archbench/domain/ids';

/** The order with its items in one round trip (D1 batches are one call); undefined when absent or another customer's. */
export async function loadOrder(db: D1Database, id: string, customerId?: string): Promise<Order | undefined> {
  const orderQuery =
    customerId === undefined
      ? db.prepare('SELECT * FROM orders WHERE id = ?1').bind(id)
      : db.prepare('SELECT * FROM orders WHERE id = ?1 AND customer_id = ?2').bind(id, customerId);
  const [orders, items] = await db.batch([orderQuery, db.prepare('SELECT * FROM order_items WHERE order_id = ?1 ORDER BY sku').bind(id)]);
  const row = orders?.results[0] as OrderRow | undefined;
  if (!row) return undefined;
  return orderFromRows(row, (items?.results ?? []) as unknown as OrderItemRow[]);
}

/** Puts an order's units back into stock, only while the order still has `status` (run before the statement that changes it). */
export function releaseStockIf(db: D1Database, orderId: string, status: OrderStatus): D1PreparedStatement {
  return db
    .prepare(
      `UPDATE products SET stock = stock + (SELECT oi.quantity FROM order_items oi WHERE oi.order_id = ?1 AND oi.sku = products.sku)
       WHERE sku IN (SELECT sku FROM order_items WHERE order_id = ?1)
         AND EXISTS (SELECT 1 FROM orders WHERE id = ?1 AND status = ?2)`,
    )
    .bind(orderId, status);
}

/** PENDING -> REJECTED with the stock released, atomically and at most once. Returns true when this call rejected it. */
export async function rejectPending(
  db: D1Database,
  orderId: string,
  paymentStatus: PaymentStatus,
  reason: RejectionReason,
  extra: D1PreparedStatement[] = [],
): Promise<boolean> {
  const results = await db.batch([
    ...extra,
    releaseStockIf(db, orderId, 'PENDING'),
    db
      .prepare("UPDATE orders SET status = 'REJECTED', payment_status = ?2, rejection_reason = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'PENDING'")
      .bind(orderId, paymentStatus, reason, nowIso()),
  ]);
  return results[results.length - 1]?.meta.changes === 1;
}

/** True for a D1 error raised by a constraint (the message is the only signal D1 gives). */
export function isConstraintError(error: unknown, kind: 'CHECK' | 'UNIQUE' | 'NOT NULL', table?: string): boolean {
  const message = error instanceof Error ? `${error.message} ${error.cause instanceof Error ? error.cause.message : ''}` : String(error);
  // SQLite names primary-key violations UNIQUE too, e.g. "UNIQUE constraint failed: idempotency_keys.customer_id, …".
  if (!message.includes(`${kind} constraint failed`)) return false;
  return table === undefined || message.includes(`${table}.`);
}
