import { describe, expect, it } from 'vitest';
import { adminToken, api, customerToken, internalHeaders, useSystem } from './helpers';

/**
 * A method a route does not serve, on the processes of the microservices: 405 with the route's
 * Allow, as the public API answers (the conformance suite checks the gateway's public paths), on
 * the services' admin and internal routes too, not 404. The services' routes need the internal
 * token before anything (a caller from outside gets 401 for every path).
 */
describe('microservices: a wrong method is 405 with Allow on every process', async () => {
  const { skip, system } = await useSystem({ transport: 'http', database: 'sqlite' });

  it.skipIf(skip)('answers the services’ admin and internal routes 405 with Allow, and changes nothing', async () => {
    const { urls } = system().topology;
    const headers = internalHeaders();
    for (const [process, method, path, allow] of [
      ['payments', 'PATCH', '/admin/provider', 'GET, HEAD, PUT, DELETE'],
      ['payments', 'POST', '/admin/provider', 'GET, HEAD, PUT, DELETE'],
      ['orders', 'POST', '/admin/sagas', 'GET, HEAD'],
      ['orders', 'GET', '/internal/events', 'POST'],
      ['inventory', 'GET', '/internal/commands', 'POST'],
      ['shipping', 'DELETE', '/metrics', 'GET, HEAD'],
    ] as const) {
      const res = await api<{ code: string }>(urls[process], method, path, { headers, json: method === 'GET' ? undefined : { failureRate: 1 } });
      expect(res.status, `${method} ${process}${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${process}${path}`).toBe(allow);
      expect(res.body, `${method} ${process}${path}`).toMatchObject({ code: 'method-not-allowed' });
    }
    expect((await api(urls.payments, 'GET', '/admin/no-such-route', { headers })).status).toBe(404);
    expect((await api<{ provider: { failureRate: number } }>(urls.payments, 'GET', '/admin/provider', { headers })).body.provider.failureRate).toBe(0);
    // Outside callers: the internal check comes first, on every path.
    expect((await api(urls.payments, 'DELETE', '/admin/provider')).status).toBe(401);
  });

  it.skipIf(skip)('answers the gateway’s wrong methods 405 before the token, admin paths included', async () => {
    const { gateway } = system();
    for (const [method, path, token, allow] of [
      ['DELETE', '/orders', undefined, 'GET, HEAD, POST'],
      ['PUT', '/admin/seed', customerToken(), 'POST'],
      ['DELETE', '/admin/seed', adminToken(), 'POST'],
      ['POST', '/metrics', undefined, 'GET, HEAD'],
    ] as const) {
      const res = await api(gateway, method, path, { token });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
  });
});
