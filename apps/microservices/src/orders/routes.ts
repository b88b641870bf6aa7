import { Hono } from 'hono';
import type { Context } from 'hono';
import { CreateOrderRequest, OrderListQuery, parsePreferWait } from '@archbench/contracts/schemas';
import { decodeCursor, encodeCursor, isTerminal } from '@archbench/domain/orders';
import { AppError } from '@archbench/observability/errors';
import { validate } from '@archbench/server-kit/http';
import type { Orders } from './service';

const MAX_KEY_LENGTH = 200;
/** Set by the gateway after it verified the customer's token. */
export const CUSTOMER_HEADER = 'x-archbench-customer';

function customerOf(c: Context): string {
  const customer = c.req.header(CUSTOMER_HEADER);
  if (!customer) throw new AppError('unauthorized', `missing ${CUSTOMER_HEADER}: order routes are called through the gateway`);
  return customer;
}

/** Order routes with the public shapes; the gateway authenticates and forwards them. */
export function orderRoutes(orders: Orders) {
  return new Hono()
    .post('/orders', async (c) => {
      const key = c.req.header('idempotency-key');
      if (key !== undefined && (key.length === 0 || key.length > MAX_KEY_LENGTH)) {
        throw new AppError('validation-failed', `Idempotency-Key must be 1 to ${MAX_KEY_LENGTH} characters`, {
          errors: [{ path: 'header.Idempotency-Key', message: `must be 1 to ${MAX_KEY_LENGTH} characters` }],
        });
      }
      const body = validate(CreateOrderRequest, await c.req.json().catch(() => null));
      const waitSeconds = parsePreferWait(c.req.header('prefer'));
      const { order, replayed } = await orders.place(customerOf(c), body, { idempotencyKey: key, waitSeconds });
      if (waitSeconds !== undefined) c.header('preference-applied', `wait=${waitSeconds}`);
      if (replayed) c.header('idempotent-replayed', 'true');
      c.header('location', `/orders/${order.id}`);
      return c.json(order, replayed ? 200 : isTerminal(order.status) ? 201 : 202);
    })
    .get('/orders', async (c) => {
      const query = validate(OrderListQuery, c.req.query(), 'invalid-query');
      const before = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
      if (query.cursor !== undefined && before === undefined) throw new AppError('invalid-query', 'cursor is not valid');
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
