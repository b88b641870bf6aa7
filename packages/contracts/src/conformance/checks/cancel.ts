import { Order } from '../../schemas';
import type { Customer } from '../client';
import type { CheckContext } from '../context';
import { check, eventually, expectBody, expectProblem } from '../expect';
import { expectShipment } from './orders';
import type { CheckDefinition } from './types';

/** Asserts the admin payment records of an order: exactly one successful charge and `refunds` refunds. */
async function expectPayments(ctx: CheckContext, orderId: string, totalCents: number, refunds: number) {
  await eventually(async () => {
    const records = await ctx.payments(orderId);
    const charges = records.filter((r) => r.kind === 'charge');
    const refunded = records.filter((r) => r.kind === 'refund');
    const summary = records.map((r) => `${r.kind}:${r.status}:${r.amountCents}`).join(', ') || 'none';
    check(charges.length === 1 && charges[0]!.status === 'SUCCEEDED', `order ${orderId}: expected exactly one SUCCEEDED charge, payments are [${summary}]`);
    check(refunded.length === refunds, `order ${orderId}: expected ${refunds} refund(s), payments are [${summary}]`);
    check(
      records.every((r) => r.orderId === orderId),
      `order ${orderId}: payment records of another order were returned`,
    );
    check(
      records.every((r) => r.amountCents === totalCents),
      `order ${orderId}: every charge and refund should be for the order total ${totalCents}, payments are [${summary}]`,
    );
  });
}

async function confirmedOrder(ctx: CheckContext, label: string) {
  const customer: Customer = ctx.api.newCustomer(label);
  const sku = ctx.plentifulSku();
  const before = await ctx.stock(sku);
  const order = await ctx.placeTerminal(customer, [{ sku, quantity: 4 }]);
  check(order.status === 'CONFIRMED', `a tok_ok order should be CONFIRMED, is ${order.status}`);
  await ctx.expectStock(sku, before - 4, 'after a confirmed order of 4');
  return { customer, sku, before, order };
}

export const cancelChecks: CheckDefinition[] = [
  {
    name: 'cancel.confirmed',
    async run(ctx) {
      const { customer, sku, before, order } = await confirmedOrder(ctx, 'cancel');
      await expectShipment(ctx, customer, order.id, 'PREPARING');
      const cancelled = expectBody(await ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token }), 200, Order);
      check(cancelled.id === order.id, `cancel answered with order ${cancelled.id}`);
      check(cancelled.status === 'CANCELLED', `cancelled order status should be CANCELLED, is ${cancelled.status}`);
      check(cancelled.paymentStatus === 'REFUNDED', `cancelled order paymentStatus should be REFUNDED, is ${cancelled.paymentStatus}`);
      await ctx.expectStock(sku, before, 'after the cancel restocked 4 units');
      await expectShipment(ctx, customer, order.id, 'CANCELLED');
      await expectPayments(ctx, order.id, order.totalCents, 1);
      const listed = await ctx.getOrder(customer, order.id);
      check(listed.status === 'CANCELLED', `GET /orders/${order.id} after cancel: status is ${listed.status}`);
    },
  },
  {
    name: 'cancel.twice',
    async run(ctx) {
      const { customer, sku, before, order } = await confirmedOrder(ctx, 'cancel2');
      expectBody(await ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token }), 200, Order);
      expectProblem(await ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token }), 409, { code: 'order-not-cancellable' });
      await expectPayments(ctx, order.id, order.totalCents, 1);
      await ctx.expectStock(sku, before, 'after one cancel and one refused cancel (restocked once)');
    },
  },
  {
    name: 'cancel.concurrent',
    async run(ctx) {
      const { customer, sku, before, order } = await confirmedOrder(ctx, 'cancelc');
      const responses = await Promise.all(Array.from({ length: 5 }, () => ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token })));
      const won = responses.filter((res) => res.status === 200);
      check(
        won.length === 1,
        `5 concurrent cancels of one order: ${won.length} answered 200, expected exactly 1 (statuses ${responses.map((r) => r.status).join(', ')})`,
      );
      expectBody(won[0]!, 200, Order);
      for (const res of responses.filter((r) => r.status !== 200)) expectProblem(res, 409, { code: 'order-not-cancellable' });
      await expectPayments(ctx, order.id, order.totalCents, 1);
      await ctx.expectStock(sku, before, 'after 5 concurrent cancels (restocked once)');
    },
  },
  {
    name: 'cancel.rejected',
    async run(ctx) {
      const customer = ctx.api.newCustomer('cancelrej');
      const sku = ctx.plentifulSku();
      const before = await ctx.stock(sku);
      const order = await ctx.placeTerminal(customer, [{ sku, quantity: 2 }], 'tok_decline');
      check(order.status === 'REJECTED', `a tok_decline order should be REJECTED, is ${order.status}`);
      expectProblem(await ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token }), 409, { code: 'order-not-cancellable' });
      const after = await ctx.getOrder(customer, order.id);
      check(after.status === 'REJECTED', `a refused cancel changed the order to ${after.status}`);
      await ctx.expectStock(sku, before, 'after a rejected order and a refused cancel');
    },
  },
  {
    name: 'cancel.pending',
    async run(ctx) {
      const customer = ctx.api.newCustomer('cancelpend');
      const order = await ctx.place(customer, [{ sku: ctx.plentifulSku(), quantity: 1 }], { token: 'tok_slow' });
      check(order.status === 'PENDING', `a tok_slow order without Prefer should still be PENDING, is ${order.status}`);
      expectProblem(await ctx.api.post(`/orders/${order.id}/cancel`, { token: customer.token }), 409, { code: 'order-not-cancellable' });
      const final = await ctx.awaitTerminal(customer, order.id);
      check(final.status === 'CONFIRMED', `a refused cancel of a PENDING order must not stop it; it ended ${final.status}`);
    },
  },
];
