import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { PaymentRecord } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { paymentFromRow } from '@archbench/domain/orders';
import { nowIso } from '@archbench/domain/ids';
import { injectContext } from '@archbench/observability/tracing';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { LateCaptureRefunded } from '../shared/messages';
import type { PaymentsTables } from './schema';

type Row = PaymentsTables['payments'];
const NOTHING_CAPTURED = new Set(['UNAVAILABLE', 'EXPIRED', 'VOIDED']);
/**
 * The `command_id` prefix of a refund row no command asked for: the refund of a late capture (a
 * charge the provider made after another process had settled its row FAILED), sent by payments
 * itself, `late-capture:<orderId>`.
 */
export const LATE_CAPTURE_REFUND = 'late-capture:';
/**
 * The status of a charge the provider made after another process had settled its row FAILED (the
 * order was rejected): commands are still answered FAILED, the records show it captured, and
 * payments refunds it (LATE_CAPTURE_REFUND).
 */
export const LATE_CAPTURED = 'LATE_CAPTURED';

// A charge the breaker refused, that timed out, or that was refused or voided past the saga's
// deadline captured nothing: it shows as FAILED.
// A late capture shows as the capture it was (its refund beside it).
const toRecord = (row: Row): PaymentRecord =>
  paymentFromRow(NOTHING_CAPTURED.has(row.status) ? { ...row, status: 'FAILED' } : row.status === LATE_CAPTURED ? { ...row, status: 'SUCCEEDED' } : row);

/**
 * The terms of the partial index `payments_late_captures` (migration 0005), as SQL literals: the
 * scans at start (`unrefundedLateCaptures`, `unannouncedLateCaptures`) read the index only when
 * their WHERE holds these terms as written in the index's predicate, `status = 'LATE_CAPTURED' or
 * command_id like 'late-capture:%'`. A bound parameter would not do: SQLite plans a statement before
 * its parameters are bound, so it cannot tell `status = ?` implies the predicate, and scans every
 * payment ever made instead (EXPLAIN QUERY PLAN, test/migrations.test.ts).
 */
const LATE_CAPTURED_LITERAL = sql.lit(LATE_CAPTURED);
const LATE_CAPTURE_REFUND_LIKE = sql.lit(`${LATE_CAPTURE_REFUND}%`);

/** The type of the event that tells the orders service of a late capture's refund (shared/messages.ts). */
const LATE_CAPTURE_EVENT: LateCaptureRefunded['type'] = 'LateCaptureRefunded';

/** Writes the order's LateCaptureRefunded to the outbox, once: a second write for the order does nothing. */
async function announce(db: Kysely<PaymentsTables>, orderId: string): Promise<void> {
  const id = newId('evt');
  const event: LateCaptureRefunded = { type: LATE_CAPTURE_EVENT, id, orderId };
  await db
    .insertInto('outbox')
    .values({
      id,
      order_id: orderId,
      type: event.type,
      payload: JSON.stringify(event),
      headers: JSON.stringify(injectContext({})),
      created_at: nowIso(),
      published_at: null,
    })
    .onConflict((oc) => oc.columns(['order_id', 'type']).doNothing())
    .execute();
}

/**
 * When the oldest refund still to be made was recorded (`created_at` of a PENDING refund row: a
 * late capture's, which payments retries itself, or one the saga asked for and resends), or
 * undefined when none is. Reads the `payments_pending_refunds` partial index (0006: pending
 * refunds only), however many finished payments the table holds. Each scrape of /metrics runs it
 * (refund-age.ts).
 */
export async function oldestPendingRefund(db: Kysely<PaymentsTables>): Promise<string | undefined> {
  const row = await db
    .selectFrom('payments')
    .select((eb) => eb.fn.min<string>('created_at').as('since'))
    .where('kind', '=', 'refund')
    .where('status', '=', 'PENDING')
    .executeTakeFirst();
  return row?.since ?? undefined;
}

/** Table access of the payments service. */
export function createPaymentsRepository(db: Kysely<PaymentsTables>) {
  // Every charge runs these; compiled once (see prepareQuery).
  const byOrderAndKind = prepareQuery(db, (q, $: { order_id: string; kind: string }) =>
    q.selectFrom('payments').selectAll().where('order_id', '=', $.order_id).where('kind', '=', $.kind),
  );
  const insertPayment = prepareQuery(db, (q, $: Row) =>
    q.insertInto('payments').values({
      id: $.id,
      order_id: $.order_id,
      kind: $.kind,
      status: $.status,
      amount_cents: $.amount_cents,
      provider_ref: $.provider_ref,
      command_id: $.command_id,
      created_at: $.created_at,
      claimed_until: $.claimed_until,
    }),
  );
  const finishPayment = prepareQuery(db, (q, $: { id: string; status: string; provider_ref: string | null }) =>
    q.updateTable('payments').set({ status: $.status, provider_ref: $.provider_ref }).where('id', '=', $.id).where('status', '=', 'PENDING'),
  );
  const paymentsOfOrder = prepareQuery(db, (q, $: { order_id: string }) =>
    q.selectFrom('payments').selectAll().where('order_id', '=', $.order_id).orderBy('created_at'),
  );
  return {
    async find(orderId: string, kind: 'charge' | 'refund'): Promise<Row | undefined> {
      return byOrderAndKind.executeTakeFirst(db, { order_id: orderId, kind });
    },
    /**
     * Inserts the PENDING attempt (or a charge refused before any call: EXPIRED, VOIDED); throws a
     * unique violation when one exists for the order.
     */
    async insertPending(
      orderId: string,
      kind: 'charge' | 'refund',
      amountCents: number,
      commandId: string,
      status: 'PENDING' | 'EXPIRED' | 'VOIDED' = 'PENDING',
      claimedUntil: string | null = null,
    ): Promise<string> {
      const id = newId('pay');
      await insertPayment.execute(db, {
        id,
        order_id: orderId,
        kind,
        status,
        amount_cents: amountCents,
        provider_ref: null,
        command_id: commandId,
        created_at: nowIso(),
        claimed_until: claimedUntil,
      });
      return id;
    },
    /**
     * Moves a PENDING row's lease from `from` (null: a row from before leases) to `to` if it still
     * reads `from`: renewing one's own lease, or taking over a lapsed one. False when it did not.
     */
    async moveClaim(id: string, from: string | null, to: string): Promise<boolean> {
      const result = await db
        .updateTable('payments')
        .set({ claimed_until: to })
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .where('claimed_until', from === null ? 'is' : '=', from)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /** Settles a PENDING row whose lease still reads `lease` (a dead process's call); false when it does not. */
    async settleLapsed(id: string, lease: string | null, status: string): Promise<boolean> {
      const result = await db
        .updateTable('payments')
        .set({ status })
        .where('id', '=', id)
        .where('status', '=', 'PENDING')
        .where('claimed_until', lease === null ? 'is' : '=', lease)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) === 1;
    },
    /**
     * Records a provider call's outcome on its row if it is still PENDING; false when another
     * process settled it meanwhile (this one stalled past its lease, see CALL_LEASE_MS).
     */
    async finish(id: string, status: string, providerRef: string | null): Promise<boolean> {
      return (await finishPayment.executeAffected(db, { id, status, provider_ref: providerRef })) === 1;
    },
    /**
     * Records that the provider captured a charge whose row another process had settled FAILED (see
     * LATE_CAPTURED) and, in the same transaction, announces it to the orders service
     * (`announceLateCapture`): what is recorded is refunded, and the order told so, whatever stops.
     */
    async markLateCapture(id: string, providerRef: string | null): Promise<boolean> {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('payments')
          .set({ status: LATE_CAPTURED, provider_ref: providerRef })
          .where('id', '=', id)
          .where('status', '=', 'FAILED')
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) return false;
        const { order_id: orderId } = await trx.selectFrom('payments').select('order_id').where('id', '=', id).executeTakeFirstOrThrow();
        await announce(trx, orderId);
        return true;
      });
    },
    /**
     * Puts LateCaptureRefunded for the order in the outbox unless it is there already (one per
     * order): the orders service shows the rejected order's payment REFUNDED, as the monolith does
     * once it records such a refund. Written with the late capture (`markLateCapture`), and again
     * by whoever sends its refund in case that record failed or predates the outbox.
     */
    async announceLateCapture(orderId: string): Promise<void> {
      await announce(db, orderId);
    },
    /**
     * Orders with a late capture (a LATE_CAPTURED charge, or a refund row of LATE_CAPTURE_REFUND)
     * never announced: recorded before the outbox existed (0004), or whose record failed. Read at start.
     */
    async unannouncedLateCaptures(): Promise<string[]> {
      const rows = await db
        .selectFrom('payments as p')
        .select('p.order_id')
        .distinct()
        // The index's predicate as such (implied by the next condition): SQLite cannot see that an OR of ANDs implies it.
        .where(({ or, eb }) => or([eb('p.status', '=', LATE_CAPTURED_LITERAL), eb('p.command_id', 'like', LATE_CAPTURE_REFUND_LIKE)]))
        .where(({ and, or, eb }) =>
          or([
            and([eb('p.kind', '=', 'charge'), eb('p.status', '=', LATE_CAPTURED_LITERAL)]),
            and([eb('p.kind', '=', 'refund'), eb('p.command_id', 'like', LATE_CAPTURE_REFUND_LIKE)]),
          ]),
        )
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom('outbox as o').select('o.id').whereRef('o.order_id', '=', 'p.order_id').where('o.type', '=', LATE_CAPTURE_EVENT))),
        )
        .orderBy('p.order_id')
        .execute();
      return rows.map((r) => r.order_id);
    },
    /** Up to `limit` events not handed over yet, in id (creation) order (the outbox relay). */
    async unpublished(limit: number) {
      return db.selectFrom('outbox').select(['id', 'payload', 'headers', 'created_at']).where('published_at', 'is', null).orderBy('id').limit(limit).execute();
    },
    /** Marks these events handed over (the outbox relay, once per round). */
    async markPublished(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.updateTable('outbox').set({ published_at: nowIso() }).where('id', 'in', ids).execute();
    },
    /**
     * Late captures not refunded yet: their refund row PENDING (see LATE_CAPTURE_REFUND), or a
     * LATE_CAPTURED charge with no refund made (its process stopped before it wrote the refund
     * row). Read once at start; the saga never asks for these refunds. Neither half reads every
     * payment ever made: the pending refunds come from a partial index (`payments_late_captures`,
     * 0005, or `payments_pending_refunds`, 0006, whichever the planner picks), the unstarted ones
     * from `payments_late_captures`.
     */
    async unrefundedLateCaptures(): Promise<Array<Pick<Row, 'order_id' | 'amount_cents'>>> {
      const [pending, unstarted] = await Promise.all([
        db
          .selectFrom('payments')
          .select(['order_id', 'amount_cents'])
          .where('kind', '=', 'refund')
          .where('status', '=', 'PENDING')
          .where('command_id', 'like', LATE_CAPTURE_REFUND_LIKE)
          .orderBy('created_at')
          .execute(),
        db
          .selectFrom('payments as c')
          .select(['c.order_id', 'c.amount_cents'])
          .where('c.kind', '=', 'charge')
          .where('c.status', '=', LATE_CAPTURED_LITERAL)
          .where(({ not, exists, selectFrom }) =>
            not(exists(selectFrom('payments as r').select('r.id').whereRef('r.order_id', '=', 'c.order_id').where('r.kind', '=', 'refund'))),
          )
          .orderBy('c.created_at')
          .execute(),
      ]);
      return [...pending, ...unstarted];
    },
    async listForOrder(orderId: string): Promise<PaymentRecord[]> {
      const rows = await paymentsOfOrder.execute(db, { order_id: orderId });
      return rows.map(toRecord);
    },
  };
}

export type PaymentsRepository = ReturnType<typeof createPaymentsRepository>;
