import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { api, customerToken, internalHeaders, useSystem } from './helpers';
import type { Running, Setup } from './helpers';
import { burst, checkInvariants, stockOf, waitSagasSettled, waitTerminal } from './faults-kit';

/** Every order must be terminal this long after the killed service is back. */
const TERMINAL_BOUND_MS = 30_000;
const BURST = 40;

/**
 * The supervised-crash drill runs a 300-order burst on SQLite (both transports) and a smaller one
 * on PostgreSQL, to keep the suite's time in check on a 2-core machine.
 */
const faultSetups: Array<Pick<Setup, 'transport' | 'database'> & { crashBurst: number }> = [
  { transport: 'http', database: 'sqlite', crashBurst: 300 },
  { transport: 'amqp', database: 'sqlite', crashBurst: 300 },
  { transport: 'http', database: 'postgres', crashBurst: 100 },
];

/** Polls the supervisor until `name` is ready again after `restarts` restarts; returns when that was. */
async function backUp(system: Running, name: string, restarts: number, boundMs: number): Promise<number> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const info = system.topology.processes.find((p) => p.name === name)!;
    if (info.state === 'ready' && info.restarts >= restarts) return Date.now();
    if (Date.now() > deadline) throw new Error(`${name} was not restarted within ${boundMs} ms (state ${info.state}, restarts ${info.restarts})`);
    await sleep(50);
  }
}

for (const { transport, database, crashBurst } of faultSetups) {
  describe(`faults (${transport} + ${database})`, async () => {
    // 150 ms at the provider keeps about ten charges in flight at any moment of the burst (orders
    // arrive every 15 ms), so the SIGKILL always cuts sagas mid-way, however fast the rest runs.
    const setup: Setup = { transport, database, env: { PAYMENT_LATENCY_MS: '150', INTERNAL_TIMEOUT_MS: '2000' } };
    const { skip, system } = await useSystem(setup);

    it.skipIf(skip)(
      `payments SIGKILLed during a ${crashBurst}-order burst, restarted by the supervisor alone: every order terminal, stock conserved, one capture at most, confirmed orders shipped`,
      async () => {
        const gateway = system().gateway;
        const initial = await stockOf(gateway);
        const token = customerToken();
        const restartsBefore = Object.fromEntries(system().topology.processes.map((p) => [p.name, p.restarts]));
        let pendingAtKill = 0;
        let killedAt = 0;
        let readyAt = 0;
        const placed = await burst(gateway, token, { count: crashBurst, spacingMs: 15, acceptWithinMs: 120_000 }, async () => {
          await sleep(Math.min(1000, crashBurst * 5));
          killedAt = Date.now();
          await system().topology.kill('payments', 'SIGKILL');
          // The kill must have cut sagas mid-way, or this test proves nothing.
          const list = await api<{ items: Order[] }>(gateway, 'GET', '/orders?status=PENDING&limit=100', { token });
          pendingAtKill = list.body.items.length;
          // No manual start: the supervisor brings payments back.
          readyAt = await backUp(system(), 'payments', restartsBefore.payments! + 1, 60_000);
        });
        expect(pendingAtKill).toBeGreaterThan(0);
        const { orders, at } = await waitTerminal(gateway, placed, 60_000);
        await waitSagasSettled(system().topology.urls.orders, TERMINAL_BOUND_MS);
        await checkInvariants({ gateway, ordersUrl: system().topology.urls.orders, initial, placed, orders });
        const restarts = Object.fromEntries(system().topology.processes.map((p) => [p.name, p.restarts - restartsBefore[p.name]!]));
        expect(restarts).toEqual({ gateway: 0, inventory: 0, orders: 0, payments: 1, shipping: 0 });
        const count = (status: string) => orders.filter((o) => o.status === status).length;
        process.stderr.write(
          `supervised crash (${transport} + ${database}): ${orders.length} orders (${count('CONFIRMED')} confirmed, ${count('REJECTED')} rejected), ` +
            `${pendingAtKill}+ pending at SIGKILL, payments ready again ${readyAt - killedAt} ms after SIGKILL, all terminal ${at - killedAt} ms after SIGKILL, restarts ${JSON.stringify(restarts)}\n`,
        );
      },
    );

    it.skipIf(skip)('orders SIGKILLed during a burst, restarted by the supervisor: sagas resume to terminal states, nothing leaks', async () => {
      const gateway = system().gateway;
      // Whatever an earlier test left running (compensations) settles first: the stock is read once.
      await waitSagasSettled(system().topology.urls.orders, TERMINAL_BOUND_MS);
      const initial = await stockOf(gateway);
      const token = customerToken();
      const restarts = system().topology.processes.find((p) => p.name === 'orders')!.restarts;
      const placed = await burst(gateway, token, { count: BURST }, async () => {
        await sleep(300);
        await system().topology.kill('orders', 'SIGKILL');
        await backUp(system(), 'orders', restarts + 1, 60_000);
      });
      const { orders } = await waitTerminal(gateway, placed, TERMINAL_BOUND_MS);
      // Requests cut off mid-reserve left sagas behind; their compensation must finish too.
      await waitSagasSettled(system().topology.urls.orders, TERMINAL_BOUND_MS);
      await checkInvariants({ gateway, ordersUrl: system().topology.urls.orders, initial, placed, orders });
    });
  });
}

describe('slow payment provider: the circuit opens, orders fail fast, then it recovers', async () => {
  const setup: Setup = {
    transport: 'http',
    database: 'sqlite',
    env: { PAYMENT_TIMEOUT_MS: '300', PAYMENT_BREAKER_MIN_CALLS: '4', PAYMENT_BREAKER_FAILURE_RATE: '0.5', PAYMENT_BREAKER_OPEN_MS: '2000' },
  };
  const { skip, system } = await useSystem(setup);

  const order = async (token: string) => {
    const started = performance.now();
    const response = await api<Order>(system().gateway, 'POST', '/orders', {
      token,
      headers: { prefer: 'wait=10' },
      json: { items: [{ sku: 'SKU-0200', quantity: 1 }], payment: { token: 'tok_ok' } },
    });
    return { order: response.body, ms: performance.now() - started };
  };
  const provider = (json?: unknown) =>
    api<{ breaker: string }>(system().topology.urls.payments, json === undefined ? 'GET' : 'PUT', '/admin/provider', { headers: internalHeaders(), json });

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
