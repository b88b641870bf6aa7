import { Hono } from 'hono';
import { z } from 'zod';
import { MAX_PROVIDER_LATENCY_MS } from '@archbench/domain/payment-provider';
import { readJson } from '@archbench/server-kit/http';
import type { Payments } from './service';

const ProviderSettings = z.strictObject({
  latencyMs: z.number().int().min(0).max(MAX_PROVIDER_LATENCY_MS).optional(),
  slowMs: z.number().int().min(0).max(MAX_PROVIDER_LATENCY_MS).optional(),
  failureRate: z.number().min(0).max(1).optional(),
});

/**
 * Admin routes: the payment records that prove at-most-once capture (the gateway forwards
 * `/admin/orders/:id/payments` here), and the provider settings for fault drills (internal only,
 * never forwarded by the gateway).
 */
export function paymentsRoutes(payments: Payments) {
  return new Hono()
    .get('/admin/orders/:id/payments', async (c) => c.json({ items: await payments.listForOrder(c.req.param('id')) }))
    .get('/admin/provider', (c) => c.json(payments.status()))
    .put('/admin/provider', async (c) => {
      payments.configureProvider(await readJson(c, ProviderSettings));
      return c.json(payments.status());
    });
}
