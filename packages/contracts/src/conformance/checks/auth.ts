import { mintToken } from '../../tokens';
import type { ApiClient, ApiResponse, Customer } from '../client';
import { check, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Asserts a 401 problem with an RFC 6750 challenge. */
function expect401(res: ApiResponse): void {
  expectProblem(res, 401, { code: 'unauthorized' });
  check(/^bearer\b/i.test(res.headers.get('www-authenticate') ?? ''), `${res.method} ${res.path}: a 401 must carry a WWW-Authenticate: Bearer challenge`);
}

/** The customer endpoints, each called with the given Authorization header (or none). */
async function protectedCalls(api: ApiClient, authorization: string | undefined): Promise<ApiResponse[]> {
  const headers: Record<string, string> = authorization === undefined ? {} : { authorization };
  const body = { items: [{ sku: 'SKU-0001', quantity: 1 }], payment: { token: 'tok_ok' } };
  return [
    await api.get('/orders', { headers }),
    await api.post('/orders', { headers, json: body }),
    await api.get('/orders/ord_000000000000000000000000', { headers }),
    await api.post('/orders/ord_000000000000000000000000/cancel', { headers }),
    await api.get('/orders/ord_000000000000000000000000/shipment', { headers }),
  ];
}

export const authChecks: CheckDefinition[] = [
  {
    name: 'auth.missing',
    async run({ api }) {
      (await protectedCalls(api, undefined)).forEach(expect401);
    },
  },
  {
    name: 'auth.forged',
    async run({ api }) {
      const forged = mintToken('not-the-server-secret-at-all!', { sub: 'conf-forger' });
      (await protectedCalls(api, `Bearer ${forged}`)).forEach(expect401);
      const forgedAdmin = mintToken('not-the-server-secret-at-all!', { sub: 'conf-forger', role: 'admin' });
      expect401(await api.get('/admin/orders/ord_000000000000000000000000/payments', { token: forgedAdmin }));
    },
  },
  {
    name: 'auth.expired',
    async run({ api }) {
      (await protectedCalls(api, `Bearer ${api.token('conf-expired', 'customer', -60)}`)).forEach(expect401);
    },
  },
  {
    name: 'auth.malformed',
    async run({ api }) {
      const valid = api.token('conf-malformed');
      const [header, payload] = valid.split('.') as [string, string];
      const headers = [
        'Bearer',
        'Bearer ',
        'Bearer not-a-jwt',
        'Bearer a.b.c',
        `Basic ${Buffer.from('user:pass').toString('base64')}`,
        valid, // no scheme
        `Bearer ${header}.${payload}.`, // signature stripped
        `Bearer ${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`, // alg none
        `Bearer ${header}.${b64({ sub: 'conf-malformed', role: 'root', exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`,
        `Bearer ${'x'.repeat(5000)}`,
      ];
      for (const authorization of headers) {
        for (const res of await protectedCalls(api, authorization)) {
          try {
            expect401(res);
          } catch (error) {
            if (error instanceof Error) error.message = `with Authorization ${JSON.stringify(authorization.slice(0, 60))}: ${error.message}`;
            throw error;
          }
        }
      }
    },
  },
  {
    name: 'auth.other-customer',
    async run(ctx) {
      const alice = ctx.api.newCustomer('alice');
      const mallory = ctx.api.newCustomer('mallory');
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const order = await ctx.placeTerminal(alice, [{ sku, quantity: 1 }]);
      check(order.status === 'CONFIRMED', `alice's order should be CONFIRMED, is ${order.status}`);
      const asMallory = { token: mallory.token };
      expectProblem(await ctx.api.get(`/orders/${order.id}`, asMallory), 404, { code: 'not-found' });
      expectProblem(await ctx.api.post(`/orders/${order.id}/cancel`, asMallory), 404, { code: 'not-found' });
      expectProblem(await ctx.api.get(`/orders/${order.id}/shipment`, asMallory), 404, { code: 'not-found' });
      expectProblem(await ctx.api.get(`/orders/${order.id}`, { headers: { prefer: 'wait=1' }, token: mallory.token }), 404, { code: 'not-found' });
      const malloryOrders = await ctx.listOrders(mallory);
      check(malloryOrders.length === 0, `mallory's order list shows ${malloryOrders.length} order(s) of someone else`);
      const after = await ctx.getOrder(alice, order.id);
      check(after.status === 'CONFIRMED', `mallory's cancel attempt changed alice's order to ${after.status}`);
      await ctx.expectStock(sku, before - 1, "after mallory's refused cancel (nothing restocked)");
    },
  },
  {
    // A token's subject is the customer, character for character, whatever it holds: one that
    // differs only by surrounding whitespace is someone else, and one with non-Latin-1 or control
    // characters is served like any other (a topology that carries the subject in an internal
    // header must encode it, not let HTTP trim or refuse it).
    name: 'auth.subject-exact',
    async run(ctx) {
      const alice = ctx.api.newCustomer('exact');
      const sku = ctx.plentifulSku();
      const order = await ctx.placeTerminal(alice, [{ sku, quantity: 1 }]);
      for (const sub of [` ${alice.id}`, `${alice.id}\t`, `${alice.id} `]) {
        const lookalike: Customer = { id: sub, token: ctx.api.token(sub) };
        try {
          expectProblem(await ctx.api.get(`/orders/${order.id}`, { token: lookalike.token }), 404, { code: 'not-found' });
          expectProblem(await ctx.api.post(`/orders/${order.id}/cancel`, { token: lookalike.token }), 404, { code: 'not-found' });
          const listed = await ctx.listOrders(lookalike);
          check(listed.length === 0, `GET /orders lists ${listed.length} order(s) of another customer`);
        } catch (error) {
          if (error instanceof Error) error.message = `as subject ${JSON.stringify(sub)}: ${error.message}`;
          throw error;
        }
      }
      const after = await ctx.getOrder(alice, order.id);
      check(after.status === order.status, `a lookalike subject's cancel changed the order to ${after.status}`);
      const unusualId = `${ctx.api.newCustomer('x').id}-ärger☃\u007f`;
      const unusual: Customer = { id: unusualId, token: ctx.api.token(unusualId) };
      const placed = await ctx.placeTerminal(unusual, [{ sku, quantity: 1 }]);
      const mine = await ctx.listOrders(unusual);
      check(
        mine.length === 1 && mine[0]!.id === placed.id,
        `a subject with non-Latin-1 and control characters lists ${mine.length} order(s), expected its one`,
      );
    },
  },
  {
    name: 'auth.admin-forbidden',
    async run(ctx) {
      const customer = ctx.api.newCustomer('notadmin');
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const asCustomer = { token: customer.token };
      expectProblem(await ctx.api.get('/admin/orders/ord_000000000000000000000000/payments', asCustomer), 403, { code: 'forbidden' });
      expectProblem(await ctx.api.post(`/admin/products/${sku}/restock`, { ...asCustomer, json: { quantity: 5 } }), 403, { code: 'forbidden' });
      expectProblem(await ctx.api.post('/admin/seed', asCustomer), 403, { code: 'forbidden' });
      expect401(await ctx.api.post(`/admin/products/${sku}/restock`, { json: { quantity: 5 } }));
      await ctx.expectStock(sku, before, 'after refused restocks');
    },
  },
];
