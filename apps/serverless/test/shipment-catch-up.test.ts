import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { D1Database } from '@cloudflare/workers-types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import type { RunningServerless } from '../src/runtime';
import { SHIPMENT_CATCH_UP_MS } from '../src/workers/api/shipments';
import type { Client } from './helpers';
import { startWithClient } from './helpers';

/**
 * GET /orders/{id}/shipment answers what the order's status implies, as the monolith (one
 * transaction), the hybrid and the microservices gateway (both wait up to 3 s) do: shipping hears
 * of a confirmation or a cancel from a queue message after the API answered, so the route waits
 * for it. Deterministic here: orders are written straight into D1 and the event that shipping
 * needs is sent a moment after the request went out.
 */
describe('serverless: GET /orders/{id}/shipment waits for shipping to catch up', () => {
  let app: RunningServerless;
  let api: Client;
  let db: D1Database;

  beforeAll(async () => {
    ({ app, api, db } = await startWithClient({ cronEveryMs: 0 }));
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** An order in `status` (its stock not touched: the test is about shipping only). */
  async function orderIn(customerId: string, status: Order['status'], shipment?: 'PREPARING' | 'CANCELLED') {
    const id = `ord_ship_${randomUUID().slice(0, 8)}`;
    const now = new Date().toISOString();
    await db.batch([
      db
        .prepare(
          "INSERT INTO orders (id, customer_id, status, total_cents, currency, payment_token, payment_status, rejection_reason, created_at, updated_at) VALUES (?1, ?2, ?3, 1000, 'EUR', 'tok_ok', 'CAPTURED', NULL, ?4, ?4)",
        )
        .bind(id, customerId, status, now),
      db.prepare("INSERT INTO order_items (order_id, sku, quantity, unit_price_cents) VALUES (?1, 'SKU-0001', 1, 1000)").bind(id),
      ...(shipment
        ? [db.prepare('INSERT INTO shipments (id, order_id, status, created_at) VALUES (?1, ?2, ?3, ?4)').bind(`shp_${id}`, id, shipment, now)]
        : []),
    ]);
    return id;
  }

  const events = () => app.miniflare.getQueueProducer('EVENTS_QUEUE', 'api');
  const get = (token: string, id: string) => api.request('GET', `/orders/${id}/shipment`, { token });

  it('a CONFIRMED order whose OrderConfirmed is still on its way: answers the PREPARING shipment, not 404', async () => {
    const customer = api.customer('ship-wait');
    const id = await orderIn(customer.id, 'CONFIRMED');
    const answer = get(customer.token, id);
    await sleep(500);
    await (await events()).send({ type: 'OrderConfirmed', orderId: id, customerId: customer.id, totalCents: 1000 });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId: id, status: 'PREPARING' });
  });

  it('a CANCELLED order whose OrderCancelled is still on its way: answers the CANCELLED shipment, not PREPARING', async () => {
    const customer = api.customer('cancel-wait');
    const id = await orderIn(customer.id, 'CANCELLED', 'PREPARING');
    const answer = get(customer.token, id);
    await sleep(500);
    await (await events()).send({ type: 'OrderCancelled', orderId: id, customerId: customer.id });
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ orderId: id, status: 'CANCELLED' });
  });

  it('waits at most SHIPMENT_CATCH_UP_MS, then answers what there is; other statuses are answered at once', async () => {
    const customer = api.customer('ship-none');
    const confirmed = await orderIn(customer.id, 'CONFIRMED');
    const started = Date.now();
    const res = await get(customer.token, confirmed);
    const took = Date.now() - started;
    expect(res.status).toBe(404);
    expect(took).toBeGreaterThanOrEqual(SHIPMENT_CATCH_UP_MS - 50);
    expect(took).toBeLessThan(SHIPMENT_CATCH_UP_MS + 2000);

    const rejected = await orderIn(customer.id, 'REJECTED');
    const pending = await orderIn(customer.id, 'PENDING');
    for (const id of [rejected, pending]) {
      const at = Date.now();
      expect((await get(customer.token, id)).status).toBe(404);
      expect(Date.now() - at).toBeLessThan(1000);
    }
    // A shipment already there is answered from the first read.
    const shipped = await orderIn(customer.id, 'CONFIRMED', 'PREPARING');
    const at = Date.now();
    expect((await get(customer.token, shipped)).body).toMatchObject({ status: 'PREPARING' });
    expect(Date.now() - at).toBeLessThan(1000);
  });
});
