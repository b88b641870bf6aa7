import { randomUUID } from 'node:crypto';
import type { D1Database } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import type { RunningServerless } from '../src/runtime';
import { QUEUES } from '../src/topology';
import type { Client } from './helpers';
import { client, eventually, metricValue, startTestServerless } from './helpers';

/** How long the provider takes for tok_slow here: long enough to let the stale-charge rule reject the order first. */
const SLOW_MS = 6000;

/**
 * A capture the provider confirms after the 30 s stale-charge rule already rejected the order (a
 * provider slower than the rule, on Cloudflare a queue invocation may run for minutes): the money
 * goes back, the order stays REJECTED and nothing ships. Time is not waited out: the charge row is
 * backdated past STALE_CHARGE_MS while its provider call (tok_slow) is still running, then the
 * every-minute Cron Trigger is fired by hand (no timer sweep in these tests).
 */
describe('serverless: a capture that arrives after the order was rejected', () => {
  let app: RunningServerless;
  let api: Client;
  let db: D1Database;

  beforeAll(async () => {
    app = await startTestServerless({ paymentSlowMs: SLOW_MS, cronEveryMs: 0 });
    api = client(app.url);
    db = (await app.miniflare.getD1Database('DB', 'api')) as unknown as D1Database;
  });
  afterAll(async () => {
    await app?.stop();
  });

  const minuteSweep = async () => (await app.miniflare.getWorker('payments')).scheduled({ cron: '* * * * *' });
  const eventsSent = async () => metricValue(await api.metrics(), 'archbench_queue_messages_sent_total', { queue: QUEUES.orderEvents });
  const aMinuteAgo = () => new Date(Date.now() - 60_000).toISOString();

  /** Waits for the order's charge to be claimed (its provider call is running), then makes the claim look 60 s old. */
  async function ageClaimedCharge(orderId: string) {
    await eventually(async () => expect((await api.payments(orderId)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:PENDING']));
    const past = aMinuteAgo();
    await db.batch([
      db.prepare('UPDATE orders SET created_at = ?2, updated_at = ?2 WHERE id = ?1').bind(orderId, past),
      db.prepare("UPDATE payments SET created_at = ?2 WHERE order_id = ?1 AND kind = 'charge'").bind(orderId, past),
    ]);
  }

  /** The end state either way: REJECTED, the capture recorded and refunded, stock back once, no OrderConfirmed, no shipment. */
  async function expectRefundedAndUnshipped(customer: { token: string }, orderId: string, totalCents: number, sku: string, stock: number, sentBefore: number) {
    await eventually(async () =>
      expect((await api.payments(orderId)).map((p) => `${p.kind}:${p.status}:${p.amountCents}`).sort()).toEqual([
        `charge:SUCCEEDED:${totalCents}`,
        `refund:SUCCEEDED:${totalCents}`,
      ]),
    );
    expect(await api.order(customer.token, orderId)).toMatchObject({
      status: 'REJECTED',
      paymentStatus: 'REFUNDED',
      rejectionReason: 'payment_provider_error',
    });
    expect((await api.product(sku)).stock).toBe(stock);
    expect(await eventsSent()).toBe(sentBefore);
    const shipment = await api.request('GET', `/orders/${orderId}/shipment`, { token: customer.token });
    expect(shipment.status).toBe(404);
    const rows = await db.prepare('SELECT COUNT(*) AS n FROM shipments WHERE order_id = ?1').bind(orderId).first<{ n: number }>();
    expect(Number(rows!.n)).toBe(0);
  }

  it('a capture from the queue consumer, after the sweep rejected the order: refunded, still REJECTED, not shipped', async () => {
    const customer = api.customer('late');
    const sku = 'SKU-0613';
    const before = (await api.product(sku)).stock;
    const placed = await api.place(customer.token, [{ sku, quantity: 2 }], { payment: 'tok_slow' });
    expect(placed.status).toBe(202);
    const order = placed.body as Order;
    await ageClaimedCharge(order.id);
    const sentBefore = await eventsSent();

    // The sweep finds the order PENDING with a charge claimed over 30 s ago: rejected, stock released.
    await minuteSweep();
    expect(await api.order(customer.token, order.id)).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    expect((await api.product(sku)).stock).toBe(before);

    // Then the provider answers SUCCEEDED to the consumer's call.
    await expectRefundedAndUnshipped(customer, order.id, order.totalCents, sku, before, sentBefore);
  });

  it('a capture from a sweep (a redelivery), after a later sweep rejected the order: no OrderConfirmed, no shipment, refunded', async () => {
    // An order whose charge command was lost: only the sweep will charge it.
    const customer = api.customer('late-sweep');
    const sku = 'SKU-0614';
    const before = (await api.product(sku)).stock;
    const { priceCents } = await api.product(sku);
    const id = `ord_late_${randomUUID().slice(0, 8)}`;
    const past = aMinuteAgo();
    await db.batch([
      db.prepare('UPDATE products SET stock = stock - 1 WHERE sku = ?1').bind(sku),
      db
        .prepare(
          "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'PENDING', ?3, 'EUR', 'tok_slow', 'PENDING', NULL, ?4, ?4)",
        )
        .bind(id, customer.id, priceCents, past),
      db.prepare('INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, 1, ?3)').bind(id, sku, priceCents),
    ]);
    const sentBefore = await eventsSent();

    // Sweep 1 claims the charge and calls the provider (slow); sweep 2 finds that claim stale and rejects.
    const first = minuteSweep();
    await ageClaimedCharge(id);
    await minuteSweep();
    expect(await api.order(customer.token, id)).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    expect((await api.product(sku)).stock).toBe(before);

    // Sweep 1's provider call then answers SUCCEEDED: the order is not CONFIRMED, so no OrderConfirmed goes to shipping.
    await first;
    expect(await eventsSent()).toBe(sentBefore);
    await expectRefundedAndUnshipped(customer, id, priceCents, sku, before, sentBefore);
  });

  it('a late capture recorded by a delivery that failed before refunding it is refunded by the redelivery', async () => {
    // As a failure between the settle batch and the refund's would leave it: REJECTED, the capture
    // recorded, no refund row; the charge command is then delivered again.
    const customer = api.customer('late-retry');
    const sku = 'SKU-0615';
    const stock = (await api.product(sku)).stock;
    const { priceCents } = await api.product(sku);
    const id = `ord_retry_${randomUUID().slice(0, 8)}`;
    const past = aMinuteAgo();
    await db.batch([
      db
        .prepare(
          "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'REJECTED', ?3, 'EUR', 'tok_ok', 'FAILED', 'payment_provider_error', ?4, ?4)",
        )
        .bind(id, customer.id, priceCents, past),
      db.prepare('INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, 1, ?3)').bind(id, sku, priceCents),
      db
        .prepare(
          "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) VALUES (?1, ?2, 'charge', 'SUCCEEDED', ?3, 'prov_x', ?4)",
        )
        .bind(`pay_${id}`, id, priceCents, past),
    ]);
    const sentBefore = await eventsSent();
    const producer = await app.miniflare.getQueueProducer('PAYMENTS_QUEUE', 'api');
    await producer.send({ kind: 'charge', orderId: id });
    await producer.send({ kind: 'charge', orderId: id });
    await expectRefundedAndUnshipped(customer, id, priceCents, sku, stock, sentBefore);
  });
});
