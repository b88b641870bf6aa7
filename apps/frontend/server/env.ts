import { z } from 'zod';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';

/** The frontend server's configuration; the only place it (and vite.config.ts) reads process.env. */
const optionalUrl = z
  .string()
  .trim()
  .transform((value, ctx) => {
    // An empty value or "off" switches a backend off, so the console runs beside one app only.
    if (value === '' || value === 'off') return null;
    if (!URL.canParse(value)) {
      ctx.addIssue({ code: 'custom', message: `must be a URL like http://127.0.0.1:3000 (got ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return value.replace(/\/+$/, '');
  });

export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5173),
  HOST: z.string().default('127.0.0.1'),
  MONOLITH_URL: optionalUrl.default('http://127.0.0.1:3000'),
  MICROSERVICES_URL: optionalUrl.default('http://127.0.0.1:3100'),
  /** Must equal the backends' AUTH_SECRET for minted tokens to be accepted. */
  AUTH_SECRET: z.string().min(16, 'AUTH_SECRET must be at least 16 characters').default(DEV_AUTH_SECRET),
  /** Mint demo tokens even with a real AUTH_SECRET (never on a public server). */
  DEV_LOGIN: z.enum(['0', '1', 'true', 'false', '']).default('').transform((v) => v === '1' || v === 'true'),
  DIST_DIR: z.string().default('dist'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
export type FrontendEnv = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment; throws ConfigError listing every bad variable.
 * @example loadEnv({ MONOLITH_URL: 'http://127.0.0.1:3000' }).PORT // 5173
 */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): FrontendEnv {
  const result = envSchema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  return result.data;
}

/** Dev tokens are minted only with the public dev secret or an explicit DEV_LOGIN=1. */
export function devLoginEnabled(env: Pick<FrontendEnv, 'AUTH_SECRET' | 'DEV_LOGIN'>): boolean {
  return env.DEV_LOGIN || env.AUTH_SECRET === DEV_AUTH_SECRET;
}
