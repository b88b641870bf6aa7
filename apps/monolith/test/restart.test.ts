import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import type { Order, Product, Shipment } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import { createLogger } from '@archbench/observability/logging';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import { loadEnv } from '../src/env';

/**
 * Crash recovery: a monolith that died with orders in flight finishes them at the next start
 * (`orders.resume()`), keeping stock conserved and charging at most once.
 */
const secret = 'restart-test-secret-0123456789';
const token = mintToken(secret, { sub: 'restart-customer' });
const admin = mintToken(secret, { sub: 'ops', role: 'admin' });
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A provider that never answers: the process "dies" while the charge is in flight. */
class HangingProvider extends PaymentProvider {
  override charge(): ReturnType<PaymentProvider['charge']> {
    return new Promise(() => {});
  }
}

/** Charges succeed, refunds never answer: the process "dies" right after a cancel committed. */
class HangingRefundProvider extends PaymentProvider {
  override refund(): ReturnType<PaymentProvider['refund']> {
    return new Promise(() => {});
  }
}

async function boot(dataDir: string, provider?: PaymentProvider, extraEnv: Record<string, string> = {}) {
  const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, AUTH_SECRET: secret, LOG_LEVEL: 'silent', METRICS_ENABLED: 'false', ...extraEnv });
  const database = await openMonolithDatabase(env);
  const monolith = createApp({ env, db: database.db, logger: createLogger({ service: 'restart', level: 'silent' }), provider });
  await monolith.catalog.seed();
  const call = async <T>(path: string, init: RequestInit = {}, bearer = token) => {
    const res = await monolith.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return { ...monolith, database, call };
}

const stock = async (app: Awaited<ReturnType<typeof boot>>, sku: string) => (await app.call<Product>(`/products/${sku}`)).body.stock;

describe('monolith restart', () => {
  it('rejects an order whose charge was in flight at the crash, releasing its stock', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-restart-'));
    dirs.push(dataDir);
    const first = await boot(dataDir, new HangingProvider());
    const before = await stock(first, 'SKU-0042');
    const placed = await first.call<Order>('/orders', {
      method: 'POST',
      body: JSON.stringify({ items: [{ sku: 'SKU-0042', quantity: 3 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.status).toBe(202);
    expect(await stock(first, 'SKU-0042')).toBe(before - 3);
    // The "crash": the first instance is abandoned with its charge pending, and its hold on the
    // database file goes with it (the OS releases a dead process's lock).
    await first.database.close();

    const second = await boot(dataDir);
    expect(await second.orders.resume()).toBe(1);
    const order = (await second.call<Order>(`/orders/${placed.body.id}`)).body;
    expect(order).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    expect(await stock(second, 'SKU-0042')).toBe(before);
    const payments = (await second.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${order.id}/payments`, {}, admin)).body.items;
    expect(payments).toEqual([expect.objectContaining({ kind: 'charge', status: 'FAILED' })]);
    await second.database.close();
  });

  it('charges and confirms an order that crashed before its charge started, then ships it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-restart-'));
    dirs.push(dataDir);
    const first = await boot(dataDir, new HangingProvider());
    const placed = await first.call<Order>('/orders', {
      method: 'POST',
      body: JSON.stringify({ items: [{ sku: 'SKU-0043', quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    // As if the process died between committing the order and recording the charge attempt.
    await sql`delete from payments where order_id = ${placed.body.id}`.execute(first.database.db);
    await first.database.close();

    const second = await boot(dataDir);
    expect(await second.orders.resume()).toBe(1);
    const order = (await second.call<Order>(`/orders/${placed.body.id}`)).body;
    expect(order).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
    const shipment = await second.call<Shipment>(`/orders/${order.id}/shipment`);
    expect(shipment.status).toBe(200);
    const payments = (await second.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${order.id}/payments`, {}, admin)).body.items;
    expect(payments).toEqual([expect.objectContaining({ kind: 'charge', status: 'SUCCEEDED' })]);
    // A second restart finds nothing left to do and charges nothing again.
    await second.database.close();
    const third = await boot(dataDir);
    expect(await third.orders.resume()).toBe(0);
    expect((await third.call<{ items: unknown[] }>(`/admin/orders/${order.id}/payments`, {}, admin)).body.items).toHaveLength(1);
    await third.database.close();
  });

  it('finishes the refund of a cancel that crashed after its commit, and cancels the shipment', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-restart-'));
    dirs.push(dataDir);
    const first = await boot(dataDir, new HangingRefundProvider());
    const before = await stock(first, 'SKU-0044');
    const placed = await first.call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku: 'SKU-0044', quantity: 2 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.body.status).toBe('CONFIRMED');
    // The cancel commits, then hangs at the provider: the "crash" leaves it there.
    void first.call(`/orders/${placed.body.id}/cancel`, { method: 'POST' });
    for (let i = 0; i < 50 && (await first.call<Order>(`/orders/${placed.body.id}`)).body.status !== 'CANCELLED'; i++)
      await new Promise((r) => setTimeout(r, 20));
    const pendingRefund = (await first.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${placed.body.id}/payments`, {}, admin)).body
      .items;
    expect(pendingRefund).toContainEqual(expect.objectContaining({ kind: 'refund', status: 'PENDING' }));
    await first.database.close();

    const second = await boot(dataDir);
    await second.orders.resume();
    const payments = (await second.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${placed.body.id}/payments`, {}, admin)).body.items;
    expect(payments.map((p) => `${p.kind}:${p.status}`).sort()).toEqual(['charge:SUCCEEDED', 'refund:SUCCEEDED']);
    expect((await second.call<Shipment>(`/orders/${placed.body.id}/shipment`)).body.status).toBe('CANCELLED');
    expect(await stock(second, 'SKU-0044')).toBe(before);
    await second.database.close();
  });

  it('writes the shipment in the commit that confirms the order: when it cannot be written, the order is not confirmed but rejected and refunded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-restart-'));
    dirs.push(dataDir);
    const app = await boot(dataDir, undefined, { SAGA_DEADLINE_MS: '1000' });
    const before = await stock(app, 'SKU-0045');
    await sql`create trigger fail_shipment before insert on shipments begin select raise(abort, 'injected: shipment write failed'); end`.execute(
      app.database.db,
    );
    const placed = await app.call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku: 'SKU-0045', quantity: 2 }], payment: { token: 'tok_ok' } }),
    });
    // The confirmation rolled back with the shipment: never a confirmed order without one.
    expect(placed.body.status).toBe('PENDING');
    expect((await app.call(`/orders/${placed.body.id}/shipment`)).status).toBe(404);
    await sql`drop trigger fail_shipment`.execute(app.database.db);
    // Past its deadline, the sweeper gives the captured money back and the stock.
    await new Promise((r) => setTimeout(r, 1100));
    expect(await app.orders.sweep()).toBe(1);
    expect((await app.call<Order>(`/orders/${placed.body.id}`)).body).toMatchObject({ status: 'REJECTED', paymentStatus: 'REFUNDED' });
    expect(await stock(app, 'SKU-0045')).toBe(before);
    expect((await app.call(`/orders/${placed.body.id}/shipment`)).status).toBe(404);
    await app.database.close();
  });

  it('cancels the shipment in the commit that cancels the order: when it cannot be cancelled, the order stays confirmed and unrefunded', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-restart-'));
    dirs.push(dataDir);
    const app = await boot(dataDir);
    const placed = await app.call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=5' },
      body: JSON.stringify({ items: [{ sku: 'SKU-0046', quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    expect(placed.body.status).toBe('CONFIRMED');
    const held = await stock(app, 'SKU-0046');
    await sql`create trigger fail_cancel before update on shipments begin select raise(abort, 'injected: shipment cancel failed'); end`.execute(
      app.database.db,
    );
    expect((await app.call(`/orders/${placed.body.id}/cancel`, { method: 'POST' })).status).toBe(500);
    expect((await app.call<Order>(`/orders/${placed.body.id}`)).body.status).toBe('CONFIRMED');
    expect(await stock(app, 'SKU-0046')).toBe(held);
    const payments = (await app.call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${placed.body.id}/payments`, {}, admin)).body.items;
    expect(payments.map((p) => p.kind)).toEqual(['charge']);
    await sql`drop trigger fail_cancel`.execute(app.database.db);
    expect((await app.call<Order>(`/orders/${placed.body.id}/cancel`, { method: 'POST' })).body.status).toBe('CANCELLED');
    expect((await app.call<Shipment>(`/orders/${placed.body.id}/shipment`)).body.status).toBe('CANCELLED');
    await app.database.close();
  });
});
