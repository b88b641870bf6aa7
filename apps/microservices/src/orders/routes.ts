import { Hono } from 'hono';
import type { Context } from 'hono';
import { CreateOrderRequest, OrderListQuery, parsePreferWait } from '@archbench/contracts/schemas';
import { encodeCursor } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import { placedOrderResponse, readCursor, readIdempotencyKey, validate } from '@archbench/server-kit/http';
import { CUSTOMER_HEADER, customerFromHeader } from '../shared/service-app';
import type { Orders } from './service';

function customerOf(c: Context): string {
  const customer = customerFromHeader(c.req.header(CUSTOMER_HEADER));
  if (!customer) throw new AppError('unauthorized', `missing ${CUSTOMER_HEADER}: order routes are called through the gateway`);
  return customer;
}

/** Order routes with the public shapes; the gateway authenticates and forwards them. */
export function orderRoutes(orders: Orders) {
  return new Hono()
    .post('/orders', async (c) => {
      const key = readIdempotencyKey(c);
      const body = validate(CreateOrderRequest, await c.req.json().catch(() => null));
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      const placed = await orders.place(customerOf(c), body, { idempotencyKey: key, waitSeconds });
      return placedOrderResponse(c, placed, waitSeconds);
    })
    .get('/orders', async (c) => {
      const query = validate(OrderListQuery, c.req.query(), 'invalid-query');
      const before = readCursor(query.cursor);
      const page = await orders.list(customerOf(c), query.limit, query.status, before);
      return c.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
    })
    .get('/orders/:id', async (c) => {
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
      return c.json(await orders.get(customerOf(c), c.req.param('id'), waitSeconds));
    })
    .post('/orders/:id/cancel', async (c) => c.json(await orders.cancel(customerOf(c), c.req.param('id'))))
    .get('/admin/sagas', async (c) => c.json({ states: await orders.sagaCounts() }));
}
