import { setTimeout as sleep } from 'node:timers/promises';
import { check } from '../expect';
import type { CheckDefinition } from './types';

export const paymentChecks: CheckDefinition[] = [
  {
    name: 'payments.in-flight',
    async run(ctx) {
      // An admin watching a slow charge must never see it as FAILED before it succeeds.
      const customer = ctx.api.newCustomer('payslow');
      const order = await ctx.place(customer, [{ sku: ctx.plentifulSku(), quantity: 1 }], { token: 'tok_slow' });
      const seen = new Set<string>();
      const deadline = Date.now() + 15_000;
      for (;;) {
        for (const record of await ctx.payments(order.id)) seen.add(`${record.kind}:${record.status}`);
        const current = await ctx.getOrder(customer, order.id);
        if (current.status !== 'PENDING') {
          check(current.status === 'CONFIRMED', `a tok_slow order should end CONFIRMED, is ${current.status}`);
          break;
        }
        check(Date.now() < deadline, `order ${order.id} still PENDING after 15 s`);
        await sleep(100);
      }
      for (const record of await ctx.payments(order.id)) seen.add(`${record.kind}:${record.status}`);
      const statuses = [...seen];
      check(
        statuses.every((s) => s === 'charge:PENDING' || s === 'charge:SUCCEEDED'),
        `while a tok_slow charge was in flight, admin payments showed [${statuses.join(', ')}]; only charge:PENDING then charge:SUCCEEDED are right`,
      );
      check(seen.has('charge:SUCCEEDED'), `the captured charge is missing from admin payments (saw [${statuses.join(', ')}])`);
    },
  },
];
