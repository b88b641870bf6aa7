import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Transaction } from 'kysely';
import { Shipment } from '@archbench/contracts/schemas';
import type { Shipment as ShipmentType } from '@archbench/contracts/schemas';
import { newId, nowIso } from '@archbench/domain/ids';
import type { InternalHttpClient } from '@archbench/microservices/http-client';
import type { DomainEvent as ShippingEvent } from '@archbench/microservices/messages';
import type { DomainEvent, EventBus } from '@archbench/monolith/events';
import type { ShippingSeam, ShippingTables } from '@archbench/monolith/modules/shipping';
import { joinTransaction } from '@archbench/monolith/transaction';
import type { SharedTransaction } from '@archbench/monolith/transaction';
import { DependencyError } from '@archbench/domain/errors';
import { injectContext } from '@archbench/observability/tracing';
import { prepareQuery } from '@archbench/server-kit/prepared';
import { withOutbox } from '../db';
import type { OutboxTable } from '../db';

export interface ShippingOutboxOptions {
  /** The core's database as the monolith's shipping module sees it (its `shipments` table, the ledger here). */
  db: Kysely<ShippingTables>;
  events: EventBus;
  /** Reaches the shipping service's internal `GET /shipments/:orderId` (peer `shipping`). */
  client: InternalHttpClient;
  /** Told after each event's commit, so delivery starts at once instead of at the next poll. */
  onEnqueued: () => void;
  /** How long a read waits for shipping to apply an event the core already sent, ms. */
  catchUpMs: number;
}

/**
 * Shipping as the core sees it once the service is extracted: OrderConfirmed / OrderCancelled go
 * into the `outbox` table in the transaction that confirms / cancels the order (a transactional
 * outbox: the event commits with the change or not at all), and shipments are read from the
 * shipping service. The events the monolith publishes after those commits only start delivery.
 *
 * The core's `shipments` table (the monolith's) becomes the outbox ledger: one row per order
 * saying which event was last handed to the outbox (PREPARING after OrderConfirmed, CANCELLED
 * after OrderCancelled), written in the same transaction as the outbox row. The monolith's
 * restart recovery (`orders.resume()`) calls `createIn` / `cancelIn` for confirmed orders without
 * a ledger row and cancelled orders whose row is not CANCELLED, which only a core older than the
 * transactional outbox leaves; the ledger makes a repeat a no-op.
 * @example createApp({ ..., shipping: (ctx) => createShippingOutbox({ ...ctx, client, onEnqueued: relay.kick, catchUpMs: 3000 }) })
 */
export function createShippingOutbox({ db: moduleDb, events, client, onEnqueued, catchUpMs }: ShippingOutboxOptions): ShippingSeam {
  const db = withOutbox(moduleDb);

  // One or two of these per confirmed or cancelled order: compiled once.
  const insertLedger = prepareQuery(db, (q, $: { id: string; order_id: string; status: string; created_at: string }) =>
    q
      .insertInto('shipments')
      .values({ id: $.id, order_id: $.order_id, status: $.status, created_at: $.created_at })
      .onConflict((oc) => oc.column('order_id').doNothing()),
  );
  const cancelLedger = prepareQuery(db, (q, $: { order_id: string }) =>
    q.updateTable('shipments').set({ status: 'CANCELLED' }).where('order_id', '=', $.order_id).where('status', '!=', 'CANCELLED'),
  );
  const insertOutbox = prepareQuery(db, (q, $: { id: string; type: string; order_id: string; payload: string; headers: string; created_at: string }) =>
    q
      .insertInto('outbox')
      .values({ id: $.id, type: $.type, order_id: $.order_id, payload: $.payload, headers: $.headers, created_at: $.created_at, published_at: null }),
  );
  const ledgerStatus = prepareQuery(db, (q, $: { order_id: string }) => q.selectFrom('shipments').select('status').where('order_id', '=', $.order_id));

  /**
   * Writes the event and its ledger row in `trx`; false when the ledger says it was handed over
   * already. The ledger row says which event this order last handed over; a repeat (restart
   * recovery) or a confirm after its cancel changes nothing and queues nothing.
   */
  async function enqueueIn(trx: Transaction<ShippingTables & { outbox: OutboxTable }>, event: DomainEvent): Promise<boolean> {
    const ledger = { id: newId('shp'), order_id: event.orderId, created_at: nowIso() };
    if (event.type === 'OrderConfirmed') {
      if ((await insertLedger.executeAffected(trx, { ...ledger, status: 'PREPARING' })) !== 1) return false;
    } else if ((await cancelLedger.executeAffected(trx, { order_id: event.orderId })) !== 1) {
      if ((await insertLedger.executeAffected(trx, { ...ledger, status: 'CANCELLED' })) !== 1) return false;
    }
    const id = newId('evt');
    const message: ShippingEvent =
      event.type === 'OrderConfirmed'
        ? { type: event.type, id, orderId: event.orderId, customerId: event.customerId, totalCents: event.totalCents }
        : { type: event.type, id, orderId: event.orderId, customerId: event.customerId };
    await insertOutbox.execute(trx, {
      id,
      type: event.type,
      order_id: event.orderId,
      payload: JSON.stringify(message),
      headers: JSON.stringify(injectContext({})),
      created_at: nowIso(),
    });
    return true;
  }

  // Both are in the outbox already (createIn / cancelIn, in the order's transaction): the events,
  // published after that commit, only start delivery.
  events.subscribe('OrderConfirmed', onEnqueued);
  events.subscribe('OrderCancelled', onEnqueued);

  async function fetchShipment(orderId: string): Promise<ShipmentType | undefined> {
    const response = await client.request('shipping', { method: 'GET', path: '/shipments/:orderId', params: { orderId }, retry: 'always' });
    if (response.status === 404) return undefined;
    if (response.status !== 200) throw new DependencyError('shipping', `GET /shipments/${orderId} answered ${response.status}`);
    return Shipment.parse(JSON.parse(response.text));
  }

  return {
    /**
     * In the transaction that confirms the order: its OrderConfirmed goes into the outbox (and
     * the ledger) with the confirmation, one commit for both.
     */
    async createIn(trx: SharedTransaction, order: Omit<Extract<DomainEvent, { type: 'OrderConfirmed' }>, 'type'>): Promise<void> {
      await enqueueIn(joinTransaction<ShippingTables & { outbox: OutboxTable }>(trx), { type: 'OrderConfirmed', ...order });
    },
    /** In the transaction that cancels the order: its OrderCancelled goes into the outbox (and the ledger) with the cancel. */
    async cancelIn(trx: SharedTransaction, order: Omit<Extract<DomainEvent, { type: 'OrderCancelled' }>, 'type'>): Promise<void> {
      await enqueueIn(joinTransaction<ShippingTables & { outbox: OutboxTable }>(trx), { type: 'OrderCancelled', ...order });
    },
    /**
     * The shipping service's shipment of an order. When the core has already sent an event for
     * the order, waits up to `catchUpMs` for shipping to have applied it, so a customer who sees
     * the order confirmed (or cancelled) sees the matching shipment.
     */
    async get(orderId: string): Promise<ShipmentType | undefined> {
      const ledger = await ledgerStatus.executeTakeFirst(db, { order_id: orderId });
      const deadline = Date.now() + (ledger ? catchUpMs : 0);
      for (;;) {
        const shipment = await fetchShipment(orderId);
        const caughtUp = !ledger || (shipment !== undefined && (ledger.status !== 'CANCELLED' || shipment.status === 'CANCELLED'));
        if (caughtUp || Date.now() >= deadline) return shipment;
        await sleep(25);
      }
    },
    /** Restart recovery: of these confirmed orders, those with no ledger row (their OrderConfirmed is not in the outbox). */
    async unshipped(orderIds: readonly string[]): Promise<string[]> {
      const handed = new Set<string>();
      for (let i = 0; i < orderIds.length; i += 500) {
        const rows = await db
          .selectFrom('shipments')
          .select('order_id')
          .where('order_id', 'in', orderIds.slice(i, i + 500))
          .execute();
        for (const row of rows) handed.add(row.order_id);
      }
      return orderIds.filter((id) => !handed.has(id));
    },
    /** Restart recovery: of these cancelled orders, those whose ledger row does not say CANCELLED yet. */
    async stillShipping(orderIds: readonly string[]): Promise<string[]> {
      const found: string[] = [];
      for (let i = 0; i < orderIds.length; i += 500) {
        const rows = await db
          .selectFrom('shipments')
          .select('order_id')
          .where('order_id', 'in', orderIds.slice(i, i + 500))
          .where('status', '!=', 'CANCELLED')
          .execute();
        found.push(...rows.map((r) => r.order_id));
      }
      return found;
    },
  };
}
