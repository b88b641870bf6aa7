import { createHash } from 'node:crypto';
import { TERMINAL_STATUSES } from '@archbench/contracts/schemas';
import type { CreateOrderRequest, Order, OrderStatus, PaymentRecord } from '@archbench/contracts/schemas';

/** Statuses from which nothing changes any more (for `Prefer: wait`): the contract's TERMINAL_STATUSES. */
export function isTerminal(status: OrderStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
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

/** An `orders` row as both apps store it (numbers may come back as strings from PostgreSQL). */
export interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number | string;
  payment_status: string;
  rejection_reason: string | null;
  created_at: string;
  updated_at: string;
}

/** An `order_items` row as both apps store it. */
export interface OrderItemRow {
  order_id: string;
  sku: string;
  quantity: number | string;
  unit_price_cents: number | string;
}

/** The public Order of a stored order and its items. */
export function orderFromRows(row: OrderRow, items: readonly OrderItemRow[]): Order {
  return {
    id: row.id,
    customerId: row.customer_id,
    status: row.status as Order['status'],
    items: items.map((i) => ({ sku: i.sku, quantity: Number(i.quantity), unitPriceCents: Number(i.unit_price_cents) })),
    totalCents: Number(row.total_cents),
    currency: 'EUR',
    paymentStatus: row.payment_status as Order['paymentStatus'],
    rejectionReason: (row.rejection_reason as Order['rejectionReason']) ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** A just-placed order as every topology answers it before its payment is known. */
export function pendingOrder(order: { id: string; customerId: string; items: Order['items']; totalCents: number; now: string }): Order {
  return {
    id: order.id,
    customerId: order.customerId,
    status: 'PENDING',
    items: order.items,
    totalCents: order.totalCents,
    currency: 'EUR',
    paymentStatus: 'PENDING',
    rejectionReason: null,
    createdAt: order.now,
    updatedAt: order.now,
  };
}

/** A `payments` row as every topology stores it (amounts may come back as strings from PostgreSQL). */
export interface PaymentRow {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number | string;
  created_at: string;
}

/** The public PaymentRecord of a stored payment; `status` may be mapped first (see the microservices). */
export function paymentFromRow(row: PaymentRow): PaymentRecord {
  return {
    id: row.id,
    orderId: row.order_id,
    kind: row.kind as PaymentRecord['kind'],
    status: row.status as PaymentRecord['status'],
    amountCents: Number(row.amount_cents),
    createdAt: row.created_at,
  };
}

/** A page of orders from its rows and the items of all of them (one query for the items). */
export function ordersFromRows(rows: readonly OrderRow[], items: readonly OrderItemRow[]): Order[] {
  const byOrder = new Map<string, OrderItemRow[]>();
  for (const item of items) {
    const list = byOrder.get(item.order_id);
    if (list) list.push(item);
    else byOrder.set(item.order_id, [item]);
  }
  return rows.map((row) => orderFromRows(row, byOrder.get(row.id) ?? []));
}

/** An order line with the unit price the catalog charged when it reserved the stock. */
export interface PricedItem {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** An order reached CONFIRMED: shipping starts. */
export interface OrderConfirmed {
  type: 'OrderConfirmed';
  orderId: string;
  customerId: string;
  totalCents: number;
}

/** An order was cancelled: shipping stops (or never starts). */
export interface OrderCancelled {
  type: 'OrderCancelled';
  orderId: string;
  customerId: string;
}

/**
 * The events an order publishes to shipping, the same in every topology (in-process bus,
 * outbox over HTTP or RabbitMQ, Queues).
 * @example const event: DomainEvent = { type: 'OrderCancelled', orderId, customerId }
 */
export type DomainEvent = OrderConfirmed | OrderCancelled;

/** A DomainEvent as an outbox stores and delivers it: its id lets a consumer drop a redelivery. */
export type StoredEvent = DomainEvent & { id: string };
