import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, PaymentRecord, Product, Shipment } from '@archbench/contracts/schemas';
import { adminToken, api, customerToken, skipSetup, startHybrid } from './helpers';
import type { RunningHybrid, Setup } from './helpers';

/** Every order must be terminal this long after the killed process is ready again. */
const TERMINAL_BOUND_MS = 30_000;
const SKUS = ['SKU-0111', 'SKU-0112', 'SKU-0113', 'SKU-0114'];
const BURST = 60;

interface Placed {
  id: string;
  token: string;
}

async function stockOf(base: string): Promise<Map<string, number>> {
  return new Map(await Promise.all(SKUS.map(async (sku) => [sku, (await api<Product>(base, 'GET', `/products/${sku}`)).body.stock] as const)));
}

/**
 * Places BURST orders, staggered, each with its own Idempotency-Key; a request that fails (the
 * process behind it is being killed) is retried with the same key until accepted, as a careful
 * client would. Returns the orders and how many requests had to be retried.
 */
async function burst(base: string, token: string, during: () => Promise<void>): Promise<{ placed: Placed[]; retried: number }> {
  let retried = 0;
  const place = async (i: number): Promise<Placed> => {
    const key = randomUUID();
    const sku = SKUS[i % SKUS.length]!;
    const payment = i % 5 === 4 ? 'tok_decline' : 'tok_ok';
    const deadline = Date.now() + TERMINAL_BOUND_MS * 2;
    for (let attempt = 0; ; attempt++) {
      const response = await api<Order>(base, 'POST', '/orders', {
        token,
        headers: { 'idempotency-key': key },
        json: { items: [{ sku, quantity: 1 + (i % 3) }], payment: { token: payment } },
      }).catch(() => undefined);
      if (response && response.status >= 200 && response.status < 300) {
        if (attempt > 0) retried++;
        return { id: response.body.id, token };
      }
      if (Date.now() > deadline) throw new Error(`order ${i} was never accepted (last status ${response?.status})`);
      await sleep(200);
    }
  };
  const orders = Array.from({ length: BURST }, (_, i) => sleep(i * 15).then(() => place(i)));
  await during();
  return { placed: await Promise.all(orders), retried };
}

async function waitTerminal(base: string, placed: Placed[], boundMs: number): Promise<Order[]> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const orders = await Promise.all(placed.map(async (p) => (await api<Order>(base, 'GET', `/orders/${p.id}`, { token: p.token })).body));
    const pending = orders.filter((o) => o.status === 'PENDING');
    if (pending.length === 0) return orders;
    if (Date.now() > deadline) throw new Error(`${pending.length} orders still PENDING after ${boundMs} ms: ${pending.map((o) => o.id).join(', ')}`);
    await sleep(250);
  }
}

/** Stock conserved, at most one capture per order (exactly one for a confirmed one), every confirmed order shipped. */
async function checkInvariants(base: string, initial: Map<string, number>, placed: Placed[], orders: Order[]) {
  const live = new Map(SKUS.map((sku) => [sku, 0]));
  for (const order of orders) if (order.status === 'CONFIRMED') for (const item of order.items) live.set(item.sku, live.get(item.sku)! + item.quantity);
  const after = await stockOf(base);
  for (const sku of SKUS) expect(after.get(sku)! + live.get(sku)!, `stock of ${sku}: initial = available + units of confirmed orders`).toBe(initial.get(sku));

  const admin = adminToken();
  for (const order of orders) {
    const charges = (await api<{ items: PaymentRecord[] }>(base, 'GET', `/admin/orders/${order.id}/payments`, { token: admin })).body.items.filter(
      (r) => r.kind === 'charge',
    );
    expect(charges.length, `charges of ${order.id}`).toBeLessThanOrEqual(1);
    expect(charges.filter((r) => r.status === 'SUCCEEDED').length, `captures of ${order.status} order ${order.id}`).toBe(order.status === 'CONFIRMED' ? 1 : 0);
  }
  for (const order of orders.filter((o) => o.status === 'CONFIRMED')) {
    const owner = placed.find((p) => p.id === order.id)!;
    const shipment = await api<Shipment>(base, 'GET', `/orders/${order.id}/shipment`, { token: owner.token });
    expect(shipment.status, `shipment of ${order.id}`).toBe(200);
    expect(shipment.body.status).toBe('PREPARING');
  }
  expect(orders.some((o) => o.status === 'CONFIRMED')).toBe(true);
  expect(orders.some((o) => o.status === 'REJECTED' && o.rejectionReason === 'payment_declined')).toBe(true);
}

const faultSetups: Array<Pick<Setup, 'transport' | 'database'>> = [
  { transport: 'http', database: 'sqlite' },
  { transport: 'amqp', database: 'postgres' },
];

for (const { transport, database } of faultSetups) {
  describe(`hybrid faults (${database} + ${transport})`, async () => {
    const skip = await skipSetup({ transport, database });
    let hybrid: RunningHybrid | undefined;
    beforeAll(async () => {
      // A provider call of 150 ms keeps several charges in flight whenever the kill lands.
      if (!skip) hybrid = await startHybrid({ transport, database, env: { PAYMENT_LATENCY_MS: '150' } });
    });
    afterAll(async () => {
      await hybrid?.stop();
    });

    it.skipIf(skip)(
      'core (payments) SIGKILLed mid-burst, restarted by the supervisor: every order terminal, stock conserved, one capture at most, confirmed orders shipped',
      async () => {
        const { topology, baseUrl } = hybrid!;
        const initial = await stockOf(baseUrl);
        const token = customerToken();
        const victim = topology.processFor('payments');
        expect(victim).toBe('core');
        const restartsBefore = topology.restarts;
        let pendingAtKill = 0;
        let downMs = 0;
        const { placed, retried } = await burst(baseUrl, token, async () => {
          await sleep(400);
          pendingAtKill = (await api<{ items: Order[] }>(baseUrl, 'GET', '/orders?status=PENDING&limit=100', { token })).body.items.length;
          const killedAt = performance.now();
          await topology.kill(victim, 'SIGKILL');
          // No manual restart: the supervisor brings it back.
          await topology.waitReady(60_000);
          downMs = performance.now() - killedAt;
        });
        // The kill must have cut orders mid-way, or this test proves nothing.
        expect(pendingAtKill).toBeGreaterThan(0);
        expect(topology.restarts).toBe(restartsBefore + 1);
        const settledFrom = performance.now();
        const orders = await waitTerminal(baseUrl, placed, TERMINAL_BOUND_MS);
        await checkInvariants(baseUrl, initial, placed, orders);
        const counts = Object.fromEntries(['CONFIRMED', 'REJECTED'].map((s) => [s, orders.filter((o) => o.status === s).length]));
        process.stderr.write(
          `hybrid ${database}+${transport}: core SIGKILL → ready again in ${Math.round(downMs)} ms; ${pendingAtKill} PENDING at the kill, ${retried} requests retried; ` +
            `all ${orders.length} terminal ${Math.round(performance.now() - settledFrom)} ms after; ${JSON.stringify(counts)}; ` +
            `provider errors (charge cut by the kill): ${orders.filter((o) => o.rejectionReason === 'payment_provider_error').length}\n`,
        );
      },
    );
  });
}

describe('hybrid faults: shipping down (sqlite + http)', async () => {
  const skip = await skipSetup({ transport: 'http', database: 'sqlite' });
  let hybrid: RunningHybrid | undefined;
  beforeAll(async () => {
    // Shipping stays down 3 s after a crash, long enough to use the core meanwhile.
    if (!skip) hybrid = await startHybrid({ transport: 'http', database: 'sqlite', restart: { initialDelayMs: 3000 } });
  });
  afterAll(async () => {
    await hybrid?.stop();
  });

  it.skipIf(skip)('shipping SIGKILLed: the core keeps confirming orders, and every one is shipped once shipping is back', async () => {
    const { topology, baseUrl } = hybrid!;
    const token = customerToken();
    await topology.kill('shipping', 'SIGKILL');
    const confirmed: Order[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await api<Order>(baseUrl, 'POST', '/orders', {
        token,
        headers: { prefer: 'wait=5' },
        json: { items: [{ sku: 'SKU-0120', quantity: 1 }], payment: { token: 'tok_ok' } },
      });
      expect(response.status).toBe(201);
      expect(response.body.status).toBe('CONFIRMED');
      confirmed.push(response.body);
    }
    // Still down: reading a shipment is a dependency failure, not a wrong answer.
    expect(topology.processes.find((p) => p.name === 'shipping')?.state).not.toBe('ready');
    const whileDown = await api<{ code: string }>(baseUrl, 'GET', `/orders/${confirmed[0]!.id}/shipment`, { token });
    expect(whileDown.status).toBe(502);
    expect(whileDown.body.code).toBe('dependency-failed');

    await topology.waitReady(60_000);
    for (const order of confirmed) {
      const shipment = await api<Shipment>(baseUrl, 'GET', `/orders/${order.id}/shipment`, { token });
      expect(shipment.status, `shipment of ${order.id}`).toBe(200);
      expect(shipment.body).toMatchObject({ orderId: order.id, status: 'PREPARING' });
    }
  });
});
