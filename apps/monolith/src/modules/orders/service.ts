import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { CreateOrderRequest, Order, OrderStatus, PaymentToken, RejectionReason } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { CALL_LEASE_MS } from '@archbench/domain/payment-provider';
import { canCancel, isTerminal, orderFromRows, ordersFromRows, orderTotal, pendingOrder, requestHash } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import type { Logger } from '@archbench/observability/logging';
import type { Metrics } from '@archbench/observability/metrics';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { within } from '@archbench/server-kit/portable';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { PreparedQuery } from '@archbench/server-kit/prepared';
import type { EventBus } from '../../shared/events';
import { nowIso } from '../../shared/events';
import { shareTransaction } from '../../shared/transaction';
import type { Catalog } from '../catalog';
import type { OpenedCharge, Payments } from '../payments';
import type { ShippingSeam } from '../shipping';
import type { OrdersTables } from './tables';

export interface OrdersDeps {
  db: Kysely<OrdersTables>;
  catalog: Catalog;
  payments: Payments;
  /**
   * Creates or cancels an order's shipment in the transaction that confirms or cancels the order;
   * asked at restart which orders still need either (it owns shipments).
   */
  shipping: Pick<ShippingSeam, 'createIn' | 'cancelIn' | 'unshipped' | 'stillShipping'>;
  events: EventBus;
  logger: Logger;
  /** archbench_orders_total{outcome}; omitted when metrics are off. */
  metrics?: Pick<Metrics, 'ordersTotal'>;
  /**
   * How long an order may stay PENDING from its creation, ms (SAGA_DEADLINE_MS): past it the
   * deadline sweeper rejects it and compensates. Default 60 s.
   */
  deadlineMs?: number;
}

/** Orders resumed at start at once: bounded so a long backlog cannot flood the provider or the pool. */
const RESUME_CONCURRENCY = 8;
/** Orders the deadline sweeper settles per pass (the next pass takes the rest). */
const SWEEP_BATCH = 100;
/** How often `Prefer: wait` reads the status of a PENDING order this process is not charging, ms. */
const WAIT_POLL_MS = 50;

export interface PlaceResult {
  order: Order;
  /** True when the Idempotency-Key matched an earlier request. */
  replayed: boolean;
}

/**
 * Orders: places orders (reserve + create atomically, pay outside any transaction, then confirm
 * or release atomically), lists them and cancels them. Owns `orders`, `order_items` and
 * `idempotency_keys`.
 */
export function createOrders({ db, catalog, payments, shipping, events, logger, metrics, deadlineMs = 60_000 }: OrdersDeps) {
  /** Payment processing in flight, by order id, so `Prefer: wait` can await it. */
  const inFlight = new Map<string, Promise<Order | undefined>>();
  /**
   * Provider answers whose settle step failed (say, a database error): the money may be taken
   * while the order is still PENDING. The deadline sweeper settles these from memory, so a capture
   * is refunded rather than forgotten.
   */
  const unsettled = new Map<string, Charge>();
  /** Orders created before this instant are a previous process's; resume() takes only those. */
  const startedAt = nowIso();
  let sweeper: NodeJS.Timeout | undefined;
  let sweeping: Promise<number> | undefined;
  let refunding: Promise<number> | undefined;
  const counted = {
    confirmed: metrics?.ordersTotal.labels({ outcome: 'confirmed' }),
    rejected: metrics?.ordersTotal.labels({ outcome: 'rejected' }),
    cancelled: metrics?.ordersTotal.labels({ outcome: 'cancelled' }),
  };

  // Every order runs these; they are compiled once (see prepareQuery).
  const orderById = prepareQuery(db, (q, $: { id: string }) => q.selectFrom('orders').selectAll().where('id', '=', $.id));
  const statusById = prepareQuery(db, (q, $: { id: string }) => q.selectFrom('orders').select('status').where('id', '=', $.id));
  const customerOrderById = prepareQuery(db, (q, $: { id: string; customer_id: string }) =>
    q.selectFrom('orders').selectAll().where('id', '=', $.id).where('customer_id', '=', $.customer_id),
  );
  const itemsOfOrder = prepareQuery(db, (q, $: { order_id: string }) =>
    q.selectFrom('order_items').selectAll().where('order_id', '=', $.order_id).orderBy('sku'),
  );
  const insertOrder = prepareQuery(db, (q, $: { id: string; customer_id: string; total_cents: number; payment_token: string; now: string }) =>
    q.insertInto('orders').values({
      id: $.id,
      customer_id: $.customer_id,
      status: 'PENDING',
      total_cents: $.total_cents,
      currency: 'EUR',
      payment_token: $.payment_token,
      payment_status: 'PENDING',
      rejection_reason: null,
      created_at: $.now,
      updated_at: $.now,
    }),
  );
  /** Multi-row inserts of order items, one prepared statement per item count (bounded by the contract's item limit). */
  const insertItems = new Map<number, PreparedQuery<Record<string, string | number>, unknown>>();
  const insertItemsOf = (count: number) => {
    let query = insertItems.get(count);
    if (query === undefined) {
      query = prepareQuery(db, (q, $: Record<string, string | number>) =>
        q.insertInto('order_items').values(
          Array.from({ length: count }, (_, i) => ({
            order_id: $.order_id as string,
            sku: $[`sku${i}`] as string,
            quantity: $[`quantity${i}`] as number,
            unit_price_cents: $[`price${i}`] as number,
          })),
        ),
      );
      insertItems.set(count, query);
    }
    return query;
  };
  const confirmOrder = prepareQuery(db, (q, $: { id: string; now: string }) =>
    q.updateTable('orders').set({ status: 'CONFIRMED', payment_status: 'CAPTURED', updated_at: $.now }).where('id', '=', $.id).where('status', '=', 'PENDING'),
  );
  const rejectOrder = prepareQuery(db, (q, $: { id: string; payment_status: string; reason: string; now: string }) =>
    q
      .updateTable('orders')
      .set({ status: 'REJECTED', payment_status: $.payment_status, rejection_reason: $.reason, updated_at: $.now })
      .where('id', '=', $.id)
      .where('status', '=', 'PENDING'),
  );

  async function load(id: string, customerId?: string): Promise<Order | undefined> {
    const row =
      customerId === undefined ? await orderById.executeTakeFirst(db, { id }) : await customerOrderById.executeTakeFirst(db, { id, customer_id: customerId });
    if (!row) return undefined;
    return orderFromRows(row, await itemsOfOrder.execute(db, { order_id: id }));
  }

  type Charge = Exclude<Awaited<ReturnType<Payments['attempt']>>, 'DUPLICATE'>;

  /**
   * Applies a charge outcome to a PENDING order; returns the order as it now is, or undefined when
   * it was no longer PENDING. A fresh provider answer (`charge`) is recorded in the same
   * transaction as the order's new status, and a confirmed order's shipment too (shipping writes
   * it in the shared transaction), so one commit settles all of it.
   */
  async function settle(order: Order, outcome: 'SUCCEEDED' | 'DECLINED' | 'FAILED' | 'DUPLICATE', charge?: Charge): Promise<Order | undefined> {
    if (outcome === 'DUPLICATE') return undefined;
    const now = nowIso();
    if (outcome === 'SUCCEEDED') {
      const event = { type: 'OrderConfirmed', orderId: order.id, customerId: order.customerId, totalCents: order.totalCents } as const;
      const confirmed = await db.transaction().execute(async (trx) => {
        if (charge) await payments.recordCharge(trx, charge);
        if ((await confirmOrder.executeAffected(trx, { id: order.id, now })) !== 1) return false;
        await shipping.createIn(shareTransaction(trx), event);
        return true;
      });
      if (!confirmed) {
        // The deadline rejected the order while the provider was still answering: give the money back.
        if (charge) await refundLateCapture(order);
        return undefined;
      }
      counted.confirmed?.inc();
      // After the commit, for whoever wants to hear of it (the hybrid's relay starts delivering).
      await events.publish(event);
      return { ...order, status: 'CONFIRMED', paymentStatus: 'CAPTURED', updatedAt: now };
    }
    const reason: RejectionReason = outcome === 'DECLINED' ? 'payment_declined' : 'payment_provider_error';
    const rejected = await db.transaction().execute(async (trx) => {
      if (charge) await payments.recordCharge(trx, charge);
      if ((await rejectOrder.executeAffected(trx, { id: order.id, payment_status: outcome, reason, now })) !== 1) return false;
      await catalog.release(trx, order.items);
      return true;
    });
    if (!rejected) return undefined;
    counted.rejected?.inc();
    return { ...order, status: 'REJECTED', paymentStatus: outcome, rejectionReason: reason, updatedAt: now };
  }

  /**
   * Takes payment for a PENDING order in the background; resolves with the settled order.
   * `opened`: the charge was already opened in the order's own transaction (a new order);
   * without it (an order resumed after a restart) the charge is opened here first.
   */
  function process(order: Order, token: PaymentToken, opened?: OpenedCharge): Promise<Order | undefined> {
    let answered: Charge | undefined;
    const run = (async () => {
      try {
        const charge = opened === undefined ? await payments.attempt(order.id, token, order.totalCents) : await payments.send(opened, token, order.totalCents);
        if (charge === 'DUPLICATE') return undefined;
        answered = charge;
        return await settle(order, charge.outcome, charge);
      } catch (error) {
        if (answered) {
          unsettled.set(order.id, answered);
          // Best effort: with the outcome stored, a restart knows the money was taken too.
          await payments.recordCharge(db, answered).catch(() => undefined);
        }
        logger.error({ err: error, orderId: order.id }, 'payment step failed; the deadline sweeper settles the order');
        return undefined;
      } finally {
        inFlight.delete(order.id);
      }
    })();
    inFlight.set(order.id, run);
    return run;
  }

  /** Records and sends the refund of a capture whose order was rejected meanwhile (at most one refund per order). */
  async function refundLateCapture(order: Order): Promise<void> {
    const recorded = await db.transaction().execute(async (trx) => {
      try {
        await payments.recordRefund(shareTransaction(trx), order.id, order.totalCents);
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
      await trx
        .updateTable('orders')
        .set({ payment_status: 'REFUNDED', updated_at: nowIso() })
        .where('id', '=', order.id)
        .where('status', '=', 'REJECTED')
        .execute();
      return true;
    });
    if (recorded) await payments.completeRefunds(order.id);
    logger.warn({ orderId: order.id }, 'payment captured after the order was rejected; refunded');
  }

  /**
   * Ends a PENDING order that outlived its deadline: REJECTED with its stock released in one
   * transaction, its charge settled from what is known — a provider answer kept in memory, else
   * the stored outcome; a charge still open is abandoned (a late answer is refunded by settle) —
   * and a captured charge refunded. Never charges. True when this call rejected it.
   */
  async function expire(id: string): Promise<boolean> {
    const order = await load(id);
    if (!order || order.status !== 'PENDING') return false;
    const known = unsettled.get(id);
    const stored = known?.outcome ?? (await payments.chargeStatus(id));
    const captured = stored === 'SUCCEEDED';
    const reason: RejectionReason =
      stored === 'DECLINED' ? 'payment_declined' : stored === 'FAILED' ? 'payment_provider_error' : 'payment_provider_unavailable';
    const paymentStatus = captured ? 'REFUNDED' : stored === 'DECLINED' ? 'DECLINED' : 'FAILED';
    const now = nowIso();
    const rejected = await db.transaction().execute(async (trx) => {
      // The order first: when a settle won the race, nothing else here changes.
      if ((await rejectOrder.executeAffected(trx, { id, payment_status: paymentStatus, reason, now })) !== 1) return false;
      await catalog.release(trx, order.items);
      if (known) await payments.recordCharge(trx, known);
      else if (stored === 'PENDING') await payments.abandonCharge(id, shareTransaction(trx));
      if (captured) await payments.recordRefund(shareTransaction(trx), id, order.totalCents);
      return true;
    });
    unsettled.delete(id);
    if (!rejected) return false;
    counted.rejected?.inc();
    logger.warn({ orderId: id, reason, refunded: captured }, 'order passed its deadline while PENDING; rejected');
    if (captured) await payments.completeRefunds(id);
    return true;
  }

  /** One pass of the deadline sweeper: rejects orders PENDING for longer than `deadlineMs`. */
  async function sweep(): Promise<number> {
    const cutoff = new Date(Date.now() - deadlineMs).toISOString();
    const rows = await db
      .selectFrom('orders')
      .select('id')
      .where('status', '=', 'PENDING')
      .where('created_at', '<', cutoff)
      .orderBy('created_at')
      .limit(SWEEP_BATCH)
      .execute();
    let rejected = 0;
    for (const row of rows) if (await expire(row.id)) rejected++;
    return rejected;
  }

  /**
   * `Prefer: wait`: until the order is terminal or the wait is over. While this process is
   * charging it, the charge is awaited; otherwise (a payment step that failed and waits for the
   * deadline sweeper, an order another process is settling) its status is read every
   * WAIT_POLL_MS.
   */
  async function waitFor(order: Order, waitSeconds: number | undefined): Promise<Order> {
    if (!waitSeconds || isTerminal(order.status)) return order;
    return waitUntil(order, Date.now() + waitSeconds * 1000);
  }

  /** waitFor with the end of the wait as an instant (Date.now() ms): the order once terminal, else as it is then. */
  async function waitUntil(order: Order, deadline: number): Promise<Order> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return (await load(order.id)) ?? order;
      const running = inFlight.get(order.id);
      if (running) await within(running, left);
      else await sleep(Math.min(WAIT_POLL_MS, left));
      // The status alone while it is PENDING; the whole order once, to answer.
      const status = (await statusById.executeTakeFirst(db, { id: order.id }))?.status as OrderStatus | undefined;
      if (status === undefined || isTerminal(status)) return (await load(order.id)) ?? order;
    }
  }

  return {
    async place(customerId: string, body: CreateOrderRequest, options: { idempotencyKey?: string; waitSeconds?: number }): Promise<PlaceResult> {
      const hash = options.idempotencyKey === undefined ? undefined : requestHash(body);
      const replay = async (): Promise<PlaceResult | undefined> => {
        if (options.idempotencyKey === undefined) return undefined;
        const existing = await db
          .selectFrom('idempotency_keys')
          .select(['request_hash', 'order_id'])
          .where('customer_id', '=', customerId)
          .where('key', '=', options.idempotencyKey)
          .executeTakeFirst();
        if (!existing) return undefined;
        if (existing.request_hash !== hash) {
          throw new AppError('idempotency-key-reused', 'this Idempotency-Key was used with a different request body');
        }
        const order = await load(existing.order_id);
        if (!order) throw new AppError('internal-error', 'idempotency key refers to a missing order');
        return { order: await waitFor(order, options.waitSeconds), replayed: true };
      };

      const earlier = await replay();
      if (earlier) return earlier;

      const id = newId('ord');
      const now = nowIso();
      let pending: Order | undefined;
      let opened: OpenedCharge | undefined;
      try {
        await db.transaction().execute(async (trx) => {
          // The key first, before any stock is touched: a concurrent request with the same key
          // waits here for this transaction (PostgreSQL) and then fails on the key, and is answered
          // as a replay below, instead of reserving after this one and being refused for stock
          // this order took. A refusal rolls the key back with everything else.
          if (options.idempotencyKey !== undefined && hash !== undefined) {
            await trx
              .insertInto('idempotency_keys')
              .values({ customer_id: customerId, key: options.idempotencyKey, request_hash: hash, order_id: id, created_at: now })
              .execute();
          }
          // In SKU order: the order's items as stored and as answered.
          const items = await catalog.reserve(shareTransaction(trx), body.items);
          const totalCents = orderTotal(items);
          await insertOrder.execute(trx, { id, customer_id: customerId, total_cents: totalCents, payment_token: body.payment.token, now });
          const rows: Record<string, string | number> = { order_id: id };
          items.forEach((item, i) => {
            rows[`sku${i}`] = item.sku;
            rows[`quantity${i}`] = item.quantity;
            rows[`price${i}`] = item.unitPriceCents;
          });
          await insertItemsOf(items.length).execute(trx, rows);
          // The charge row commits with the order: one commit for both (see payments.openCharge).
          opened = await payments.openCharge(trx, id, totalCents);
          pending = pendingOrder({ id, customerId, items, totalCents, now });
        });
      } catch (error) {
        // A concurrent request with the same key won the race: answer as its replay.
        if (isUniqueViolation(error)) {
          const raced = await replay();
          if (raced) return raced;
          throw new AppError('idempotency-in-progress', 'a request with this Idempotency-Key is in progress');
        }
        throw error;
      }
      if (pending === undefined) throw new AppError('internal-error', 'order transaction finished without an order');
      const running = process(pending, body.payment.token, opened);
      if (!options.waitSeconds) return { order: pending, replayed: false };
      const deadline = Date.now() + options.waitSeconds * 1000;
      // The settled order comes back from memory. Without it (a settle that failed and leaves the
      // order to the deadline sweeper, a race lost to the sweeper, the wait over) the order's status
      // is polled for what is left of the wait, as GET does.
      const settled = await within(running, options.waitSeconds * 1000);
      return { order: settled ?? (await waitUntil(pending, deadline)), replayed: false };
    },

    async get(customerId: string, id: string, waitSeconds?: number): Promise<Order> {
      const order = await load(id, customerId);
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      return waitFor(order, waitSeconds);
    },

    async list(customerId: string, limit: number, status?: OrderStatus, beforeId?: string): Promise<{ items: Order[]; next: string | null }> {
      let query = db
        .selectFrom('orders')
        .selectAll()
        .where('customer_id', '=', customerId)
        .orderBy('id', 'desc')
        .limit(limit + 1);
      if (status) query = query.where('status', '=', status);
      if (beforeId) query = query.where('id', '<', beforeId);
      const rows = await query.execute();
      const page = rows.slice(0, limit);
      const ids = page.map((r) => r.id);
      const items = ids.length === 0 ? [] : await db.selectFrom('order_items').selectAll().where('order_id', 'in', ids).orderBy('sku').execute();
      return {
        items: ordersFromRows(page, items),
        next: rows.length > limit ? page[page.length - 1]!.id : null,
      };
    },

    /** Customer cancel of a confirmed order: status, restock, the refund record and the shipment change together. */
    async cancel(customerId: string, id: string): Promise<Order> {
      const order = await load(id, customerId);
      if (!order) throw new AppError('not-found', `no order ${id.slice(0, 60)}`);
      if (!canCancel(order.status)) {
        throw new AppError('order-not-cancellable', `order is ${order.status}; only CONFIRMED orders can be cancelled`);
      }
      const now = nowIso();
      const cancelled = await db.transaction().execute(async (trx) => {
        const updated = await trx
          .updateTable('orders')
          .set({ status: 'CANCELLED', payment_status: 'REFUNDED', updated_at: now })
          .where('id', '=', id)
          .where('status', '=', 'CONFIRMED')
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) return false;
        await catalog.release(trx, order.items);
        await payments.recordRefund(shareTransaction(trx), id, order.totalCents);
        await shipping.cancelIn(shareTransaction(trx), { orderId: id, customerId });
        return true;
      });
      if (!cancelled) throw new AppError('order-not-cancellable', 'order was cancelled concurrently');
      counted.cancelled?.inc();
      await payments.completeRefunds(id);
      await events.publish({ type: 'OrderCancelled', orderId: id, customerId });
      // What the cancel transaction wrote; nothing else changes a cancelled order.
      return { ...order, status: 'CANCELLED', paymentStatus: 'REFUNDED', updatedAt: now };
    },

    /**
     * After a restart: finishes orders left PENDING. An order whose charge was never opened (one
     * written before charges were opened in the order's own transaction) is charged now; one whose
     * charge was open or in flight when its process died is rejected as a provider error (the
     * simulated provider cannot be asked) once the call's lease lapsed (at most CALL_LEASE_MS
     * after the death): a lease still renewed is a live process's (another replica on the same
     * PostgreSQL, the pod a rolling update is replacing), and its order is left to it. Confirmed orders without a shipment (written
     * before shipments committed with the confirmation) get it now. Refunds recorded by a cancel that crashed before
     * reaching the provider are sent, and cancelled orders whose shipment is still active (cancelled
     * before shipments were cancelled in the same commit) get it cancelled.
     */
    async resume(): Promise<number> {
      // Only a previous process's orders: this one's may be at the provider right now (resume
      // runs after the server listens).
      const pending = (
        await db
          .selectFrom('orders')
          .select(['id', 'payment_token', 'total_cents'])
          .where('status', '=', 'PENDING')
          .where('created_at', '<', startedAt)
          .execute()
      ).filter((row) => !inFlight.has(row.id));
      let resumed = 0;
      // The charges' leases as they were: wait once, for the latest one live to run out (at most
      // CALL_LEASE_MS), then take the charges whose lease still reads the same, lapsed: a lease
      // renewed meanwhile is a live process's, and so is its order.
      const calls = new Map<string, Awaited<ReturnType<Payments['chargeCall']>>>();
      await eachBounded(pending, RESUME_CONCURRENCY, async (row) => void calls.set(row.id, await payments.chargeCall(row.id)));
      const liveUntil = [...calls.values()].reduce((latest, call) => {
        const until = call?.status === 'PENDING' && call.claimedUntil !== null ? Date.parse(call.claimedUntil) : 0;
        return Math.max(latest, until);
      }, 0);
      if (liveUntil >= Date.now()) await sleep(Math.min(liveUntil - Date.now(), CALL_LEASE_MS) + 10);
      await eachBounded(pending, RESUME_CONCURRENCY, async (row) => {
        const order = await load(row.id);
        if (!order || order.status !== 'PENDING') return;
        const call = calls.get(row.id);
        if (call === undefined) {
          resumed++;
          await process(order, row.payment_token as PaymentToken);
          return;
        }
        if (call.status === 'PENDING') {
          if (call.claimedUntil !== null && Date.parse(call.claimedUntil) >= Date.now()) return; // still held
          if (!(await payments.abandonLapsedCharge(row.id, call.claimedUntil))) return; // renewed meanwhile, or settled
        }
        resumed++;
        await settle(order, call.status === 'PENDING' ? 'FAILED' : (call.status as 'SUCCEEDED' | 'DECLINED' | 'FAILED'));
      });
      // Shipments are shipping's: ask it which orders it has not heard about, never join its table.
      const confirmed = await db.selectFrom('orders').select(['id', 'customer_id', 'total_cents']).where('status', '=', 'CONFIRMED').execute();
      const unshipped = new Set(await shipping.unshipped(confirmed.map((r) => r.id)));
      for (const row of confirmed) {
        if (!unshipped.has(row.id)) continue;
        const event = { type: 'OrderConfirmed', orderId: row.id, customerId: row.customer_id, totalCents: Number(row.total_cents) } as const;
        await db.transaction().execute((trx) => shipping.createIn(shareTransaction(trx), event));
        await events.publish(event);
      }
      // Refunds a dead process was sending: once their leases lapsed (a live process's are renewed, and stay its own).
      const leasesEnd = await payments.refundLeasesOfEarlierProcessesEnd(startedAt);
      if (leasesEnd !== undefined) await sleep(Math.max(0, leasesEnd - Date.now()) + 10);
      await payments.completeRefunds();
      const cancelled = await db.selectFrom('orders').select(['id', 'customer_id']).where('status', '=', 'CANCELLED').execute();
      const stillShipping = new Set(await shipping.stillShipping(cancelled.map((r) => r.id)));
      for (const row of cancelled) {
        if (!stillShipping.has(row.id)) continue;
        const event = { type: 'OrderCancelled', orderId: row.id, customerId: row.customer_id } as const;
        await db.transaction().execute((trx) => shipping.cancelIn(shareTransaction(trx), event));
        await events.publish(event);
      }
      return resumed;
    },

    /**
     * Starts the deadline sweeper: every `intervalMs`, orders PENDING for longer than the deadline
     * are rejected and compensated (see expire), and refunds left PENDING (a provider that failed
     * them, a cancel whose process died before it called) are sent when no one holds their claim
     * (see completeRefunds): each in a pass of its own, so slow refunds never hold up the deadline.
     * Stopped by drain(). Returns a function that stops it.
     */
    startDeadlineSweeper(intervalMs = 1000): () => void {
      if (sweeper === undefined) {
        const pass = (run: () => Promise<number>, what: string) =>
          run().catch((error: unknown) => {
            logger.error({ err: error }, `${what} failed; retried at the next pass`);
            return 0;
          });
        sweeper = setInterval(() => {
          sweeping ??= pass(sweep, 'deadline sweep').finally(() => (sweeping = undefined));
          refunding ??= pass(() => payments.completeRefunds(), 'sending pending refunds').finally(() => (refunding = undefined));
        }, intervalMs);
        // The sweeper alone never keeps the process alive.
        sweeper.unref();
      }
      return () => {
        clearInterval(sweeper);
        sweeper = undefined;
      };
    },

    /** One sweeper pass now; the number of orders it rejected (tests, operators). */
    sweep,

    /** Resolves when payment work in flight has finished (graceful shutdown); stops the sweeper. */
    async drain(): Promise<void> {
      clearInterval(sweeper);
      sweeper = undefined;
      await Promise.all([sweeping, refunding]);
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}

/** Runs `task` over the items with at most `limit` at a time. */
async function eachBounded<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export type Orders = ReturnType<typeof createOrders>;
