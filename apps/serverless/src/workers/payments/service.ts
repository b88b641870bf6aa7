import type { D1Database, D1PreparedStatement } from '@cloudflare/workers-types';
import type { PaymentToken, RejectionReason } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { refundClaimTimes } from '@archbench/domain/payment-provider';
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
 * heard, and when it captured, the capture is recorded with its refund (`refundIfRejected`).
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
 * refunded. A refund is claimed in its row before its provider call, and one the provider fails
 * stays PENDING and is tried again. Every step is safe to repeat: queues deliver at least once.
 */
export function createPaymentStep({ env, provider, metrics, logger }: PaymentsDeps) {
  const db: D1Database = env.DB;

  /**
   * The refund of a capture whose order is REJECTED (the stale-charge rule gave up on a call that
   * was only slow): a PENDING refund row and the order's payment marked REFUNDED (it stays
   * REJECTED, its stock went back with the rejection). Only for a charge row that is SUCCEEDED: put
   * in the same batch as (after) the statement that records the capture, so that no D1 state ever
   * has the capture without its refund; the `refund` command is sent after the batch, and a send
   * that is lost leaves the PENDING row to a redelivery or the every-minute sweep (reconcile.ts). Guarded by the order's
   * status (for an order this batch confirmed they read its row and write nothing) and at most one
   * refund per order (the unique (order_id, kind) row). The two always commit together, so the
   * second changing the order (REJECTED, not yet REFUNDED) says a refund was recorded now; it is
   * what the caller reads (a RETURNING on the insert would read 2 rows more on every capture).
   */
  function refundIfRejected(order: OrderRow): D1PreparedStatement[] {
    const now = nowIso();
    return [
      db
        .prepare(
          "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) SELECT ?2, id, 'refund', 'PENDING', total_cents, NULL, ?3 FROM orders WHERE id = ?1 AND status = 'REJECTED' ON CONFLICT (order_id, kind) DO NOTHING",
        )
        .bind(order.id, newId('pay'), now),
      db
        .prepare("UPDATE orders SET payment_status = 'REFUNDED', updated_at = ?2 WHERE id = ?1 AND status = 'REJECTED' AND payment_status != 'REFUNDED'")
        .bind(order.id, now),
    ];
  }

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
     * past the saga deadline. A refund claimed before it is sent now, not when its claim runs out.
     */
    async handle(deliveries: readonly Delivery[], options: { orphanedBefore?: number } = {}): Promise<Outcome[]> {
      const outcomes: Outcome[] = deliveries.map(() => 'ack');
      if (deliveries.length === 0) return outcomes;
      const now = nowIso();
      // A refund claim made now, and the instant before which one has run out (with `orphanedBefore`,
      // a claim made before it is a dead runtime's and is taken at once).
      const { until: refundClaimedUntil, endedBy: refundClaimsEndedBy } = refundClaimTimes(options.orphanedBefore);
      const claims = deliveries.map((d) => (d.command.kind === 'charge' ? newId('pay') : ''));

      // Round trip 1: per charge, the order, a claimed charge row (or none), the charge row as it
      // now is; per refund, its PENDING refund row if this call claimed it.
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
          : [
              // The refund is claimed before the provider is called, so a copy of the command (a
              // redelivery, the sweep) finds it taken and never refunds twice.
              db
                .prepare(
                  "UPDATE payments SET claimed_until = ?2 WHERE order_id = ?1 AND kind = 'refund' AND status = 'PENDING' AND (claimed_until IS NULL OR claimed_until < ?3) RETURNING id, amount_cents",
                )
                .bind(d.command.orderId, refundClaimedUntil, refundClaimsEndedBy),
            ],
      );
      const results = await db.batch(reads);

      const settlements: Settlement[] = [];
      // REJECTED orders read with a SUCCEEDED charge: their refund goes into round trip 2.
      const lateCaptures: OrderRow[] = [];
      const refunds: Array<{ index: number; orderId: string; id: string; amountCents: number; outcome?: ChargeOutcome; providerRef?: string }> = [];
      // REJECTED orders with a SUCCEEDED charge whose command came again: their refund command is sent
      // again too (the refund step does nothing twice), in case the send after recording it was lost.
      const refundsResent: OrderRow[] = [];
      const events: OrderEvent[] = [];
      const calls: Array<Promise<void>> = [];
      let cursor = 0;
      deliveries.forEach((d, index) => {
        const redelivered = d.attempts > 1;
        if (d.command.kind === 'refund') {
          const claimed = results[cursor++]?.results[0] as { id: string; amount_cents: number } | undefined;
          // Not claimed here: made already, or another attempt holds the claim (this copy is done:
          // if that attempt fails, its own delivery is retried, and the sweep sends PENDING refunds).
          if (claimed) refunds.push({ index, orderId: d.command.orderId, id: claimed.id, amountCents: Number(claimed.amount_cents) });
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
          // A late capture: its refund is recorded with it, so this inserts nothing, except for one an
          // earlier version recorded in a batch of its own and then failed before its refund's.
          if (order.status === 'REJECTED' && charge?.status === 'SUCCEEDED') {
            lateCaptures.push(order);
            if (redelivered) refundsResent.push(order);
          }
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

      // Round trip 2: every settlement and refund outcome, each guarded by status. A fresh capture
      // comes with the refund it needs if its order was rejected while the provider was answering
      // (the stale-charge rule): recorded in this same batch, never after it, so a failure after
      // the batch (a send, or a cron run that nothing retries) cannot leave a capture unrefunded.
      const writes: D1PreparedStatement[] = [];
      const orderUpdateAt = new Map<Settlement, number>();
      const refundedAt = new Map<OrderRow, number>();
      const addRefundIfRejected = (order: OrderRow) => {
        writes.push(...refundIfRejected(order));
        refundedAt.set(order, writes.length - 1);
      };
      for (const s of settlements) {
        const statements = settleStatements(s);
        writes.push(...statements);
        orderUpdateAt.set(s, writes.length - 1);
        if (s.outcome === 'SUCCEEDED' && s.providerRef !== null) addRefundIfRejected(s.order);
      }
      for (const order of lateCaptures) addRefundIfRejected(order);
      for (const refund of refunds) {
        if (refund.outcome === 'SUCCEEDED') {
          writes.push(
            db
              .prepare("UPDATE payments SET status = 'SUCCEEDED', provider_ref = ?2 WHERE id = ?1 AND status = 'PENDING'")
              .bind(refund.id, refund.providerRef ?? null),
          );
          continue;
        }
        // Not refunded: the row stays PENDING and the claim is given back, for the retry of this
        // delivery (or, once its retries are spent, the every-minute sweep) to try again.
        writes.push(db.prepare('UPDATE payments SET claimed_until = NULL WHERE id = ?1 AND claimed_until = ?2').bind(refund.id, refundClaimedUntil));
        outcomes[refund.index] = new RetryLaterError(`refund of ${refund.orderId} ended ${refund.outcome ?? 'FAILED'}; it will be tried again`);
      }
      // Orders whose refund round trip 2 just recorded: their `refund` commands.
      const refundsRecorded: OrderRow[] = [];
      if (writes.length > 0) {
        const written = await db.batch(writes);
        for (const s of settlements) {
          const changed = written[orderUpdateAt.get(s)!]?.meta.changes === 1;
          if (s.outcome === 'SUCCEEDED') {
            // Shipping hears of the order only when this batch confirmed it. Unchanged, the order was
            // no longer PENDING: only this call could confirm it (the charge is claimed once; a
            // confirmed order read at the start is re-announced above), so it was rejected while the
            // provider was still answering, and the batch recorded the capture's refund too.
            if (changed) {
              metrics.inc('orders', { outcome: 'confirmed' });
              events.push(confirmed(s.order));
            }
          } else if (changed) {
            metrics.inc('orders', { outcome: 'rejected' });
            metrics.inc('sagaCompensations');
          }
        }
        for (const [order, at] of refundedAt) {
          if (written[at]?.meta.changes !== 1) continue;
          logger.warn({ orderId: order.id }, 'payment captured after the order was rejected; refunding it');
          refundsRecorded.push(order);
        }
      }
      // The sends, each tried whatever the other does. One that fails fails the step: a queue
      // delivery is retried (a confirmed order is announced again, a late capture's refund command
      // sent again); the every-minute sweep also sends the refunds left PENDING.
      const sends: Array<Promise<void>> = [];
      if (events.length > 0) {
        sends.push(
          env.EVENTS_QUEUE.sendBatch(events.map((body) => ({ body, contentType: 'json' as const }))).then(() =>
            metrics.sent(QUEUES.orderEvents, events.length),
          ),
        );
      }
      const refundCommands = [...new Set([...refundsRecorded, ...refundsResent].map((order) => order.id))];
      if (refundCommands.length > 0) {
        const commands = refundCommands.map((orderId) => ({ body: { kind: 'refund' as const, orderId }, contentType: 'json' as const }));
        sends.push(env.PAYMENTS_QUEUE.sendBatch(commands).then(() => metrics.sent(QUEUES.payments, commands.length)));
      }
      const failed = (await Promise.allSettled(sends)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      return outcomes;
    },
  };
}
