import { Hono } from 'hono';
import { CreateOrderRequest, OrderListQuery, parsePreferWait } from '@archbench/contracts/schemas';
import { encodeCursor } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import type { AuthVariables } from '@archbench/server-kit/auth';
import { placedOrderResponse, readCursor, readIdempotencyKey, readJson, validate } from '@archbench/server-kit/http';
import type { ShippingSeam } from '../shipping';
import type { Orders } from './service';

/** Order routes of a signed-in customer (mounted behind authenticate). */
export function orderRoutes(orders: Orders, shipping: ShippingSeam) {
  return new Hono<{ Variables: AuthVariables }>()
    .post('/orders', async (c) => {
      const key = readIdempotencyKey(c);
      const body = await readJson(c, CreateOrderRequest);
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      const placed = await orders.place(c.var.auth.sub, body, { idempotencyKey: key, waitSeconds });
      return placedOrderResponse(c, placed, waitSeconds);
    })
    .get('/orders', async (c) => {
      const query = validate(OrderListQuery, c.req.query(), 'invalid-query');
      const before = readCursor(query.cursor);
      const page = await orders.list(c.var.auth.sub, query.limit, query.status, before);
      return c.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
    })
    .get('/orders/:id', async (c) => {
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
      return c.json(await orders.get(c.var.auth.sub, c.req.param('id'), waitSeconds));
    })
    .post('/orders/:id/cancel', async (c) => c.json(await orders.cancel(c.var.auth.sub, c.req.param('id'))))
    .get('/orders/:id/shipment', async (c) => {
      const order = await orders.get(c.var.auth.sub, c.req.param('id'));
      const shipment = await shipping.get(order.id);
      if (!shipment) throw new AppError('not-found', `order ${order.id} has no shipment (it is ${order.status})`);
      return c.json(shipment);
    });
}
