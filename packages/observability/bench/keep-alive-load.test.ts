import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveLoad } from './keep-alive-load';
import { BENCH_REQUESTS, autocannonRequests, failedStatuses, requireServed } from './variants';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((done) => server?.close(done) ?? done(undefined));
  server = undefined;
});

/** A real HTTP server; `handle` answers each request. Returns its URL and the requests it saw. */
async function serve(handle: Parameters<typeof createServer>[1], keepAliveTimeout = 5000): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = [];
  server = createServer((req, res) => {
    seen.push(req.url ?? '');
    handle!(req, res);
  });
  server.keepAliveTimeout = keepAliveTimeout;
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

describe('KeepAliveLoad', () => {
  it('counts every answered request once, stops sending on stop and drains what was in flight', async () => {
    const { url, seen } = await serve((_req, res) => res.end('{"ok":true}'));
    let n = 0;
    const load = new KeepAliveLoad(url, 4, () => `/item/${++n}`);
    const slice = await load.run(0.2);
    expect(slice.ok).toBeGreaterThan(20);
    expect(slice.failed).toBe(0);
    // Drained: the server saw exactly the requests counted, each path once, over 4 connections at most.
    expect(seen.length).toBe(slice.ok);
    expect(new Set(seen).size).toBe(seen.length);
    expect(slice.seconds).toBeGreaterThan(0.15);
    expect(slice.seconds).toBeLessThan(1);
    await new Promise((done) => setTimeout(done, 50));
    expect(seen.length).toBe(slice.ok);
    expect(load.latencyPercentile(0.5)).toBeGreaterThan(0);
    expect(load.latencyPercentile(0.99)).toBeGreaterThanOrEqual(load.latencyPercentile(0.5));
    load.close();
  });

  it('reads a response whose head and body arrive apart, and counts a non-2xx answer as failed', async () => {
    let calls = 0;
    const { url } = await serve((_req, res) => {
      calls++;
      res.writeHead(calls % 2 === 0 ? 503 : 200, { 'content-length': 5 });
      res.flushHeaders();
      setTimeout(() => res.end('hello'), 5);
    });
    const load = new KeepAliveLoad(url, 1, () => '/');
    const slice = await load.run(0.1);
    expect(slice.ok).toBeGreaterThan(2);
    expect(Math.abs(slice.ok - slice.failed)).toBeLessThanOrEqual(1);
    expect(load.firstError).toBe('status 503');
    load.close();
  });

  it('opens again a connection the server closed while the load was off', async () => {
    const { url, seen } = await serve((_req, res) => res.end('ok'), 50);
    const load = new KeepAliveLoad(url, 2, () => '/');
    const first = await load.run(0.05);
    // Longer than the server's keep-alive timeout: both connections are closed by it meanwhile.
    await new Promise((done) => setTimeout(done, 200));
    const second = await load.run(0.05);
    expect(first.ok).toBeGreaterThan(0);
    expect(second.ok).toBeGreaterThan(0);
    expect(second.failed).toBe(0);
    expect(seen.length).toBe(first.ok + second.ok);
    load.close();
  });

  it('sends a request with a method, headers and a body, whole, and the next one after its answer', async () => {
    const received: Array<{ method: string; type: string; body: string }> = [];
    const { url } = await serve((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (chunk: string) => (body += chunk));
      req.on('end', () => {
        received.push({ method: req.method ?? '', type: req.headers['content-type'] ?? '', body });
        res.writeHead(201, { 'content-length': 2 });
        res.end('{}');
      });
    });
    let n = 0;
    // A body with a multi-byte character: content-length counts bytes, not characters.
    const load = new KeepAliveLoad(url, 2, () => ({
      method: 'POST',
      path: '/orders',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ n: ++n, note: 'crème' }),
    }));
    const slice = await load.run(0.1);
    expect(slice.ok).toBeGreaterThan(2);
    expect(slice.failed).toBe(0);
    expect(received.length).toBe(slice.ok);
    expect(received.every((r) => r.method === 'POST' && r.type === 'application/json')).toBe(true);
    expect(received.map((r) => (JSON.parse(r.body) as { n: number; note: string }).note)).toEqual(received.map(() => 'crème'));
    expect(new Set(received.map((r) => r.body)).size).toBe(received.length);
    load.close();
  });

  it('refuses a response it cannot delimit and says why', async () => {
    const { url } = await serve((_req, res) => {
      res.write('chunked');
      res.end();
    });
    const load = new KeepAliveLoad(url, 1, () => '/');
    const slice = await load.run(0.05);
    expect(slice.ok).toBe(0);
    expect(slice.failed).toBeGreaterThan(0);
    expect(load.firstError).toContain('without content-length');
    load.close();
  });

  it('stops a bench run in which a server answered nothing but errors, naming the status, from either load generator', async () => {
    // Refuses every other request at first, then every request (a server with another secret).
    let n = 0;
    let refuseAll = false;
    const { url } = await serve((_req, res) => {
      const refused = refuseAll || n++ % 2 === 1;
      res.statusCode = refused ? 401 : 200;
      res.end(refused ? '{"status":401}' : '{}');
    });
    const load = new KeepAliveLoad(url, 4, () => '/products/SKU-0001');
    const some = await load.run(0.2);
    expect(some.ok).toBeGreaterThan(0);
    expect(some.failed).toBeGreaterThan(0);
    expect(() => requireServed({ server: 'default-1', ok: some.ok, failed: some.failed, firstFailure: load.firstError })).not.toThrow();

    refuseAll = true;
    const none = await load.run(0.2);
    load.close();
    expect(none.ok).toBe(0);
    expect(() => requireServed({ server: 'default-1', ok: none.ok, failed: none.failed, firstFailure: load.firstError, hint: 'its log: /tmp/x.log' })).toThrow(
      new RegExp(`^no request to default-1 succeeded \\(${none.failed} failed; the first: .*401.*\\); its log: /tmp/x\\.log$`),
    );

    const result = await autocannon({ url, connections: 2, amount: 50, requests: autocannonRequests(BENCH_REQUESTS.product) });
    const statuses = failedStatuses(result.statusCodeStats);
    expect(statuses).toBe('401 × 50');
    expect(() => requireServed({ server: 'default', ok: result['2xx'], failed: result.non2xx + result.errors, firstFailure: statuses })).toThrow(
      'no request to default succeeded (50 failed; the first: 401 × 50)',
    );
    expect(failedStatuses({ '200': { count: 9 } })).toBeUndefined();
  });
});
