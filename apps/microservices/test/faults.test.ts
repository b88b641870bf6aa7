import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { api, customerToken, internalHeaders, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';
import { burst, checkInvariants, stockOf, waitSagasSettled, waitTerminal } from './faults-kit';

/** Every order must be terminal this long after the killed service is back. */
const TERMINAL_BOUND_MS = 30_000;
const BURST = 40;

const faultSetups: Array<Pick<Setup, 'transport' | 'database'>> = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'sqlite' },
  { transport: 'http', database: 'postgres' },
];

for (const { transport, database } of faultSetups) {
  describe(`faults (${transport} + ${database})`, async () => {
    const setup: Setup = { transport, database, env: { PAYMENT_LATENCY_MS: '40', INTERNAL_TIMEOUT_MS: '2000' } };
    const skip = await skipSetup(setup);
    let system: Running | undefined;
    beforeAll(async () => {
      if (!skip) system = await startSystem(setup);
    });
    afterAll(async () => {
      await system?.stop();
    });

    it.skipIf(skip)('payments killed (SIGKILL) during a burst and started again: every order terminal, stock conserved, one capture at most', async () => {
      const gateway = system!.gateway;
      const initial = await stockOf(gateway);
      const token = customerToken();
      let pendingAtKill = 0;
      const placed = await burst(gateway, token, { count: BURST }, async () => {
        await sleep(300);
        await system!.topology.kill('payments', 'SIGKILL');
        // The kill must have cut sagas mid-way, or this test proves nothing.
        const list = await api<{ items: Order[] }>(gateway, 'GET', '/orders?status=PENDING&limit=100', { token });
        pendingAtKill = list.body.items.length;
        await sleep(1500);
        await system!.topology.start('payments');
      });
      expect(pendingAtKill).toBeGreaterThan(0);
      const { orders } = await waitTerminal(gateway, placed, TERMINAL_BOUND_MS);
      await checkInvariants({ gateway, ordersUrl: system!.topology.urls.orders, initial, placed, orders });
    });

    it.skipIf(skip)('orders killed (SIGKILL) during a burst and started again: sagas resume to terminal states, nothing leaks', async () => {
      const gateway = system!.gateway;
      const initial = await stockOf(gateway);
      const token = customerToken();
      const placed = await burst(gateway, token, { count: BURST }, async () => {
        await sleep(300);
        await system!.topology.kill('orders', 'SIGKILL');
        await sleep(1000);
        await system!.topology.start('orders');
      });
      const { orders } = await waitTerminal(gateway, placed, TERMINAL_BOUND_MS);
      // Requests cut off mid-reserve left sagas behind; their compensation must finish too.
      await waitSagasSettled(system!.topology.urls.orders, TERMINAL_BOUND_MS);
      await checkInvariants({ gateway, ordersUrl: system!.topology.urls.orders, initial, placed, orders });
    });
  });
}

describe('slow payment provider: the circuit opens, orders fail fast, then it recovers', async () => {
  const setup: Setup = {
    transport: 'http',
    database: 'sqlite',
    env: { PAYMENT_TIMEOUT_MS: '300', PAYMENT_BREAKER_MIN_CALLS: '4', PAYMENT_BREAKER_FAILURE_RATE: '0.5', PAYMENT_BREAKER_OPEN_MS: '2000' },
  };
  const skip = await skipSetup(setup);
  let system: Running | undefined;
  beforeAll(async () => {
    if (!skip) system = await startSystem(setup);
  });
  afterAll(async () => {
    await system?.stop();
  });

  const order = async (token: string) => {
    const started = performance.now();
    const response = await api<Order>(system!.gateway, 'POST', '/orders', {
      token,
      headers: { prefer: 'wait=10' },
      json: { items: [{ sku: 'SKU-0200', quantity: 1 }], payment: { token: 'tok_ok' } },
    });
    return { order: response.body, ms: performance.now() - started };
  };
  const provider = (json?: unknown) =>
    api<{ breaker: string }>(system!.topology.urls.payments, json === undefined ? 'GET' : 'PUT', '/admin/provider', { headers: internalHeaders(), json });

  it.skipIf(skip)('rejects with payment_provider_unavailable without waiting once open, and confirms again after a successful probe', async () => {
    const token = customerToken();
    expect((await order(token)).order.status).toBe('CONFIRMED');
    await provider({ latencyMs: 2000 });
    // Each of these waits for the 300 ms call timeout; together they cross the failure rate.
    for (let i = 0; i < 4; i++) {
      const slow = await order(token);
      expect(slow.order.status).toBe('REJECTED');
      expect(slow.order.rejectionReason).toBe('payment_provider_unavailable');
    }
    expect((await provider()).body.breaker).toBe('open');
    const fast = await order(token);
    expect(fast.order.rejectionReason).toBe('payment_provider_unavailable');
    expect(fast.ms).toBeLessThan(250); // refused at once: no 2 s provider call, no 300 ms timeout

    await provider({ latencyMs: 0 });
    await sleep(2100);
    expect((await provider()).body.breaker).toBe('half-open');
    const probe = await order(token);
    expect(probe.order.status).toBe('CONFIRMED');
    expect((await provider()).body.breaker).toBe('closed');
    expect((await order(token)).order.status).toBe('CONFIRMED');
  });
});
