import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, Product } from '@archbench/contracts/schemas';
import { mintToken } from '@archbench/contracts/tokens';
import { createLogger } from '@archbench/observability/logging';
import { createApp } from '../src/app';
import { openMonolithDatabase } from '../src/db';
import type { Database } from '@archbench/server-kit/db';
import type { Tables } from '../src/db';
import { loadEnv } from '../src/env';

/**
 * The runtime provider switch (`/admin/payments/provider`) that `pnpm compare`'s provider-outage
 * experiment drives: an outage rejects orders as provider errors and releases their stock; lifting
 * it lets orders confirm again, without a restart.
 */
const secret = 'provider-switch-secret-0123456789';
const customer = mintToken(secret, { sub: 'switch-customer' });
const admin = mintToken(secret, { sub: 'ops', role: 'admin' });

describe('monolith provider switch', () => {
  let dataDir = '';
  let database: Database<Tables> | undefined;
  let monolith: ReturnType<typeof createApp>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'archbench-switch-'));
    const env = loadEnv({ NODE_ENV: 'test', DATA_DIR: dataDir, AUTH_SECRET: secret, LOG_LEVEL: 'silent', METRICS_ENABLED: 'false', PAYMENT_SLOW_MS: '700' });
    database = await openMonolithDatabase(env);
    monolith = createApp({ env, db: database.db, logger: createLogger({ service: 'switch', level: 'silent' }) });
    await monolith.catalog.seed();
  });
  afterAll(async () => {
    await monolith.orders.drain();
    await database?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const call = async <T>(path: string, init: RequestInit = {}, bearer = customer) => {
    const res = await monolith.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as T };
  };
  const setProvider = (body: unknown) => call<Record<string, unknown>>('/admin/payments/provider', { method: 'PUT', body: JSON.stringify(body) }, admin);
  const stock = async (sku: string) => (await call<Product>(`/products/${sku}`)).body.stock;
  const order = (sku: string) =>
    call<Order>('/orders', {
      method: 'POST',
      headers: { prefer: 'wait=10' },
      body: JSON.stringify({ items: [{ sku, quantity: 2 }], payment: { token: 'tok_ok' } }),
    });

  it('answers the settings in force, to admins only', async () => {
    const current = await call<Record<string, unknown>>('/admin/payments/provider', {}, admin);
    expect(current.status).toBe(200);
    expect(current.body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
    expect((await call('/admin/payments/provider', {})).status).toBe(403);
    expect((await call('/admin/payments/provider', { method: 'PUT', body: '{"failureRate":1}' })).status).toBe(403);
  });

  it('answers a method the switch does not serve 405 with Allow, whoever asks, and changes nothing', async () => {
    for (const [method, headers] of [
      ['POST', { authorization: `Bearer ${admin}` }],
      ['POST', { authorization: `Bearer ${customer}` }],
      ['PATCH', {}],
    ] as const) {
      const res = await monolith.app.request('/admin/payments/provider', {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: '{"failureRate":1}',
      });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow'), method).toBe('GET, HEAD, PUT, DELETE');
      expect(await res.json()).toMatchObject({ code: 'method-not-allowed' });
    }
    expect((await call<Record<string, unknown>>('/admin/payments/provider', {}, admin)).body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
  });

  it('DELETE goes back to the PAYMENT_* env the process started with, for admins only', async () => {
    expect((await setProvider({ latencyMs: 3, slowMs: 20, failureRate: 0.5 })).body).toEqual({ latencyMs: 3, slowMs: 20, failureRate: 0.5 });
    expect((await call('/admin/payments/provider', { method: 'DELETE' })).status).toBe(403);
    const reset = await call<Record<string, unknown>>('/admin/payments/provider', { method: 'DELETE' }, admin);
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
    expect((await call<Record<string, unknown>>('/admin/payments/provider', {}, admin)).body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
  });

  it('refuses bad settings with problem+json and changes nothing', async () => {
    for (const bad of [{ failureRate: 2 }, { latencyMs: -1 }, { latencyMs: 1.5 }, { slowMs: 120_001 }, { failureRate: 1, extra: true }, ['failureRate']]) {
      const answer = await setProvider(bad);
      expect(answer.status, JSON.stringify(bad)).toBeGreaterThanOrEqual(400);
      expect(answer.status).toBeLessThan(500);
      expect(answer.type).toContain('application/problem+json');
    }
    const malformed = await call('/admin/payments/provider', { method: 'PUT', body: '{"failureRate":' }, admin);
    expect(malformed.status).toBe(400);
    expect((await call<Record<string, unknown>>('/admin/payments/provider', {}, admin)).body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
  });

  it('an outage rejects tok_ok orders as provider errors and releases their stock; lifting it confirms them again', async () => {
    const outage = await setProvider({ failureRate: 1 });
    expect(outage.status).toBe(200);
    // What the compare runner's outage injector checks in the answer.
    expect(JSON.stringify(outage.body)).toMatch(/"failureRate":1\b/);
    expect(outage.body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 1 });

    const before = await stock('SKU-0101');
    const rejected = await order('SKU-0101');
    expect(rejected.body).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error', paymentStatus: 'FAILED' });
    expect(await stock('SKU-0101')).toBe(before);
    const records = (await call<{ items: Array<{ kind: string; status: string }> }>(`/admin/orders/${rejected.body.id}/payments`, {}, admin)).body.items;
    expect(records).toEqual([expect.objectContaining({ kind: 'charge', status: 'FAILED' })]);

    const lifted = await setProvider({ failureRate: 0 });
    expect(lifted.body).toEqual({ latencyMs: 0, slowMs: 700, failureRate: 0 });
    const confirmed = await order('SKU-0101');
    expect(confirmed.body).toMatchObject({ status: 'CONFIRMED', paymentStatus: 'CAPTURED' });
    expect(await stock('SKU-0101')).toBe(before - 2);
  });
});
