import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseComparison } from '@archbench/contracts/comparison';
import { parseK6Summary } from '@archbench/contracts/k6-summary';
import { RejectionReason } from '@archbench/contracts/schemas';
import { startTopology } from '@archbench/topologies';
import { mintToken } from '@archbench/contracts/tokens';
import { withArchbenchVerdicts } from '../src/compare/k6-engine';
import { mergeSegments } from '../src/compare/merge';
import { renderSummary } from '../src/compare/summary-md';
import { runScenario } from '../src/engine/run-scenario';
import { K6_FAILED_METRIC, ORDER_FAILURES, checkout, k6OrderFailureMetric, orderFailure, responseFailure, toK6Options } from '../src/scenarios/index';

// A rejected order is answered 201 with the order's body, like a confirmed one: only its status
// tells them apart. Both engines must count it as a failed request, not as a placed order.

const order = (status: string, rejectionReason: string | null) =>
  JSON.stringify({
    id: `ord_${Math.random().toString(36).slice(2)}`,
    customerId: 'load-customer-1',
    status,
    items: [{ sku: 'SKU-0001', quantity: 1, unitPriceCents: 100 }],
    totalCents: 100,
    currency: 'EUR',
    paymentStatus: status === 'CONFIRMED' ? 'CAPTURED' : status === 'PENDING' ? 'PENDING' : 'FAILED',
    rejectionReason,
    createdAt: '2026-12-05T13:31:29.428Z',
    updatedAt: '2026-12-05T13:31:29.432Z',
  });

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** POST /orders in turn: CONFIRMED (201), REJECTED for a provider error (201), still PENDING (202). */
async function orderServer(): Promise<string> {
  let n = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const turn = n++ % 3;
      res.writeHead(turn === 2 ? 202 : 201, { 'content-type': 'application/json' });
      res.end(turn === 0 ? order('CONFIRMED', null) : turn === 1 ? order('REJECTED', 'payment_provider_error') : order('PENDING', null));
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a checkout counts as a placed order only when the answered order is CONFIRMED', () => {
  it('reads the status (and the reason of a rejection) from the body', () => {
    expect(orderFailure(order('CONFIRMED', null))).toBeUndefined();
    expect(orderFailure(order('REJECTED', 'payment_provider_error'))).toBe('rejected: payment_provider_error');
    expect(orderFailure(order('REJECTED', 'payment_declined'))).toBe('rejected: payment_declined');
    expect(orderFailure(order('REJECTED', null))).toBe('rejected');
    expect(orderFailure(order('CANCELLED', null))).toBe('not confirmed');
    expect(orderFailure('{"status" : "CONFIRMED"}')).toBeUndefined();
    expect(orderFailure('not json')).toBe('not confirmed');
    // The status decides; a 202 (PENDING when Prefer: wait ran out) stays a failure, as before.
    expect(responseFailure('place-order', 202, order('PENDING', null))).toBe('status');
    expect(responseFailure('place-order', 201, order('CONFIRMED', null))).toBeUndefined();
    expect(responseFailure('get-product', 200, null)).toBeUndefined();
    // k6 cannot import the contract: the copy of its rejection reasons must match it.
    expect(ORDER_FAILURES.filter((f) => f.startsWith('rejected: ')).map((f) => f.slice('rejected: '.length))).toEqual(RejectionReason.options);
    for (const f of ORDER_FAILURES) expect(k6OrderFailureMetric(f)).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]{0,127}$/);
  });

  it('embedded engine: a rejected order is a failed request named by its reason, not a placed order', async () => {
    const url = await orderServer();
    const result = await runScenario({ baseUrl: url, scenario: checkout(2, 0.5), tokens: ['t'] });
    const confirmed = result.statusCounts['201'] ?? 0;
    const rejected = result.statusCounts['201 rejected: payment_provider_error'] ?? 0;
    const pending = result.statusCounts['202'] ?? 0;
    expect(confirmed).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
    expect(confirmed + rejected + pending).toBe(result.requests);
    expect(result.ordersPlaced).toBe(confirmed);
    expect(result.failed).toBe(rejected + pending);

    const merged = mergeSegments(checkout(2, 0.5), 'monolith', [result]);
    expect(merged.errorRate).toBeGreaterThan(0.5);
    expect(merged.thresholdsPassed).toBe(false);
  });

  it('k6: failures and the http_req_failed thresholds come from the scripts’ own verdict, orders not placed are named', () => {
    expect(toK6Options(checkout(8, 5)).thresholds).toEqual({ http_req_duration: ['p(95)<100'], [K6_FAILED_METRIC]: ['rate<0.01'] });
    // What handleSummary writes for a checkout in which every order was rejected: k6's own
    // http_req_failed saw only 201s.
    const text = JSON.stringify({
      state: { testRunDurationMs: 2000 },
      metrics: {
        http_reqs: { type: 'counter', contains: 'default', values: { count: 40, rate: 20 } },
        http_req_failed: { type: 'rate', contains: 'default', values: { rate: 0, passes: 0, fails: 40 } },
        http_req_duration: { type: 'trend', contains: 'time', values: { avg: 5, min: 1, med: 4, max: 9, 'p(90)': 7, 'p(95)': 8, 'p(99)': 9 } },
        [K6_FAILED_METRIC]: { type: 'rate', contains: 'default', values: { rate: 1, passes: 40, fails: 0 }, thresholds: { 'rate<0.01': { ok: false } } },
        [k6OrderFailureMetric('rejected: payment_provider_error')]: { type: 'counter', contains: 'default', values: { count: 40, rate: 20 } },
      },
    });
    const summary = withArchbenchVerdicts(parseK6Summary(text), text);
    expect(summary.failed).toBe(40);
    expect(summary.errorRate).toBe(1);
    expect(summary.ordersPlaced).toBe(0);
    expect(summary.statusCounts).toEqual({ '201 rejected: payment_provider_error': 40 });
    expect(summary.thresholds).toEqual([{ metric: 'http_req_failed', expression: 'rate<0.01', passed: false }]);
  });
});

describe('against a monolith whose payment provider fails every call', () => {
  it('every checkout fails, named "rejected: payment_provider_error" in summary.md, and no order is placed', async () => {
    const secret = 'archbench-order-outcome-secret-0123';
    const mono = await startTopology('monolith', {
      port: 0,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: secret, PAYMENT_FAILURE_RATE: '1' },
      output: 'capture',
    });
    try {
      const tokens = [mintToken(secret, { sub: 'load-customer-0', expiresInSeconds: 600 })];
      const scenario = checkout(2, 1);
      const result = await runScenario({ baseUrl: mono.baseUrl, scenario, tokens });
      expect(result.requests).toBeGreaterThan(0);
      expect(result.ordersPlaced).toBe(0);
      expect(result.failed).toBe(result.requests);
      expect(result.statusCounts).toEqual({ '201 rejected: payment_provider_error': result.requests });

      const s = mergeSegments(scenario, 'monolith', [result]);
      const md = renderSummary(
        parseComparison({
          schemaVersion: 3,
          tool: 'archbench',
          profile: 'smoke',
          engine: 'embedded',
          startedAt: '2026-12-05T13:00:00.000Z',
          finishedAt: '2026-12-05T13:01:00.000Z',
          machine: { cores: 2, memoryBytes: 2 ** 32, node: process.version, platform: process.platform, arch: process.arch },
          topologies: [
            {
              name: 'monolith',
              processCount: null,
              cpuSecondsPer1kOrders: null,
              cpuSeconds: null,
              ordersPlaced: result.ordersPlaced,
              peakRssBytes: null,
              hopsPerRequest: null,
            },
          ],
          scenarios: [s],
          faults: [],
        }),
      );
      expect(md).toContain('| 100.00% |');
      expect(md).toContain(`Failed requests: checkout on monolith: ${result.requests} × 201 rejected: payment_provider_error.`);
    } finally {
      await mono.stop();
    }
  }, 60_000);
});
