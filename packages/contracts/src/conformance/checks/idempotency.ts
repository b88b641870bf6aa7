import { randomUUID } from 'node:crypto';
import { Order } from '../../schemas';
import type { Customer } from '../client';
import type { CheckContext } from '../context';
import { check, eventually, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

/** Exactly one order for the customer, and exactly one charge for it. */
async function expectSingleOrder(ctx: CheckContext, customer: Customer, orderId: string) {
  const orders = await ctx.listOrders(customer);
  check(
    orders.length === 1 && orders[0]!.id === orderId,
    `expected exactly one order (${orderId}) for the customer, found ${orders.length}: ${orders.map((o) => o.id).join(', ')}`,
  );
  const terminal = await ctx.awaitTerminal(customer, orderId);
  check(terminal.status === 'CONFIRMED', `the order should end CONFIRMED, is ${terminal.status}`);
  await eventually(async () => {
    const charges = (await ctx.payments(orderId)).filter((p) => p.kind === 'charge');
    check(charges.length === 1, `order ${orderId} has ${charges.length} charges; a payment is captured at most once`);
  });
}

export const idempotencyChecks: CheckDefinition[] = [
  {
    name: 'idempotency.replay',
    async run(ctx) {
      const customer = ctx.api.newCustomer('idem');
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const key = randomUUID();
      const first = await ctx.place(customer, [{ sku, quantity: 2 }], { idempotencyKey: key, wait: 5 });
      const res = await ctx.placeRaw(customer, [{ sku, quantity: 2 }], { idempotencyKey: key, wait: 5 });
      const replay = expectBody(res, 200, Order);
      check(replay.id === first.id, `a retry with the same Idempotency-Key returned order ${replay.id}, the first was ${first.id}`);
      await expectSingleOrder(ctx, customer, first.id);
      await ctx.expectStock(sku, before - 2, 'after one order of 2 sent twice with one key');
    },
  },
  {
    name: 'idempotency.concurrent',
    async run(ctx) {
      const customer = ctx.api.newCustomer('idemc');
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 5 }, () => ctx.placeRaw(customer, [{ sku, quantity: 3 }], { idempotencyKey: key, wait: 5 })));
      const ids = new Set<string>();
      for (const res of responses) {
        // A duplicate that arrives while the first is still being written may be told to retry.
        if (res.status === 409) expectProblem(res, 409, { code: 'idempotency-in-progress' });
        else ids.add(expectBody(res, [200, 201, 202], Order).id);
      }
      check(ids.size === 1, `5 concurrent requests with one Idempotency-Key produced ${ids.size} different orders: ${[...ids].join(', ')}`);
      const [orderId] = [...ids] as [string];
      const retry = expectBody(await ctx.placeRaw(customer, [{ sku, quantity: 3 }], { idempotencyKey: key }), 200, Order);
      check(retry.id === orderId, `a later retry returned order ${retry.id}, expected ${orderId}`);
      await expectSingleOrder(ctx, customer, orderId);
      await ctx.expectStock(sku, before - 3, 'after 5 concurrent copies of one order of 3');
    },
  },
  {
    name: 'idempotency.concurrent-scarce',
    async run(ctx) {
      // Copies of one keyed order for more than half the stock: only one can reserve it, so a
      // copy that reserves before it sees the key is refused for stock the order itself took.
      const LEVEL = 5;
      const COPIES = 5;
      const sku = ctx.scarceSku();
      await ctx.bringStockTo(sku, LEVEL);
      const customer = ctx.api.newCustomer('idems');
      const key = randomUUID();
      const items = [{ sku, quantity: 3 }];
      const responses = await Promise.all(Array.from({ length: COPIES }, () => ctx.placeRaw(customer, items, { idempotencyKey: key, wait: 5 })));
      const ids = new Set<string>();
      const refused: number[] = [];
      responses.forEach((res, i) => {
        if (res.status === 409 && expectProblem(res, 409).code === 'insufficient-stock') refused.push(i);
        else if (res.status === 409) expectProblem(res, 409, { code: 'idempotency-in-progress' });
        else ids.add(expectBody(res, [200, 201, 202], Order).id);
      });
      check(
        refused.length === 0,
        `${refused.length} of ${COPIES} concurrent copies of one keyed order for 3 of ${LEVEL} units were refused with insufficient-stock ` +
          `while another copy placed it (${[...ids].join(', ')}); a copy must be answered as a replay (200) or 409 idempotency-in-progress`,
      );
      check(ids.size === 1, `${COPIES} concurrent copies of one keyed order produced ${ids.size} different orders: ${[...ids].join(', ')}`);
      const [orderId] = [...ids] as [string];
      const retry = expectBody(await ctx.placeRaw(customer, items, { idempotencyKey: key }), 200, Order);
      check(retry.id === orderId, `a later retry returned order ${retry.id}, expected ${orderId}`);
      await expectSingleOrder(ctx, customer, orderId);
      await ctx.expectStock(sku, LEVEL - 3, `after ${COPIES} concurrent copies of one keyed order of 3 from stock ${LEVEL}`);
    },
  },
  {
    name: 'idempotency.other-body',
    async run(ctx) {
      const customer = ctx.api.newCustomer('idemb');
      const skuA = ctx.plentifulSku();
      const skuB = ctx.plentifulSku([skuA]);
      const beforeB = await ctx.stock(skuB);
      const key = randomUUID();
      const first = await ctx.place(customer, [{ sku: skuA, quantity: 1 }], { idempotencyKey: key, wait: 5 });
      const reused = await ctx.placeRaw(customer, [{ sku: skuB, quantity: 1 }], { idempotencyKey: key, wait: 5 });
      expectProblem(reused, [409, 422], { code: ['idempotency-key-reused', 'idempotency-in-progress'] });
      const otherToken = await ctx.placeRaw(customer, [{ sku: skuA, quantity: 1 }], { idempotencyKey: key, token: 'tok_decline' });
      expectProblem(otherToken, [409, 422], { code: ['idempotency-key-reused', 'idempotency-in-progress'] });
      await expectSingleOrder(ctx, customer, first.id);
      await ctx.expectStock(skuB, beforeB, 'after a refused reuse of an Idempotency-Key');
    },
  },
  {
    name: 'idempotency.per-customer',
    async run(ctx) {
      // Keys are scoped to the caller: another customer's key must neither leak nor block an order.
      const alice = ctx.api.newCustomer('idema');
      const bob = ctx.api.newCustomer('idemb');
      const sku = ctx.plentifulSku();
      const key = randomUUID();
      const a = await ctx.place(alice, [{ sku, quantity: 1 }], { idempotencyKey: key, wait: 5 });
      const res = await ctx.placeRaw(bob, [{ sku, quantity: 1 }], { idempotencyKey: key, wait: 5 });
      const b = expectBody(res, [201, 202], Order);
      check(b.id !== a.id, `bob reusing alice's Idempotency-Key got alice's order ${a.id}`);
      check(b.customerId === bob.id, `bob's order belongs to ${b.customerId}`);
      await expectSingleOrder(ctx, bob, b.id);
    },
  },
];
