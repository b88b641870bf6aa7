// Runtime-neutral: the cases every public server's tests run against its own app.request().
import { LIMITS } from '@archbench/contracts/schemas';
import { EXPOSED_HEADERS, SECURITY_HEADERS } from './portable';

/** How a test reaches a server: Hono's `app.request` (no port) or a fetch against a base URL. */
export type EdgeRequest = (path: string, init?: RequestInit) => Response | Promise<Response>;

/**
 * Runs the public-edge table against one server and returns what differs from the shared rule
 * (empty: the server keeps the edge). Expects the server built with `allowedOrigin` in its CORS
 * origins. Cases: security headers on answers, on problems and on /health; CORS exposed headers
 * for an allowed origin and none for another; the preflight; 413 for a declared body over the
 * limit on POST and on GET (the rule is "requests with a body", not "methods"); a GET without a
 * body is never refused.
 * @example expect(await publicEdgeMismatches((p, i) => app.request(p, i), 'http://console.test')).toEqual([])
 */
export async function publicEdgeMismatches(request: EdgeRequest, allowedOrigin: string): Promise<string[]> {
  const problems: string[] = [];
  const expect = (what: string, actual: unknown, expected: unknown) => {
    if (actual !== expected) problems.push(`${what}: got ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  };
  const over = String(LIMITS.maxBodyBytes + 1);

  const cases: Array<[string, string, RequestInit]> = [
    ['answer', '/openapi.json', { headers: { origin: allowedOrigin } }],
    ['problem', '/no-such-route', { headers: { origin: allowedOrigin } }],
    ['health', '/health', {}],
  ];
  for (const [name, path, init] of cases) {
    const res = await request(path, init);
    for (const [header, value] of SECURITY_HEADERS) expect(`${name} ${header}`, res.headers.get(header), value);
  }

  const allowed = await request('/openapi.json', { headers: { origin: allowedOrigin } });
  expect('allowed origin: access-control-allow-origin', allowed.headers.get('access-control-allow-origin'), allowedOrigin);
  expect(
    'allowed origin: access-control-expose-headers',
    allowed.headers.get('access-control-expose-headers')?.toLowerCase(),
    EXPOSED_HEADERS.join(',').toLowerCase(),
  );
  const other = await request('/openapi.json', { headers: { origin: 'http://elsewhere.test' } });
  expect('other origin: access-control-allow-origin', other.headers.get('access-control-allow-origin'), null);

  const preflight = await request('/orders', {
    method: 'OPTIONS',
    headers: { origin: allowedOrigin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
  });
  expect('preflight status', preflight.status, 204);
  expect('preflight access-control-allow-origin', preflight.headers.get('access-control-allow-origin'), allowedOrigin);
  expect('preflight access-control-allow-headers', preflight.headers.get('access-control-allow-headers'), 'authorization,content-type');

  for (const method of ['POST', 'GET']) {
    // Declared, not sent: the edge must refuse on the header before anything is read.
    const res = await request('/orders', { method, headers: { 'content-type': 'application/json', 'content-length': over } });
    expect(`${method} with a body over the limit: status`, res.status, 413);
    expect(`${method} with a body over the limit: content-type`, res.headers.get('content-type'), 'application/problem+json');
  }
  expect('GET without a body', (await request('/openapi.json')).status, 200);
  return problems;
}
