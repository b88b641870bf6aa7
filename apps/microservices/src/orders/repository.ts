import type { Kysely, Transaction } from 'kysely';
import type { Order, OrderStatus } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { orderFromRows, ordersFromRows } from '@archbench/domain/orders';
import { injectContext } from '@archbench/observability/tracing';
import { nowIso } from '@archbench/domain/ids';
import type { NewEvent, PricedItem } from '../shared/messages';
import { ACTIVE_SAGA_STATES, canMove } from './saga';
import type { SagaState } from './saga';
import type { OrdersTables } from './schema';

export type Db = Kysely<OrdersTables> | Transaction<OrdersTables>;
export type SagaRow = OrdersTables['sagas'];

/** Table access of the orders service. */
export function createOrdersRepository(db: Kysely<OrdersTables>) {
  return {
    db,
    /** Runs `work` in one database transaction; the service never reaches for the Kysely handle to do it. */
    transaction<T>(work: (trx: Transaction<OrdersTables>) => Promise<T>): Promise<T> {
      return db.transaction().execute(work);
    },
    async load(id: string, customerId?: string): Promise<Order | undefined> {
      let query = db.selectFrom('orders').selectAll().where('id', '=', id);
      if (customerId !== undefined) query = query.where('customer_id', '=', customerId);
      const row = await query.executeTakeFirst();
      if (!row) return undefined;
      const items = await db.selectFrom('order_items').selectAll().where('order_id', '=', id).orderBy('sku').execute();
      return orderFromRows(row, items);
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
      return db
        .selectFrom('idempotency_keys')
        .select(['request_hash', 'order_id'])
        .where('customer_id', '=', customerId)
        .where('key', '=', key)
        .executeTakeFirst();
    },
    async insertSaga(saga: Omit<SagaRow, 'created_at' | 'updated_at' | 'total_cents' | 'charge_outcome'>): Promise<void> {
      const now = nowIso();
      await db
        .insertInto('sagas')
        .values({ ...saga, total_cents: null, charge_outcome: null, created_at: now, updated_at: now })
        .execute();
    },
    async saga(orderId: string): Promise<SagaRow | undefined> {
      return db.selectFrom('sagas').selectAll().where('order_id', '=', orderId).executeTakeFirst();
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
      const query = trx
        .updateTable('sagas')
        .set({ state, updated_at: nowIso(), ...extra })
        .where('order_id', '=', orderId)
        .where('state', '=', from);
      return Number((await query.executeTakeFirst()).numUpdatedRows) === 1;
    },
    /** Sets the payment status of an order that is already in `status` (a compensation finished later). */
    async setPaymentStatus(trx: Db, id: string, status: OrderStatus, paymentStatus: string): Promise<void> {
      await trx.updateTable('orders').set({ payment_status: paymentStatus, updated_at: nowIso() }).where('id', '=', id).where('status', '=', status).execute();
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
    async sagaCounts(): Promise<Record<string, number>> {
      const rows = await db
        .selectFrom('sagas')
        .select(['state'])
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .groupBy('state')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async insertOrder(
      trx: Db,
      order: { id: string; customerId: string; token: string; totalCents: number; items: PricedItem[]; idempotency?: { key: string; hash: string } },
    ): Promise<void> {
      const now = nowIso();
      await trx
        .insertInto('orders')
        .values({
          id: order.id,
          customer_id: order.customerId,
          status: 'PENDING',
          total_cents: order.totalCents,
          currency: 'EUR',
          payment_token: order.token,
          payment_status: 'PENDING',
          rejection_reason: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await trx
        .insertInto('order_items')
        .values(order.items.map((i) => ({ order_id: order.id, sku: i.sku, quantity: i.quantity, unit_price_cents: i.unitPriceCents })))
        .execute();
      if (order.idempotency) {
        await trx
          .insertInto('idempotency_keys')
          .values({ customer_id: order.customerId, key: order.idempotency.key, request_hash: order.idempotency.hash, order_id: order.id, created_at: now })
          .execute();
      }
    },
    async setOrderStatus(
      trx: Db,
      id: string,
      from: OrderStatus,
      to: { status: OrderStatus; paymentStatus: string; rejectionReason?: string | null },
    ): Promise<boolean> {
      const result = await trx
        .updateTable('orders')
        .set({ status: to.status, payment_status: to.paymentStatus, rejection_reason: to.rejectionReason ?? null, updated_at: nowIso() })
        .where('id', '=', id)
        .where('status', '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    async addToOutbox(trx: Db, event: NewEvent): Promise<void> {
      const id = newId('evt');
      const headers = JSON.stringify(injectContext({}));
      await trx
        .insertInto('outbox')
        .values({ id, type: event.type, payload: JSON.stringify({ ...event, id }), headers, created_at: nowIso(), published_at: null })
        .execute();
    },
    async unpublished(limit: number) {
      return db.selectFrom('outbox').select(['id', 'payload', 'headers', 'created_at']).where('published_at', 'is', null).orderBy('id').limit(limit).execute();
    },
    async markPublished(id: string): Promise<void> {
      await db.updateTable('outbox').set({ published_at: nowIso() }).where('id', '=', id).execute();
    },
  };
}

export type OrdersRepository = ReturnType<typeof createOrdersRepository>;
