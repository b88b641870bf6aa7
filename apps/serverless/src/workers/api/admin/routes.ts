import { Hono } from 'hono';
import type { PaymentRecord } from '@archbench/contracts/schemas';
import type { ApiBindings } from '../../../shared/bindings';

interface PaymentRow {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number;
  created_at: string;
}

/** Admin views: payment records of an order (at-most-once capture) and the dead letters. */
export function adminRoutes() {
  return new Hono<{ Bindings: ApiBindings }>()
    .get('/orders/:id/payments', async (c) => {
      const rows = await c.env.DB.prepare('SELECT * FROM payments WHERE order_id = ?1 ORDER BY created_at, kind').bind(c.req.param('id')).all<PaymentRow>();
      const items: PaymentRecord[] = rows.results.map((row) => ({
        id: row.id,
        orderId: row.order_id,
        kind: row.kind as PaymentRecord['kind'],
        status: row.status as PaymentRecord['status'],
        amountCents: Number(row.amount_cents),
        createdAt: row.created_at,
      }));
      return c.json({ items });
    })
    .get('/dead-letters', async (c) => {
      const rows = await c.env.DB.prepare('SELECT * FROM dead_letters ORDER BY received_at DESC LIMIT 100').all<{ id: string; queue: string; body: string; attempts: number; received_at: string }>();
      return c.json({
        items: rows.results.map((r) => ({ id: r.id, queue: r.queue, body: JSON.parse(r.body) as unknown, attempts: Number(r.attempts), receivedAt: r.received_at })),
      });
    });
}
