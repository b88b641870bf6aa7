import { createHash } from 'node:crypto';
import type { CreateOrderRequest, Order, OrderStatus } from '@archbench/contracts/schemas';

/** Statuses from which nothing changes any more (for `Prefer: wait`). */
export function isTerminal(status: OrderStatus): boolean {
  return status !== 'PENDING';
}

/** Only a confirmed order can be cancelled by its customer (refund + restock). */
export function canCancel(status: OrderStatus): boolean {
  return status === 'CONFIRMED';
}

export function orderTotal(items: Array<{ quantity: number; unitPriceCents: number }>): number {
  return items.reduce((sum, item) => sum + item.quantity * item.unitPriceCents, 0);
}

/**
 * The hash an idempotency key is stored with: a retry with the same key must carry the same
 * request, so it is computed over a canonical form of the validated body.
 */
export function requestHash(body: CreateOrderRequest): string {
  const canonical = JSON.stringify({
    items: body.items.map((i) => [i.sku, i.quantity]),
    token: body.payment.token,
  });
  return createHash('sha256').update(canonical).digest('hex');
}

/** Keyset cursors for order lists (newest first) and product lists (by SKU). Opaque to clients. */
export function encodeCursor(value: string): string {
  return Buffer.from(value, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): string | undefined {
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  return /^[A-Za-z0-9_-]{1,100}$/.test(value) ? value : undefined;
}

export type OrderView = Order;
