import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { observe } from '@archbench/observability/hono';
import { createLogger } from '@archbench/observability/logging';
import { publicNotFound, readIdempotencyKey } from './http';

const logger = createLogger({ service: 'portable-test', level: 'silent' });

describe('publicNotFound (unrouted)', () => {
  const app = new Hono();
  observe(app, { service: 'portable-test', logger });
  app.notFound(publicNotFound({ logger }));
  app.get('/products/:sku', (c) => c.json({ sku: c.req.param('sku') }));
  app.post('/orders/:id/cancel', (c) => c.json({ id: c.req.param('id') }));

  it('answers a public path asked with a method it does not serve 405, with Allow from the contract', async () => {
    const res = await app.request('/products/SKU-0001', { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 405,
      code: 'method-not-allowed',
      title: 'Method not allowed',
      detail: 'DELETE is not allowed on /products/{sku}; it serves GET, HEAD',
    });
  });

  it('answers HEAD as the GET it stands for: served where GET is, 405 without a body where it is not', async () => {
    expect((await app.request('/products/SKU-0001', { method: 'HEAD' })).status).toBe(200);
    const res = await app.request('/orders/ord_1/cancel', { method: 'HEAD' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect(await res.text()).toBe('');
  });

  it('keeps 404 for a path the API does not have, and for a method the path lists that found no route here', async () => {
    for (const [method, path] of [
      ['GET', '/no-such-route'],
      ['DELETE', '/products/SKU-0001/stock'],
      ['GET', '/orders/'],
      // /metrics serves GET in the contract; a server without metrics has no such route.
      ['GET', '/metrics'],
    ] as const) {
      const res = await app.request(path, { method });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('allow'), `${method} ${path}`).toBeNull();
      expect(await res.json()).toMatchObject({ code: 'not-found' });
    }
  });
});

describe('readIdempotencyKey', () => {
  const app = new Hono();
  observe(app, { service: 'portable-test', logger });
  app.post('/orders', (c) => c.json({ key: readIdempotencyKey(c) ?? null }));
  const send = (headers: Headers | Record<string, string>) => app.request('/orders', { method: 'POST', headers });

  it('takes one key of printable ASCII', async () => {
    expect(await (await send({ 'idempotency-key': 'a b:c;d' })).json()).toEqual({ key: 'a b:c;d' });
    expect(await (await send({})).json()).toEqual({ key: null });
  });

  it('refuses two Idempotency-Key headers, which arrive joined with a comma, and says why', async () => {
    const headers = new Headers();
    headers.append('idempotency-key', 'a');
    headers.append('idempotency-key', 'b');
    for (const res of [await send(headers), await send({ 'idempotency-key': 'a,b' })]) {
      expect(res.status).toBe(422);
      expect(await res.json()).toMatchObject({
        code: 'validation-failed',
        detail: 'Idempotency-Key must be one value without a comma (duplicate Idempotency-Key headers are joined with commas)',
        errors: [{ path: 'header.Idempotency-Key' }],
      });
    }
  });

  it('refuses an empty, a too long and a not-ASCII key with the length and charset rule', async () => {
    for (const key of ['', 'k'.repeat(201), 'k\u00e9']) {
      const res = await send({ 'idempotency-key': key });
      expect(res.status, JSON.stringify(key)).toBe(422);
      expect(((await res.json()) as { detail: string }).detail).toBe('Idempotency-Key must be 1 to 200 printable ASCII characters');
    }
  });
});
