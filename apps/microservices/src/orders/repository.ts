import type { Kysely, Transaction } from 'kysely';
import type { Order, OrderStatus } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { orderFromRows, ordersFromRows } from '@archbench/domain/orders';
import { injectContext } from '@archbench/observability/tracing';
import { nowIso } from '@archbench/domain/ids';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { DomainEvent, PricedItem } from '@archbench/domain/orders';
import { ACTIVE_SAGA_STATES, canMove } from './saga';
import type { SagaState } from './saga';
import type { OrdersTables } from './schema';

export type Db = Kysely<OrdersTables> | Transaction<OrdersTables>;
export type SagaRow = OrdersTables['sagas'];

/** Table access of the orders service. */
export function createOrdersRepository(db: Kysely<OrdersTables>) {
  // What every order runs, compiled once (see prepareQuery); listings and sweeps build their queries.
  const orderById = prepareQuery(db, (q, $: { id: string }) => q.selectFrom('orders').selectAll().where('id', '=', $.id));
  const customerOrderById = prepareQuery(db, (q, $: { id: string; customer_id: string }) =>
    q.selectFrom('orders').selectAll().where('id', '=', $.id).where('customer_id', '=', $.customer_id),
  );
  const itemsOfOrder = prepareQuery(db, (q, $: { order_id: string }) =>
    q.selectFrom('order_items').selectAll().where('order_id', '=', $.order_id).orderBy('sku'),
  );
  const idempotencyByKey = prepareQuery(db, (q, $: { customer_id: string; key: string }) =>
    q.selectFrom('idempotency_keys').select(['request_hash', 'order_id']).where('customer_id', '=', $.customer_id).where('key', '=', $.key),
  );
  const insertSagaRow = prepareQuery(db, (q, $: Omit<SagaRow, 'total_cents' | 'charge_outcome' | 'late_refund_at'>) =>
    q.insertInto('sagas').values({
      order_id: $.order_id,
      customer_id: $.customer_id,
      state: $.state,
      items: $.items,
      payment_token: $.payment_token,
      total_cents: null,
      charge_outcome: null,
      created_at: $.created_at,
      updated_at: $.updated_at,
      late_refund_at: null,
    }),
  );
  const sagaByOrder = prepareQuery(db, (q, $: { order_id: string }) => q.selectFrom('sagas').selectAll().where('order_id', '=', $.order_id));
  const moveSaga = prepareQuery(db, (q, $: { order_id: string; state: string; from: string; now: string }) =>
    q.updateTable('sagas').set({ state: $.state, updated_at: $.now }).where('order_id', '=', $.order_id).where('state', '=', $.from),
  );
  const moveSagaWithOutcome = prepareQuery(db, (q, $: { order_id: string; state: string; from: string; now: string; charge_outcome: string }) =>
    q
      .updateTable('sagas')
      .set({ state: $.state, updated_at: $.now, charge_outcome: $.charge_outcome })
      .where('order_id', '=', $.order_id)
      .where('state', '=', $.from),
  );
  // The moves that reject an order read back whether payments announced a late capture's refund
  // (late_refund_at, set by `recordLateRefund`): the rejection pays one more statement only then.
  const rejectingMove = prepareQuery(db, (q, $: { order_id: string; state: string; from: string; now: string }) =>
    q
      .updateTable('sagas')
      .set({ state: $.state, updated_at: $.now })
      .where('order_id', '=', $.order_id)
      .where('state', '=', $.from)
      .returning('late_refund_at'),
  );
  const rejectingMoveWithOutcome = prepareQuery(db, (q, $: { order_id: string; state: string; from: string; now: string; charge_outcome: string }) =>
    q
      .updateTable('sagas')
      .set({ state: $.state, updated_at: $.now, charge_outcome: $.charge_outcome })
      .where('order_id', '=', $.order_id)
      .where('state', '=', $.from)
      .returning('late_refund_at'),
  );
  const moveSagaWithTotal = prepareQuery(db, (q, $: { order_id: string; state: string; from: string; now: string; total_cents: number }) =>
    q
      .updateTable('sagas')
      .set({ state: $.state, updated_at: $.now, total_cents: $.total_cents })
      .where('order_id', '=', $.order_id)
      .where('state', '=', $.from),
  );
  const setPaymentStatusOf = prepareQuery(db, (q, $: { id: string; status: string; payment_status: string; now: string }) =>
    q.updateTable('orders').set({ payment_status: $.payment_status, updated_at: $.now }).where('id', '=', $.id).where('status', '=', $.status),
  );
  /** A REJECTED order's payment shown REFUNDED (a late capture's refund); a no-op on any other order, or one already REFUNDED. */
  const lateRefund = prepareQuery(db, (q, $: { id: string; now: string }) =>
    q
      .updateTable('orders')
      .set({ payment_status: 'REFUNDED', updated_at: $.now })
      .where('id', '=', $.id)
      .where('status', '=', 'REJECTED')
      .where('payment_status', '<>', 'REFUNDED'),
  );
  const insertOrderRow = prepareQuery(db, (q, $: { id: string; customer_id: string; total_cents: number; payment_token: string; now: string }) =>
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
  const insertItem = prepareQuery(db, (q, $: OrdersTables['order_items']) =>
    q.insertInto('order_items').values({ order_id: $.order_id, sku: $.sku, quantity: $.quantity, unit_price_cents: $.unit_price_cents }),
  );
  const insertIdempotencyKey = prepareQuery(db, (q, $: OrdersTables['idempotency_keys']) =>
    q
      .insertInto('idempotency_keys')
      .values({ customer_id: $.customer_id, key: $.key, request_hash: $.request_hash, order_id: $.order_id, created_at: $.created_at }),
  );
  const setStatus = prepareQuery(
    db,
    (q, $: { id: string; from: string; status: string; payment_status: string; rejection_reason: string | null; now: string }) =>
      q
        .updateTable('orders')
        .set({ status: $.status, payment_status: $.payment_status, rejection_reason: $.rejection_reason, updated_at: $.now })
        .where('id', '=', $.id)
        .where('status', '=', $.from),
  );
  const insertEvent = prepareQuery(db, (q, $: Omit<OrdersTables['outbox'], 'published_at'>) =>
    q.insertInto('outbox').values({ id: $.id, type: $.type, payload: $.payload, headers: $.headers, created_at: $.created_at, published_at: null }),
  );

  return {
    db,
    /** Runs `work` in one database transaction; the service never reaches for the Kysely handle to do it. */
    transaction<T>(work: (trx: Transaction<OrdersTables>) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },
    async load(id: string, customerId?: string): Promise<Order | undefined> {
      const row =
        customerId === undefined ? await orderById.executeTakeFirst(db, { id }) : await customerOrderById.executeTakeFirst(db, { id, customer_id: customerId });
      if (!row) return undefined;
      return orderFromRows(row, await itemsOfOrder.execute(db, { order_id: id }));
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
      return { items: ordersFromRows(page, items), next: rows.length > limit ? page[page.length - 1]!.id : null };
    },
    async idempotencyKey(customerId: string, key: string) {
      return idempotencyByKey.executeTakeFirst(db, { customer_id: customerId, key });
    },
    /**
     * Stores a new saga (RESERVING). With an Idempotency-Key the key is claimed for the saga's
     * order in the same transaction, before anything is reserved: a second request with that key
     * fails here on the key's primary key (a unique violation) and has nothing to undo.
     */
    async insertSaga(
      saga: Omit<SagaRow, 'created_at' | 'updated_at' | 'total_cents' | 'charge_outcome' | 'late_refund_at'>,
      idempotency?: { key: string; hash: string },
    ): Promise<void> {
      const now = nowIso();
      const row = { ...saga, created_at: now, updated_at: now };
      if (idempotency === undefined) {
        await insertSagaRow.execute(db, row);
        return;
      }
      await db.transaction().execute(async (trx) => {
        await insertIdempotencyKey.execute(trx, {
          customer_id: saga.customer_id,
          key: idempotency.key,
          request_hash: idempotency.hash,
          order_id: saga.order_id,
          created_at: now,
        });
        await insertSagaRow.execute(trx, row);
      });
    },
    /**
     * Gives back the Idempotency-Key a saga claimed when its order will never exist (refused,
     * aborted): a retry with that key places the order anew instead of replaying nothing.
     */
    async releaseKey(trx: Db, customerId: string, orderId: string): Promise<void> {
      // The primary key starts with customer_id: only that customer's keys are read.
      await trx.deleteFrom('idempotency_keys').where('customer_id', '=', customerId).where('order_id', '=', orderId).execute();
    },
    async saga(orderId: string): Promise<SagaRow | undefined> {
      return sagaByOrder.executeTakeFirst(db, { order_id: orderId });
    },
    /** Moves a saga on from an expected state (a move SAGA_TRANSITIONS allows); false when it was elsewhere. */
    async setSaga(
      trx: Db,
      orderId: string,
      state: SagaState,
      from: SagaState,
      extra: Partial<Pick<SagaRow, 'charge_outcome' | 'total_cents'>> = {},
    ): Promise<boolean> {
      if (!canMove(from, state)) throw new Error(`saga move ${from} -> ${state} is not in SAGA_TRANSITIONS`);
      const move = { order_id: orderId, state, from, now: nowIso() };
      const { charge_outcome: outcome, total_cents: total } = extra;
      if (outcome != null && total != null) throw new Error('setSaga sets the charge outcome or the total, not both at once');
      let changed: number;
      if (outcome != null) changed = await moveSagaWithOutcome.executeAffected(trx, { ...move, charge_outcome: outcome });
      else if (total != null) changed = await moveSagaWithTotal.executeAffected(trx, { ...move, total_cents: total });
      else changed = await moveSaga.executeAffected(trx, move);
      return changed === 1;
    },
    /**
     * `setSaga` for a move that rejects the order (→ REJECTED, EXPIRED, EXPIRING), in the same one
     * statement: whether it moved, and whether payments announced a late capture's refund of the
     * order (`late_refund_at`), in which case the caller runs `applyLateRefund` once the order is
     * REJECTED. On PostgreSQL the move waits for a `recordLateRefund` holding the saga row and then
     * reads its write; one that comes after the move finds the order REJECTED itself.
     */
    async setSagaRejecting(
      trx: Db,
      orderId: string,
      state: SagaState,
      from: SagaState,
      extra: Partial<Pick<SagaRow, 'charge_outcome'>> = {},
    ): Promise<{ moved: boolean; lateRefund: boolean }> {
      if (!canMove(from, state)) throw new Error(`saga move ${from} -> ${state} is not in SAGA_TRANSITIONS`);
      const move = { order_id: orderId, state, from, now: nowIso() };
      const rows =
        extra.charge_outcome != null
          ? await rejectingMoveWithOutcome.execute(trx, { ...move, charge_outcome: extra.charge_outcome })
          : await rejectingMove.execute(trx, move);
      return { moved: rows.length === 1, lateRefund: rows[0]?.late_refund_at != null };
    },
    /** Sets the payment status of an order that is already in `status` (a compensation finished later). */
    async setPaymentStatus(trx: Db, id: string, status: OrderStatus, paymentStatus: string): Promise<void> {
      await setPaymentStatusOf.execute(trx, { id, status, payment_status: paymentStatus, now: nowIso() });
    },
    /**
     * Payments announced a late capture of the order and its refund (LateCaptureRefunded): kept on
     * the saga, and a REJECTED order's payment status set REFUNDED (never a CONFIRMED or CANCELLED
     * one's). Idempotent: a redelivery changes nothing. The saga row is written first, so this and
     * a transaction of the saga that rejects the order (which moves the saga first,
     * `setSagaRejecting`, then calls `applyLateRefund` when the move read `late_refund_at`) take the same row lock in the same order: whichever commits second sees
     * the other's write, and the order ends REFUNDED either way. 'unknown' when there is no such saga.
     */
    async recordLateRefund(orderId: string): Promise<'refunded' | 'kept' | 'unknown'> {
      return db.transaction().execute(async (trx) => {
        const now = nowIso();
        const saga = await trx
          .updateTable('sagas')
          .set((eb) => ({ late_refund_at: eb.fn.coalesce('late_refund_at', eb.val(now)) }))
          .where('order_id', '=', orderId)
          .executeTakeFirst();
        if (Number(saga.numUpdatedRows) !== 1) return 'unknown';
        return (await lateRefund.executeAffected(trx, { id: orderId, now })) === 1 ? 'refunded' : 'kept';
      });
    },
    /**
     * In a transaction that rejected the order, when its saga's move (`setSagaRejecting`) read that
     * payments announced a late capture's refund: the REJECTED order's payment shows REFUNDED.
     */
    async applyLateRefund(trx: Db, id: string): Promise<void> {
      await lateRefund.execute(trx, { id, now: nowIso() });
    },
    /** Sagas with a step to run, in order id order, after `afterId` (keyset pages). */
    async activeSagas(limit: number, afterId?: string): Promise<SagaRow[]> {
      let query = db
        .selectFrom('sagas')
        .selectAll()
        .where('state', 'in', [...ACTIVE_SAGA_STATES]);
      if (afterId !== undefined) query = query.where('order_id', '>', afterId);
      return query.orderBy('order_id').limit(limit).execute();
    },
    /**
     * When the oldest saga in each state with a step to run entered that state (`updated_at`, which
     * only a move sets), by state; states with no saga are left out. Reads the `sagas_state` index
     * for those states only: the rows read are the sagas in flight, which the sweeper reads whole
     * every SAGA_SWEEP_MS anyway.
     */
    async oldestActiveSagas(): Promise<Partial<Record<SagaState, string>>> {
      const rows = await db
        .selectFrom('sagas')
        .select('state')
        .select((eb) => eb.fn.min<string>('updated_at').as('since'))
        .where('state', 'in', [...ACTIVE_SAGA_STATES])
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, r.since]));
    },
    async sagaCounts(): Promise<Record<string, number>> {
      const rows = await db
        .selectFrom('sagas')
        .select(['state'])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async insertOrder(trx: Db, order: { id: string; customerId: string; token: string; totalCents: number; items: PricedItem[] }): Promise<void> {
      const now = nowIso();
      await insertOrderRow.execute(trx, { id: order.id, customer_id: order.customerId, total_cents: order.totalCents, payment_token: order.token, now });
      for (const i of order.items) await insertItem.execute(trx, { order_id: order.id, sku: i.sku, quantity: i.quantity, unit_price_cents: i.unitPriceCents });
    },
    async setOrderStatus(
      trx: Db,
      id: string,
      from: OrderStatus,
      to: { status: OrderStatus; paymentStatus: string; rejectionReason?: string | null },
    ): Promise<boolean> {
      const changed = await setStatus.executeAffected(trx, {
        id,
        from,
        status: to.status,
        payment_status: to.paymentStatus,
        rejection_reason: to.rejectionReason ?? null,
        now: nowIso(),
      });
      return changed === 1;
    },
    async addToOutbox(trx: Db, event: DomainEvent): Promise<void> {
      const id = newId('evt');
      const headers = JSON.stringify(injectContext({}));
      await insertEvent.execute(trx, { id, type: event.type, payload: JSON.stringify({ ...event, id }), headers, created_at: nowIso() });
    },
    async unpublished(limit: number) {
      return db.selectFrom('outbox').select(['id', 'payload', 'headers', 'created_at']).where('published_at', 'is', null).orderBy('id').limit(limit).execute();
    },
    /** Marks these events handed over: one statement for the relay's round (up to its batch of 100). */
    async markPublished(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.updateTable('outbox').set({ published_at: nowIso() }).where('id', 'in', ids).execute();
    },
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
