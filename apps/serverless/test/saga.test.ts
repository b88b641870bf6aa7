import { randomUUID } from 'node:crypto';
import type { D1Database } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import type { RunningServerless } from '../src/runtime';
import { CONSUMER_SETTINGS, QUEUES } from '../src/topology';
import type { Client } from './helpers';
import { eventually, firePaymentsCron, metricValue, startWithClient } from './helpers';

/**
 * The order saga on real workerd: D1 batches, Queues with retries and a dead-letter queue, the
 * payment step and shipping as consumers. What a user would notice: stock never oversold, one
 * order and one charge per Idempotency-Key, cancel refunds and restocks, poison messages parked.
 */
describe('serverless saga on workerd', () => {
  let app: RunningServerless;
  let api: Client;
  let db: D1Database;

  beforeAll(async () => {
    ({ app, api, db } = await startWithClient({ paymentSlowMs: 300 }));
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('never oversells under concurrent orders: confirmed units + stock = initial stock', async () => {
    const sku = 'SKU-0991';
    const restocked = await api.request('POST', `/admin/products/${sku}/restock`, { token: api.admin, json: { quantity: 25 } });
    expect(restocked.status).toBe(200);
    const initial = (restocked.body as { stock: number }).stock;
    expect(initial).toBe(30);
    const attempts = Array.from({ length: 40 }, (_, i) => ({ quantity: (i % 3) + 1, payment: i % 4 === 3 ? 'tok_decline' : 'tok_ok' }));
    const customer = api.customer('burst');
    const answers = await Promise.all(attempts.map((a) => api.place(customer.token, [{ sku, quantity: a.quantity }], { payment: a.payment, wait: 10 })));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(statuses.every((s) => s === 201 || s === 202 || s === 409)).toBe(true);
    expect(statuses.filter((s) => s === 409).length).toBeGreaterThan(0);
    const accepted = answers.filter((a) => a.status !== 409).map((a) => a.body as Order);
    const final = await Promise.all(
      accepted.map((o) =>
        eventually(async () => {
          const order = await api.order(customer.token, o.id, 5);
          expect(order.status).not.toBe('PENDING');
          return order;
        }),
      ),
    );
    const sold = final.filter((o) => o.status === 'CONFIRMED').reduce((sum, o) => sum + o.items[0]!.quantity, 0);
    await eventually(async () => expect((await api.product(sku)).stock).toBe(initial - sold));
    expect(sold).toBeGreaterThan(0);
    expect(sold).toBeLessThanOrEqual(initial);
    // And in D1 itself: stock plus units held by live (confirmed) orders is the initial stock.
    const held = await db
      .prepare(
        "SELECT COALESCE(SUM(oi.quantity), 0) AS units FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.sku = ?1 AND o.status IN ('PENDING', 'CONFIRMED')",
      )
      .bind(sku)
      .first<{ units: number }>();
    const stock = await db.prepare('SELECT stock FROM products WHERE sku = ?1').bind(sku).first<{ stock: number }>();
    expect(Number(stock!.stock) + Number(held!.units)).toBe(initial);
    // A refused order leaves nothing behind.
    const listed = (await api.request('GET', '/orders?limit=100', { token: customer.token })).body as { items: Order[] };
    expect(listed.items.length).toBe(accepted.length);
  });

  it('answers every retry of one Idempotency-Key with the same order, charged once', async () => {
    const customer = api.customer('idem');
    const sku = 'SKU-0420';
    const before = (await api.product(sku)).stock;
    const key = randomUUID();
    const answers = await Promise.all(Array.from({ length: 6 }, () => api.place(customer.token, [{ sku, quantity: 2 }], { key, wait: 5 })));
    const ids = new Set(answers.filter((a) => a.status !== 409).map((a) => (a.body as Order).id));
    expect(ids.size).toBe(1);
    for (const a of answers.filter((x) => x.status === 409)) expect((a.body as { code: string }).code).toBe('idempotency-in-progress');
    const [id] = [...ids] as [string];
    const retry = await api.place(customer.token, [{ sku, quantity: 2 }], { key });
    expect(retry.status).toBe(200);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect((retry.body as Order).id).toBe(id);
    const other = await api.place(customer.token, [{ sku, quantity: 3 }], { key });
    expect(other.status).toBe(422);
    expect((other.body as { code: string }).code).toBe('idempotency-key-reused');
    await eventually(async () => expect((await api.order(customer.token, id)).status).toBe('CONFIRMED'));
    await eventually(async () => expect((await api.payments(id)).filter((p) => p.kind === 'charge').map((p) => p.status)).toEqual(['SUCCEEDED']));
    expect((await api.product(sku)).stock).toBe(before - 2);
  });

  it('cancels a confirmed order: refund recorded and sent, stock back, shipment cancelled', async () => {
    const customer = api.customer('cancel');
    const sku = 'SKU-0555';
    const before = (await api.product(sku)).stock;
    const placed = await api.place(customer.token, [{ sku, quantity: 4 }], { wait: 5 });
    expect(placed.status).toBe(201);
    const order = placed.body as Order;
    expect(order.status).toBe('CONFIRMED');
    await eventually(async () =>
      expect(((await api.request('GET', `/orders/${order.id}/shipment`, { token: customer.token })).body as { status: string }).status).toBe('PREPARING'),
    );
    const cancelled = await api.request('POST', `/orders/${order.id}/cancel`, { token: customer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ id: order.id, status: 'CANCELLED', paymentStatus: 'REFUNDED' });
    expect((await api.product(sku)).stock).toBe(before);
    await eventually(async () => {
      const records = await api.payments(order.id);
      expect(records.map((r) => `${r.kind}:${r.status}:${r.amountCents}`).sort()).toEqual([
        `charge:SUCCEEDED:${order.totalCents}`,
        `refund:SUCCEEDED:${order.totalCents}`,
      ]);
    });
    await eventually(async () =>
      expect(((await api.request('GET', `/orders/${order.id}/shipment`, { token: customer.token })).body as { status: string }).status).toBe('CANCELLED'),
    );
    const again = await api.request('POST', `/orders/${order.id}/cancel`, { token: customer.token });
    expect(again.status).toBe(409);
    expect((await api.product(sku)).stock).toBe(before);
  });

  it('a redelivered charge command neither charges nor ships twice', async () => {
    const customer = api.customer('redeliver');
    const placed = await api.place(customer.token, [{ sku: 'SKU-0321', quantity: 1 }], { wait: 5 });
    const order = placed.body as Order;
    expect(order.status).toBe('CONFIRMED');
    const consumed = () =>
      api.metrics().then((text) => metricValue(text, 'archbench_queue_messages_consumed_total', { queue: QUEUES.payments, outcome: 'ack' }));
    const ackedBefore = await consumed();
    const producer = await app.miniflare.getQueueProducer('PAYMENTS_QUEUE', 'api');
    await producer.send({ kind: 'charge', orderId: order.id });
    await producer.send({ kind: 'charge', orderId: order.id });
    // Both duplicates are handled (acked: nothing to do), not retried.
    await eventually(async () => expect(await consumed()).toBe(ackedBefore + 2));
    await eventually(async () => {
      const shipments = await db.prepare('SELECT COUNT(*) AS n FROM shipments WHERE order_id = ?1').bind(order.id).first<{ n: number }>();
      expect(Number(shipments!.n)).toBe(1);
    });
    const charges = (await api.payments(order.id)).filter((p) => p.kind === 'charge');
    expect(charges.map((c) => c.status)).toEqual(['SUCCEEDED']);
    expect((await api.order(customer.token, order.id)).status).toBe('CONFIRMED');
  });

  it('moves a poison message to the dead-letter queue after its retries', async () => {
    const producer = await app.miniflare.getQueueProducer('PAYMENTS_QUEUE', 'api');
    const marker = `ord_poison_${randomUUID().slice(0, 8)}`;
    const retriesBefore = metricValue(await api.metrics(), 'archbench_queue_messages_consumed_total', { queue: QUEUES.payments, outcome: 'retry' });
    await producer.send({ kind: 'charge', orderId: marker }); // no such order
    await producer.send({ kind: 'ship-it', orderId: marker }); // not a command at all
    const letters = await eventually(async () => {
      const res = await api.request('GET', '/admin/dead-letters', { token: api.admin });
      const items = (res.body as { items: Array<{ queue: string; body: { kind: string; orderId: string }; attempts: number }> }).items.filter(
        (i) => i.body?.orderId === marker,
      );
      expect(items.length).toBe(2);
      return items;
    }, 30_000);
    for (const letter of letters) {
      expect(letter.queue).toBe(QUEUES.payments);
      expect(letter.attempts).toBeGreaterThanOrEqual(1);
    }
    const text = await api.metrics();
    // Each poison message was tried 1 + maxRetries times before it was dead-lettered.
    expect(metricValue(text, 'archbench_queue_messages_consumed_total', { queue: QUEUES.payments, outcome: 'retry' }) - retriesBefore).toBe(
      2 * (1 + CONSUMER_SETTINGS.maxRetries),
    );
    expect(metricValue(text, 'archbench_queue_dead_letters_total', { queue: QUEUES.payments })).toBeGreaterThanOrEqual(2);
    // Nothing else was touched: no order with that id exists.
    expect(await db.prepare('SELECT id FROM orders WHERE id = ?1').bind(marker).first()).toBeNull();
  });

  it('the cron sweep finishes orders whose queue message was lost, without charging twice', async () => {
    // Two orders as a crash would leave them: the reservation batch committed but the charge
    // command never sent; and one whose charge call was cut off mid-flight a minute ago.
    const customer = api.customer('sweep');
    const past = new Date(Date.now() - 60_000).toISOString();
    const lost = `ord_lost_${randomUUID().slice(0, 8)}`;
    const cutOff = `ord_cut_${randomUUID().slice(0, 8)}`;
    const sku = 'SKU-0654';
    const before = (await api.product(sku)).stock;
    const { priceCents } = await api.product(sku);
    for (const id of [lost, cutOff]) {
      await db.batch([
        db.prepare('UPDATE products SET stock = stock - 1 WHERE sku = ?1').bind(sku),
        db
          .prepare(
            "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, 'PENDING', ?3, 'EUR', 'tok_ok', 'PENDING', NULL, ?4, ?4)",
          )
          .bind(id, customer.id, priceCents, past),
        db.prepare('INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, ?2, 1, ?3)').bind(id, sku, priceCents),
      ]);
    }
    await db
      .prepare("INSERT INTO payments (id, order_id, kind, status, amount_cents, provider_ref, created_at) VALUES (?1, ?2, 'charge', 'PENDING', ?3, NULL, ?4)")
      .bind(`pay_${cutOff}`, cutOff, priceCents, past)
      .run();
    // The every-minute sweep settles both orders; the daily one tells shipping.
    await firePaymentsCron(app, '* * * * *');
    await firePaymentsCron(app, '0 3 * * *');
    expect((await api.order(customer.token, lost)).status).toBe('CONFIRMED');
    const rejected = await api.order(customer.token, cutOff);
    expect(rejected).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    expect((await api.payments(cutOff)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:FAILED']);
    expect((await api.payments(lost)).map((p) => `${p.kind}:${p.status}`)).toEqual(['charge:SUCCEEDED']);
    await eventually(async () =>
      expect(((await api.request('GET', `/orders/${lost}/shipment`, { token: customer.token })).body as { status: string }).status).toBe('PREPARING'),
    );
    // The cut-off order gave its unit back; the confirmed one keeps it.
    expect((await api.product(sku)).stock).toBe(before - 1);
  });

  it('tags every answer, problems included, with an X-Request-Id (kept when the client sent one)', async () => {
    const ok = await api.request('GET', '/products/SKU-0001');
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const problem = await api.request('GET', '/no-such-route', { headers: { 'x-request-id': 'trace-me-42' } });
    expect(problem.status).toBe(404);
    expect(problem.headers.get('content-type')).toContain('application/problem+json');
    expect(problem.headers.get('x-request-id')).toBe('trace-me-42');
  });

  it('counts requests and queue messages per order in /metrics', async () => {
    const before = await api.metrics();
    const customer = api.customer('metrics');
    const orders = 5;
    for (let i = 0; i < orders; i++) expect((await api.place(customer.token, [{ sku: 'SKU-0777', quantity: 1 }], { wait: 5 })).status).toBe(201);
    await eventually(async () => {
      const after = await api.metrics();
      const delta = (name: string, labels: Record<string, string> = {}) => metricValue(after, name, labels) - metricValue(before, name, labels);
      expect(delta('archbench_queue_messages_sent_total', { queue: QUEUES.payments })).toBe(orders);
      expect(delta('archbench_queue_messages_sent_total', { queue: QUEUES.orderEvents })).toBe(orders);
      expect(delta('archbench_queue_messages_consumed_total', { queue: QUEUES.payments, outcome: 'ack' })).toBe(orders);
      expect(delta('archbench_queue_messages_consumed_total', { queue: QUEUES.orderEvents, outcome: 'ack' })).toBe(orders);
      expect(delta('archbench_internal_calls_total', { transport: 'queue' })).toBe(2 * orders);
      expect(delta('http_server_request_duration_seconds_count', { route: '/orders', method: 'POST' })).toBe(orders);
      expect(delta('archbench_worker_invocations_total', { service: 'serverless-api', handler: 'fetch' })).toBe(orders);
      expect(delta('archbench_orders_total', { outcome: 'confirmed' })).toBe(orders);
      // D1's billed units, measured: every order writes its row, items, stock, payment and shipment rows.
      expect(delta('archbench_db_rows_written_total')).toBeGreaterThanOrEqual(5 * orders);
      expect(delta('archbench_db_rows_read_total')).toBeGreaterThan(0);
    });
    // One registry per worker, merged: one HELP/TYPE per family, every worker labelled.
    const text = await api.metrics();
    expect(text.match(/^# TYPE archbench_worker_invocations_total /gm)?.length).toBe(1);
    for (const service of ['serverless-api', 'serverless-payments', 'serverless-shipping']) expect(text).toContain(`service="${service}"`);
  });
});
