import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order, Product } from '@archbench/contracts/schemas';
import { adminToken, api, customerToken, startHybrid } from './helpers';
import type { RunningHybrid } from './helpers';

/**
 * The monolith's runtime provider switch is the hybrid core's too (it is the monolith's
 * composition): `pnpm compare`'s provider outage drives it over the public port.
 */
describe('hybrid provider switch (sqlite + http)', () => {
  let hybrid: RunningHybrid;
  beforeAll(async () => {
    hybrid = await startHybrid({ transport: 'http', database: 'sqlite' });
  });
  afterAll(async () => {
    await hybrid?.stop();
  });

  it('an outage rejects orders as provider errors with their stock released; lifting it confirms them', async () => {
    const base = hybrid.baseUrl;
    const admin = adminToken();
    const token = customerToken();
    const place = () =>
      api<Order>(base, 'POST', '/orders', {
        token,
        headers: { prefer: 'wait=10' },
        json: { items: [{ sku: 'SKU-0121', quantity: 1 }], payment: { token: 'tok_ok' } },
      });
    const stock = async () => (await api<Product>(base, 'GET', '/products/SKU-0121')).body.stock;

    const outage = await api<Record<string, unknown>>(base, 'PUT', '/admin/payments/provider', { token: admin, json: { failureRate: 1 } });
    expect(outage.status).toBe(200);
    expect(outage.body).toMatchObject({ failureRate: 1 });
    const before = await stock();
    const rejected = await place();
    expect(rejected.body).toMatchObject({ status: 'REJECTED', rejectionReason: 'payment_provider_error' });
    expect(await stock()).toBe(before);

    const bad = await api(base, 'PUT', '/admin/payments/provider', { token: admin, json: { failureRate: -0.5 } });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(bad.status).toBeLessThan(500);

    expect((await api<Record<string, unknown>>(base, 'PUT', '/admin/payments/provider', { token: admin, json: { failureRate: 0 } })).body).toMatchObject({
      failureRate: 0,
    });
    expect((await place()).body).toMatchObject({ status: 'CONFIRMED' });
    expect(await stock()).toBe(before - 1);
  });

  it('answers a method the switch does not serve 405 with Allow, whoever asks, and changes nothing', async () => {
    for (const [method, token] of [
      ['POST', adminToken()],
      ['POST', customerToken()],
      ['PATCH', undefined],
    ] as const) {
      const res = await api<{ code: string }>(hybrid.baseUrl, method, '/admin/payments/provider', { token, json: { failureRate: 1 } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow'), method).toBe('GET, HEAD, PUT, DELETE');
      expect(res.body).toMatchObject({ code: 'method-not-allowed' });
    }
    expect((await api<Record<string, unknown>>(hybrid.baseUrl, 'GET', '/admin/payments/provider', { token: adminToken() })).body).toMatchObject({
      failureRate: 0,
    });
  });
});
