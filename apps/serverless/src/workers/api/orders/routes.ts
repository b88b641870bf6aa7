import { Hono } from 'hono';
import { CreateOrderRequest, OrderListQuery, parsePreferWait } from '@archbench/contracts/schemas';
import type { Order } from '@archbench/contracts/schemas';
import { encodeCursor } from '@archbench/domain/orders';
import { AppError } from '@archbench/domain/errors';
import type { AuthVariables } from '@archbench/server-kit/auth';
import { placedOrderResponse, readCursor, readIdempotencyKey, readJson, validate } from '../../../shared/http';
import type { ApiBindings } from '../../../shared/bindings';
import type { Orders } from './service';

/** Order routes of a signed-in customer (mounted behind authenticate). */
export function orderRoutes(orders: (env: ApiBindings) => Orders, shipment: (env: ApiBindings, order: Order) => Promise<unknown>) {
  return new Hono<{ Bindings: ApiBindings; Variables: AuthVariables }>()
    .post('/orders', async (c) => {
      const key = readIdempotencyKey(c);
      const body = await readJson(c, CreateOrderRequest);
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      const placed = await orders(c.env).place(c.var.auth.sub, body, { idempotencyKey: key, waitSeconds });
      return placedOrderResponse(c, placed, waitSeconds);
    })
    .get('/orders', async (c) => {
      const query = validate(OrderListQuery, c.req.query(), 'invalid-query');
      const before = readCursor(query.cursor);
      const page = await orders(c.env).list(c.var.auth.sub, query.limit, query.status, before);
      return c.json({ items: page.items, nextCursor: page.next ? encodeCursor(page.next) : null });
    })
    .get('/orders/:id', async (c) => {
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
      return c.json(await orders(c.env).get(c.var.auth.sub, c.req.param('id'), waitSeconds));
    })
    .post('/orders/:id/cancel', async (c) => c.json(await orders(c.env).cancel(c.var.auth.sub, c.req.param('id'))))
    .get('/orders/:id/shipment', async (c) => {
      const order = await orders(c.env).get(c.var.auth.sub, c.req.param('id'));
      const found = await shipment(c.env, order);
      if (!found) throw new AppError('not-found', `order ${order.id} has no shipment (it is ${order.status})`);
      return c.json(found);
    });
}
