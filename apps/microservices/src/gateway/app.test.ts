import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { publicEdgeMismatches } from '@archbench/server-kit/edge-conformance';
import { loadEnv } from '../env';
import { InternalHttpClient } from '../shared/http-client';
import { createGatewayApp } from './app';

// The shared public-edge table (server-kit/edge-conformance), also run by the monolith's tests.
const ORIGIN = 'http://console.test';

describe('gateway public edge', () => {
  it('answers the shared security headers, CORS exposed headers and 413 rule', async () => {
    const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', CORS_ORIGINS: ORIGIN });
    // No service runs: the edge answers every case before a request is routed to one.
    const client = new InternalHttpClient({ peers: {}, timeoutMs: 100, attempts: 1, internalToken: 'unused' });
    const { app } = createGatewayApp({ env, obs: { logger: createLogger({ service: 'edge-test', level: 'silent' }) }, client });
    expect(await publicEdgeMismatches((path, init) => app.request(path, init), ORIGIN)).toEqual([]);
  });
});

describe('gateway /metrics', () => {
  const client = new InternalHttpClient({ peers: {}, timeoutMs: 100, attempts: 1, internalToken: 'unused' });
  const logger = createLogger({ service: 'metrics-test', level: 'silent' });

  it('is a path the gateway does not have with metrics off (404 to every method), 405 with Allow to a wrong method with metrics on', async () => {
    const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent', METRICS_ENABLED: 'false' });
    const off = createGatewayApp({ env, obs: { logger }, client }).app;
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await off.request('/metrics', { method });
      expect(res.status, method).toBe(404);
      expect(res.headers.get('allow'), method).toBeNull();
    }
    const on = createGatewayApp({ env, obs: { logger, metrics: createMetrics({ service: 'gateway' }) }, client }).app;
    expect((await on.request('/metrics')).status).toBe(200);
    const wrong = await on.request('/metrics', { method: 'POST' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('gateway POST /orders', () => {
  /**
   * A stand-in orders service that takes every POST /orders and then drops the connection without
   * an answer, as a process that crashes or a proxy that times out mid-request would: the order may
   * well have been placed.
   */
  async function ordersThatDropTheAnswer() {
    let received = 0;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (req.url === '/orders') received++;
        res.socket?.destroy();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      received: () => received,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }

  it.each([
    ['with an Idempotency-Key', { 'idempotency-key': randomUUID() }],
    ['without an Idempotency-Key', {}],
  ])('%s is not resent once it reached orders (the client retries with its key, not the gateway)', async (_, extra: Record<string, string>) => {
    const orders = await ordersThatDropTheAnswer();
    const env = loadEnv({ NODE_ENV: 'test', LOG_LEVEL: 'silent' });
    const client = new InternalHttpClient({ peers: { orders: orders.url }, timeoutMs: 2000, attempts: 4, internalToken: 'unused' });
    try {
      const { app } = createGatewayApp({ env, obs: { logger: createLogger({ service: 'gateway-test', level: 'silent' }) }, client });
      const response = await app.request('/orders', {
        method: 'POST',
        headers: { authorization: `Bearer ${mintToken(env.AUTH_SECRET, { sub: 'c-1' })}`, 'content-type': 'application/json', ...extra },
        body: JSON.stringify({ items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } }),
      });
      expect(response.status).toBe(502);
      // A resend would reach orders while the first may still be placing the order: the client's
      // one request would come back as a replay, an idempotency-in-progress or a second reservation.
      expect(orders.received()).toBe(1);
    } finally {
      await client.close();
      await orders.close();
    }
  });
});
