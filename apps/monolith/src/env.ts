import { z } from 'zod';
import { baseEnvSchema, loadServerEnv } from '@archbench/server-kit/env';
import type { ServerEnv } from '@archbench/server-kit/env';

/** The monolith's configuration; the only place it reads process.env. */
export const envSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SERVICE_NAME: z.string().default('monolith'),
  /**
   * How long an order may stay PENDING from its stored creation time, ms: past it, the deadline
   * sweeper rejects it, releases its stock and refunds a capture it could not confirm. Same name
   * and default as the microservices' saga deadline.
   */
  SAGA_DEADLINE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  /** How often the deadline sweeper looks for overdue PENDING orders, ms. */
  SAGA_SWEEP_MS: z.coerce.number().int().positive().default(1000),
});
export type Env = ServerEnv<typeof envSchema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return loadServerEnv(envSchema, source);
}
