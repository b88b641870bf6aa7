import { z } from 'zod';
import { baseEnvSchema, parseEnv } from '@archbench/server-kit/env';

/**
 * The serverless launcher's configuration; the only place it reads process.env. The workers
 * themselves never see process.env: these values reach them as bindings (vars and the secret).
 */
const envSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3300),
  /** How often the launcher fires the workers' Cron Triggers (Cloudflare: every minute), ms. */
  CRON_INTERVAL_MS: z.coerce.number().int().min(0).default(30_000),
  /** esbuild bundles go here (default: DATA_DIR/workerd/bundles). */
  BUNDLE_DIR: z.string().optional(),
});
export type Env = z.infer<typeof envSchema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return parseEnv(envSchema, source);
}
