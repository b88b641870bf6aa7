import type { Order as OrderType, PaymentToken } from '../../schemas';
import { Order } from '../../schemas';
import { check, eventually, expectBody, expectProblem, fail } from '../expect';
import type { CheckDefinition } from './types';

/** The stock level the burst starts from: small, so most of the burst must lose. */
const LEVEL = 5;
const EXTRA = 8;

export const stockChecks: CheckDefinition[] = [
  {
    name: 'stock.burst',
    async run(ctx) {
      const sku = ctx.scarceSku();
      await ctx.bringStockTo(sku, LEVEL);

      const customer = ctx.api.newCustomer('burst');
      const tokens: PaymentToken[] = Array.from({ length: LEVEL + EXTRA }, (_, i) => (i % 3 === 2 ? 'tok_decline' : 'tok_ok'));
      const responses = await Promise.all(tokens.map((token) => ctx.placeRaw(customer, [{ sku, quantity: 1 }], { token, wait: 5 })));
      const accepted: Array<{ order: OrderType; token: PaymentToken }> = [];
      let outOfStock = 0;
      responses.forEach((res, i) => {
        if (res.status >= 500) fail(`burst request ${i} got ${res.status}: ${res.text.slice(0, 200)}`);
        if (res.status === 409) {
          expectProblem(res, 409, { code: 'insufficient-stock' });
          outOfStock++;
        } else accepted.push({ order: expectBody(res, [201, 202], Order), token: tokens[i]! });
      });
      const final: OrderType[] = [];
      for (const { order } of accepted) final.push(await ctx.awaitTerminal(customer, order.id));
      const confirmed = final.filter((o) => o.status === 'CONFIRMED');
      accepted.forEach(({ token }, i) => {
        const expected = token === 'tok_ok' ? 'CONFIRMED' : 'REJECTED';
        check(final[i]!.status === expected, `a ${token} order in the burst ended ${final[i]!.status}, expected ${expected}`);
      });
      ctx.log(
        `${sku}: ${LEVEL + EXTRA} concurrent orders for stock ${LEVEL}: ${confirmed.length} confirmed, ${final.length - confirmed.length} rejected, ${outOfStock} out of stock`,
      );
      check(confirmed.length <= LEVEL, `${confirmed.length} orders were confirmed for ${LEVEL} units in stock`);
      check(outOfStock > 0, `none of ${LEVEL + EXTRA} concurrent orders for ${LEVEL} units was refused for insufficient stock`);
      await eventually(async () => {
        const stock = await ctx.stock(sku);
        check(
          stock === LEVEL - confirmed.length,
          `final stock of ${sku} should be ${LEVEL} − ${confirmed.length} confirmed = ${LEVEL - confirmed.length}, is ${stock}`,
        );
      });
      const listed = await ctx.listOrders(customer);
      check(
        listed.length === accepted.length,
        `the customer has ${listed.length} orders but ${accepted.length} were accepted; a refused order must leave nothing behind`,
      );
    },
  },
];
