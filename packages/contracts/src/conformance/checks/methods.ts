import { randomBytes } from 'node:crypto';
import { publicRoutes } from '../../routes';
import type { PublicRoute } from '../../routes';
import { Order } from '../../schemas';
import type { ApiResponse } from '../client';
import { check, eventually, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

/** Methods tried on every path; those a path does not serve must be refused with 405. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** The methods an Allow header lists, upper case, sorted (its order is not significant). */
function allowOf(res: ApiResponse): string[] {
  return (res.headers.get('allow') ?? '')
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean)
    .sort();
}

/**
 * Asserts a 405 `method-not-allowed` problem whose Allow header names exactly the methods the
 * contract's route table gives the path (HEAD wherever GET). A HEAD answer has no body, so only
 * its status and Allow are checked.
 */
function expectNotAllowed(res: ApiResponse, route: PublicRoute): void {
  if (res.method === 'HEAD') check(res.status === 405, `HEAD ${res.path}: expected 405, got ${res.status}`);
  else expectProblem(res, 405, { code: 'method-not-allowed' });
  const expected = [...route.methods].sort();
  const allow = allowOf(res);
  check(
    allow.join() === expected.join(),
    `${res.method} ${res.path}: the Allow header should list ${expected.join(', ')} (what ${route.template} serves), lists ${JSON.stringify(res.headers.get('allow'))}`,
  );
}

export const methodChecks: CheckDefinition[] = [
  {
    // Every path of the OpenAPI document, every method it does not list: 405 with Allow, never 404,
    // and never 401 or 403: the method is checked before the token, so whoever asks (no token, a
    // customer on an admin path) gets the same 405, which tells nothing but the path's methods.
    name: 'methods.not-allowed',
    async run(ctx) {
      const customer = ctx.api.newCustomer('methods');
      const admin = ctx.api.adminToken();
      const sku = ctx.plentifulSku();
      const id = `ord_${randomBytes(6).toString('hex')}`;
      for (const route of publicRoutes()) {
        const path = route.template.replace('{sku}', sku).replace('{id}', id);
        const token = path.startsWith('/admin/') ? admin : customer.token;
        const callers = path.startsWith('/admin/') ? [token, customer.token, undefined] : [token, undefined];
        for (const method of METHODS.filter((m) => !route.methods.includes(m))) {
          for (const caller of callers) {
            try {
              expectNotAllowed(await ctx.api.request(method, path, { token: caller }), route);
            } catch (error) {
              if (error instanceof Error && caller !== token) error.message = `${caller === undefined ? 'without a token' : 'as a customer'}: ${error.message}`;
              throw error;
            }
          }
        }
      }
      // The HEAD that Allow lists wherever GET is served: answered as the GET, without a body.
      for (const path of ['/health', '/products', `/products/${sku}`, '/orders']) {
        const res = await ctx.api.request('HEAD', path, { token: customer.token });
        check(res.status === 200, `HEAD ${path}: expected 200 (Allow lists HEAD wherever GET), got ${res.status}`);
        check(res.text === '', `HEAD ${path}: the answer has a body`);
      }
    },
  },
  {
    // A refused method must do nothing: the order is still readable and unchanged, stock and payments untouched.
    name: 'methods.no-side-effect',
    async run(ctx) {
      const customer = ctx.api.newCustomer('methodsfx');
      const admin = ctx.api.adminToken();
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const placed = await ctx.placeTerminal(customer, [{ sku, quantity: 2 }]);
      check(placed.status === 'CONFIRMED', `the order should end CONFIRMED, is ${placed.status}`);
      const routes = new Map(publicRoutes().map((r) => [r.template, r]));
      const id = encodeURIComponent(placed.id);
      const attempts: Array<[string, string, string, { token: string; json?: unknown }]> = [
        ['DELETE', `/orders/${id}`, '/orders/{id}', { token: customer.token }],
        ['PUT', `/orders/${id}`, '/orders/{id}', { token: customer.token, json: { status: 'CANCELLED' } }],
        ['PATCH', `/orders/${id}`, '/orders/{id}', { token: customer.token, json: { status: 'CANCELLED' } }],
        ['DELETE', '/orders', '/orders', { token: customer.token }],
        ['DELETE', `/orders/${id}/cancel`, '/orders/{id}/cancel', { token: customer.token }],
        ['PUT', `/orders/${id}/cancel`, '/orders/{id}/cancel', { token: customer.token, json: {} }],
        ['DELETE', `/admin/orders/${id}/payments`, '/admin/orders/{id}/payments', { token: admin }],
        ['DELETE', `/products/${sku}`, '/products/{sku}', { token: admin }],
        ['PUT', `/products/${sku}`, '/products/{sku}', { token: admin, json: { stock: 0 } }],
        ['PUT', `/admin/products/${sku}/restock`, '/admin/products/{sku}/restock', { token: admin, json: { quantity: 5 } }],
      ];
      for (const [method, path, template, options] of attempts) expectNotAllowed(await ctx.api.request(method, path, options), routes.get(template)!);

      const after = expectBody(await ctx.api.get(`/orders/${id}`, { token: customer.token }), 200, Order);
      check(
        after.status === 'CONFIRMED' && after.paymentStatus === placed.paymentStatus,
        `after refused DELETE/PUT/PATCH the order is ${after.status}/${after.paymentStatus}, was ${placed.status}/${placed.paymentStatus}`,
      );
      const orders = await ctx.listOrders(customer);
      check(
        orders.length === 1 && orders[0]!.id === placed.id,
        `the customer should have its one order ${placed.id}, has ${orders.map((o) => o.id).join(', ') || 'none'}`,
      );
      await ctx.expectStock(sku, before - 2, 'after one order of 2 and refused DELETE/PUT on the product');
      await eventually(async () => {
        const payments = await ctx.payments(placed.id);
        const kinds = payments.map((p) => p.kind).sort();
        check(kinds.join() === 'charge', `order ${placed.id} should have one charge and nothing else, has ${kinds.join(', ') || 'nothing'}`);
      });
    },
  },
];
