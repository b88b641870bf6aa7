import type { Order } from '../../schemas';
import { OrderPage } from '../../schemas';
import { check, expectBody, expectProblem } from '../expect';
import type { CheckDefinition } from './types';

const sameList = (actual: string[], expected: string[]) => actual.length === expected.length && actual.every((id, i) => id === expected[i]);

export const paginationChecks: CheckDefinition[] = [
  {
    name: 'orders.pagination',
    async run(ctx) {
      const customer = ctx.api.newCustomer('pages');
      const sku = ctx.plentifulSku();
      const created: Order[] = [];
      for (let i = 0; i < 25; i++) {
        // Every third order is declined so the status filter has two non-empty classes.
        const order = await ctx.placeTerminal(customer, [{ sku, quantity: 1 }], i % 3 === 2 ? 'tok_decline' : 'tok_ok');
        created.push(order);
      }
      const newestFirst = created.map((o) => o.id).reverse();
      const listed = await ctx.listOrders(customer, { limit: 7 });
      const ids = listed.map((o) => o.id);
      check(new Set(ids).size === ids.length, `paging /orders with limit=7 returned duplicates`);
      check(
        sameList(ids, newestFirst),
        `paging /orders with limit=7 should list all 25 orders newest first; got ${ids.length} ids, first differences at index ${ids.findIndex((id, i) => id !== newestFirst[i])}`,
      );
      for (let i = 1; i < listed.length; i++) {
        check(listed[i - 1]!.createdAt >= listed[i]!.createdAt, `orders are not newest first: ${listed[i - 1]!.id} before ${listed[i]!.id}`);
      }
      const firstPage = expectBody(await ctx.api.get('/orders?limit=7', { token: customer.token }), 200, OrderPage);
      check(firstPage.items.length === 7 && firstPage.nextCursor !== null, `the first page of 7 out of 25 should be full and have a nextCursor`);

      for (const status of ['CONFIRMED', 'REJECTED'] as const) {
        const expected = newestFirst.filter((id) => created.find((o) => o.id === id)!.status === status);
        const filtered = await ctx.listOrders(customer, { limit: 3, status });
        check(
          filtered.every((o) => o.status === status),
          `GET /orders?status=${status} returned orders of another status`,
        );
        check(
          sameList(
            filtered.map((o) => o.id),
            expected,
          ),
          `GET /orders?status=${status} (limit 3, paged) should list the ${expected.length} ${status} orders newest first, got ${filtered.length}`,
        );
      }
      const cancelled = await ctx.listOrders(customer, { status: 'CANCELLED' });
      check(cancelled.length === 0, `GET /orders?status=CANCELLED should be empty, has ${cancelled.length}`);
    },
  },
  {
    name: 'orders.bad-query',
    async run(ctx) {
      const customer = ctx.api.newCustomer('badq');
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=abc',
        'limit=0x10',
        'limit=',
        'status=SHIPPED',
        'status=pending',
        'cursor=!!!',
        `cursor=${'x'.repeat(300)}`,
      ]) {
        expectProblem(await ctx.api.get(`/orders?${query}`, { token: customer.token }), 400, { code: 'invalid-query' });
      }
    },
  },
];
