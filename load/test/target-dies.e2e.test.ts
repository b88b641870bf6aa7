import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareAsync } from './cli-kit';

// A --target that stops answering in the middle of a run measured nothing after that point: the
// run fails (exit 3) naming the target and the round, as for a started topology that died, and no
// result file is written.

const work = mkdtempSync(join(tmpdir(), 'archbench-target-dies-'));

/**
 * A stand-in for a deployment: answers the catalog and every order CONFIRMED, and goes away for good
 * (listener closed, open connections cut) on the 20th order of the checkout run, which it tells from
 * the warm-up's orders by the gap of browse and reads between them.
 */
function dyingServer(): Promise<{ server: Server; url: string; died: () => boolean }> {
  let lastOrderAt = 0;
  let checkoutOrders = 0;
  let dead = false;
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url?.startsWith('/orders')) {
      req.resume();
      const now = Date.now();
      if (lastOrderAt > 0 && now - lastOrderAt > 1500) checkoutOrders = 0.5;
      lastOrderAt = now;
      if (checkoutOrders > 0 && ++checkoutOrders > 20 && !dead) {
        dead = true;
        server.close();
        server.closeAllConnections();
        return;
      }
      json(201, { id: `o-${now}-${Math.random()}`, status: 'CONFIRMED' });
      return;
    }
    if (req.url?.startsWith('/products/')) return json(200, { sku: 'SKU-0001', name: 'x', priceCents: 100, stock: 1 });
    if (req.url?.startsWith('/products')) return json(200, { items: [], nextCursor: null });
    json(404, { error: 'not found' });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, died: () => dead })),
  );
}

/**
 * A stand-in for a deployment behind a load balancer that is still there: it resets the connection
 * of every 10th order, and once it has, answers GET /products/SKU-0001 (compare's probe) 503.
 */
function flakyServer(): Promise<{ server: Server; url: string; resets: () => number }> {
  let orders = 0;
  let resets = 0;
  const server = createServer((req, res) => {
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url?.startsWith('/orders')) {
      req.resume();
      if (++orders % 10 === 0) {
        resets++;
        req.socket.destroy();
        return;
      }
      json(201, { id: `o-${orders}-${Math.random()}`, status: 'CONFIRMED' });
      return;
    }
    if (req.url === '/products/SKU-0001' && resets > 0) return json(503, { error: 'no healthy upstream' });
    if (req.url?.startsWith('/products/')) return json(200, { sku: 'SKU-0001', name: 'x', priceCents: 100, stock: 1 });
    if (req.url?.startsWith('/products')) return json(200, { items: [], nextCursor: null });
    json(404, { error: 'not found' });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, resets: () => resets })),
  );
}

describe('pnpm compare --target: a target that dies during the run', () => {
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('exits 3 naming the target and the round, and writes no result', async () => {
    const target = await dyingServer();
    const out = join(work, 'run');
    try {
      const run = await compareAsync(['--profile', 'smoke', '--engine', 'embedded', '--out', out, '--target', `shop=${target.url}`]);
      expect(target.died()).toBe(true);
      expect(run.code, run.stderr).toBe(3);
      expect(run.stderr).toMatch(
        /archbench compare failed: target shop \(http:\/\/127\.0\.0\.1:\d+\) stopped answering during round 1 checkout: \d+ of \d+ requests got no response \(transport error or timeout\), and GET \/products\/SKU-0001 after the round failed: fetch failed \(ECONNREFUSED 127\.0\.0\.1:\d+\)/,
      );
      expect(existsSync(join(out, 'comparison.json'))).toBe(false);
      expect(existsSync(join(out, 'summary.md'))).toBe(false);
    } finally {
      target.server.closeAllConnections();
      target.server.close();
    }
  }, 60_000);

  it('a target that resets some connections but answers the probe 503 is still answering: measured, exit 0', async () => {
    const target = await flakyServer();
    const out = join(work, 'flaky');
    try {
      const run = await compareAsync(['--profile', 'smoke', '--engine', 'embedded', '--out', out, '--target', `shop=${target.url}`]);
      expect(target.resets()).toBeGreaterThan(0);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).not.toContain('stopped answering');
      expect(run.stderr).toMatch(
        /target shop: \d+ of \d+ requests of round 1 checkout got no response; GET \/products\/SKU-0001 after it answered 503, so it is still answering/,
      );
      expect(existsSync(join(out, 'comparison.json'))).toBe(true);
      expect(existsSync(join(out, 'summary.md'))).toBe(true);
    } finally {
      target.server.closeAllConnections();
      target.server.close();
    }
  }, 60_000);
});
