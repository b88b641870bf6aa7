import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord, Product } from '@archbench/contracts/schemas';
import { adminToken, api, customerToken, internalHeaders, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';

/** Every order must be terminal this long after the killed service is back. */
const TERMINAL_BOUND_MS = 30_000;
const SKUS = ['SKU-0101', 'SKU-0102', 'SKU-0103', 'SKU-0104'];
const BURST = 40;

interface Placed {
  id: string;
  token: string;
  sku: string;
  quantity: number;
}

async function stockOf(gateway: string): Promise<Map<string, number>> {
  const entries = await Promise.all(SKUS.map(async (sku) => [sku, (await api<Product>(gateway, 'GET', `/products/${sku}`)).body.stock] as const));
  return new Map(entries);
}

/**
 * Places BURST orders concurrently, each with its own Idempotency-Key; a request that fails
 * (the service behind it is being killed) is retried with the same key until it is accepted,
 * as a careful client would.
 */
async function burst(gateway: string, token: string, during: () => Promise<void>): Promise<Placed[]> {
  const place = async (i: number): Promise<Placed> => {
    const key = randomUUID();
    const sku = SKUS[i % SKUS.length]!;
    const quantity = 1 + (i % 3);
    const payment = i % 5 === 4 ? 'tok_decline' : 'tok_ok';
    const deadline = Date.now() + TERMINAL_BOUND_MS * 2;
    for (;;) {
      const response = await api<Order>(gateway, 'POST', '/orders', {
        token,
        headers: { 'idempotency-key': key },
        json: { items: [{ sku, quantity }], payment: { token: payment } },
      }).catch(() => undefined);
      if (response && (response.status === 202 || response.status === 201 || response.status === 200)) return { id: response.body.id, token, sku, quantity };
      if (Date.now() > deadline) throw new Error(`order ${i} was never accepted (last status ${response?.status})`);
      await sleep(200);
    }
  };
  const orders = Array.from({ length: BURST }, (_, i) => sleep(i * 15).then(() => place(i)));
  await during();
  return Promise.all(orders);
}

async function waitTerminal(gateway: string, placed: Placed[], boundMs: number): Promise<Order[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const orders = await Promise.all(placed.map(async (p) => (await api<Order>(gateway, 'GET', `/orders/${p.id}`, { token: p.token })).body));
    const pending = orders.filter((o) => o.status === 'PENDING');
    if (pending.length === 0) return orders;
    if (Date.now() > deadline) throw new Error(`${pending.length} orders still PENDING after ${boundMs} ms: ${pending.map((o) => o.id).join(', ')}`);
    await sleep(250);
  }
}

/** Stock conserved, at most one capture per order, every confirmed order shipped, no saga left running. */
async function checkInvariants(system: Running, initial: Map<string, number>, placed: Placed[], orders: Order[]) {
  const gateway = system.gateway;
  const live = new Map(SKUS.map((sku) => [sku, 0]));
  for (const order of orders) {
    if (order.status === 'CONFIRMED' || order.status === 'PENDING') for (const item of order.items) live.set(item.sku, live.get(item.sku)! + item.quantity);
  }
  const after = await stockOf(gateway);
  for (const sku of SKUS) expect(after.get(sku)! + live.get(sku)!, `stock of ${sku}: initial = available + units of live orders`).toBe(initial.get(sku));

  const admin = adminToken();
  for (const order of orders) {
    const records = (await api<{ items: PaymentRecord[] }>(gateway, 'GET', `/admin/orders/${order.id}/payments`, { token: admin })).body.items;
    const charges = records.filter((r) => r.kind === 'charge');
    expect(charges.length, `charges of ${order.id}`).toBeLessThanOrEqual(1);
    const captured = charges.filter((r) => r.status === 'SUCCEEDED').length;
    expect(captured, `captures of ${order.status} order ${order.id}`).toBe(order.status === 'CONFIRMED' ? 1 : 0);
  }
  // No event lost: every confirmed order gets its shipment.
  for (const order of orders.filter((o) => o.status === 'CONFIRMED')) {
    const owner = placed.find((p) => p.id === order.id)!;
    expect((await api(gateway, 'GET', `/orders/${order.id}/shipment`, { token: owner.token })).status, `shipment of ${order.id}`).toBe(200);
  }
  const sagas = (await api<{ states: Record<string, number> }>(system.topology.urls.orders, 'GET', '/admin/sagas', { headers: internalHeaders() })).body.states;
  for (const state of ['RESERVING', 'ABORTING', 'PAYING', 'RELEASING', 'CANCELLING']) expect(sagas[state] ?? 0, `sagas left in ${state}`).toBe(0);
  expect(orders.some((o) => o.status === 'CONFIRMED')).toBe(true);
  expect(orders.some((o) => o.status === 'REJECTED' && o.rejectionReason === 'payment_declined')).toBe(true);
}

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
      const placed = await burst(gateway, token, async () => {
        await sleep(300);
        await system!.topology.kill('payments', 'SIGKILL');
        // The kill must have cut sagas mid-way, or this test proves nothing.
        const list = await api<{ items: Order[] }>(gateway, 'GET', '/orders?status=PENDING&limit=100', { token });
        pendingAtKill = list.body.items.length;
        await sleep(1500);
        await system!.topology.start('payments');
      });
      expect(pendingAtKill).toBeGreaterThan(0);
      const orders = await waitTerminal(gateway, placed, TERMINAL_BOUND_MS);
      await checkInvariants(system!, initial, placed, orders);
    });

    it.skipIf(skip)('orders killed (SIGKILL) during a burst and started again: sagas resume to terminal states, nothing leaks', async () => {
      const gateway = system!.gateway;
      const initial = await stockOf(gateway);
      const token = customerToken();
      const placed = await burst(gateway, token, async () => {
        await sleep(300);
        await system!.topology.kill('orders', 'SIGKILL');
        await sleep(1000);
        await system!.topology.start('orders');
      });
      const orders = await waitTerminal(gateway, placed, TERMINAL_BOUND_MS);
      // Requests cut off mid-reserve left sagas behind; their compensation must finish too.
      const deadline = Date.now() + TERMINAL_BOUND_MS;
      for (;;) {
        const states = (await api<{ states: Record<string, number> }>(system!.topology.urls.orders, 'GET', '/admin/sagas', { headers: internalHeaders() })).body.states;
        if (['RESERVING', 'ABORTING', 'PAYING', 'RELEASING'].every((s) => !states[s]) || Date.now() > deadline) break;
        await sleep(250);
      }
      await checkInvariants(system!, initial, placed, orders);
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
