import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedEngine } from '../src/engine/embedded-engine';
import { runScenario } from '../src/engine/run-scenario';
import { mixed } from '../src/scenarios/definitions.ts';

// A --target behind a path prefix (`https://host/prod`, an API gateway stage, a reverse proxy
// path): undici's Pool takes an origin only, so the engine must put the prefix in front of every
// request path itself, as k6 does with `${baseUrl}${path}`.

/** Paths the server saw, in order. */
const seen: { method: string; path: string }[] = [];
let server: Server;
let origin: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    seen.push({ method: req.method ?? '', path });
    req.resume();
    req.on('end', () => {
      if (!path.startsWith('/prod/')) {
        res.writeHead(404).end();
      } else if (req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ id: `ord-${seen.length}`, status: 'CONFIRMED' }));
      } else {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ items: [], nextCursor: null }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

describe('embedded engine: a base URL with a path prefix', () => {
  it('sends every request below the prefix, through the engine child process', async () => {
    seen.length = 0;
    const engine = await EmbeddedEngine.start();
    try {
      // The mixed workload: product lists, product pages and orders; 20/s for 1 s is 20 requests.
      const result = await engine.run(`${origin}/prod`, mixed(20, 1), ['token']);
      expect(result.requests).toBe(20);
      expect(result.failed).toBe(0);
      expect(seen).toHaveLength(20);
      for (const { path } of seen) expect(path).toMatch(/^\/prod\/(products(\?|\/SKU-\d{4}$)|orders$)/);
      expect(new Set(seen.map((r) => r.method))).toEqual(new Set(['GET', 'POST']));
    } finally {
      await engine.close();
    }
  });

  it('takes the prefix with a trailing slash the same way, and refuses a query', async () => {
    seen.length = 0;
    const result = await runScenario({ baseUrl: `${origin}/prod/`, scenario: mixed(20, 0.25), tokens: ['token'] });
    expect(result.requests).toBe(5);
    expect(result.failed).toBe(0);
    for (const { path } of seen) expect(path).toMatch(/^\/prod\/[a-z]/);
    await expect(runScenario({ baseUrl: `${origin}/prod?stage=1`, scenario: mixed(20, 0.25), tokens: ['token'] })).rejects.toThrow(/query or fragment/);
  });
});
