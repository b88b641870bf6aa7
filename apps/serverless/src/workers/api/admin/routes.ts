import { Hono } from 'hono';
import type { PaymentRecord } from '@archbench/contracts/schemas';
import type { ApiBindings } from '../../../shared/bindings';
import { readJson } from '../../../shared/http';
import { ProviderSettingsPatch, providerDefaults, readProviderSettings, writeProviderSettings } from '../../../shared/provider-settings';

interface PaymentRow {
  id: string;
  order_id: string;
  kind: string;
  status: string;
  amount_cents: number;
  created_at: string;
}

/**
 * Admin views: payment records of an order (at-most-once capture), the dead letters, and the
 * simulated provider's settings for fault drills (`pnpm compare --experiments faults` switches
 * failureRate to 1 and back). The payment step reads the settings from D1 (cached under a second).
 */
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
    .get('/payments/provider', async (c) => c.json(await readProviderSettings(c.env.DB, providerDefaults(c.env))))
    .put('/payments/provider', async (c) => {
      const patch = await readJson(c, ProviderSettingsPatch);
      return c.json(await writeProviderSettings(c.env.DB, patch, providerDefaults(c.env)));
    })
    .get('/dead-letters', async (c) => {
      const rows = await c.env.DB.prepare('SELECT * FROM dead_letters ORDER BY received_at DESC LIMIT 100').all<{
        id: string;
        queue: string;
        body: string;
        attempts: number;
        received_at: string;
      }>();
      return c.json({
        items: rows.results.map((r) => ({
          id: r.id,
          queue: r.queue,
          body: JSON.parse(r.body) as unknown,
          attempts: Number(r.attempts),
          receivedAt: r.received_at,
        })),
      });
    });
}
