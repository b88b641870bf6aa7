import type { D1Database } from '@cloudflare/workers-types';
import type { PaymentsBindings } from '../../shared/bindings';
import type { OrderEvent } from '../../shared/messages';
import type { WorkerMetrics } from '../../shared/metrics';
import { QUEUES } from '../../topology';
import type { Delivery, createPaymentStep } from './service';

/** Work left older than this is picked up by the sweep (younger work is still on its way through the queues). */
export const SWEEP_AFTER_MS = 30_000;
/** The daily Cron Trigger: the full sweep (the every-minute one only resumes PENDING orders and refunds). */
export const FULL_SWEEP_CRON = '0 3 * * *';
/** Most items one sweep takes on, so one invocation stays short. */
const SWEEP_LIMIT = 100;

export interface SweepResult {
  charges: number;
  refunds: number;
  shipped: number;
  cancelled: number;
}

/**
 * The saga's safety net, run by Cron Triggers (on Cloudflare every minute for PENDING orders and
 * refunds, daily in full; the local launcher fires the full sweep at start and the short one every
 * 30 s): queues deliver at least once, but a message can still be lost before it is sent (a crash
 * between the D1 batch and `send`) or, locally, with the in-memory queue broker of a killed
 * workerd, and a refund the provider keeps failing runs out of queue retries. So every order
 * reaches a terminal state: orders PENDING too long run the payment step again (idempotent: a
 * claimed charge is never repeated), refunds still PENDING are tried again (a claimed refund is
 * not), and shipping is told again about confirmed orders without a shipment and cancelled orders
 * whose shipment is still active.
 */
export async function sweep(
  env: PaymentsBindings,
  step: ReturnType<typeof createPaymentStep>,
  metrics: WorkerMetrics,
  options: { olderThanMs?: number; full?: boolean; orphanedBefore?: number } = {},
): Promise<SweepResult> {
  const db: D1Database = env.DB;
  const before = new Date(Date.now() - (options.olderThanMs ?? SWEEP_AFTER_MS)).toISOString();
  // PENDING orders and PENDING refunds are few and each has an index of its own: cheap every minute.
  // The other two scan settled orders (D1 bills rows read), so they run daily and at start only —
  // D1 and Cloudflare Queues are durable, and what they cover is a send lost to a crash.
  const pendingQuery = db.prepare("SELECT id FROM orders WHERE status = 'PENDING' AND created_at < ?1 ORDER BY created_at LIMIT ?2").bind(before, SWEEP_LIMIT);
  const refundsQuery = db
    .prepare("SELECT order_id FROM payments WHERE kind = 'refund' AND status = 'PENDING' AND created_at < ?1 ORDER BY created_at LIMIT ?2")
    .bind(before, SWEEP_LIMIT);
  const [pending, refunds, unshipped, uncancelled] = await db.batch([
    pendingQuery,
    refundsQuery,
    ...(options.full
      ? [
          db
            .prepare(
              "SELECT o.id, o.customer_id, o.total_cents FROM orders o LEFT JOIN shipments s ON s.order_id = o.id WHERE o.status = 'CONFIRMED' AND s.id IS NULL AND o.updated_at < ?1 LIMIT ?2",
            )
            .bind(before, SWEEP_LIMIT),
          db
            .prepare(
              "SELECT o.id, o.customer_id FROM orders o JOIN shipments s ON s.order_id = o.id WHERE o.status = 'CANCELLED' AND s.status != 'CANCELLED' AND o.updated_at < ?1 LIMIT ?2",
            )
            .bind(before, SWEEP_LIMIT),
        ]
      : []),
  ]);
  const deliveries: Delivery[] = [
    ...(pending?.results as Array<{ id: string }>).map((r) => ({ command: { kind: 'charge' as const, orderId: r.id }, attempts: 2 })),
    ...(refunds?.results as Array<{ order_id: string }>).map((r) => ({ command: { kind: 'refund' as const, orderId: r.order_id }, attempts: 2 })),
  ];
  if (deliveries.length > 0) await step.handle(deliveries, { orphanedBefore: options.orphanedBefore });
  const events: OrderEvent[] = [
    ...((unshipped?.results ?? []) as Array<{ id: string; customer_id: string; total_cents: number }>).map((r) => ({
      type: 'OrderConfirmed' as const,
      orderId: r.id,
      customerId: r.customer_id,
      totalCents: Number(r.total_cents),
    })),
    ...((uncancelled?.results ?? []) as Array<{ id: string; customer_id: string }>).map((r) => ({
      type: 'OrderCancelled' as const,
      orderId: r.id,
      customerId: r.customer_id,
    })),
  ];
  if (events.length > 0) {
    await env.EVENTS_QUEUE.sendBatch(events.map((body) => ({ body, contentType: 'json' as const })));
    metrics.sent(QUEUES.orderEvents, events.length);
  }
  return {
    charges: pending?.results.length ?? 0,
    refunds: refunds?.results.length ?? 0,
    shipped: unshipped?.results.length ?? 0,
    cancelled: uncancelled?.results.length ?? 0,
  };
}
