import type { D1Database } from '@cloudflare/workers-types';
import type { PaymentToken } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import type { ChargeOutcome, PaymentProvider } from '@archbench/domain/payment-provider';
import type { PaymentsBindings } from '../../shared/bindings';
import type { WorkerLogger } from '../../shared/log';
import type { PaymentCommand } from '../../shared/messages';
import { PoisonMessageError } from '../../shared/messages';
import type { WorkerMetrics } from '../../shared/metrics';
import { confirmPending, isConstraintError, nowIso, rejectPending } from '../../shared/orders-store';
import { QUEUES } from '../../topology';

/** A charge left PENDING this long was cut off mid-call (the invocation died): give up on it rather than risk a second capture. */
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

interface OrderRow {
  id: string;
  customer_id: string;
  status: string;
  total_cents: number;
  payment_token: string;
}

/**
 * The payment step of the order saga, as a queue consumer. Every step is safe to run twice (queues
 * deliver at least once): the unique (order_id, kind) payment row is written before the provider
 * is called, so a redelivered charge never reaches the provider again, and order updates are
 * guarded by status.
 */
export function createPaymentStep({ env, provider, metrics, logger }: PaymentsDeps) {
  const db: D1Database = env.DB;

  async function emitConfirmed(order: OrderRow) {
    await env.EVENTS_QUEUE.send({ type: 'OrderConfirmed', orderId: order.id, customerId: order.customer_id, totalCents: Number(order.total_cents) }, { contentType: 'json' });
    metrics.sent(QUEUES.orderEvents);
  }

  /** Applies a charge outcome to the order (and the payment row, in the same batch); emits OrderConfirmed when this call confirmed it. */
  async function settle(order: OrderRow, paymentId: string, outcome: ChargeOutcome, providerRef: string | null, redelivered: boolean) {
    const record = db.prepare("UPDATE payments SET status = ?2, provider_ref = COALESCE(?3, provider_ref) WHERE id = ?1 AND status = 'PENDING'").bind(paymentId, outcome, providerRef);
    if (outcome === 'SUCCEEDED') {
      const confirmed = await confirmPending(db, order.id, [record]);
      if (confirmed) metrics.inc('orders', { outcome: 'confirmed' });
      // A redelivery after a crash between confirm and send must still tell shipping (it is idempotent).
      if (confirmed || (redelivered && (await currentStatus(order.id)) === 'CONFIRMED')) await emitConfirmed(order);
      return;
    }
    const rejected = await rejectPending(db, order.id, outcome, outcome === 'DECLINED' ? 'payment_declined' : 'payment_provider_error', [record]);
    if (rejected) {
      metrics.inc('orders', { outcome: 'rejected' });
      metrics.inc('sagaCompensations');
    }
  }

  async function currentStatus(orderId: string): Promise<string | undefined> {
    return (await db.prepare('SELECT status FROM orders WHERE id = ?1').bind(orderId).first<{ status: string }>())?.status;
  }

  async function charge(orderId: string, attempts: number) {
    const order = await db.prepare('SELECT id, customer_id, status, total_cents, payment_token FROM orders WHERE id = ?1').bind(orderId).first<OrderRow>();
    if (!order) throw new PoisonMessageError(`no order ${orderId}`);
    const redelivered = attempts > 1;
    if (order.status !== 'PENDING') {
      if (order.status === 'CONFIRMED' && redelivered) await emitConfirmed(order);
      return;
    }
    const paymentId = newId('pay');
    try {
      await db
        .prepare("INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) VALUES (?1, ?2, 'charge', 'PENDING', ?3, NULL, ?4)")
        .bind(paymentId, order.id, Number(order.total_cents), nowIso())
        .run();
    } catch (error) {
      if (!isConstraintError(error, 'UNIQUE')) throw error;
      // A charge was already attempted: never call the provider again, finish from its record.
      const existing = await db.prepare("SELECT id, status, created_at FROM payments WHERE order_id = ?1 AND kind = 'charge'").bind(order.id).first<{ id: string; status: string; created_at: string }>();
      if (!existing) throw error;
      if (existing.status === 'PENDING') {
        if (Date.now() - Date.parse(existing.created_at) < STALE_CHARGE_MS) throw new RetryLaterError(`charge of ${order.id} is still in flight`);
        logger.warn({ orderId: order.id }, 'charge was cut off mid-call; rejecting the order instead of charging twice');
        await settle(order, existing.id, 'FAILED', null, true);
        return;
      }
      await settle(order, existing.id, existing.status as ChargeOutcome, null, true);
      return;
    }
    const result = await provider.charge(order.payment_token as PaymentToken, Number(order.total_cents));
    metrics.inc('payments', { result: result.outcome.toLowerCase() });
    await settle(order, paymentId, result.outcome, result.providerRef, redelivered);
  }

  async function refund(orderId: string) {
    const pending = await db.prepare("SELECT id, amount_cents FROM payments WHERE order_id = ?1 AND kind = 'refund' AND status = 'PENDING'").bind(orderId).first<{ id: string; amount_cents: number }>();
    if (!pending) return;
    const result = await provider.refund(Number(pending.amount_cents));
    metrics.inc('payments', { result: result.outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
    await db.prepare("UPDATE payments SET status = ?2, provider_ref = ?3 WHERE id = ?1 AND status = 'PENDING'").bind(pending.id, result.outcome, result.providerRef).run();
  }

  return {
    /** Runs one command; throws to have it retried (and, after the last retry, dead-lettered). */
    async handle(command: PaymentCommand, attempts: number): Promise<void> {
      if (command.kind === 'charge') await charge(command.orderId, attempts);
      else await refund(command.orderId);
    },
  };
}
