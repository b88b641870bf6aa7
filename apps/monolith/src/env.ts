import { z } from 'zod';
import { baseEnvSchema, loadServerEnv } from '@archbench/server-kit/env';
import type { ServerEnv } from '@archbench/server-kit/env';

/** The monolith's configuration; the only place it reads process.env. */
export const envSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SERVICE_NAME: z.string().default('monolith'),
});
export type Env = ServerEnv<typeof envSchema>;

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return loadServerEnv(envSchema, source);
}
