import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord, Product } from '@archbench/contracts/schemas';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { AUTH_SECRET, client, eventually } from './helpers';

/** The other apps' saga deadline (SAGA_DEADLINE_MS default): every order must be terminal within it. */
const SAGA_DEADLINE_MS = 60_000;

/**
 * A crash of the whole local runtime (launcher and workerd SIGKILLed, as compare's fault drill
 * does): D1 survives in DATA_DIR, but miniflare's queue broker keeps messages in memory, so
 * commands and events in flight are gone. The start sweep alone (CRON_INTERVAL_MS=0: no timer
 * to fall back on) must bring every order to a terminal state, shipped when confirmed, with
 * stock conserved and at most one capture — including charges claimed and cut off mid-call
 * (tok_slow answers after 1.5 s), which a 30 s staleness rule would leave PENDING.
 */
describe('serverless after SIGKILL', () => {
  let topology: RunningTopology | undefined;
  afterAll(async () => {
    await topology?.stop();
  });

  it('at every stage of the saga: all orders terminal well within the saga deadline, stock conserved, at most one capture', async () => {
    topology = await startTopology('serverless', { port: 0, authSecret: AUTH_SECRET, logLevel: 'error', output: 'capture', env: { CRON_INTERVAL_MS: '0' } });
    const sku = 'SKU-0888';
    // Kill points: commands still queued / slow charges claimed and in flight; fast charges
    // settled, confirmations on their way to shipping; slow charges settling.
    for (const [round, delayMs] of [0, 300, 1400].entries()) {
      const api = client(topology.baseUrl);
      const customer = api.customer(`crash-${round}`);
      const before = (await api.product(sku)).stock;
      // No Prefer: the answers come before the saga ran.
      const placed = await Promise.all(
        Array.from({ length: 12 }, (_, i) => api.place(customer.token, [{ sku, quantity: 1 }], { payment: i % 3 === 0 ? 'tok_slow' : 'tok_ok' })),
      );
      expect(placed.map((p) => p.status).every((s) => s === 201 || s === 202)).toBe(true);
      await sleep(delayMs);
      const killedAt = Date.now();
      await topology.kill('api', 'SIGKILL');
      await topology.waitReady(120_000);
      const ids = placed.map((p) => (p.body as Order).id);
      const final = await eventually(async () => {
        const orders = await Promise.all(ids.map((id) => api.order(customer.token, id)));
        expect(orders.filter((o) => o.status === 'PENDING').map((o) => o.id)).toEqual([]);
        for (const o of orders.filter((x) => x.status === 'CONFIRMED')) {
          expect((await api.request('GET', `/orders/${o.id}/shipment`, { token: customer.token })).status, `shipment of ${o.id}`).toBe(200);
        }
        return orders;
      }, 30_000);
      expect(Date.now() - killedAt).toBeLessThan(SAGA_DEADLINE_MS);
      for (const order of final) {
        const charges = (await api.payments(order.id)).filter((p: PaymentRecord) => p.kind === 'charge');
        expect(charges.length, `charges of ${order.id}`).toBe(1);
        expect(charges[0]!.status).toBe(order.status === 'CONFIRMED' ? 'SUCCEEDED' : 'FAILED');
        if (order.status === 'REJECTED') expect(order.rejectionReason).toBeTruthy();
      }
      const confirmed = final.filter((o) => o.status === 'CONFIRMED').length;
      expect(((await api.request('GET', `/products/${sku}`)).body as Product).stock, `stock after round ${round}`).toBe(before - confirmed);
      expect(topology.restarts).toBe(round + 1);
    }
  }, 420_000);
});
