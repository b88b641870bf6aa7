import { describe, expect, it } from 'vitest';
import { adminToken, api, customerToken, internalHeaders, useSystem } from './helpers';

interface ProviderSettings {
  latencyMs: number;
  slowMs: number;
  failureRate: number;
}

/**
 * The provider switch of fault drills through the gateway (`/admin/payments/provider`): the
 * gateway checks the admin token and the patch itself (the contract's schema), payments keeps the
 * settings (in its memory) behind its internal `/admin/provider`; DELETE goes back to payments' env.
 */
describe('microservices: the provider switch through the gateway', async () => {
  const { skip, system } = await useSystem({
    transport: 'http',
    database: 'sqlite',
    env: { PAYMENT_LATENCY_MS: '3', PAYMENT_SLOW_MS: '1500', PAYMENT_FAILURE_RATE: '0' },
  });
  const configured = { latencyMs: 3, slowMs: 1500, failureRate: 0 };
  const switchAt = (method: string, json?: unknown, token = adminToken()) =>
    api<ProviderSettings & { code?: string; instance?: string; detail?: string }>(system().gateway, method, '/admin/payments/provider', { token, json });
  const inPayments = async () =>
    (await api<{ provider: ProviderSettings }>(system().topology.urls.payments, 'GET', '/admin/provider', { headers: internalHeaders() })).body.provider;

  it.skipIf(skip)('refuses a bad patch itself: 422 problem+json naming the public path, payments untouched', async () => {
    for (const bad of [{ failureRate: 1, surprise: true }, { latencyMs: -1 }, { failureRate: 1.5 }, { slowMs: 120_001 }, [1]]) {
      const res = await switchAt('PUT', bad);
      expect(res.status, JSON.stringify(bad)).toBe(422);
      expect(res.headers.get('content-type'), JSON.stringify(bad)).toMatch(/^application\/problem\+json/);
      expect(res.body, JSON.stringify(bad)).toMatchObject({ code: 'validation-failed', instance: '/admin/payments/provider' });
      expect(res.body.detail, JSON.stringify(bad)).toBeTruthy();
    }
    expect(await inPayments()).toEqual(configured);
    expect((await switchAt('GET')).body).toEqual(configured);
  });

  it.skipIf(skip)('DELETE answers payments’ configured settings after a PUT, flat, to admins only', async () => {
    expect((await switchAt('PUT', { latencyMs: 40, failureRate: 0.5 })).body).toEqual({ latencyMs: 40, slowMs: 1500, failureRate: 0.5 });
    expect(await inPayments()).toEqual({ latencyMs: 40, slowMs: 1500, failureRate: 0.5 });
    expect((await switchAt('DELETE', undefined, customerToken())).status).toBe(403);
    expect(await inPayments()).toEqual({ latencyMs: 40, slowMs: 1500, failureRate: 0.5 });
    const reset = await switchAt('DELETE');
    expect(reset.status).toBe(200);
    expect(reset.body).toEqual(configured);
    expect((await switchAt('GET')).body).toEqual(configured);
    expect(await inPayments()).toEqual(configured);
    const other = await switchAt('PATCH', { failureRate: 1 });
    expect(other.status).toBe(405);
    expect(other.headers.get('allow')).toBe('GET, HEAD, PUT, DELETE');
  });
});
