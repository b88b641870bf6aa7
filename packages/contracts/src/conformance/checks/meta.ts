import { Validator } from '@seriousme/openapi-schema-validator';
import { Health } from '../../schemas';
import { check, expectBody, expectProblem, fail } from '../expect';
import type { CheckDefinition } from './types';

/** The paths (and methods) DESIGN.md promises in the public API. */
const REQUIRED_PATHS: Record<string, string[]> = {
  '/health': ['get'],
  '/ready': ['get'],
  '/openapi.json': ['get'],
  '/metrics': ['get'],
  '/products': ['get'],
  '/products/{sku}': ['get'],
  '/orders': ['get', 'post'],
  '/orders/{id}': ['get'],
  '/orders/{id}/cancel': ['post'],
  '/orders/{id}/shipment': ['get'],
};

/** Every local `$ref` ("#/..."), with where it was found. */
function localRefs(node: unknown, at: string, out: Array<{ ref: string; at: string }>): void {
  if (Array.isArray(node)) node.forEach((child, i) => localRefs(child, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref' && typeof value === 'string') out.push({ ref: value, at });
      else localRefs(value, `${at}/${key}`, out);
    }
  }
}

function resolvePointer(doc: unknown, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: unknown = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !(key in node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

export const metaChecks: CheckDefinition[] = [
  {
    name: 'health',
    async run({ api }) {
      const health = expectBody(await api.get('/health'), 200, Health);
      check(health.status === 'ok', `GET /health: status should be "ok", is ${JSON.stringify(health.status)}`);
    },
  },
  {
    name: 'ready',
    async run({ api }) {
      const health = expectBody(await api.get('/ready'), 200, Health);
      check(health.status === 'ok', `GET /ready: status should be "ok", is ${JSON.stringify(health.status)}`);
    },
  },
  {
    name: 'openapi',
    async run({ api }) {
      const res = await api.get('/openapi.json');
      check(res.status === 200, `GET /openapi.json: expected 200, got ${res.status}`);
      check(/^application\/json\b/i.test(res.headers.get('content-type') ?? ''), 'GET /openapi.json: Content-Type must be application/json');
      let doc: Record<string, unknown>;
      try {
        doc = JSON.parse(res.text) as Record<string, unknown>;
      } catch {
        fail('GET /openapi.json: body is not JSON');
      }
      check(
        typeof doc.openapi === 'string' && /^3\.1\.\d+$/.test(doc.openapi),
        `GET /openapi.json: "openapi" must be 3.1.x, is ${JSON.stringify(doc.openapi)}`,
      );
      const validator = new Validator();
      const result = await validator.validate(structuredClone(doc));
      if (!result.valid) fail(`GET /openapi.json: not a valid OpenAPI 3.1 document: ${JSON.stringify(result.errors).slice(0, 500)}`);
      const refs: Array<{ ref: string; at: string }> = [];
      localRefs(doc, '#', refs);
      const broken = refs.filter((r) => resolvePointer(doc, r.ref) === undefined);
      check(
        broken.length === 0,
        `GET /openapi.json: unresolvable $ref: ${broken
          .slice(0, 5)
          .map((b) => `${b.ref} (at ${b.at})`)
          .join(', ')}`,
      );
      const paths = (doc.paths ?? {}) as Record<string, Record<string, unknown>>;
      const missing = Object.entries(REQUIRED_PATHS).flatMap(([path, methods]) =>
        methods.filter((m) => !paths[path]?.[m]).map((m) => `${m.toUpperCase()} ${path}`),
      );
      check(missing.length === 0, `GET /openapi.json: missing operations: ${missing.join(', ')}`);
    },
  },
  {
    // A path the API does not have is 404 whatever the method (a known path with a method it does not serve: methods.not-allowed).
    name: 'unknown-route',
    async run({ api }) {
      expectProblem(await api.get('/no-such-route'), 404, { code: 'not-found' });
      expectProblem(await api.request('DELETE', '/no-such-route'), 404, { code: 'not-found' });
      const customer = api.newCustomer('route');
      expectProblem(await api.post('/orders/ord_x/refund', { token: customer.token }), 404, { code: 'not-found' });
      // The path is checked before the token: an unknown path is 404 with a token or without.
      expectProblem(await api.post('/orders/ord_x/refund'), 404, { code: 'not-found' });
      expectProblem(await api.get('/admin/no-such-route', { token: customer.token }), 404, { code: 'not-found' });
      expectProblem(await api.get('/products/SKU-0001/stock'), 404, { code: 'not-found' });
    },
  },
];
