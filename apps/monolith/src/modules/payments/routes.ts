import { Hono } from 'hono';
import type { Payments } from './service';

/** Admin payment routes: the records that prove at-most-once capture. */
export function paymentsAdminRoutes(payments: Payments) {
  return new Hono().get('/orders/:id/payments', async (c) => c.json({ items: await payments.listForOrder(c.req.param('id')) }));
}
