import { randomUUID } from 'node:crypto';
import type { D1Database } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import type { RunningServerless } from '../src/runtime';
import { QUEUES } from '../src/topology';
import { FULL_SWEEP_CRON } from '../src/workers/payments/reconcile';
import type { Client } from './helpers';
import { eventually, firePaymentsCron, metricValue, startWithClient } from './helpers';

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
    ({ app, api, db } = await startWithClient({ paymentSlowMs: SLOW_MS, cronEveryMs: 0 }));
  });
  afterAll(async () => {
    await app?.stop();
  });

  const minuteSweep = () => firePaymentsCron(app, '* * * * *');
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
    await insertPendingOrder(id, customer.id, sku, priceCents, 'tok_slow');
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

  /** An order straight into D1, PENDING since a minute ago, its stock taken and no charge command sent (only a sweep will charge it). */
  async function insertPendingOrder(id: string, customerId: string, sku: string, priceCents: number, paymentToken: string) {
    await db.batch([
      db.prepare('UPDATE products SET stock = stock - 1 WHERE sku = ?1').bind(sku),
      db
        .prepare(
          "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'PENDING', ?3, 'EUR', ?4, 'PENDING', NULL, ?5, ?5)",
        )
        .bind(id, customerId, priceCents, paymentToken, aMinuteAgo()),
      db.prepare('INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, 1, ?3)').bind(id, sku, priceCents),
    ]);
  }

  /** The order's payment rows as D1 holds them now (read directly, no queue in between). */
  const paymentRows = async (orderId: string) =>
    (
      await db
        .prepare('SELECT kind, status, amount_cents FROM payments WHERE order_id = ?1 ORDER BY kind')
        .bind(orderId)
        .all<{ kind: string; status: string; amount_cents: number }>()
    ).results;

  it('a late capture through the sweep is recorded with its refund in one batch: a send failing after it (nothing retries a cron run) loses no refund', async () => {
    // Two orders the same sweep charges: A (tok_slow) is rejected by a later sweep while its call
    // runs, then captured; B (tok_ok) is confirmed in the same settle batch, but its OrderConfirmed
    // cannot be sent: its customer id makes the message larger than the queue's 128 KB limit (a
    // real failure of the queue binding, as on Cloudflare). So the sweep fails right after the
    // settle batch, and a cron run is not retried.
    const customer = api.customer('late-send');
    const skuA = 'SKU-0616';
    const skuB = 'SKU-0617';
    const stockA = (await api.product(skuA)).stock;
    const stockB = (await api.product(skuB)).stock;
    const priceA = (await api.product(skuA)).priceCents;
    const priceB = (await api.product(skuB)).priceCents;
    const a = `ord_lsa_${randomUUID().slice(0, 8)}`;
    const b = `ord_lsb_${randomUUID().slice(0, 8)}`;
    await insertPendingOrder(a, customer.id, skuA, priceA, 'tok_slow');
    await insertPendingOrder(b, `oversized-${'x'.repeat(130_000)}`, skuB, priceB, 'tok_ok');
    const sentBefore = await eventsSent();

    // Sweep 1 claims both charges (A's call is slow); sweep 2 finds A's claim stale and rejects it.
    const first = minuteSweep();
    await ageClaimedCharge(a);
    await minuteSweep();
    expect(await api.order(customer.token, a)).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });

    // A's call answers SUCCEEDED; sweep 1 writes its settle batch (A captured, B confirmed), then B's event fails to send.
    expect((await first).outcome).toBe('exception');
    expect(await eventsSent()).toBe(sentBefore);
    expect((await db.prepare('SELECT status FROM orders WHERE id = ?1').bind(b).first<{ status: string }>())?.status).toBe('CONFIRMED');
    // The D1 state the failed sweep left: A's capture is there, and so is its refund (PENDING, or
    // already SUCCEEDED when the refund command, sent besides, was consumed); A is REFUNDED.
    const rows = await paymentRows(a);
    expect(rows.map((r) => `${r.kind}:${r.amount_cents}`)).toEqual([`charge:${priceA}`, `refund:${priceA}`]);
    expect(rows[0]!.status).toBe('SUCCEEDED');
    expect(await db.prepare('SELECT status, payment_status FROM orders WHERE id = ?1').bind(a).first()).toEqual({
      status: 'REJECTED',
      payment_status: 'REFUNDED',
    });

    // B's event is sendable again (as after any transient send failure); the sweeps then run as usual.
    await db.prepare('UPDATE orders SET customer_id = ?2, updated_at = ?3 WHERE id = ?1').bind(b, customer.id, aMinuteAgo()).run();
    await minuteSweep();
    expect((await firePaymentsCron(app, FULL_SWEEP_CRON)).outcome).toBe('ok');
    await expectRefundedAndUnshipped(customer, a, priceA, skuA, stockA, sentBefore + 1);
    // B stays confirmed, keeps its unit and is shipped once the daily sweep told shipping again.
    expect((await api.product(skuB)).stock).toBe(stockB - 1);
    await eventually(async () =>
      expect(((await api.request('GET', `/orders/${b}/shipment`, { token: customer.token })).body as { status: string }).status).toBe('PREPARING'),
    );
  });

  it('a refund recorded whose command was never sent is issued by the every-minute sweep', async () => {
    // What a lost `refund` send leaves: REJECTED, REFUNDED, the capture and a PENDING refund row.
    const customer = api.customer('late-unsent');
    const sku = 'SKU-0618';
    const stock = (await api.product(sku)).stock;
    const { priceCents } = await api.product(sku);
    const id = `ord_unsent_${randomUUID().slice(0, 8)}`;
    const past = aMinuteAgo();
    await db.batch([
      db
        .prepare(
          "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'REJECTED', ?3, 'EUR', 'tok_ok', 'REFUNDED', 'payment_provider_error', ?4, ?4)",
        )
        .bind(id, customer.id, priceCents, past),
      db.prepare('INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, 1, ?3)').bind(id, sku, priceCents),
      db
        .prepare(
          "INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) VALUES (?1, ?2, 'charge', 'SUCCEEDED', ?3, 'prov_y', ?4)",
        )
        .bind(`pay_c_${id}`, id, priceCents, past),
      db
        .prepare("INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) VALUES (?1, ?2, 'refund', 'PENDING', ?3, NULL, ?4)")
        .bind(`pay_r_${id}`, id, priceCents, past),
    ]);
    const sentBefore = await eventsSent();
    expect((await firePaymentsCron(app, '* * * * *')).outcome).toBe('ok');
    expect((await paymentRows(id)).map((r) => `${r.kind}:${r.status}`)).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
    await expectRefundedAndUnshipped(customer, id, priceCents, sku, stock, sentBefore);
  });

  it('a late capture an earlier version recorded without its refund (the refund batch failed) is refunded by a redelivery', async () => {
    // Before the refund was written in the settle batch, a failure between the two left this:
    // REJECTED, the capture recorded, no refund row; the charge command is then delivered again.
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
