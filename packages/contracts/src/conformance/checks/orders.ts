import { setTimeout as sleep } from 'node:timers/promises';
import type { Order as OrderType } from '../../schemas';
import { Order, Shipment, TERMINAL_STATUSES } from '../../schemas';
import type { ApiResponse, Customer } from '../client';
import type { CheckContext } from '../context';
import { check, expectBody, expectProblem, fail } from '../expect';
import type { CheckDefinition } from './types';

/** Asserts the Location header of a POST /orders answer points at the order. */
function expectLocation(res: ApiResponse, orderId: string): string {
  const location = res.headers.get('location');
  check(location !== null, `POST /orders: the ${res.status} answer has no Location header`);
  check(
    new URL(location, 'http://base').pathname === `/orders/${orderId}`,
    `POST /orders: Location ${JSON.stringify(location)} should point at /orders/${orderId}`,
  );
  return location;
}

/**
 * Reads the order's shipment once, right after the answer that made the order CONFIRMED or
 * CANCELLED, and asserts it exists with the given status: a customer who was told the order is
 * confirmed (or cancelled) sees the matching shipment at once. A topology whose shipping learns of
 * the order from an event waits for it inside GET /orders/{id}/shipment, not in the client.
 */
export async function expectShipment(ctx: CheckContext, customer: Customer, orderId: string, status: 'PREPARING' | 'CANCELLED') {
  const res = await ctx.api.get(`/orders/${orderId}/shipment`, { token: customer.token });
  check(res.status === 200, `GET /orders/${orderId}/shipment: expected 200, got ${res.status}`);
  const shipment = expectBody(res, 200, Shipment);
  check(shipment.orderId === orderId, `GET /orders/${orderId}/shipment: shipment is for order ${shipment.orderId}`);
  check(shipment.status === status, `GET /orders/${orderId}/shipment: status should be ${status}, is ${shipment.status}`);
  return shipment;
}

/** Places a one-line order for a fresh customer and checks the outcome a payment token leads to. */
async function rejectedOrder(ctx: CheckContext, token: 'tok_decline' | 'tok_error', reason: string, paymentStatus: string) {
  const customer = ctx.api.newCustomer(token.replace('tok_', ''));
  const sku = ctx.plentifulSku();
  const before = await ctx.stock(sku);
  const res = await ctx.placeRaw(customer, [{ sku, quantity: 3 }], { token, wait: 5 });
  const order = expectBody(res, 201, Order);
  check(order.status === 'REJECTED', `${token}: order should be REJECTED, is ${order.status}`);
  check(order.rejectionReason === reason, `${token}: rejectionReason should be ${reason}, is ${order.rejectionReason}`);
  check(order.paymentStatus === paymentStatus, `${token}: paymentStatus should be ${paymentStatus}, is ${order.paymentStatus}`);
  await ctx.expectStock(sku, before, `after a ${token} order released its 3 units`);
  expectProblem(await ctx.api.get(`/orders/${order.id}/shipment`, { token: customer.token }), 404, { code: 'not-found' });
}

function expectOrderFor(order: OrderType, customer: Customer) {
  check(order.customerId === customer.id, `order ${order.id} belongs to ${order.customerId}, expected ${customer.id}`);
}

export const orderChecks: CheckDefinition[] = [
  {
    name: 'orders.confirmed',
    async run(ctx) {
      const customer = ctx.api.newCustomer('ok');
      const skuA = ctx.plentifulSku();
      const skuB = ctx.plentifulSku([skuA]);
      const [a, b] = [await ctx.product(skuA), await ctx.product(skuB)];
      const res = await ctx.placeRaw(
        customer,
        [
          { sku: skuA, quantity: 2 },
          { sku: skuB, quantity: 1 },
        ],
        { wait: 5 },
      );
      const order = expectBody(res, 201, Order);
      expectLocation(res, order.id);
      expectOrderFor(order, customer);
      check(order.status === 'CONFIRMED', `tok_ok with Prefer: wait=5: status should be CONFIRMED, is ${order.status}`);
      check(order.paymentStatus === 'CAPTURED', `paymentStatus should be CAPTURED, is ${order.paymentStatus}`);
      check(order.rejectionReason === null, `rejectionReason should be null, is ${order.rejectionReason}`);
      const expectedTotal = 2 * a.priceCents + 1 * b.priceCents;
      check(order.totalCents === expectedTotal, `totalCents should be 2×${a.priceCents} + 1×${b.priceCents} = ${expectedTotal}, is ${order.totalCents}`);
      const bySku = new Map(order.items.map((i) => [i.sku, i]));
      check(order.items.length === 2, `order should have 2 items, has ${order.items.length}`);
      check(bySku.get(skuA)?.quantity === 2 && bySku.get(skuA)?.unitPriceCents === a.priceCents, `item ${skuA} should be 2 × ${a.priceCents}`);
      check(bySku.get(skuB)?.quantity === 1 && bySku.get(skuB)?.unitPriceCents === b.priceCents, `item ${skuB} should be 1 × ${b.priceCents}`);
      await ctx.expectStock(skuA, a.stock - 2, 'after a confirmed order of 2');
      await ctx.expectStock(skuB, b.stock - 1, 'after a confirmed order of 1');
      const again = await ctx.getOrder(customer, order.id);
      check(again.status === 'CONFIRMED' && again.totalCents === order.totalCents, `GET /orders/${order.id} disagrees with the POST answer`);
    },
  },
  {
    name: 'orders.shipment',
    async run(ctx) {
      const customer = ctx.api.newCustomer('ship');
      const order = await ctx.placeTerminal(customer, [{ sku: ctx.plentifulSku(), quantity: 1 }]);
      check(order.status === 'CONFIRMED', `order should be CONFIRMED, is ${order.status}`);
      await expectShipment(ctx, customer, order.id, 'PREPARING');
    },
  },
  { name: 'orders.declined', run: (ctx) => rejectedOrder(ctx, 'tok_decline', 'payment_declined', 'DECLINED') },
  { name: 'orders.provider-error', run: (ctx) => rejectedOrder(ctx, 'tok_error', 'payment_provider_error', 'FAILED') },
  {
    name: 'orders.slow',
    async run(ctx) {
      const customer = ctx.api.newCustomer('slow');
      const res = await ctx.placeRaw(customer, [{ sku: ctx.plentifulSku(), quantity: 1 }], { token: 'tok_slow', wait: 1 });
      const order = expectBody(res, 202, Order);
      check(order.status === 'PENDING', `tok_slow with Prefer: wait=1: status should be PENDING, is ${order.status}`);
      check(order.paymentStatus === 'PENDING', `tok_slow with Prefer: wait=1: paymentStatus should be PENDING, is ${order.paymentStatus}`);
      expectLocation(res, order.id);
      const started = Date.now();
      const waited = await ctx.getOrder(customer, order.id, 10);
      check(
        waited.status === 'CONFIRMED',
        `GET /orders/${order.id} with Prefer: wait=10 should answer once CONFIRMED, answered ${waited.status} after ${Date.now() - started} ms`,
      );
      check(waited.paymentStatus === 'CAPTURED', `paymentStatus should be CAPTURED, is ${waited.paymentStatus}`);
    },
  },
  {
    name: 'orders.async',
    async run(ctx) {
      const customer = ctx.api.newCustomer('async');
      const res = await ctx.placeRaw(customer, [{ sku: ctx.plentifulSku(), quantity: 1 }]);
      const order = expectBody(res, [201, 202], Order);
      if (res.status === 202) check(order.status === 'PENDING', `a 202 answer must carry a PENDING order, got ${order.status}`);
      else check(TERMINAL_STATUSES.includes(order.status), `a 201 answer must carry a terminal order, got ${order.status}`);
      const location = expectLocation(res, order.id);
      const deadline = Date.now() + 15_000;
      for (;;) {
        const current = expectBody(await ctx.api.get(location, { token: customer.token }), 200, Order);
        if (current.status === 'CONFIRMED') return;
        check(current.status === 'PENDING', `a tok_ok order should end CONFIRMED, is ${current.status}`);
        if (Date.now() > deadline) fail(`order ${order.id} still PENDING after 15 s without Prefer`);
        await sleep(100);
      }
    },
  },
  {
    name: 'orders.unknown-id',
    async run(ctx) {
      const customer = ctx.api.newCustomer('unknown');
      for (const id of ['ord_000000000000000000000000', 'nope', 'x'.repeat(1000)]) {
        expectProblem(await ctx.api.get(`/orders/${id}`, { token: customer.token }), 404, { code: 'not-found' });
        expectProblem(await ctx.api.post(`/orders/${id}/cancel`, { token: customer.token }), 404, { code: 'not-found' });
        expectProblem(await ctx.api.get(`/orders/${id}/shipment`, { token: customer.token }), 404, { code: 'not-found' });
      }
    },
  },
];
