import { Hono } from 'hono';
import { ProviderSettingsPatch } from '@archbench/contracts/schemas';
import { readJson } from '@archbench/server-kit/http';
import type { Payments } from './service';

/**
 * Admin payment routes (behind authenticate + requireAdmin): the records that prove at-most-once
 * capture, and the simulated provider's settings for fault drills (`pnpm compare` provider outage):
 * `PUT` switches any subset (the contract's ProviderSettingsPatch, as every topology takes it),
 * `DELETE` goes back to the settings the process started with (its `PAYMENT_*` env); all three
 * answer the settings in force.
 */
export function paymentsAdminRoutes(payments: Payments) {
  return new Hono()
    .get('/orders/:id/payments', async (c) => c.json({ items: await payments.listForOrder(c.req.param('id')) }))
    .get('/payments/provider', (c) => c.json(payments.providerSettings()))
    .put('/payments/provider', async (c) => c.json(payments.configureProvider(await readJson(c, ProviderSettingsPatch))))
    .delete('/payments/provider', (c) => c.json(payments.resetProvider()));
}
