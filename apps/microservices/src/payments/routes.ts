import { Hono } from 'hono';
import { ProviderSettingsPatch } from '@archbench/contracts/schemas';
import { readJson } from '@archbench/server-kit/http';
import type { Payments } from './service';

/**
 * Admin routes: the payment records that prove at-most-once capture (the gateway forwards
 * `/admin/orders/:id/payments` here), and the provider settings for fault drills, which the
 * gateway serves as `/admin/payments/provider` (it checks the admin token and the patch, with the
 * same contract schema as here, and answers the `provider` part): `PUT` switches any subset,
 * `DELETE` goes back to this process's PAYMENT_* env. The switch lives in this process's memory.
 */
export function paymentsRoutes(payments: Payments) {
  return new Hono()
    .get('/admin/orders/:id/payments', async (c) => c.json({ items: await payments.listForOrder(c.req.param('id')) }))
    .get('/admin/provider', (c) => c.json(payments.status()))
    .put('/admin/provider', async (c) => {
      payments.configureProvider(await readJson(c, ProviderSettingsPatch));
      return c.json(payments.status());
    })
    .delete('/admin/provider', (c) => {
      payments.resetProvider();
      return c.json(payments.status());
    });
}
