import { Hono } from 'hono';
import { z } from 'zod';
import { MAX_PROVIDER_LATENCY_MS } from '@archbench/domain/payment-provider';
import { readJson } from '@archbench/server-kit/http';
import type { Payments } from './service';

/** The same limits as the microservices' payments service, so a drill means the same everywhere. */
const ProviderSettingsPatch = z.strictObject({
  latencyMs: z.number().int().min(0).max(MAX_PROVIDER_LATENCY_MS).optional(),
  slowMs: z.number().int().min(0).max(MAX_PROVIDER_LATENCY_MS).optional(),
  failureRate: z.number().min(0).max(1).optional(),
});

/**
 * Admin payment routes (behind authenticate + requireAdmin): the records that prove at-most-once
 * capture, and the simulated provider's settings for fault drills (`pnpm compare` provider outage).
 */
export function paymentsAdminRoutes(payments: Payments) {
  return new Hono()
    .get('/orders/:id/payments', async (c) => c.json({ items: await payments.listForOrder(c.req.param('id')) }))
    .get('/payments/provider', (c) => c.json(payments.providerSettings()))
    .put('/payments/provider', async (c) => c.json(payments.configureProvider(await readJson(c, ProviderSettingsPatch))));
}
