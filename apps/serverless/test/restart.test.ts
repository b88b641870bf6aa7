import { afterAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord, Product } from '@archbench/contracts/schemas';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { AUTH_SECRET, client, eventually } from './helpers';

/**
 * A crash of the whole local runtime (launcher and workerd SIGKILLed, as compare's fault drill
 * does): D1 survives in DATA_DIR, but miniflare's queue broker keeps messages in memory, so
 * commands in flight are gone. The sweep (Cron Trigger, fired at start and on a timer) must
 * still bring every order to a terminal state with stock conserved and no double charge.
 */
describe('serverless after SIGKILL', () => {
  let topology: RunningTopology | undefined;
  afterAll(async () => {
    await topology?.stop();
  });

  it('every order reaches a terminal state, stock is conserved, nothing is charged twice', async () => {
    topology = await startTopology('serverless', { port: 0, authSecret: AUTH_SECRET, logLevel: 'error', output: 'capture', env: { CRON_INTERVAL_MS: '2000' } });
    const api = client(topology.baseUrl);
    const customer = api.customer('crash');
    const sku = 'SKU-0888';
    const before = (await api.product(sku)).stock;
    // Orders in every stage when the kill lands: no Prefer, so the answers come before the saga ran.
    const placed = await Promise.all(Array.from({ length: 12 }, (_, i) => api.place(customer.token, [{ sku, quantity: 1 }], { payment: i % 4 === 0 ? 'tok_slow' : 'tok_ok' })));
    expect(placed.map((p) => p.status).every((s) => s === 201 || s === 202)).toBe(true);
    await topology.kill('api', 'SIGKILL');
    await topology.waitReady(120_000);
    const ids = placed.map((p) => (p.body as Order).id);
    const final = await eventually(async () => {
      const orders = await Promise.all(ids.map((id) => api.order(customer.token, id)));
      expect(orders.filter((o) => o.status === 'PENDING').map((o) => o.id)).toEqual([]);
      return orders;
    }, 90_000);
    for (const order of final) {
      const charges = (await api.payments(order.id)).filter((p: PaymentRecord) => p.kind === 'charge');
      expect(charges.length).toBe(1);
      expect(charges[0]!.status).toBe(order.status === 'CONFIRMED' ? 'SUCCEEDED' : 'FAILED');
    }
    const confirmed = final.filter((o) => o.status === 'CONFIRMED').length;
    expect(((await api.request('GET', `/products/${sku}`)).body as Product).stock).toBe(before - confirmed);
    expect(topology.restarts).toBeGreaterThanOrEqual(1);
  }, 240_000);
});
