import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { serve } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { migrate, openDatabase } from '@archbench/server-kit/db';
import type { Database } from '@archbench/server-kit/db';
import { loadEnv } from '../src/env';
import { InternalHttpClient } from '../src/shared/http-client';
import { createHttpTransport } from '../src/shared/transport/http';
import { createOrdersApp } from '../src/orders/app';
import { migrations as ordersMigrations } from '../src/orders/schema';
import type { OrdersTables } from '../src/orders/schema';
import { RELAY_RETRY_MS, createPaymentsApp } from '../src/payments/app';
import { createPaymentsRepository } from '../src/payments/repository';
import { migrations as paymentsMigrations } from '../src/payments/schema';
import type { PaymentsTables } from '../src/payments/schema';

/**
 * The payments outbox relay's lag on payments' /metrics (`archbench_outbox_lag_seconds`, service
 * "payments", as the orders service reports its relay's): while the subscriber (the orders service)
 * is down and LateCaptureRefunded cannot be handed over, it grows with the event's age, every
 * second although the relay retries only every RELAY_RETRY_MS; once the relay delivered the event
 * it is 0, without waiting for another round.
 *
 * The payments app (relay, routes, /metrics) on the real HTTP transport, whose `orders` peer is a
 * port nothing listens on until the real orders app is served there; SQLite.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const TOKEN = 'payments-relay-lag-test';
const silent = createLogger({ service: 'payments-relay-lag-test', level: 'silent' });

function database<T>(dir: string, name: string): Database<T> {
  const opened = openDatabase<T>({ dataDir: dir, fileName: `${name}.db` });
  cleanups.push(() => opened.close());
  return opened;
}

/** A loopback port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('payments outbox relay: archbench_outbox_lag_seconds on /metrics', () => {
  it('grows while the orders service is down and is 0 once the event was delivered', { timeout: RELAY_RETRY_MS + 20_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-payments-lag-'));
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    const port = await freePort();
    const client = new InternalHttpClient({ peers: { orders: `http://127.0.0.1:${port}` }, timeoutMs: 2000, attempts: 1, internalToken: TOKEN });
    const transport = createHttpTransport({ client, logger: silent });
    cleanups.push(() => transport.close());

    const paymentsDb = database<PaymentsTables>(dir, 'payments');
    await migrate(paymentsDb.db, paymentsMigrations);
    const payments = createPaymentsApp({
      env: loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }),
      db: paymentsDb.db,
      obs: { logger: silent, metrics: createMetrics({ service: 'payments', defaultMetrics: false }) },
      dialect: 'sqlite',
      transport,
      internalToken: TOKEN,
    });
    await payments.start();
    cleanups.push(() => payments.stop());
    const lag = async (): Promise<number> => {
      const text = await (await payments.app.request('/metrics')).text();
      const line = /^archbench_outbox_lag_seconds\{service="payments"\} (\S+)$/m.exec(text);
      expect(line, text).not.toBeNull();
      return Number(line![1]);
    };
    expect(await lag()).toBe(0);

    // A late capture recorded by a process that stopped before announcing it: the next start announces it
    // (LateCaptureRefunded into the outbox) and kicks the relay, which cannot reach orders.
    const repo = createPaymentsRepository(paymentsDb.db);
    const charge = await repo.insertPending('ord_late', 'charge', 500, 'charge:ord_late', 'PENDING', new Date(Date.now() - 1).toISOString());
    await repo.finish(charge, 'FAILED', null);
    await paymentsDb.db.updateTable('payments').set({ status: 'LATE_CAPTURED', provider_ref: 'prov' }).where('id', '=', charge).execute();
    const refund = await repo.insertPending('ord_late', 'refund', 500, 'late-capture:ord_late', 'PENDING', new Date(Date.now() - 1).toISOString());
    await repo.finish(refund, 'SUCCEEDED', 'prov_r');
    await payments.payments.resumeLateCaptureRefunds();
    const announced = Date.now();
    expect((await repo.unpublished(10)).length).toBe(1);

    await sleep(1500);
    const first = await lag();
    await sleep(2000);
    const second = await lag();
    expect(first).toBeGreaterThanOrEqual(1);
    // Grows with the event's age, between the relay's retries (10 s apart) too.
    expect(second - first).toBeGreaterThanOrEqual(1.5);
    expect(second).toBeLessThanOrEqual((Date.now() - announced) / 1000 + 1);
    expect((await repo.unpublished(10)).length).toBe(1); // still not handed over

    // The orders service comes up where payments looks for it: the relay's next retry delivers the event.
    const ordersDb = database<OrdersTables>(dir, 'orders');
    await migrate(ordersDb.db, ordersMigrations);
    const orders = createOrdersApp({ db: ordersDb.db, obs: { logger: silent }, dialect: 'sqlite', transport, internalToken: TOKEN, sweepMs: 60_000 });
    const server = serve({ fetch: orders.app.fetch, port, hostname: '127.0.0.1' }) as Server;
    await once(server, 'listening');
    cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
    for (const until = Date.now() + RELAY_RETRY_MS + 5000; Date.now() < until && (await repo.unpublished(10)).length > 0;) await sleep(50);
    expect((await repo.unpublished(10)).length).toBe(0);
    expect(await lag()).toBe(0);
    await sleep(1500); // and stays 0
    expect(await lag()).toBe(0);
  });
});
