import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { observe } from '@archbench/observability/hono';
import { createLogger } from '@archbench/observability/logging';
import { createMetrics } from '@archbench/observability/metrics';
import { authenticate, requireAdmin } from './auth';
import { unroutedHandler } from './http';

const logger = createLogger({ service: 'unrouted-test', level: 'silent' });
const SECRET = 'unrouted-test-secret-0123456789abcdef';

/** A server laid out as the public ones are: observe(), the not-found handler, public, customer and admin routes. */
function server(options: { metrics: boolean }) {
  const app = new Hono();
  observe(app, { service: 'unrouted-test', logger, metrics: options.metrics ? createMetrics({ service: 'unrouted-test' }) : undefined });
  app.notFound(unroutedHandler(app, { logger }));
  app.get('/products/:sku', (c) => c.json({ sku: c.req.param('sku') }));
  const auth = authenticate(SECRET);
  app.use('/orders', auth);
  app.use('/orders/*', auth);
  app.get('/orders', (c) => c.json({ items: [] }));
  app.post('/orders/:id/cancel', (c) => c.json({ id: c.req.param('id') }));
  app.use('/admin/*', auth, requireAdmin());
  const admin = new Hono().get('/payments/provider', (c) => c.json({ failureRate: 0 }));
  admin.put('/payments/provider', (c) => c.json({ failureRate: 1 }));
  app.route('/admin', admin);
  return app;
}

const customer = { authorization: `Bearer ${mintToken(SECRET, { sub: 'c-1' })}` };
const admin = { authorization: `Bearer ${mintToken(SECRET, { sub: 'a-1', role: 'admin' })}` };

describe('unroutedHandler', () => {
  const app = server({ metrics: false });

  it('answers a path asked with a method it does not serve 405, with Allow from the app routes', async () => {
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

  it('checks the method before the token: 405 with Allow to a caller without one, a forged one, or a customer on an admin path', async () => {
    for (const [method, path, headers, allow] of [
      ['DELETE', '/orders', {}, 'GET, HEAD'],
      ['GET', '/orders/ord_1/cancel', {}, 'POST'],
      ['PUT', '/orders/ord_1/cancel', { authorization: 'Bearer forged' }, 'POST'],
      ['DELETE', '/admin/payments/provider', {}, 'GET, HEAD, PUT'],
      ['POST', '/admin/payments/provider', customer, 'GET, HEAD, PUT'],
      ['PATCH', '/admin/payments/provider', admin, 'GET, HEAD, PUT'],
    ] as const) {
      const res = await app.request(path, { method, headers });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
      expect(res.headers.get('www-authenticate'), `${method} ${path}`).toBeNull();
    }
  });

  it('still refuses a served method without a token (401) and a customer on an admin route (403)', async () => {
    expect((await app.request('/orders')).status).toBe(401);
    expect((await app.request('/orders/ord_1/cancel', { method: 'POST' })).status).toBe(401);
    expect((await app.request('/admin/payments/provider', { headers: customer })).status).toBe(403);
    expect((await app.request('/admin/payments/provider', { method: 'PUT', headers: admin })).status).toBe(200);
  });

  it('keeps 404, with a token or without, for a path no route serves and for a method the path serves that found no route', async () => {
    for (const [method, path, headers] of [
      ['GET', '/no-such-route', {}],
      ['DELETE', '/products/SKU-0001/stock', {}],
      ['GET', '/orders/', customer],
      ['POST', '/orders/ord_1/refund', {}],
      ['POST', '/orders/ord_1/refund', customer],
      ['GET', '/admin/no-such-route', {}],
    ] as const) {
      const res = await app.request(path, { method, headers });
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.headers.get('allow'), `${method} ${path}`).toBeNull();
      expect(await res.json()).toMatchObject({ code: 'not-found' });
    }
  });

  it('answers /metrics with metrics off as a path it does not have: 404 to every method', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const res = await app.request('/metrics', { method });
      expect(res.status, method).toBe(404);
      expect(res.headers.get('allow'), method).toBeNull();
    }
  });

  it('answers /metrics with metrics on 405 with Allow: GET, HEAD to another method', async () => {
    const on = server({ metrics: true });
    expect((await on.request('/metrics')).status).toBe(200);
    const res = await on.request('/metrics', { method: 'POST' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
  });
});
