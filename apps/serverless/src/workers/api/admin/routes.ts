import { Hono } from 'hono';
import { ProviderSettingsPatch } from '@archbench/contracts/schemas';
import { paymentFromRow } from '@archbench/domain/orders';
import type { PaymentRow } from '@archbench/domain/orders';
import type { ApiBindings } from '../../../shared/bindings';
import { readJson } from '../../../shared/http';
import { clearProviderSettings, providerDefaults, readProviderSettings, writeProviderSettings } from '../../../shared/provider-settings';

/**
 * Admin views: payment records of an order (at-most-once capture), the dead letters, and the
 * simulated provider's settings for fault drills (`pnpm compare --experiments faults` switches
 * failureRate to 1 and back). The payment step reads the settings from D1 (cached under a second).
 * The switch answers the settings in force, flat, as the monolith, the hybrid and the microservices
 * gateway do: `{ latencyMs, slowMs, failureRate }`; `PUT` stores overrides of the `PAYMENT_*` vars in
 * D1, `DELETE` removes them (the vars apply again, one changed since too).
 */
export function adminRoutes() {
  return new Hono<{ Bindings: ApiBindings }>()
    .get('/orders/:id/payments', async (c) => {
      const rows = await c.env.DB.prepare('SELECT * FROM payments WHERE order_id = ?1 ORDER BY created_at, kind').bind(c.req.param('id')).all<PaymentRow>();
      const items = rows.results.map(paymentFromRow);
      return c.json({ items });
    })
    .get('/payments/provider', async (c) => c.json((await readProviderSettings(c.env.DB, providerDefaults(c.env))).provider))
    .put('/payments/provider', async (c) => {
      const patch = await readJson(c, ProviderSettingsPatch);
      return c.json((await writeProviderSettings(c.env.DB, patch, providerDefaults(c.env))).provider);
    })
    .delete('/payments/provider', async (c) => c.json((await clearProviderSettings(c.env.DB, providerDefaults(c.env))).provider))
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
