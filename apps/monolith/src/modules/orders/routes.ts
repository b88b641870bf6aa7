import { Hono } from 'hono';
import { CreateOrderRequest, OrderListQuery, parsePreferWait } from '@archbench/contracts/schemas';
import { decodeCursor, encodeCursor, isTerminal } from '@archbench/domain/orders';
import { AppError } from '@archbench/observability/errors';
import type { AuthVariables } from '@archbench/server-kit/auth';
import { readJson, validate } from '@archbench/server-kit/http';
import type { Shipping } from '../shipping';
import type { Orders } from './service';

const MAX_KEY_LENGTH = 200;

/** Order routes of a signed-in customer (mounted behind authenticate). */
export function orderRoutes(orders: Orders, shipping: Shipping) {
  return new Hono<{ Variables: AuthVariables }>()
    .post('/orders', async (c) => {
      const key = c.req.header('idempotency-key');
      if (key !== undefined && (key.length === 0 || key.length > MAX_KEY_LENGTH)) {
        throw new AppError('validation-failed', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`, {
          errors: [{ path: 'header.Idempotency-Key', message: `must be 1 to ${MAX_KEY_LENGTH} characters` }],
        });
      }
      const body = await readJson(c, CreateOrderRequest);
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      const { order, replayed } = await orders.place(c.var.auth.sub, body, { idempotencyKey: key, waitSeconds });
      if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/orders/${order.id}`);
      return c.json(order, replayed ? 200 : isTerminal(order.status) ? 201 : 202);
    })
    .get('/orders', async (c) => {
      const query = validate(OrderListQuery, c.req.query(), 'invalid-query');
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && before === undefined) throw new AppError('invalid-query', 'cursor is not valid');
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
