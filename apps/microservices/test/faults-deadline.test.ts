import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord } from '@archbench/contracts/schemas';
import { adminToken, api, customerToken, internalHeaders, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';
import { burst, checkInvariants, sagaStates, stockOf, waitSagasSettled, waitTerminal } from './faults-kit';

/**
 * The saga deadline (SAGA_DEADLINE_MS): payments hangs (SIGSTOP: alive to the supervisor, deaf to
 * everyone else), so sagas can neither charge nor learn whether a charge captured. Past the
 * deadline every order must be REJECTED, its stock back on the shelf; once payments wakes up with
 * a backlog of stale charges, none of them may keep money for a rejected order.
 */
const DEADLINE_MS = 4000;
/** Slack on top of the deadline for the sweep interval, retries and a noisy 2-core machine. */
const SLACK_MS = 8000;
const SKUS = ['SKU-0111', 'SKU-0112', 'SKU-0113'];
const PROVIDER_MS = 2000;

const setups: Array<Pick<Setup, 'transport' | 'database'>> = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
];

function pidOf(system: Running, name: string): number {
  const pid = system.topology.processes.find((p) => p.name === name)?.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  return pid;
}

/** Resolves once some order of `token`'s customer has a charge mid-call at the provider (max 10 s). */
async function chargeInFlight(system: Running, token: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const mine = (await api<{ items: Order[] }>(system.gateway, 'GET', '/orders?limit=5', { token })).body.items;
    for (const order of mine) {
      const records = (await api<{ items: PaymentRecord[] }>(system.gateway, 'GET', `/admin/orders/${order.id}/payments`, { token: adminToken() })).body.items;
      if (records.some((r) => r.kind === 'charge' && r.status === 'PENDING')) return;
    }
    await sleep(50);
  }
  throw new Error('no charge reached the provider within 10 s');
}

async function pendingCount(system: Running, placed: Array<{ id: string; token: string }>): Promise<number> {
  const orders = await Promise.all(placed.map(async (p) => (await api<Order>(system.gateway, 'GET', `/orders/${p.id}`, { token: p.token })).body));
  return orders.filter((o) => o.status === 'PENDING').length;
}

/** Polls until stock is conserved (inventory gives back what expired sagas held), or fails after `boundMs`. */
async function waitStockConserved(system: Running, initial: Map<string, number>, orders: Order[], boundMs: number): Promise<void> {
  const live = new Map(SKUS.map((sku) => [sku, 0]));
  for (const order of orders) if (order.status === 'CONFIRMED') for (const item of order.items) live.set(item.sku, live.get(item.sku)! + item.quantity);
  const deadline = Date.now() + boundMs;
  for (;;) {
    const stock = await stockOf(system.gateway, SKUS);
    const drift = SKUS.map((sku) => initial.get(sku)! - stock.get(sku)! - live.get(sku)!);
    if (drift.every((d) => d === 0)) return;
    if (Date.now() > deadline) throw new Error(`stock not conserved after ${boundMs} ms: drift ${drift.join(', ')}`);
    await sleep(200);
  }
}

for (const { transport, database } of setups) {
  describe(`saga deadline (${transport} + ${database})`, async () => {
    const setup: Setup = {
      transport,
      database,
      // A 2 s provider: when payments hangs, some charges are surely mid-call (they capture late).
      env: { SAGA_DEADLINE_MS: String(DEADLINE_MS), SAGA_SWEEP_MS: '500', PAYMENT_LATENCY_MS: String(PROVIDER_MS), INTERNAL_TIMEOUT_MS: '1000' },
    };
    const skip = await skipSetup(setup);
    let system: Running | undefined;
    let stopped: number[] = [];
    beforeAll(async () => {
      if (!skip) system = await startSystem(setup);
    });
    afterAll(async () => {
      for (const pid of stopped) process.kill(pid, 'SIGCONT');
      await system?.stop();
    });
    const stop = (name: string) => {
      const pid = pidOf(system!, name);
      process.kill(pid, 'SIGSTOP');
      stopped.push(pid);
      return pid;
    };
    const resume = (pid: number) => {
      process.kill(pid, 'SIGCONT');
      stopped = stopped.filter((p) => p !== pid);
    };

    it.skipIf(skip)('payments hangs: every order is terminal by the deadline, stock comes back, stale charges keep no money', async () => {
      const gateway = system!.gateway;
      const ordersUrl = system!.topology.urls.orders;
      const initial = await stockOf(gateway, SKUS);
      const token = customerToken();
      let payments = 0;
      let hungAt = 0;
      const placed = await burst(gateway, token, { count: 30, skus: SKUS }, async () => {
        await chargeInFlight(system!, token);
        payments = stop('payments');
        hungAt = Date.now();
      });
      const acceptedAt = Date.now();
      expect(await pendingCount(system!, placed), 'orders waiting for the hung payments service').toBeGreaterThan(0);

      // Every order was created before acceptedAt, so all are past their deadline by acceptedAt + DEADLINE_MS.
      const { orders, at } = await waitTerminal(gateway, placed, DEADLINE_MS + SLACK_MS);
      expect(at - acceptedAt).toBeLessThan(DEADLINE_MS + SLACK_MS);
      const expired = orders.filter((o) => o.status === 'REJECTED' && o.rejectionReason === 'payment_provider_unavailable');
      expect(expired.length, 'orders rejected at the deadline').toBeGreaterThan(0);
      // Whether their charge captured is unknown until payments answers again.
      expect(expired.some((o) => o.paymentStatus === 'PENDING')).toBe(true);
      // Inventory is up: the stock of the expired orders is back although payments is still hung.
      await waitStockConserved(system!, initial, orders, SLACK_MS);
      expect((await sagaStates(ordersUrl)).EXPIRING ?? 0, 'voids waiting for payments').toBeGreaterThan(0);

      resume(payments);
      await waitSagasSettled(ordersUrl, 30_000);
      const settled = (await waitTerminal(gateway, placed, 1000)).orders;
      // No order changed its outcome when payments came back, and stale charges keep no money.
      expect(settled.map((o) => o.status)).toEqual(orders.map((o) => o.status));
      await checkInvariants({ gateway, ordersUrl, initial, placed, orders: settled, skus: SKUS, expectMix: false });
      const records = (
        await Promise.all(
          expired.map(
            async (o) => (await api<{ items: PaymentRecord[] }>(gateway, 'GET', `/admin/orders/${o.id}/payments`, { token: adminToken() })).body.items,
          ),
        )
      ).flat();
      const refunded = records.filter((r) => r.kind === 'refund' && r.status === 'SUCCEEDED').length;
      expect(records.filter((r) => r.kind === 'charge' && r.status === 'SUCCEEDED').length, 'captures of expired orders, each refunded').toBe(refunded);
      // The charges that were mid-call when payments hung captured after the deadline: refunded, not kept.
      expect(refunded, 'late captures refunded').toBeGreaterThan(0);
      expect(settled.filter((o) => o.paymentStatus === 'REFUNDED').length).toBe(refunded);
      process.stderr.write(
        `saga deadline (${transport}): ${orders.length} orders, ${expired.length} expired, all terminal ${at - hungAt} ms after payments hung (deadline ${DEADLINE_MS} ms), ${refunded} late captures refunded\n`,
      );
    });

    it.skipIf(skip)('the deadline holds across a restart of orders: a new process rejects what went past it while nobody was there', async () => {
      const gateway = system!.gateway;
      const ordersUrl = system!.topology.urls.orders;
      const initial = await stockOf(gateway, SKUS);
      const token = customerToken();
      const payments = stop('payments');
      const placed = await burst(gateway, token, { count: 20, skus: SKUS }, async () => undefined);
      const acceptedAt = Date.now();
      // orders hangs too, then dies after every deadline passed: only stored timestamps are left.
      const hungOrders = stop('orders');
      await sleep(Math.max(0, acceptedAt + DEADLINE_MS + 500 - Date.now()));
      stopped = stopped.filter((p) => p !== hungOrders);
      await system!.topology.kill('orders', 'SIGKILL');
      await system!.topology.start('orders'); // the supervisor's restart (or a start if it is not supervised)
      const readyAt = Date.now();
      const { orders, at } = await waitTerminal(gateway, placed, SLACK_MS);
      // payments hung before the burst: no order could be charged, every one was rejected at its deadline.
      expect(orders.map((o) => `${o.status}/${o.rejectionReason}`)).toEqual(orders.map(() => 'REJECTED/payment_provider_unavailable'));
      await waitStockConserved(system!, initial, orders, SLACK_MS);

      resume(payments);
      await waitSagasSettled(ordersUrl, 30_000);
      const settled = (await waitTerminal(gateway, placed, 1000)).orders;
      await checkInvariants({ gateway, ordersUrl, initial, placed, orders: settled, skus: SKUS, expectMix: false });
      expect(
        settled.every((o) => o.paymentStatus === 'FAILED'),
        'nothing was charged: every void found no capture',
      ).toBe(true);
      process.stderr.write(
        `saga deadline across an orders restart (${transport}): ${orders.length} orders terminal ${at - readyAt} ms after the new orders process was ready\n`,
      );
    });

    it.skipIf(skip)('inventory hangs while declined orders give their stock back: the orders are REJECTED at the deadline, the stock follows', async () => {
      const gateway = system!.gateway;
      const ordersUrl = system!.topology.urls.orders;
      const provider = (latencyMs: number) =>
        api(system!.topology.urls.payments, 'PUT', '/admin/provider', { headers: internalHeaders(), json: { latencyMs } });
      const initial = await stockOf(gateway, SKUS);
      const token = customerToken();
      await provider(1500); // the declines arrive after inventory hangs
      const placed = await Promise.all(
        SKUS.map(async (sku) => {
          const response = await api<Order>(gateway, 'POST', '/orders', { token, json: { items: [{ sku, quantity: 2 }], payment: { token: 'tok_decline' } } });
          expect(response.status).toBe(202);
          return { id: response.body.id, token, sku, quantity: 2 };
        }),
      );
      const inventory = stop('inventory');
      try {
        const { orders } = await waitTerminal(gateway, placed, DEADLINE_MS + SLACK_MS);
        expect(orders.map((o) => `${o.status}/${o.rejectionReason}/${o.paymentStatus}`)).toEqual(orders.map(() => 'REJECTED/payment_declined/DECLINED'));
        expect((await sagaStates(ordersUrl)).RELEASING ?? 0, 'releases waiting for inventory').toBe(placed.length);
      } finally {
        resume(inventory);
        await provider(PROVIDER_MS);
      }
      await waitSagasSettled(ordersUrl, 30_000);
      const settled = (await waitTerminal(gateway, placed, 1000)).orders;
      await checkInvariants({ gateway, ordersUrl, initial, placed, orders: settled, skus: SKUS, expectMix: false });
    });
  });
}
