import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '@archbench/contracts/schemas';
import type { RunningServerless } from '../src/runtime';
import type { Client } from './helpers';
import { client, eventually, startTestServerless } from './helpers';

interface ProviderAnswer {
  latencyMs: number;
  slowMs: number;
  failureRate: number;
}

/**
 * The provider-outage fault of `pnpm compare --experiments faults`, on real workerd: the switch
 * on the API worker reaches the payment step (another worker, another isolate) through D1, so
 * orders placed while it is on are rejected for the provider's failure, and confirm again after.
 */
describe('serverless payment provider switch', () => {
  let app: RunningServerless;
  let api: Client;

  beforeAll(async () => {
    app = await startTestServerless({ paymentSlowMs: 300 });
    api = client(app.url);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const put = (json: unknown, token = api.admin) => api.request('PUT', '/admin/payments/provider', { token, json });

  it('shows the configured settings and takes only an admin token', async () => {
    const shown = await api.request('GET', '/admin/payments/provider', { token: api.admin });
    expect(shown.status).toBe(200);
    // The settings in force, flat, as the monolith, the hybrid and the microservices gateway answer.
    expect(shown.body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
    expect((await api.request('GET', '/admin/payments/provider')).status).toBe(401);
    expect((await put({ failureRate: 1 }, api.customer().token)).status).toBe(403);
  });

  it('answers a method an admin route does not serve 405 with Allow, whoever asks, as the public routes', async () => {
    for (const [method, path, token, allow] of [
      ['POST', '/admin/payments/provider', api.admin, 'GET, HEAD, PUT, DELETE'],
      ['POST', '/admin/payments/provider', api.customer().token, 'GET, HEAD, PUT, DELETE'],
      ['PATCH', '/admin/payments/provider', undefined, 'GET, HEAD, PUT, DELETE'],
      ['DELETE', '/admin/dead-letters', undefined, 'GET, HEAD'],
      ['POST', '/metrics', undefined, 'GET, HEAD'],
    ] as const) {
      const answer = await api.request(method, path, { token, json: { failureRate: 1 } });
      expect(answer.status, `${method} ${path}`).toBe(405);
      expect(answer.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(answer.body, `${method} ${path}`).toMatchObject({ code: 'method-not-allowed' });
    }
    expect((await api.request('GET', '/admin/no-such-route')).status).toBe(404);
    expect((await api.request('GET', '/admin/payments/provider', { token: api.admin })).body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
  });

  it('refuses bad settings with problem+json and changes nothing', async () => {
    const cases: Array<[unknown, number]> = [
      [{ failureRate: 2 }, 422],
      [{ failureRate: '1' }, 422],
      [{ latencyMs: -1 }, 422],
      [{ failureRate: 1, surprise: true }, 422],
      [[1], 422],
    ];
    for (const [json, status] of cases) {
      const answer = await put(json);
      expect(answer.status, JSON.stringify(json)).toBe(status);
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/);
      expect((answer.body as { detail: string }).detail).toBeTruthy();
    }
    const malformed = await fetch(`${app.url}/admin/payments/provider`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${api.admin}`, 'content-type': 'application/json' },
      body: '{"failureRate":',
    });
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await malformed.text();
    const shown = await api.request('GET', '/admin/payments/provider', { token: api.admin });
    expect(shown.body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
  });

  it('failureRate 1 rejects every order for the provider error; switching back confirms again', async () => {
    const sku = 'SKU-0042';
    const stockBefore = (await api.product(sku)).stock;
    const on = await put({ failureRate: 1 });
    expect(on.status).toBe(200);
    // The exact shape compare's outageInjector checks for.
    expect(JSON.stringify(on.body)).toMatch(/"failureRate":1\b/);
    expect(on.body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 1 });
    // The payment step caches the settings for under a second.
    await sleep(1100);

    const customer = api.customer('outage');
    const placed = await Promise.all(Array.from({ length: 4 }, () => api.place(customer.token, [{ sku, quantity: 1 }], { wait: 10 })));
    for (const answer of placed) expect(answer.status).toBeLessThan(300);
    const rejected = await Promise.all(
      placed.map((answer) =>
        eventually(async () => {
          const order = await api.order(customer.token, (answer.body as Order).id, 5);
          expect(order.status).toBe('REJECTED');
          return order;
        }),
      ),
    );
    for (const order of rejected) {
      expect(order.rejectionReason).toBe('payment_provider_error');
      const records = await api.payments(order.id);
      expect(records.map((r) => [r.kind, r.status])).toEqual([['charge', 'FAILED']]);
    }
    // Rejected orders gave their stock back.
    await eventually(async () => expect((await api.product(sku)).stock).toBe(stockBefore));

    const off = await put({ failureRate: 0 });
    expect((off.body as ProviderAnswer).failureRate).toBe(0);
    // Other fields set earlier survive a partial switch.
    expect((await put({ latencyMs: 5 })).body).toEqual({ latencyMs: 5, slowMs: 300, failureRate: 0 });
    await sleep(1100);
    const after = await api.place(customer.token, [{ sku, quantity: 1 }], { wait: 10 });
    const order = await eventually(async () => {
      const o = await api.order(customer.token, (after.body as Order).id, 5);
      expect(o.status).toBe('CONFIRMED');
      return o;
    });
    expect((await api.payments(order.id)).map((r) => [r.kind, r.status])).toEqual([['charge', 'SUCCEEDED']]);
  });

  it('DELETE drops the overrides: the vars apply again, a var changed since included; refused callers change nothing', async () => {
    expect((await put({ latencyMs: 7, failureRate: 0.5 })).body).toEqual({ latencyMs: 7, slowMs: 300, failureRate: 0.5 });
    expect((await api.request('DELETE', '/admin/payments/provider')).status).toBe(401);
    expect((await api.request('DELETE', '/admin/payments/provider', { token: api.customer().token })).status).toBe(403);
    expect((await api.request('GET', '/admin/payments/provider', { token: api.admin })).body).toEqual({ latencyMs: 7, slowMs: 300, failureRate: 0.5 });
    const cleared = await api.request('DELETE', '/admin/payments/provider', { token: api.admin });
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
    expect((await api.request('GET', '/admin/payments/provider', { token: api.admin })).body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
    // Twice is the same as once.
    expect((await api.request('DELETE', '/admin/payments/provider', { token: api.admin })).body).toEqual({ latencyMs: 0, slowMs: 300, failureRate: 0 });
  });
});

describe('serverless payment provider switch across a redeploy with changed vars', () => {
  const persistDir = mkdtempSync(join(tmpdir(), 'archbench-provider-switch-'));
  let app: RunningServerless | undefined;
  afterAll(async () => {
    await app?.stop();
    rmSync(persistDir, { recursive: true, force: true });
  });

  it('keeps a PUT over the vars until DELETE, which brings the changed vars in force', async () => {
    app = await startTestServerless({ persistDir, paymentLatencyMs: 5, paymentSlowMs: 300 });
    let api = client(app.url);
    const provider = (method: string, json?: unknown) => api.request(method, '/admin/payments/provider', { token: api.admin, json });
    expect((await provider('GET')).body).toEqual({ latencyMs: 5, slowMs: 300, failureRate: 0 });
    // A drill (or a conformance run) switches every field: all three are overrides in D1 now.
    expect((await provider('PUT', { latencyMs: 1, slowMs: 200, failureRate: 0.25 })).body).toEqual({ latencyMs: 1, slowMs: 200, failureRate: 0.25 });
    // DELETE answers the deployment's vars, not the settings before the PUT.
    expect((await provider('DELETE')).body).toEqual({ latencyMs: 5, slowMs: 300, failureRate: 0 });
    expect((await provider('PUT', { latencyMs: 1, slowMs: 200, failureRate: 0.25 })).status).toBe(200);
    await app.stop();

    // Redeployed with other vars, same database: the overrides still stand over them...
    app = await startTestServerless({ persistDir, paymentLatencyMs: 9, paymentSlowMs: 400, paymentFailureRate: 0.1 });
    api = client(app.url);
    expect((await provider('GET')).body).toEqual({ latencyMs: 1, slowMs: 200, failureRate: 0.25 });
    // ...until DELETE, after which the new vars are the settings in force.
    const cleared = await provider('DELETE');
    expect(cleared.status).toBe(200);
    expect(cleared.body).toEqual({ latencyMs: 9, slowMs: 400, failureRate: 0.1 });
    expect((await provider('GET')).body).toEqual({ latencyMs: 9, slowMs: 400, failureRate: 0.1 });
  });
});
