import { z } from 'zod';
import { envSchema as microservicesEnvSchema } from '@archbench/microservices/env';
import { loadServerEnv } from '@archbench/server-kit/env';
import type { ServerEnv } from '@archbench/server-kit/env';

/**
 * The hybrid's configuration; the only place it reads process.env. Both of its processes read
 * the same variables: the core (catalog, orders, payments) and the shipping service, which is the
 * microservices app's shipping process and so honours that app's names (TRANSPORT, AMQP_*,
 * DATABASE_URL → `<name>_shipping`). The core's own database is DATABASE_URL itself (or
 * `core.db` in DATA_DIR).
 */
export const envSchema = microservicesEnvSchema.extend({
  /** Public port of the core; the shipping service listens on PORT+4 unless SHIPPING_PORT says otherwise. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3200),
  SERVICE_NAME: z.string().default('core'),
  /** Where the core reaches the shipping service; default http://127.0.0.1:<PORT+4>. */
  SHIPPING_URL: z.string().url().optional(),
  /** How often the outbox relay looks for events that were not handed over yet, ms. */
  OUTBOX_INTERVAL_MS: z.coerce.number().int().positive().default(250),
  /** How long `GET /orders/{id}/shipment` waits for shipping to apply an event the core already sent, ms. */
  SHIPMENT_CATCH_UP_MS: z.coerce.number().int().min(0).default(3000),
});

export type Env = Omit<ServerEnv<typeof envSchema>, 'SHIPPING_URL'> & { SHIPPING_URL: string };

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const env = loadServerEnv(envSchema, source);
  const shippingPort = env.SHIPPING_PORT ?? env.PORT + 4;
  return { ...env, SHIPPING_URL: env.SHIPPING_URL ?? `http://127.0.0.1:${shippingPort}` };
}
