import { LIMITS } from '../../schemas';
import type { ProblemCode } from '../../problems';
import type { ApiResponse, Customer } from '../client';
import type { CheckContext } from '../context';
import { skuOf } from '../context';
import { check, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

interface BadInputCase {
  name: string;
  /** Sends the bad request for a fresh customer; `sku` is the SKU whose stock must not move. */
  send: (ctx: CheckContext, customer: Customer, sku: string) => Promise<ApiResponse>;
  status: number | number[];
  code?: ProblemCode | ProblemCode[];
  /** Further assertions on the problem (e.g. the field error path). */
  verify?: (problem: ReturnType<typeof expectProblem>) => void;
}

const JSON_TYPE = { 'content-type': 'application/json' };
const order = (sku: string, quantity: unknown = 1) => ({ items: [{ sku, quantity }], payment: { token: 'tok_ok' } });
const raw = (ctx: CheckContext, customer: Customer, body: string | Uint8Array, headers: Record<string, string> = JSON_TYPE) =>
  ctx.api.post('/orders', { token: customer.token, body, headers });
const post = (ctx: CheckContext, customer: Customer, json: unknown) => ctx.api.post('/orders', { token: customer.token, json });

function expectFieldError(path: string) {
  return (problem: ReturnType<typeof expectProblem>) => {
    const paths = (problem.errors ?? []).map((e) => e.path);
    check(paths.includes(path), `the problem should name the field ${path} in errors[].path, names ${JSON.stringify(paths)}`);
  };
}

const BAD_QUANTITIES: Array<[string, unknown]> = [
  ['zero', 0],
  ['negative', -1],
  ['fraction', 1.5],
  ['string', '2'],
  ['huge', 1e12],
  ['null', null],
];

const quantityCases: BadInputCase[] = BAD_QUANTITIES.map(([label, quantity]) => ({
  name: `bad-input.quantity-${label}`,
  send: (ctx, customer, sku) => post(ctx, customer, order(sku, quantity)),
  status: 422,
  code: 'validation-failed',
  verify: expectFieldError('items.0.quantity'),
}));

const cases: BadInputCase[] = [
  { name: 'bad-input.malformed-json', send: (ctx, c, sku) => raw(ctx, c, `{"items":[{"sku":"${sku}","quantity":1}],`), status: 400, code: 'malformed-json' },
  {
    name: 'bad-input.content-type',
    send: (ctx, c, sku) => raw(ctx, c, JSON.stringify(order(sku)), { 'content-type': 'text/plain' }),
    status: 415,
    code: 'unsupported-media-type',
  },
  { name: 'bad-input.empty-body', send: (ctx, c) => raw(ctx, c, ''), status: 400, code: 'malformed-json' },
  {
    name: 'bad-input.invalid-utf8',
    send: (ctx, c, sku) =>
      raw(
        ctx,
        c,
        Buffer.concat([
          Buffer.from(`{"items":[{"sku":"${sku}","quantity":1}],"payment":{"token":"tok_ok"},"x":"`),
          Buffer.from([0xff, 0xfe]),
          Buffer.from('"}'),
        ]),
      ),
    status: [400, 422],
  },
  {
    name: 'bad-input.not-an-object',
    async send(ctx, c) {
      for (const body of ['null', '[]', '"order"', '42']) expectProblem(await raw(ctx, c, body), 422, { code: 'validation-failed' });
      return raw(ctx, c, 'true');
    },
    status: 422,
    code: 'validation-failed',
  },
  { name: 'bad-input.empty-object', send: (ctx, c) => post(ctx, c, {}), status: 422, code: 'validation-failed' },
  {
    name: 'bad-input.empty-items',
    send: (ctx, c) => post(ctx, c, { items: [], payment: { token: 'tok_ok' } }),
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('items'),
  },
  {
    name: 'bad-input.51-items',
    send: (ctx, c) =>
      post(ctx, c, {
        items: Array.from({ length: LIMITS.maxItemsPerOrder + 1 }, (_, i) => ({ sku: skuOf(100 + i), quantity: 1 })),
        payment: { token: 'tok_ok' },
      }),
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('items'),
  },
  {
    name: 'bad-input.10000-items',
    send: (ctx, c) => post(ctx, c, { items: Array.from({ length: 10_000 }, (_, i) => ({ sku: skuOf(i % 1000), quantity: 1 })), payment: { token: 'tok_ok' } }),
    status: [413, 422],
    code: ['payload-too-large', 'validation-failed'],
  },
  ...quantityCases,
  {
    name: 'bad-input.unknown-sku',
    send: (ctx, c, sku) =>
      post(ctx, c, {
        items: [
          { sku: 'SKU-9999', quantity: 1 },
          { sku, quantity: 1 },
        ],
        payment: { token: 'tok_ok' },
      }),
    status: 422,
    code: 'unknown-sku',
    verify: expectFieldError('items.0.sku'),
  },
  {
    name: 'bad-input.sku-format',
    async send(ctx, c) {
      expectProblem(await post(ctx, c, order('sku-1')), 422, { code: 'validation-failed' });
      return post(ctx, c, order(42 as unknown as string));
    },
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('items.0.sku'),
  },
  {
    name: 'bad-input.duplicate-sku',
    send: (ctx, c, sku) =>
      post(ctx, c, {
        items: [
          { sku, quantity: 1 },
          { sku, quantity: 2 },
        ],
        payment: { token: 'tok_ok' },
      }),
    status: 422,
    code: 'validation-failed',
  },
  {
    name: 'bad-input.extra-fields',
    async send(ctx, c, sku) {
      expectProblem(await post(ctx, c, { ...order(sku), coupon: 'FREE' }), 422, { code: 'validation-failed' });
      expectProblem(await post(ctx, c, { items: [{ sku, quantity: 1, priceCents: 0 }], payment: { token: 'tok_ok' } }), 422, { code: 'validation-failed' });
      return post(ctx, c, { items: [{ sku, quantity: 1 }], payment: { token: 'tok_ok', amountCents: 0 } });
    },
    status: 422,
    code: 'validation-failed',
  },
  {
    name: 'bad-input.payment-token',
    async send(ctx, c, sku) {
      expectProblem(await post(ctx, c, { items: [{ sku, quantity: 1 }] }), 422, { code: 'validation-failed' });
      return post(ctx, c, { items: [{ sku, quantity: 1 }], payment: { token: 'tok_stolen' } });
    },
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('payment.token'),
  },
  {
    name: 'bad-input.body-over-64k',
    send: (ctx, c, sku) => raw(ctx, c, JSON.stringify({ ...order(sku), padding: 'x'.repeat(LIMITS.maxBodyBytes + 1024) })),
    status: 413,
    code: 'payload-too-large',
  },
  {
    name: 'bad-input.deep-nesting',
    async send(ctx, c) {
      expectProblem(await raw(ctx, c, `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`), [400, 413, 422]);
      return raw(ctx, c, `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
    },
    status: [400, 413, 422],
  },
  {
    name: 'bad-input.idempotency-key-500',
    send: (ctx, c, sku) => ctx.placeRaw(c, [{ sku, quantity: 1 }], { idempotencyKey: 'k'.repeat(500) }),
    status: [400, 422],
  },
  {
    // A byte beyond ASCII (here 0xE9) reads as "é" to Node and as U+FFFD to workerd: two topologies,
    // two keys, and distinct keys that collide. Refused everywhere instead.
    name: 'bad-input.idempotency-key-not-ascii',
    send: (ctx, c, sku) => ctx.placeRaw(c, [{ sku, quantity: 1 }], { idempotencyKey: 'k\u00e9\u00e9' }),
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('header.Idempotency-Key'),
  },
  {
    // No topology decodes a request body: an encoded one is refused, not read as malformed (or as plain) JSON.
    name: 'bad-input.content-encoding',
    send: (ctx, c, sku) => raw(ctx, c, JSON.stringify(order(sku)), { ...JSON_TYPE, 'content-encoding': 'gzip' }),
    status: 415,
    code: 'unsupported-media-type',
  },
  {
    // Node's HTTP parser refuses these before the app runs; workerd does not: both must answer alike.
    name: 'bad-input.headers-too-large',
    async send(ctx, c, sku) {
      // Well under the limit is served (every topology counts alike, within a few hundred bytes).
      const under = await ctx.api.get(`/products/${sku}`, { headers: { 'x-padding': 'a'.repeat(LIMITS.maxHeaderBytes - 2000) } });
      check(under.status === 200, `GET /products/${sku} with ${LIMITS.maxHeaderBytes - 2000} bytes of headers answered ${under.status}, expected 200`);
      return raw(ctx, c, JSON.stringify(order(sku)), { ...JSON_TYPE, 'x-padding': 'a'.repeat(LIMITS.maxHeaderBytes + 600) });
    },
    status: 431,
    code: 'headers-too-large',
  },
  {
    // Node and workerd join two Idempotency-Key headers into one value "a, b": refused, not taken for a third key.
    name: 'bad-input.idempotency-key-twice',
    send: (ctx, c, sku) =>
      ctx.api.requestBytes('POST', '/orders', {
        token: c.token,
        headers: [
          ['content-type', 'application/json'],
          ['idempotency-key', `a-${c.id}`],
          ['idempotency-key', `b-${c.id}`],
        ],
        body: JSON.stringify(order(sku)),
      }),
    status: 422,
    code: 'validation-failed',
    verify: expectFieldError('header.Idempotency-Key'),
  },
  {
    name: 'bad-input.control-character-in-header',
    send: (ctx, c, sku) =>
      ctx.api.requestBytes('POST', '/orders', { token: c.token, headers: { ...JSON_TYPE, 'idempotency-key': 'a\u007fb' }, body: JSON.stringify(order(sku)) }),
    status: 400,
    code: 'malformed-request',
  },
];

/**
 * Each bad request must be a 4xx problem (checked by expectProblem: content type, fields, no
 * leaks) and must write nothing: the customer still has no orders and the stock is unchanged.
 */
export const badInputChecks: CheckDefinition[] = cases.map((c) => ({
  name: c.name,
  async run(ctx) {
    const customer = ctx.api.newCustomer('bad');
    const sku = ctx.plentifulSku();
    const before = await ctx.stock(sku);
    const problem = expectProblem(await c.send(ctx, customer, sku), c.status, { code: c.code });
    c.verify?.(problem);
    const orders = await ctx.listOrders(customer);
    check(orders.length === 0, `a refused request created ${orders.length} order(s): ${orders.map((o) => `${o.id} ${o.status}`).join(', ')}`);
    check((await ctx.stock(sku)) === before, `a refused request changed the stock of ${sku}`);
  },
}));
