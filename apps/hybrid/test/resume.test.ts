import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord, Product, Shipment } from '@archbench/contracts/schemas';
import { openCoreDatabase } from '../src/db';
import { adminToken, api, customerToken, skipSetup, startHybrid } from './helpers';
import type { RunningHybrid } from './helpers';

/** A provider call this long keeps recovery busy well after the restarted core listens. */
const PROVIDER_MS = 3000;
const SKU = 'SKU-0131';

/**
 * Startup recovery of the hybrid's core as main.ts runs it, on real processes: the core is
 * SIGKILLed with orders in flight and started again; it answers requests while `orders.resume()`
 * is still finishing the previous process's orders (recovery runs after listening), and every
 * one ends terminal long before the saga deadline could have settled it, each confirmed order
 * with one capture and one OrderConfirmed in the outbox, also after one more restart.
 */
describe('hybrid core restart (sqlite + http)', async () => {
  const skip = await skipSetup({ transport: 'http', database: 'sqlite' });
  let hybrid: RunningHybrid | undefined;
  beforeAll(async () => {
    // No supervisor restarts (the test starts the core again itself) and a deadline recovery cannot rely on.
    if (!skip)
      hybrid = await startHybrid({
        transport: 'http',
        database: 'sqlite',
        restart: false,
        env: { PAYMENT_LATENCY_MS: String(PROVIDER_MS), SAGA_DEADLINE_MS: '600000' },
      });
  });
  afterAll(async () => {
    await hybrid?.stop();
  });

  it.skipIf(skip)('resumes the orders a SIGKILL left PENDING after it is listening: each finished once, confirmed ones shipped once', async () => {
    const { topology, baseUrl } = hybrid!;
    const token = customerToken();
    const admin = adminToken();
    const stock = async () => (await api<Product>(baseUrl, 'GET', `/products/${SKU}`)).body.stock;
    const initial = await stock();
    const place = async () => {
      const placed = await api<Order>(baseUrl, 'POST', '/orders', { token, json: { items: [{ sku: SKU, quantity: 1 }], payment: { token: 'tok_ok' } } });
      expect(placed.status).toBe(202);
      return placed.body.id;
    };
    // Charges at the provider when the core dies: recovery rejects them (the provider cannot be asked).
    const inFlight = [await place(), await place(), await place()];
    // Charges the crash cut off before they were opened: recovery takes them now, at the provider's pace.
    const unstarted = [await place(), await place(), await place()];
    await topology.kill('core', 'SIGKILL');
    const offline = await openCoreDatabase({ DATA_DIR: topology.dataDir, DATABASE_URL: undefined });
    await offline.db.deleteFrom('payments').where('order_id', 'in', unstarted).execute();
    await offline.close();

    await topology.start('core');
    // Listening while recovery is still at the provider.
    const early = await api<Order>(baseUrl, 'GET', `/orders/${unstarted[0]}`, { token });
    expect(early.status).toBe(200);
    expect(early.body.status).toBe('PENDING');

    const deadline = Date.now() + PROVIDER_MS + 15_000;
    let orders: Order[];
    for (;;) {
      orders = await Promise.all([...inFlight, ...unstarted].map(async (id) => (await api<Order>(baseUrl, 'GET', `/orders/${id}`, { token })).body));
      if (orders.every((o) => o.status !== 'PENDING')) break;
      if (Date.now() > deadline) throw new Error(`still PENDING: ${orders.filter((o) => o.status === 'PENDING').map((o) => o.id)}`);
      await sleep(100);
    }
    for (const order of orders.slice(0, 3)) expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    for (const order of orders.slice(3)) expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
    expect(await stock()).toBe(initial - 3);

    const checkOnce = async () => {
      for (const id of unstarted) {
        const charges = (await api<{ items: PaymentRecord[] }>(baseUrl, 'GET', `/admin/orders/${id}/payments`, { token: admin })).body.items;
        expect(charges.map((c) => `${c.kind}:${c.status}`)).toEqual(['charge:SUCCEEDED']);
        const shipment = await api<Shipment>(baseUrl, 'GET', `/orders/${id}/shipment`, { token });
        expect(shipment.status, `shipment of ${id}`).toBe(200);
        expect(shipment.body).toMatchObject({ orderId: id, status: 'PREPARING' });
      }
      // The core holds its file alone while it runs (exclusive locking): read the outbox between
      // a stop and a start, which is also one more restart for the next check to look behind.
      await topology.kill('core', 'SIGTERM');
      const core = await openCoreDatabase({ DATA_DIR: topology.dataDir, DATABASE_URL: undefined });
      try {
        const events = await sql<{
          order_id: string;
          type: string;
        }>`select order_id, type from outbox where order_id in (${sql.join([...inFlight, ...unstarted])})`.execute(core.db);
        expect(events.rows.map((e) => `${e.order_id}:${e.type}`).sort()).toEqual(unstarted.map((id) => `${id}:OrderConfirmed`).sort());
      } finally {
        await core.close();
      }
      await topology.start('core');
      await sleep(500);
    };
    await checkOnce();
    // The restart in that check found nothing to do: no second charge, shipment or event.
    await checkOnce();
  });
});
