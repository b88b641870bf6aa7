import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import type { CreateOrderRequest, Order, OrderStatus } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { canCancel, isTerminal, orderTotal, ordersFromRows, pendingOrder, requestHash } from '@archbench/domain/orders';
import type { OrderItemRow, OrderRow } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import type { ApiBindings } from '../../../shared/bindings';
import type { WorkerLogger } from '../../../shared/log';
import type { WorkerMetrics } from '../../../shared/metrics';
import { QUEUES } from '../../../topology';
import { isConstraintError, loadOrder, nowIso, rejectPending, releaseStockIf } from '../../../shared/orders-store';

export interface PlaceResult {
  order: Order;
  /** True when the Idempotency-Key matched an earlier request. */
  replayed: boolean;
}

export interface OrdersDeps {
  env: ApiBindings;
  metrics: WorkerMetrics;
  logger: WorkerLogger;
  /** Runs work after the response (ExecutionContext.waitUntil); defaults to awaiting it. */
  waitUntil?: (work: Promise<unknown>) => void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Orders on D1: reserve + create in one atomic batch inside the request (docs/adr/0002), then
 * hand the payment step to the payments queue; `Prefer: wait` polls D1 until the saga settles.
 */
export function createOrders({ env, metrics, logger }: OrdersDeps) {
  const db: D1Database = env.DB;

  /**
   * Waits for a terminal status by polling D1 (no shared memory with the consumer): one small
   * status read per poll, backing off from 10 to 100 ms, the full order only once it settled.
   */
  async function waitFor(order: Order, waitSeconds: number | undefined, customerId?: string): Promise<Order> {
    if (!waitSeconds || isTerminal(order.status)) return order;
    const deadline = Date.now() + waitSeconds * 1000;
    const status = db.prepare('SELECT status FROM orders WHERE id = ?1').bind(order.id);
    let delay = 10;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return (await loadOrder(db, order.id, customerId)) ?? order;
      await sleep(Math.min(delay, left));
      delay = Math.min(delay * 2, 100);
      const current = await status.first<{ status: OrderStatus }>();
      if (current && isTerminal(current.status)) return (await loadOrder(db, order.id, customerId)) ?? order;
    }
  }

  async function replay(
    customerId: string,
    key: string | undefined,
    hash: string | undefined,
    waitSeconds: number | undefined,
  ): Promise<PlaceResult | undefined> {
    if (key === undefined) return undefined;
    const existing = await db
      .prepare('SELECT request_hash, order_id FROM idempotency_keys WHERE customer_id = ?1 AND key = ?2')
      .bind(customerId, key)
      .first<{ request_hash: string; order_id: string }>();
    if (!existing) return undefined;
    if (existing.request_hash !== hash) throw new AppError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
    const order = await loadOrder(db, existing.order_id);
    if (!order) throw new AppError('internal-error', 'idempotency key refers to a missing order');
    return { order: await waitFor(order, waitSeconds), replayed: true };
  }

  async function send(
    queue: 'PAYMENTS_QUEUE' | 'EVENTS_QUEUE',
    body: Parameters<ApiBindings['PAYMENTS_QUEUE']['send']>[0] | Parameters<ApiBindings['EVENTS_QUEUE']['send']>[0],
  ) {
    if (queue === 'PAYMENTS_QUEUE') await env.PAYMENTS_QUEUE.send(body as Parameters<ApiBindings['PAYMENTS_QUEUE']['send']>[0], { contentType: 'json' });
    else await env.EVENTS_QUEUE.send(body as Parameters<ApiBindings['EVENTS_QUEUE']['send']>[0], { contentType: 'json' });
    metrics.sent(queue === 'PAYMENTS_QUEUE' ? QUEUES.payments : QUEUES.orderEvents);
  }

  /** Why a reservation batch failed, in the monolith's order: unknown SKUs (422) before short stock (409). */
  async function refusal(sorted: Array<{ sku: string; quantity: number }>, items: Array<{ sku: string; quantity: number }>): Promise<AppError> {
    const rows = await db
      .prepare(`SELECT sku, stock FROM products WHERE sku IN (${sorted.map((_, i) => `?${i + 1}`).join(',')})`)
      .bind(...sorted.map((i) => i.sku))
      .all<{ sku: string; stock: number }>();
    const levels = new Map(rows.results.map((r) => [r.sku, Number(r.stock)]));
    const unknown = items.flatMap((item, index) => (levels.has(item.sku) ? [] : [{ path: `items.${index}.sku`, message: `unknown SKU ${item.sku}` }]));
    if (unknown.length > 0) return new AppError('unknown-sku', unknown.map((u) => u.message).join('; '), { errors: unknown });
    const short = sorted.find((item) => (levels.get(item.sku) ?? 0) < item.quantity) ?? sorted[0]!;
    return new AppError('insufficient-stock', `not enough stock of ${short.sku} for ${short.quantity} units`);
  }

  return {
    async place(customerId: string, body: CreateOrderRequest, options: { idempotencyKey?: string; waitSeconds?: number }): Promise<PlaceResult> {
      const key = options.idempotencyKey;
      const hash = key === undefined ? undefined : requestHash(body);
      const earlier = await replay(customerId, key, hash, options.waitSeconds);
      if (earlier) return earlier;

      const id = newId('ord');
      const now = nowIso();
      const sorted = [...body.items].sort((a, b) => a.sku.localeCompare(b.sku));
      // One atomic batch, one round trip: claim the key, take the stock (CHECK stock >= 0 fails
      // the whole batch when any item is short), write the order, its items priced from the
      // catalog (a NOT NULL price fails the batch for an unknown SKU) and the total. Nothing is
      // half-written. The key comes first: a copy of a keyed order that was just placed fails on
      // the key (and is answered as its replay) before its stock update could fail on the stock
      // the first copy took.
      const keyed = key !== undefined && hash !== undefined;
      const statements: D1PreparedStatement[] = [
        ...(keyed
          ? [
              db
                .prepare('INSERT INTO idempotency_keys (customer_id, key, request_hash, order_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)')
                .bind(customerId, key, hash, id, now),
            ]
          : []),
        ...sorted.map((item) => db.prepare('UPDATE products SET stock = stock - ?1 WHERE sku = ?2').bind(item.quantity, item.sku)),
        db
          .prepare(
            "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'PENDING', 0, 'EUR', ?3, 'PENDING', NULL, ?4, ?4)",
          )
          .bind(id, customerId, body.payment.token, now),
        ...sorted.map((item) =>
          db
            .prepare(
              'INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, ?3, (SELECT price_cents FROM products WHERE sku = ?2)) RETURNING unit_price_cents',
            )
            .bind(id, item.sku, item.quantity),
        ),
        db.prepare('UPDATE orders SET total_cents = (SELECT SUM(quantity * unit_price_cents) FROM order_items WHERE order_id = ?1) WHERE id = ?1').bind(id),
      ];
      let results: Awaited<ReturnType<D1Database['batch']>>;
      try {
        results = await db.batch(statements);
      } catch (error) {
        if (isConstraintError(error, 'CHECK') || isConstraintError(error, 'NOT NULL')) throw await refusal(sorted, body.items);
        if (isConstraintError(error, 'UNIQUE', 'idempotency_keys')) {
          // A concurrent request with the same key won the race: answer as its replay.
          const raced = await replay(customerId, key, hash, options.waitSeconds);
          if (raced) return raced;
          throw new AppError('idempotency-in-progress', 'a request with this Idempotency-Key is in progress');
        }
        throw error;
      }
      const priced = sorted.map((item, i) => ({
        ...item,
        unitPriceCents: Number((results[(keyed ? 1 : 0) + sorted.length + 1 + i]?.results[0] as { unit_price_cents: number }).unit_price_cents),
      }));
      const totalCents = orderTotal(priced);

      const pending = pendingOrder({ id, customerId, items: priced, totalCents, now });
      try {
        await send('PAYMENTS_QUEUE', { kind: 'charge', orderId: id });
      } catch (error) {
        // Without the command no step would ever settle the order: reject it now and give the stock back.
        logger.error({ err: error, orderId: id }, 'could not enqueue the payment step; order rejected');
        await rejectPending(db, id, 'FAILED', 'payment_provider_unavailable');
        metrics.inc('orders', { outcome: 'rejected' });
        return { order: (await loadOrder(db, id)) ?? pending, replayed: false };
      }
      return { order: await waitFor(pending, options.waitSeconds), replayed: false };
    },

    async get(customerId: string, id: string, waitSeconds?: number): Promise<Order> {
      const order = id.length <= 64 ? await loadOrder(db, id, customerId) : undefined;
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      return waitFor(order, waitSeconds, customerId);
    },

    async list(customerId: string, limit: number, status?: OrderStatus, beforeId?: string): Promise<{ items: Order[]; next: string | null }> {
      const where = ['customer_id = ?1'];
      const params: Array<string | number> = [customerId];
      if (status) {
        params.push(status);
        where.push(`status = ?${params.length}`);
      }
      if (beforeId) {
        params.push(beforeId);
        where.push(`id < ?${params.length}`);
      }
      params.push(limit + 1);
      const rows = (
        await db
          .prepare(`SELECT * FROM orders WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT ?${params.length}`)
          .bind(...params)
          .all<OrderRow>()
      ).results;
      const page = rows.slice(0, limit);
      const ids = page.map((r) => r.id);
      const items =
        ids.length === 0
          ? []
          : (
              await db
                .prepare(`SELECT * FROM order_items WHERE order_id IN (${ids.map((_, i) => `?${i + 1}`).join(',')}) ORDER BY sku`)
                .bind(...ids)
                .all<OrderItemRow>()
            ).results;
      return { items: ordersFromRows(page, items), next: rows.length > limit ? page[page.length - 1]!.id : null };
    },

    /** Customer cancel of a confirmed order: restock, refund record and status change in one batch; the refund itself goes to the payment step. */
    async cancel(customerId: string, id: string): Promise<Order> {
      const order = id.length <= 64 ? await loadOrder(db, id, customerId) : undefined;
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      if (!canCancel(order.status)) throw new AppError('order-not-cancellable', `order is ${order.status}; only CONFIRMED orders can be cancelled`);
      const now = nowIso();
      const results = await db.batch([
        releaseStockIf(db, id, 'CONFIRMED'),
        db
          .prepare(
            "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) SELECT ?1, id, 'refund', 'PENDING', total_cents, NULL, ?2 FROM orders WHERE id = ?3 AND status = 'CONFIRMED'",
          )
          .bind(newId('pay'), now, id),
        db.prepare("UPDATE orders SET status = 'CANCELLED', payment_status = 'REFUNDED', updated_at = ?2 WHERE id = ?1 AND status = 'CONFIRMED'").bind(id, now),
      ]);
      if (results[2]?.meta.changes !== 1) throw new AppError('order-not-cancellable', 'order was cancelled concurrently');
      metrics.inc('orders', { outcome: 'cancelled' });
      try {
        await send('PAYMENTS_QUEUE', { kind: 'refund', orderId: id });
        await send('EVENTS_QUEUE', { type: 'OrderCancelled', orderId: id, customerId });
      } catch (error) {
        // The cancel itself is committed; the refund stays PENDING and the every-minute sweep sends it.
        logger.error({ err: error, orderId: id }, 'could not enqueue the refund or OrderCancelled');
      }
      return { ...order, status: 'CANCELLED', paymentStatus: 'REFUNDED', updatedAt: now };
    },
  };
}

export type Orders = ReturnType<typeof createOrders>;
