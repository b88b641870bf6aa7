// @vitest-environment node
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEV_AUTH_SECRET, verifyToken } from '@archbench/contracts/tokens';
import { createFrontendServer } from './app';
import { ConfigError, loadEnv } from './env';

// A real upstream HTTP server that echoes what reached it, standing in for a backend app.
let upstream: Server;
let upstreamUrl: string;
beforeAll(async () => {
  upstream = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const echo: { method?: string; url?: string; headers: IncomingHttpHeaders; body: string } = {
        method: req.method,
        url: req.url,
        headers: req.headers,
        body,
      };
      res.writeHead(req.url === '/missing' ? 404 : 201, {
        'content-type': req.url === '/missing' ? 'application/problem+json' : 'application/json',
        'preference-applied': 'wait=3',
      });
      res.end(JSON.stringify(req.url === '/missing' ? { title: 'Not found', status: 404, detail: 'no such order', code: 'not-found' } : echo));
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => upstream.close(() => resolve())));

const REAL_SECRET = 'a-real-secret-of-enough-length-123';

function server(overrides: Partial<Parameters<typeof createFrontendServer>[0]['env']> = {}) {
  return createFrontendServer({ env: { MONOLITH_URL: upstreamUrl, MICROSERVICES_URL: null, AUTH_SECRET: DEV_AUTH_SECRET, DEV_LOGIN: false, ...overrides } });
}

const postJson = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('GET /health', () => {
  it('answers 200 JSON of its own, also where the built app would answer any path with index.html', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'frontend-dist-'));
    try {
      writeFileSync(join(dist, 'index.html'), '<!doctype html><title>console</title>');
      const app = createFrontendServer({ env: loadEnv({}), distDir: dist });
      const res = await app.request('/health');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await res.json()).toEqual({ status: 'ok', service: 'frontend' });
      // The SPA fallback is still there for every other page, so /health is not it by accident.
      expect(await (await app.request('/orders')).text()).toContain('<title>console</title>');
    } finally {
      rmSync(dist, { recursive: true, force: true });
    }
  });
});

describe('GET /config.json', () => {
  it('lists only the configured backends and whether demo sign-in is on', async () => {
    const res = await server().request('/config.json');
    expect(res.status).toBe(200);
    const config = (await res.json()) as { backends: { id: string }[]; devLogin: boolean };
    expect(config.backends.map((b) => b.id)).toEqual(['monolith']);
    expect(config.devLogin).toBe(true);
    const both = (await (await server({ MICROSERVICES_URL: 'http://127.0.0.1:1' }).request('/config.json')).json()) as { backends: { id: string }[] };
    expect(both.backends.map((b) => b.id)).toEqual(['monolith', 'microservices']);
  });

  it('offers every backend of BACKENDS in order, a topology it has no label for by its name, and proxies to each', async () => {
    const env = loadEnv({ BACKENDS: `monolith=http://127.0.0.1:1, hybrid=${upstreamUrl}/,future-one=http://127.0.0.1:2` });
    const app = createFrontendServer({ env });
    const config = (await (await app.request('/config.json')).json()) as { backends: { id: string; label: string }[] };
    expect(config.backends).toMatchObject([
      { id: 'monolith', label: 'Modular monolith' },
      { id: 'hybrid', label: 'Hybrid' },
      { id: 'future-one', label: 'future-one' },
    ]);
    const proxied = await app.request('/api/hybrid/health');
    expect(((await proxied.json()) as { url: string }).url).toBe('/health');
    expect((await app.request('/api/microservices/health')).status).toBe(404);
  });
});

describe('POST /dev/token', () => {
  it('mints a customer token the backends accept, with the dev secret', async () => {
    const res = await server().request('/dev/token', postJson({ customerId: 'alice' }));
    expect(res.status).toBe(200);
    const { token, customerId } = (await res.json()) as { token: string; customerId: string };
    expect(customerId).toBe('alice');
    expect(verifyToken(token, DEV_AUTH_SECRET)).toMatchObject({ ok: true, claims: { sub: 'alice', role: 'customer' } });
  });

  it('mints with a real secret only when DEV_LOGIN is on', async () => {
    const refused = await server({ AUTH_SECRET: REAL_SECRET }).request('/dev/token', postJson({ customerId: 'alice' }));
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { title: string }).title).toBe('Demo sign-in is off');
    expect(((await (await server({ AUTH_SECRET: REAL_SECRET }).request('/config.json')).json()) as { devLogin: boolean }).devLogin).toBe(false);

    const allowed = await server({ AUTH_SECRET: REAL_SECRET, DEV_LOGIN: true }).request('/dev/token', postJson({ customerId: 'bob' }));
    const { token } = (await allowed.json()) as { token: string };
    expect(verifyToken(token, REAL_SECRET).ok).toBe(true);
    expect(verifyToken(token, DEV_AUTH_SECRET).ok).toBe(false);
  });

  it('rejects a bad customer id with field errors, and bad bodies with 4xx', async () => {
    const bad = await server().request('/dev/token', postJson({ customerId: 'a b' }));
    expect(bad.status).toBe(422);
    expect(((await bad.json()) as { errors: unknown[] }).errors).toEqual([{ path: 'customerId', message: 'use 1 to 64 letters, digits, "-" or "_"' }]);
    const malformed = await server().request('/dev/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{nope' });
    expect(malformed.status).toBe(400);
    const text = await server().request('/dev/token', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'alice' });
    expect(text.status).toBe(415);
  });
});

describe('/api/<backend>/*', () => {
  it('forwards method, path, query, headers and body to the backend, and its answer back', async () => {
    const res = await server().request('/api/monolith/orders?limit=5', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer t', prefer: 'wait=3', 'idempotency-key': 'k1' },
      body: JSON.stringify({ items: [] }),
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('wait=3');
    const echo = (await res.json()) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(echo).toMatchObject({ method: 'POST', url: '/orders?limit=5', body: '{"items":[]}' });
    expect(echo.headers).toMatchObject({ authorization: 'Bearer t', prefer: 'wait=3', 'idempotency-key': 'k1' });
  });

  it("passes on only the headers the API reads: not the browser's cookies, hop-by-hop, Expect or made-up forwarding headers", async () => {
    const res = await server().request('/api/monolith/orders', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: 'Bearer t',
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
        cookie: 'session=secret',
        'x-forwarded-for': '203.0.113.9',
        forwarded: 'for=203.0.113.9',
        'proxy-authorization': 'Basic eDp5',
        'x-custom': 'named in Connection',
        connection: 'x-custom',
        expect: '100-continue',
        host: 'console.example:5173',
      },
      body: JSON.stringify({ items: [] }),
    });
    expect(res.status).toBe(201);
    const { headers } = (await res.json()) as { headers: Record<string, string> };
    expect(headers).toMatchObject({ authorization: 'Bearer t', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' });
    expect(headers['x-forwarded-host']).toBe('console.example:5173');
    for (const name of ['cookie', 'x-forwarded-for', 'forwarded', 'proxy-authorization', 'x-custom', 'expect']) expect(headers[name], name).toBeUndefined();
  });

  it('answers 502 when a backend takes longer than any answer may (a stuck process), instead of waiting with the browser', async () => {
    const stuck = createServer(() => undefined); // takes the request, never answers
    await new Promise<void>((resolve) => stuck.listen(0, '127.0.0.1', resolve));
    try {
      const app = createFrontendServer({
        env: {
          MONOLITH_URL: `http://127.0.0.1:${(stuck.address() as AddressInfo).port}`,
          MICROSERVICES_URL: null,
          AUTH_SECRET: DEV_AUTH_SECRET,
          DEV_LOGIN: false,
        },
        upstreamTimeoutMs: 300,
      });
      const started = Date.now();
      const res = await app.request('/api/monolith/products');
      expect(Date.now() - started).toBeLessThan(3000);
      expect(res.status).toBe(502);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { title: string }).title).toBe('Modular monolith did not answer in time');
    } finally {
      stuck.closeAllConnections();
      await new Promise<void>((resolve) => stuck.close(() => resolve()));
    }
  });

  it('passes a backend problem through unchanged', async () => {
    const res = await server().request('/api/monolith/missing');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(((await res.json()) as { detail: string }).detail).toBe('no such order');
  });

  it('answers 404 for a backend that is not configured and 502 for one that is down', async () => {
    const unknown = await server().request('/api/microservices/health');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { title: string }).title).toBe('Unknown backend');
    const down = await server({ MONOLITH_URL: 'http://127.0.0.1:1' }).request('/api/monolith/health');
    expect(down.status).toBe(502);
    expect(((await down.json()) as { title: string }).title).toBe('Modular monolith is unreachable');
  });
});

describe('loadEnv', () => {
  it('has working defaults, switches a backend off with "off", and names bad variables', () => {
    const env = loadEnv({});
    expect(env).toMatchObject({ PORT: 5173, MONOLITH_URL: 'http://127.0.0.1:3000', MICROSERVICES_URL: 'http://127.0.0.1:3100', DEV_LOGIN: false });
    expect(loadEnv({ MICROSERVICES_URL: 'off' }).MICROSERVICES_URL).toBeNull();
    expect(() => loadEnv({ MONOLITH_URL: 'not a url', PORT: '-1' })).toThrow(ConfigError);
    expect(() => loadEnv({ MONOLITH_URL: 'not a url' })).toThrow(/MONOLITH_URL: must be a URL/);
    expect(() => loadEnv({ BACKENDS: 'hybrid:http://x' })).toThrow(/BACKENDS: each entry must look like name=http/);
    expect(() => loadEnv({ BACKENDS: 'a=http://127.0.0.1:1,a=http://127.0.0.1:2' })).toThrow(/a is listed twice/);
  });
});
