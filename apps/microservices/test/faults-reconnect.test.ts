import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { shouldSkip } from '@archbench/server-kit/testing';
import { api, customerToken, skipSetup, startSystem } from './helpers';
import type { Running, Setup } from './helpers';
import {
  brokerConnections,
  burst,
  checkInvariants,
  createTestVhost,
  rabbitmqctl,
  rabbitmqctlWorks,
  stockOf,
  waitSagasSettled,
  waitTerminal,
} from './faults-kit';
import { TcpProxy } from './faults-kit';
import type { TestVhost } from './faults-kit';

/**
 * RabbitMQ drops every connection of the app (as on a broker restart, a failover or a network
 * cut) while orders keep coming: the services reconnect by themselves, declare their topology
 * again and carry on; no process exits, no order is lost or doubled, nothing stays PENDING.
 */
const SERVICES = ['inventory', 'orders', 'payments', 'shipping'];

describe('RabbitMQ connections lost during a burst', async () => {
  const skip = (await skipSetup({ transport: 'amqp', database: 'sqlite' })) || (await shouldSkip('rabbitmqctl (local broker admin)', rabbitmqctlWorks));
  let vhost: TestVhost | undefined;
  let proxy: TcpProxy | undefined;
  let system: Running | undefined;
  beforeAll(async () => {
    if (skip) return;
    vhost = await createTestVhost();
    // The services reach the broker through a proxy the test can cut (network failure).
    const broker = new URL(vhost.url);
    proxy = await TcpProxy.start({ host: broker.hostname, port: Number(broker.port || 5672) });
    broker.host = `127.0.0.1:${proxy.port}`;
    const setup: Setup = {
      transport: 'amqp',
      database: 'sqlite',
      env: { AMQP_URL: broker.toString(), AMQP_RECONNECT_MIN_MS: '100', AMQP_RECONNECT_MAX_MS: '2000', PAYMENT_LATENCY_MS: '20', INTERNAL_TIMEOUT_MS: '2000' },
    };
    system = await startSystem(setup);
  });
  afterAll(async () => {
    await system?.stop();
    await proxy?.close();
    await vhost?.drop();
  });

  const services = (connections: Array<{ client: string }>) => connections.map((c) => /\.(\w+) \(pid/.exec(c.client)?.[1] ?? c.client).sort();

  /** Waits until every service has a new connection (none of `before` left); returns how long that took. */
  async function reconnected(before: Set<string>, boundMs: number): Promise<number> {
    const started = Date.now();
    for (;;) {
      const now = await brokerConnections(vhost!.name);
      if (now.every((c) => !before.has(c.name)) && services(now).join() === SERVICES.join()) return Date.now() - started;
      if (Date.now() - started > boundMs) throw new Error(`services did not reconnect within ${boundMs} ms`);
      await sleep(100);
    }
  }

  it.skipIf(skip)('services reconnect on their own; every order terminal, nothing lost or duplicated, no process restarted', async () => {
    const gateway = system!.gateway;
    const ordersUrl = system!.topology.urls.orders;
    expect(services(await brokerConnections(vhost!.name)), 'one connection per service in the test vhost').toEqual(SERVICES);
    const pidsBefore = system!.topology.processes.map((p) => `${p.name}:${p.pid}`);
    const initial = await stockOf(gateway);
    const token = customerToken();
    const reconnectMs: number[] = [];
    const placed = await burst(gateway, token, { count: 80, spacingMs: 25 }, async () => {
      for (let round = 0; round < 2; round++) {
        await sleep(400);
        const before = new Set((await brokerConnections(vhost!.name)).map((c) => c.name));
        await rabbitmqctl('close_all_connections', '--vhost', vhost!.name, 'archbench fault drill');
        reconnectMs.push(await reconnected(before, 30_000));
      }
    });
    const { orders } = await waitTerminal(gateway, placed, 30_000);
    await waitSagasSettled(ordersUrl, 30_000);
    await checkInvariants({ gateway, ordersUrl, initial, placed, orders });

    // Nobody restarted anything: the same processes, all ready, on new connections.
    expect(system!.topology.processes.map((p) => `${p.name}:${p.pid}`)).toEqual(pidsBefore);
    expect(system!.topology.processes.every((p) => p.restarts === 0)).toBe(true);
    // One connection per service again: reconnecting replaced the lost ones, it did not pile up new ones.
    expect(services(await brokerConnections(vhost!.name))).toEqual(SERVICES);
    for (const service of SERVICES) expect((await api(system!.topology.urls[service as 'orders'], 'GET', '/ready')).status, `${service} ready`).toBe(200);
    const after = await api<Order>(gateway, 'POST', '/orders', {
      token,
      headers: { prefer: 'wait=10' },
      json: { items: [{ sku: 'SKU-0105', quantity: 1 }], payment: { token: 'tok_ok' } },
    });
    expect(after.body.status).toBe('CONFIRMED');
    const confirmed = orders.filter((o) => o.status === 'CONFIRMED').length;
    process.stderr.write(
      `amqp reconnect: ${orders.length} orders (${confirmed} confirmed), connections force-closed twice, back after ${reconnectMs.join(' and ')} ms, 0 restarts\n`,
    );
  });

  it.skipIf(skip)('the broker is unreachable for 3 s: services report not ready, keep retrying, and finish every order once it is back', async () => {
    const gateway = system!.gateway;
    const ordersUrl = system!.topology.urls.orders;
    const pidsBefore = system!.topology.processes.map((p) => `${p.name}:${p.pid}`);
    const initial = await stockOf(gateway);
    const token = customerToken();
    let readyDuringOutage = 0;
    let outageEndedAt = 0;
    let back = 0;
    const placed = await burst(gateway, token, { count: 60, spacingMs: 25 }, async () => {
      await sleep(400);
      const before = new Set((await brokerConnections(vhost!.name)).map((c) => c.name));
      proxy!.down();
      await sleep(500);
      readyDuringOutage = (await api(ordersUrl, 'GET', '/ready')).status;
      await sleep(2500);
      proxy!.up();
      outageEndedAt = Date.now();
      back = await reconnected(before, 30_000);
    });
    expect(readyDuringOutage, 'orders is not ready without its broker').toBe(503);
    const { orders, at } = await waitTerminal(gateway, placed, 30_000);
    await waitSagasSettled(ordersUrl, 30_000);
    await checkInvariants({ gateway, ordersUrl, initial, placed, orders });
    expect(system!.topology.processes.map((p) => `${p.name}:${p.pid}`)).toEqual(pidsBefore);
    expect(services(await brokerConnections(vhost!.name))).toEqual(SERVICES);
    process.stderr.write(
      `amqp outage: ${orders.length} orders, broker unreachable 3 s, every service reconnected ${back} ms after it was reachable again, all terminal ${at - outageEndedAt} ms after, 0 restarts\n`,
    );
  });
});
