import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';
import { GatedRefunds } from './gated-providers';

/**
 * Two monoliths on one PostgreSQL, as during a rolling update: the new process starts (and runs
 * its startup recovery, `orders.resume()`) while the old one is still serving, its provider calls
 * in flight. Recovery takes over only calls whose process died (their lease lapsed); a call whose
 * lease is renewed is the other process's, whatever the age of its order.
 */
const secret = 'replicas-test-secret-0123456789';
const customer = mintToken(secret, { sub: 'replicas-customer' });
const admin = mintToken(secret, { sub: 'ops', role: 'admin' });

const skip = await shouldSkip('PostgreSQL', postgresReachable);
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** One monolith process on the given database, with its own pool, memory and provider. */
async function boot(databaseUrl: string, provider: PaymentProvider) {
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-replicas-'));
  const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, AUTH_SECRET: secret, LOG_LEVEL: 'silent', METRICS_ENABLED: 'false', DATABASE_URL: databaseUrl });
  const database = await openMonolithDatabase(env);
  const monolith = createApp({ env, db: database.db, logger: createLogger({ service: 'replicas', level: 'silent' }), provider });
  await monolith.catalog.seed();
  cleanups.push(async () => {
    await monolith.orders.drain();
    await database.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const call = async <T>(path: string, init: RequestInit = {}, bearer = customer) => {
    const res = await monolith.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const paymentsOf = async (id: string) =>
    (await call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${id}/payments`, {}, admin)).body.items
      .map((p) => `${p.kind}:${p.status}`)
      .sort();
  return { ...monolith, call, paymentsOf };
}

describe.skipIf(skip)('two monoliths on one PostgreSQL (a rolling update)', () => {
  let testDatabase: TestDatabase;
  async function database() {
    testDatabase = await createTestDatabase('archbench_replicas');
    cleanups.push(() => testDatabase.drop());
    return testDatabase.url;
  }

  it("the new process's startup recovery leaves an order whose charge the old one is still making (10.5 s, past one lease) to it", async () => {
    const url = await database();
    const old = await boot(url, new PaymentProvider({ latencyMs: 10_500 }));
    const placed = await old.call<Order>('/orders', {
      method: 'POST',
      body: JSON.stringify({ items: [{ sku: 'SKU-0071', quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.status).toBe(202);
    await sleep(100);
    const fresh = await boot(url, new PaymentProvider());
    expect(await fresh.orders.resume()).toBe(0);
    const order = (await old.call<Order>(`/orders/${placed.body.id}`, { headers: { prefer: 'wait=10' } })).body;
    expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
    expect(await fresh.paymentsOf(order.id)).toEqual(['charge:SUCCEEDED']);
  }, 30_000);

  it("the new process's startup recovery leaves a refund the old one is sending to it: the provider is asked once", async () => {
    const url = await database();
    const oldProvider = new GatedRefunds();
    const old = await boot(url, oldProvider);
    const placed = await old.call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku: 'SKU-0072', quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.body.status).toBe('CONFIRMED');
    const cancel = old.call<Order>(`/orders/${placed.body.id}/cancel`, { method: 'POST' });
    while (oldProvider.refundCalls === 0) await sleep(10);
    const freshProvider = new GatedRefunds();
    freshProvider.open();
    const fresh = await boot(url, freshProvider);
    await fresh.orders.resume(); // waits out the leases of refunds started before it (up to 10 s)
    await sleep(500);
    oldProvider.open();
    expect((await cancel).body).toMatchObject({ status: 'CANCELLED', paymentStatus: 'REFUNDED' });
    expect([oldProvider.refundCalls, freshProvider.refundCalls]).toEqual([1, 0]);
    expect(await fresh.paymentsOf(placed.body.id)).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
  }, 30_000);
});
