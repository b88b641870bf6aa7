import { execFile } from 'node:child_process';
import { connect as connectTcp, createServer } from 'node:net';
import type { AddressInfo, Server, Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import type { Order, PaymentRecord, Product } from '@archbench/contracts/schemas';
import { AMQP_TEST_URL } from '@archbench/server-kit/testing';
import { adminToken, api, internalHeaders } from './helpers';

/**
 * What the fault tests share: a burst of orders placed the way a careful client does, waiting
 * until every order is terminal, and the invariants a user would check afterwards. Functions take
 * plain URLs so they work with any launcher.
 */

export const SKUS = ['SKU-0101', 'SKU-0102', 'SKU-0103', 'SKU-0104'];
export const ACTIVE_SAGA_STATES = ['RESERVING', 'ABORTING', 'PAYING', 'RELEASING', 'EXPIRING', 'CANCELLING'];

export interface Placed {
  id: string;
  token: string;
  sku: string;
  quantity: number;
}

export interface BurstOptions {
  /** Orders in the burst. */
  count: number;
  /** Gap between the starts of two orders, ms. */
  spacingMs?: number;
  /** SKUs to spread the orders over. */
  skus?: string[];
  /** How long one order may keep being refused before the burst fails, ms. */
  acceptWithinMs?: number;
}

export async function stockOf(gateway: string, skus: string[] = SKUS): Promise<Map<string, number>> {
  const entries = await Promise.all(skus.map(async (sku) => [sku, (await api<Product>(gateway, 'GET', `/products/${sku}`)).body.stock] as const));
  return new Map(entries);
}

/**
 * Places `count` orders concurrently while `during` runs, each with its own Idempotency-Key; a
 * request that fails (the service behind it is being killed) is retried with the same key until
 * it is accepted, as a careful client would. Every fifth order uses a declined card.
 */
export async function burst(gateway: string, token: string, options: BurstOptions, during: () => Promise<void>): Promise<Placed[]> {
  const skus = options.skus ?? SKUS;
  const place = async (i: number): Promise<Placed> => {
    const key = randomUUID();
    const sku = skus[i % skus.length]!;
    const quantity = 1 + (i % 3);
    const payment = i % 5 === 4 ? 'tok_decline' : 'tok_ok';
    const deadline = Date.now() + (options.acceptWithinMs ?? 60_000);
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
  const orders = Array.from({ length: options.count }, (_, i) => sleep(i * (options.spacingMs ?? 15)).then(() => place(i)));
  await during();
  return Promise.all(orders);
}

/** Polls until no order is PENDING; returns the orders and when that was first seen. */
export async function waitTerminal(gateway: string, placed: Placed[], boundMs: number): Promise<{ orders: Order[]; at: number }> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const orders: Order[] = [];
    // In chunks, so a 300-order check does not open 300 sockets at once.
    for (let i = 0; i < placed.length; i += 50) {
      const chunk = placed.slice(i, i + 50);
      orders.push(...(await Promise.all(chunk.map(async (p) => (await api<Order>(gateway, 'GET', `/orders/${p.id}`, { token: p.token })).body))));
    }
    const pending = orders.filter((o) => o.status === 'PENDING');
    if (pending.length === 0) return { orders, at: Date.now() };
    if (Date.now() > deadline)
      throw new Error(
        `${pending.length} orders still PENDING after ${boundMs} ms: ${pending
          .slice(0, 10)
          .map((o) => o.id)
          .join(', ')}`,
      );
    await sleep(250);
  }
}

export async function sagaStates(ordersUrl: string): Promise<Record<string, number>> {
  return (await api<{ states: Record<string, number> }>(ordersUrl, 'GET', '/admin/sagas', { headers: internalHeaders() })).body.states;
}

/** Waits until no saga has a step left (compensations included). */
export async function waitSagasSettled(ordersUrl: string, boundMs: number): Promise<Record<string, number>> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const states = await sagaStates(ordersUrl);
    if (ACTIVE_SAGA_STATES.every((s) => !states[s])) return states;
    if (Date.now() > deadline) throw new Error(`sagas still running after ${boundMs} ms: ${JSON.stringify(states)}`);
    await sleep(250);
  }
}

export interface InvariantOptions {
  gateway: string;
  ordersUrl: string;
  initial: Map<string, number>;
  placed: Placed[];
  orders: Order[];
  skus?: string[];
  /** Expect a confirmed order and a declined one among them (false when the drill rejects all). */
  expectMix?: boolean;
}

/**
 * Stock conserved, at most one charge per order and no capture kept by an order that is not
 * CONFIRMED (a capture the saga could not confirm must have been refunded), every confirmed order
 * shipped, no saga left with a step to run, no order lost or duplicated.
 */
export async function checkInvariants({ gateway, ordersUrl, initial, placed, orders, skus = SKUS, expectMix = true }: InvariantOptions) {
  expect(new Set(orders.map((o) => o.id)).size, 'one order per accepted request').toBe(placed.length);
  const live = new Map(skus.map((sku) => [sku, 0]));
  for (const order of orders) {
    if (order.status === 'CONFIRMED' || order.status === 'PENDING') for (const item of order.items) live.set(item.sku, live.get(item.sku)! + item.quantity);
  }
  const after = await stockOf(gateway, skus);
  for (const sku of skus) expect(after.get(sku)! + live.get(sku)!, `stock of ${sku}: initial = available + units of live orders`).toBe(initial.get(sku));

  const admin = adminToken();
  for (let i = 0; i < orders.length; i += 50) {
    await Promise.all(
      orders.slice(i, i + 50).map(async (order) => {
        const records = (await api<{ items: PaymentRecord[] }>(gateway, 'GET', `/admin/orders/${order.id}/payments`, { token: admin })).body.items;
        const charges = records.filter((r) => r.kind === 'charge');
        expect(charges.length, `charges of ${order.id}`).toBeLessThanOrEqual(1);
        const captured = charges.filter((r) => r.status === 'SUCCEEDED').length;
        const refunded = records.filter((r) => r.kind === 'refund' && r.status === 'SUCCEEDED').length;
        if (order.status === 'CONFIRMED') expect({ captured, refunded }, `payments of CONFIRMED order ${order.id}`).toEqual({ captured: 1, refunded: 0 });
        else expect(captured - refunded, `capture kept by ${order.status} order ${order.id}`).toBe(0);
        if (order.status === 'REJECTED') expect(order.paymentStatus, `payment status of REJECTED order ${order.id}`).not.toBe('PENDING');
      }),
    );
  }
  // No event lost: every confirmed order gets its shipment.
  for (const order of orders.filter((o) => o.status === 'CONFIRMED')) {
    const owner = placed.find((p) => p.id === order.id)!;
    expect((await api(gateway, 'GET', `/orders/${order.id}/shipment`, { token: owner.token })).status, `shipment of ${order.id}`).toBe(200);
  }
  const sagas = await sagaStates(ordersUrl);
  for (const state of ACTIVE_SAGA_STATES) expect(sagas[state] ?? 0, `sagas left in ${state}`).toBe(0);
  if (expectMix) {
    expect(orders.some((o) => o.status === 'CONFIRMED')).toBe(true);
    expect(orders.some((o) => o.status === 'REJECTED' && o.rejectionReason === 'payment_declined')).toBe(true);
  }
}

const run = promisify(execFile);

/** True when `rabbitmqctl` can talk to the local broker (root on the broker's machine). */
export async function rabbitmqctlWorks(): Promise<boolean> {
  try {
    await run('rabbitmqctl', ['-q', 'list_vhosts'], { timeout: 20_000 });
    return true;
  } catch {
    return false;
  }
}

export async function rabbitmqctl(...args: string[]): Promise<string> {
  return (await run('rabbitmqctl', ['-q', ...args], { timeout: 30_000 })).stdout;
}

export interface TestVhost {
  name: string;
  /** AMQP_TEST_URL pointed at the vhost. */
  url: string;
  drop(): Promise<void>;
}

/** A fresh RabbitMQ vhost for one test (the guest user of AMQP_TEST_URL may use it); drop() deletes it with everything in it. */
export async function createTestVhost(): Promise<TestVhost> {
  const name = `archbench-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const url = new URL(AMQP_TEST_URL);
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, decodeURIComponent(url.username || 'guest'), '.*', '.*', '.*');
  url.pathname = `/${encodeURIComponent(name)}`;
  return { name, url: url.toString(), drop: async () => void (await rabbitmqctl('delete_vhost', name).catch(() => '')) };
}

export interface BrokerConnection {
  /** The client's connection_name: `<prefix>.<service> (pid n)`. */
  client: string;
  /** The broker's name for it (`client address:port -> broker address:port`): new on every reconnect. */
  name: string;
}

/** The client connections the broker has open in a vhost. */
export async function brokerConnections(vhost: string): Promise<BrokerConnection[]> {
  // list_connections has no vhost filter: list them all with their vhost and keep ours.
  const out = await rabbitmqctl('list_connections', 'vhost', 'name', 'client_properties');
  return out
    .split('\n')
    .filter((line) => line.startsWith(`${vhost}\t`))
    .map((line) => ({ name: line.split('\t')[1] ?? '', client: /connection_name","?([^"]*)"/.exec(line)?.[1] ?? '' }));
}

/**
 * A TCP proxy between the services and the broker, so a test can cut the network: `down()`
 * drops every connection and refuses new ones until `up()`.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #down = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const server = createServer();
    const proxy = new TcpProxy(server);
    server.on('connection', (client) => proxy.#accept(client, target));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  #accept(client: Socket, target: { host: string; port: number }): void {
    if (this.#down) {
      client.destroy();
      return;
    }
    const upstream = connectTcp(target.port, target.host);
    for (const socket of [client, upstream]) {
      this.#sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.#sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  }

  /** Cuts every connection and refuses new ones. */
  down(): void {
    this.#down = true;
    for (const socket of this.#sockets) socket.destroy();
  }

  up(): void {
    this.#down = false;
  }

  async close(): Promise<void> {
    this.down();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
