import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import type { PaymentToken, RejectionReason } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import type { ChargeOutcome, PaymentProvider } from '@archbench/domain/payment-provider';
import type { PaymentsBindings } from '../../shared/bindings';
import type { WorkerLogger } from '../../shared/log';
import type { OrderEvent, PaymentCommand } from '../../shared/messages';
import { PoisonMessageError } from '../../shared/messages';
import type { WorkerMetrics } from '../../shared/metrics';
import { nowIso, releaseStockIf } from '../../shared/orders-store';
import { QUEUES } from '../../topology';

/**
 * A charge left PENDING this long was cut off mid-call (the invocation died), or its provider call
 * is only slow: the order is rejected rather than risk a second capture. There is no call timeout
 * below this (a queue invocation may run for minutes): a call that outlives the rule is still
 * heard, and when it captured, the capture is recorded and refunded (`refundLateCaptures`).
 */
export const STALE_CHARGE_MS = 30_000;

/** Thrown to have the message delivered again later (another attempt is still in flight). */
export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

export interface PaymentsDeps {
  env: PaymentsBindings;
  provider: PaymentProvider;
  metrics: WorkerMetrics;
  logger: WorkerLogger;
}

/** One delivered command: what it says and how often it was delivered. */
export interface Delivery {
  command: PaymentCommand;
  attempts: number;
}

/** Per delivery: done (ack) or the error to retry it for. */
export type Outcome = 'ack' | Error;

interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  payment_token: string;
}

interface ChargeRow {
  id: string;
  status: string;
  created_at: string;
}

/** A settlement to write: the payment row's outcome and what it does to the order. */
interface Settlement {
  order: OrderRow;
  paymentId: string;
  outcome: ChargeOutcome;
  /** The provider's reference when this invocation called it (a fresh answer); null when settled from the stored record. */
  providerRef: string | null;
}

const REASONS: Record<Exclude<ChargeOutcome, 'SUCCEEDED'>, RejectionReason> = { DECLINED: 'payment_declined', FAILED: 'payment_provider_error' };

/**
 * The payment step of the order saga, as a queue consumer that works a whole batch at a time:
 * one D1 round trip reads the orders and claims a charge row for each (the unique (order_id, kind)
 * row is written before the provider is called, so a redelivered message never charges twice),
 * the provider calls run concurrently, one D1 round trip settles every order (status-guarded, a
 * reject releasing its stock in the same batch) and one `sendBatch` emits the OrderConfirmed
 * events of the orders that batch confirmed. A capture whose order was rejected meanwhile is
 * refunded. Every step is safe to repeat: queues deliver at least once.
 */
export function createPaymentStep({ env, provider, metrics, logger }: PaymentsDeps) {
  const db: D1Database = env.DB;

  function settleStatements(s: Settlement): D1PreparedStatement[] {
    const now = nowIso();
    // A fresh provider answer is recorded whatever the row says meanwhile: the stale-charge rule may
    // have marked it FAILED while the call was still running, and a capture must not be hidden.
    const record =
      s.providerRef === null
        ? db.prepare("UPDATE payments SET status = ?2 WHERE id = ?1 AND status = 'PENDING'").bind(s.paymentId, s.outcome)
        : db.prepare('UPDATE payments SET status = ?2, provider_ref = ?3 WHERE id = ?1').bind(s.paymentId, s.outcome, s.providerRef);
    if (s.outcome === 'SUCCEEDED') {
      return [
        record,
        db
          .prepare("UPDATE orders SET status = 'CONFIRMED', payment_status = 'CAPTURED', updated_at = ?2 WHERE id = ?1 AND status = 'PENDING'")
          .bind(s.order.id, now),
      ];
    }
    return [
      record,
      releaseStockIf(db, s.order.id, 'PENDING'),
      db
        .prepare("UPDATE orders SET status = 'REJECTED', payment_status = ?2, rejection_reason = ?3, updated_at = ?4 WHERE id = ?1 AND status = 'PENDING'")
        .bind(s.order.id, s.outcome, REASONS[s.outcome], now),
    ];
  }

  /**
   * The refund of captures whose orders were rejected before the provider answered (the stale-charge
   * rule gave up on a call that was only slow): one round trip records a PENDING refund row and
   * marks the order's payment REFUNDED (the order stays REJECTED, its stock was released with the
   * rejection), then `refund` commands go to the payments queue, as a cancel's refund does. At most
   * one refund per order (the unique (order_id, kind) row), so a repeat records and sends nothing.
   */
  async function refundLateCaptures(orders: readonly OrderRow[]): Promise<void> {
    const now = nowIso();
    const written = await db.batch(
      orders.flatMap((order) => [
        db
          .prepare(
            "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) SELECT ?2, id, 'refund', 'PENDING', total_cents, NULL, ?3 FROM orders WHERE id = ?1 AND status = 'REJECTED' ON CONFLICT (order_id, kind) DO NOTHING RETURNING id",
          )
          .bind(order.id, newId('pay'), now),
        db
          .prepare("UPDATE orders SET payment_status = 'REFUNDED', updated_at = ?2 WHERE id = ?1 AND status = 'REJECTED' AND payment_status != 'REFUNDED'")
          .bind(order.id, now),
      ]),
    );
    const recorded = orders.filter((_, i) => (written[2 * i]?.results.length ?? 0) > 0);
    if (recorded.length === 0) return;
    for (const order of recorded) logger.warn({ orderId: order.id }, 'payment captured after the order was rejected; refunding it');
    await env.PAYMENTS_QUEUE.sendBatch(recorded.map((order) => ({ body: { kind: 'refund' as const, orderId: order.id }, contentType: 'json' as const })));
    metrics.sent(QUEUES.payments, recorded.length);
  }

  const confirmed = (order: OrderRow): OrderEvent => ({
    type: 'OrderConfirmed',
    orderId: order.id,
    customerId: order.customer_id,
    totalCents: Number(order.total_cents),
  });

  return {
    /** Runs a batch of commands; returns, per delivery, 'ack' or the error to retry it for. */
    /**
     * `orphanedBefore`: a charge row still PENDING that was claimed before this instant belongs to
     * a runtime that is gone (the launcher's start sweep passes its own start time): no invocation
     * will ever settle it, so it is finished now instead of after STALE_CHARGE_MS, which could run
     * past the saga deadline.
     */
    async handle(deliveries: readonly Delivery[], options: { orphanedBefore?: number } = {}): Promise<Outcome[]> {
      const outcomes: Outcome[] = deliveries.map(() => 'ack');
      if (deliveries.length === 0) return outcomes;
      const now = nowIso();
      const claims = deliveries.map((d) => (d.command.kind === 'charge' ? newId('pay') : ''));

      // Round trip 1: per charge, the order, a claimed charge row (or none), the charge row as it
      // now is; per refund, its pending refund row.
      const reads: D1PreparedStatement[] = deliveries.flatMap((d, i): D1PreparedStatement[] =>
        d.command.kind === 'charge'
          ? [
              db.prepare('SELECT id, customer_id, status, total_cents, payment_token FROM orders WHERE id = ?1').bind(d.command.orderId),
              db
                .prepare(
                  "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) SELECT ?2, id, 'charge', 'PENDING', total_cents, NULL, ?3 FROM orders WHERE id = ?1 AND status = 'PENDING' ON CONFLICT (order_id, kind) DO NOTHING RETURNING id",
                )
                .bind(d.command.orderId, claims[i], now),
              db.prepare("SELECT id, status, created_at FROM payments WHERE order_id = ?1 AND kind = 'charge'").bind(d.command.orderId),
            ]
          : [db.prepare("SELECT id, amount_cents FROM payments WHERE order_id = ?1 AND kind = 'refund' AND status = 'PENDING'").bind(d.command.orderId)],
      );
      const results = await db.batch(reads);

      const settlements: Settlement[] = [];
      // Captures of orders that are REJECTED: refunded once the settlements are written.
      const lateCaptures: OrderRow[] = [];
      const refunds: Array<{ id: string; amountCents: number; outcome?: ChargeOutcome; providerRef?: string }> = [];
      const events: OrderEvent[] = [];
      const calls: Array<Promise<void>> = [];
      let cursor = 0;
      deliveries.forEach((d, index) => {
        const redelivered = d.attempts > 1;
        if (d.command.kind === 'refund') {
          const row = results[cursor++]?.results[0] as { id: string; amount_cents: number } | undefined;
          if (row) refunds.push({ id: row.id, amountCents: Number(row.amount_cents) });
          return;
        }
        const order = results[cursor]?.results[0] as OrderRow | undefined;
        const claimed = (results[cursor + 1]?.results.length ?? 0) > 0;
        const charge = results[cursor + 2]?.results[0] as ChargeRow | undefined;
        cursor += 3;
        if (!order) {
          outcomes[index] = new PoisonMessageError(`no order ${d.command.orderId}`);
          return;
        }
        if (order.status !== 'PENDING') {
          // Settled already; a redelivery after a crash between confirm and send must still tell shipping (it is idempotent).
          if (order.status === 'CONFIRMED' && redelivered) events.push(confirmed(order));
          // A late capture recorded by a delivery that failed before its refund was: refund it now (once).
          if (order.status === 'REJECTED' && charge?.status === 'SUCCEEDED') lateCaptures.push(order);
          return;
        }
        if (claimed && charge !== undefined && charge.id === claims[index]) {
          const paymentId = charge.id;
          calls.push(
            provider.charge(order.payment_token as PaymentToken, Number(order.total_cents)).then((result) => {
              metrics.inc('payments', { result: result.outcome.toLowerCase() });
              settlements.push({ order, paymentId, outcome: result.outcome, providerRef: result.providerRef });
            }),
          );
          return;
        }
        if (!charge) {
          outcomes[index] = new RetryLaterError(`charge of ${order.id} could not be claimed`);
          return;
        }
        // A charge was already attempted: never call the provider again, finish from its record.
        if (charge.status === 'PENDING') {
          const claimedAt = Date.parse(charge.created_at);
          const orphaned = options.orphanedBefore !== undefined && claimedAt < options.orphanedBefore;
          if (!orphaned && Date.now() - claimedAt < STALE_CHARGE_MS) {
            outcomes[index] = new RetryLaterError(`charge of ${order.id} is still in flight`);
            return;
          }
          logger.warn({ orderId: order.id }, 'charge was cut off mid-call; rejecting the order instead of charging twice');
          settlements.push({ order, paymentId: charge.id, outcome: 'FAILED', providerRef: null });
          return;
        }
        settlements.push({ order, paymentId: charge.id, outcome: charge.status as ChargeOutcome, providerRef: null });
      });
      for (const refund of refunds) {
        calls.push(
          provider.refund(refund.amountCents).then((result) => {
            metrics.inc('payments', { result: result.outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
            refund.outcome = result.outcome;
            refund.providerRef = result.providerRef;
          }),
        );
      }
      await Promise.all(calls);

      // Round trip 2: every settlement and refund outcome, each guarded by status.
      const writes: D1PreparedStatement[] = [];
      const orderUpdateAt = new Map<Settlement, number>();
      for (const s of settlements) {
        const statements = settleStatements(s);
        writes.push(...statements);
        orderUpdateAt.set(s, writes.length - 1);
      }
      for (const refund of refunds) {
        writes.push(
          db
            .prepare("UPDATE payments SET status = ?2, provider_ref = ?3 WHERE id = ?1 AND status = 'PENDING'")
            .bind(refund.id, refund.outcome ?? 'FAILED', refund.providerRef ?? null),
        );
      }
      if (writes.length > 0) {
        const written = await db.batch(writes);
        for (const s of settlements) {
          const changed = written[orderUpdateAt.get(s)!]?.meta.changes === 1;
          if (s.outcome === 'SUCCEEDED') {
            // Shipping hears of the order only when this batch confirmed it. Unchanged, the order was
            // no longer PENDING: only this call could confirm it (the charge is claimed once; a
            // confirmed order read at the start is re-announced above), so it was rejected while the
            // provider was still answering, and a capture it just recorded goes back.
            if (changed) {
              metrics.inc('orders', { outcome: 'confirmed' });
              events.push(confirmed(s.order));
            } else if (s.providerRef !== null) {
              lateCaptures.push(s.order);
            }
          } else if (changed) {
            metrics.inc('orders', { outcome: 'rejected' });
            metrics.inc('sagaCompensations');
          }
        }
      }
      if (events.length > 0) {
        await env.EVENTS_QUEUE.sendBatch(events.map((body) => ({ body, contentType: 'json' as const })));
        metrics.sent(QUEUES.orderEvents, events.length);
      }
      // Round trip 3, rarely: when it fails the batch is retried, and the redelivery (order REJECTED,
      // charge SUCCEEDED, read in round trip 1) refunds what is still unrefunded.
      if (lateCaptures.length > 0) await refundLateCaptures(lateCaptures);
      return outcomes;
    },
  };
}
