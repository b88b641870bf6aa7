import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Order, PaymentToken, Product } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import type { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { createTestDatabase, postgresReachable, shouldSkip } from '@archbench/server-kit/testing';
import type { TestDatabase } from '@archbench/server-kit/testing';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';
import { GatedProvider, GatedRefunds } from './gated-providers';

/**
 * No order stays PENDING while the monolith keeps running: the deadline sweeper (SAGA_DEADLINE_MS)
 * rejects an order whose payment step broke mid-way, releases its stock and refunds a capture it
 * could not confirm — with a real database error in the settle transaction (a trigger), on SQLite
 * and PostgreSQL.
 */
const secret = 'deadline-test-secret-0123456789';
const customer = mintToken(secret, { sub: 'deadline-customer' });
const admin = mintToken(secret, { sub: 'ops', role: 'admin' });
const DEADLINE_MS = 1000;
/** Every order must be terminal this long after it was placed (deadline + sweeps, on a noisy machine). */
const TERMINAL_BOUND_MS = 20_000;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Dialect = 'sqlite' | 'postgres';

async function boot(dialect: Dialect, provider?: PaymentProvider) {
  let databaseUrl: string | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-deadline-'));
  let testDatabase: TestDatabase | undefined;
  if (dialect === 'postgres') {
    testDatabase = await createTestDatabase('archbench_deadline');
    databaseUrl = testDatabase.url;
  }
  const env = loadEnv({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    AUTH_SECRET: secret,
    LOG_LEVEL: 'silent',
    METRICS_ENABLED: 'false',
    SAGA_DEADLINE_MS: String(DEADLINE_MS),
    SAGA_SWEEP_MS: '100',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  });
  const database = await openMonolithDatabase(env);
  const monolith = createApp({ env, db: database.db, logger: createLogger({ service: 'deadline', level: 'silent' }), provider });
  await monolith.catalog.seed();
  monolith.orders.startDeadlineSweeper(env.SAGA_SWEEP_MS);
  cleanups.push(async () => {
    await monolith.orders.drain();
    await database.close();
    await testDatabase?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const call = async <T>(path: string, init: RequestInit = {}, bearer = customer) => {
    const res = await monolith.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const stock = async (sku: string) => (await call<Product>(`/products/${sku}`)).body.stock;
  const place = (sku: string, quantity: number, token: PaymentToken) =>
    call<Order>('/orders', { method: 'POST', body: JSON.stringify({ items: [{ sku, quantity }], payment: { token } }) });
  const paymentsOf = async (id: string) =>
    (await call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${id}/payments`, {}, admin)).body.items;
  /** Polls until none of the orders is PENDING (or the bound passed); returns them as they are. */
  const settled = async (ids: string[]) => {
    const until = Date.now() + TERMINAL_BOUND_MS;
    for (;;) {
      const orders = await Promise.all(ids.map(async (id) => (await call<Order>(`/orders/${id}`)).body));
      if (orders.every((o) => o.status !== 'PENDING') || Date.now() > until) return orders;
      await sleep(100);
    }
  };
  return { ...monolith, database, dialect, call, stock, place, paymentsOf, settled };
}

/** A real database error in every settle transaction that would confirm an order. */
async function failConfirmations(app: Awaited<ReturnType<typeof boot>>) {
  if (app.dialect === 'sqlite') {
    await sql`create trigger fail_confirm before update of status on orders when new.status = 'CONFIRMED' begin select raise(abort, 'injected: settle failed'); end`.execute(
      app.database.db,
    );
  } else {
    await sql`create function fail_confirm() returns trigger language plpgsql as $$ begin if new.status = 'CONFIRMED' then raise exception 'injected: settle failed'; end if; return new; end $$`.execute(
      app.database.db,
    );
    await sql`create trigger fail_confirm before update on orders for each row execute function fail_confirm()`.execute(app.database.db);
  }
}

const skipPostgres = await shouldSkip('PostgreSQL', postgresReachable);

for (const dialect of ['sqlite', 'postgres'] as const) {
  describe.skipIf(dialect === 'postgres' && skipPostgres)(`monolith saga deadline (${dialect})`, () => {
    it('an order whose settle step fails after the capture is rejected by the deadline and refunded; stock is conserved', async () => {
      const app = await boot(dialect);
      const skus = ['SKU-0061', 'SKU-0062'];
      const before = await Promise.all(skus.map((s) => app.stock(s)));
      await failConfirmations(app);
      const placed = await Promise.all(Array.from({ length: 8 }, (_, i) => app.place(skus[i % 2]!, 1 + (i % 3), i % 4 === 3 ? 'tok_decline' : 'tok_ok')));
      expect(placed.every((p) => p.status === 202)).toBe(true);
      const orders = await app.settled(placed.map((p) => p.body.id));

      // Nothing PENDING past the deadline, while the process kept running.
      expect(orders.map((o) => o.status)).not.toContain('PENDING');
      for (const [i, order] of orders.entries()) {
        const records = await app.paymentsOf(order.id);
        const charges = records.filter((r) => r.kind === 'charge');
        expect(charges).toHaveLength(1);
        if (i % 4 === 3) {
          expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_declined' });
        } else {
          // Captured, could not be confirmed: rejected with the reason and the money given back.
          expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_unavailable', paymentStatus: 'REFUNDED' });
          expect(records.map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
        }
      }
      // Every unit is back: no order holds stock.
      expect(await Promise.all(skus.map((s) => app.stock(s)))).toEqual(before);
    });

    it('Prefer: wait on an order left PENDING by a failed settle waits for the sweeper to end it, on GET and on a keyed replay', async () => {
      const app = await boot(dialect);
      await failConfirmations(app);
      const key = `wait-${dialect}-${Date.now()}`;
      const body = JSON.stringify({ items: [{ sku: 'SKU-0065', quantity: 1 }], payment: { token: 'tok_ok' } });
      const placed = await app.call<Order>('/orders', { method: 'POST', body, headers: { 'idempotency-key': key } });
      expect(placed.status).toBe(202);
      // The capture is recorded once the settle step has failed: nothing in this process charges the order any more.
      for (const until = Date.now() + TERMINAL_BOUND_MS; ; await sleep(20)) {
        const charges = (await app.paymentsOf(placed.body.id)).filter((r) => r.kind === 'charge');
        if (charges[0]?.status === 'SUCCEEDED' || Date.now() > until) break;
      }
      expect((await app.call<Order>(`/orders/${placed.body.id}`)).body.status).toBe('PENDING');

      // Both answers arrive when the deadline sweeper rejects the order (DEADLINE_MS), not at once with PENDING.
      const [got, replayed] = await Promise.all([
        app.app.request(`/orders/${placed.body.id}`, { headers: { authorization: `Bearer ${customer}`, prefer: 'wait=10' } }),
        app.app.request('/orders', {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json', prefer: 'wait=10', 'idempotency-key': key },
        }),
      ]);
      expect(got.headers.get('preference-applied')).toBe('wait=10');
      expect(await got.json()).toMatchObject({ id: placed.body.id, status: 'REJECTED', paymentStatus: 'REFUNDED' });
      expect(replayed.status).toBe(200);
      expect(replayed.headers.get('idempotent-replayed')).toBe('true');
      expect(await replayed.json()).toMatchObject({ id: placed.body.id, status: 'REJECTED', paymentStatus: 'REFUNDED' });
    });

    it('Prefer: wait on the first POST /orders whose settle fails waits for the sweeper to end the order, not PENDING at once', async () => {
      const app = await boot(dialect);
      await failConfirmations(app);
      const started = Date.now();
      const res = await app.app.request('/orders', {
        method: 'POST',
        body: JSON.stringify({ items: [{ sku: 'SKU-0066', quantity: 1 }], payment: { token: 'tok_ok' } }),
        headers: { authorization: `Bearer ${customer}`, 'content-type': 'application/json', prefer: 'wait=10' },
      });
      // The settle step failed within milliseconds; the answer is the order the deadline sweeper
      // rejected (DEADLINE_MS after creation), with the capture refunded.
      expect(res.headers.get('preference-applied')).toBe('wait=10');
      const order = (await res.json()) as Order;
      expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_unavailable', paymentStatus: 'REFUNDED' });
      expect(res.status).toBe(201);
      expect(Date.now() - started).toBeGreaterThanOrEqual(DEADLINE_MS - 50);
      expect((await app.call<Order>(`/orders/${order.id}`)).body).toMatchObject({ status: 'REJECTED', paymentStatus: 'REFUNDED' });
    });

    it('an order whose provider call outlives the deadline is rejected, and a late capture is refunded', async () => {
      const provider = new GatedProvider();
      const app = await boot(dialect, provider);
      const before = await app.stock('SKU-0063');
      const placed = await app.place('SKU-0063', 2, 'tok_ok');
      const [expired] = await app.settled([placed.body.id]);
      expect(expired).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_unavailable', paymentStatus: 'FAILED' });
      expect(await app.stock('SKU-0063')).toBe(before);
      expect(await app.paymentsOf(placed.body.id)).toEqual([expect.objectContaining({ kind: 'charge', status: 'FAILED' })]);

      // The provider finally answers: it took the money, so it is given back; the order stays rejected.
      provider.open();
      await app.orders.drain();
      const records = await app.paymentsOf(placed.body.id);
      expect(records.map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
      expect((await app.call<Order>(`/orders/${placed.body.id}`)).body).toMatchObject({ status: 'REJECTED', paymentStatus: 'REFUNDED' });
      expect(await app.stock('SKU-0063')).toBe(before);
    });

    it('a refund the provider fails stays PENDING and the sweeper refunds it once the provider is back', async () => {
      const app = await boot(dialect);
      const placed = await app.place('SKU-0067', 1, 'tok_ok');
      const [confirmed] = await app.settled([placed.body.id]);
      expect(confirmed!.status).toBe('CONFIRMED');
      const provider = async (failureRate: number) =>
        expect((await app.call('/admin/payments/provider', { method: 'PUT', body: JSON.stringify({ failureRate }) }, admin)).status).toBe(200);
      await provider(1);
      const cancelled = await app.call<Order>(`/orders/${placed.body.id}/cancel`, { method: 'POST' });
      expect(cancelled.body).toMatchObject({ status: 'CANCELLED', paymentStatus: 'REFUNDED' });
      // Still PENDING, not FAILED, and not tried again before REFUND_RETRY_MS (the sweeper passes every 100 ms).
      const claim = async () =>
        (
          await sql<{
            claimed_until: string | null;
          }>`select claimed_until from payments where order_id = ${placed.body.id} and kind = 'refund'`.execute(app.database.db)
        ).rows[0]?.claimed_until;
      const retryAt = await claim();
      expect(Date.parse(retryAt!) - Date.now()).toBeGreaterThan(20_000);
      await sleep(1000);
      expect(await claim()).toBe(retryAt);
      expect((await app.paymentsOf(placed.body.id)).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:PENDING']);

      await provider(0);
      // As if REFUND_RETRY_MS had passed since that try.
      await sql`update payments set claimed_until = ${new Date(Date.now() - 1000).toISOString()} where order_id = ${placed.body.id}`.execute(app.database.db);
      for (const until = Date.now() + TERMINAL_BOUND_MS; Date.now() < until; await sleep(50)) {
        if ((await app.paymentsOf(placed.body.id)).some((r) => r.kind === 'refund' && r.status === 'SUCCEEDED')) break;
      }
      expect((await app.paymentsOf(placed.body.id)).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
    });

    it('a cancel whose refund is at the provider while startup recovery sends pending refunds: the provider is asked once', async () => {
      const provider = new GatedRefunds();
      const app = await boot(dialect, provider);
      const placed = await app.place('SKU-0068', 1, 'tok_ok');
      const [confirmed] = await app.settled([placed.body.id]);
      expect(confirmed!.status).toBe('CONFIRMED');
      const cancel = app.call<Order>(`/orders/${placed.body.id}/cancel`, { method: 'POST' });
      while (provider.refundCalls === 0) await sleep(10);
      // main.ts runs recovery after the server listens: a cancel can be at the provider meanwhile.
      const resumed = app.orders.resume();
      await sleep(200);
      provider.open();
      await Promise.all([cancel, resumed]);
      expect(provider.refundCalls).toBe(1);
      expect((await app.paymentsOf(placed.body.id)).map((r) => `${r.kind}:${r.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
    });
  });
}

describe('monolith startup recovery', () => {
  it("runs beside new orders without touching them (it resumes only an earlier process's orders)", async () => {
    const provider = new GatedProvider();
    const app = await boot('sqlite', provider);
    const placed = await app.place('SKU-0064', 1, 'tok_ok');
    // Resume as main.ts runs it: after the server listens, while this order is at the provider.
    expect(await app.orders.resume()).toBe(0);
    expect((await app.call<Order>(`/orders/${placed.body.id}`)).body.status).toBe('PENDING');
    provider.open();
    const [order] = await app.settled([placed.body.id]);
    expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
  });
});
