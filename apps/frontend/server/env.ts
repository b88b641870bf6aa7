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

/**
 * `BACKENDS=monolith=http://127.0.0.1:3000,hybrid=http://127.0.0.1:3200`: every backend the
 * console offers, in order (`pnpm start` derives it from the topology registry).
 */
const backendList = z
  .string()
  .trim()
  .transform((value, ctx) => {
    const backends: { id: string; url: string }[] = [];
    for (const pair of value
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const at = pair.indexOf('=');
      const id = at > 0 ? pair.slice(0, at).trim() : '';
      const url = at > 0 ? pair.slice(at + 1).trim() : '';
      if (!/^[a-z][a-z0-9-]{0,39}$/.test(id) || !URL.canParse(url)) {
        ctx.addIssue({ code: 'custom', message: `each entry must look like name=http://127.0.0.1:3000 (got ${JSON.stringify(pair)})` });
        return z.NEVER;
      }
      if (backends.some((b) => b.id === id)) {
        ctx.addIssue({ code: 'custom', message: `${id} is listed twice` });
        return z.NEVER;
      }
      backends.push({ id, url: url.replace(/\/+$/, '') });
    }
    return backends;
  });

export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(5173),
  HOST: z.string().default('127.0.0.1'),
  MONOLITH_URL: optionalUrl.default('http://127.0.0.1:3000'),
  MICROSERVICES_URL: optionalUrl.default('http://127.0.0.1:3100'),
  /** When set, the backends (name=url, comma-separated) instead of MONOLITH_URL and MICROSERVICES_URL. */
  BACKENDS: backendList.optional(),
  /** Must equal the backends' AUTH_SECRET for minted tokens to be accepted. */
  AUTH_SECRET: z.string().min(16, 'AUTH_SECRET must be at least 16 characters').default(DEV_AUTH_SECRET),
  /** Mint demo tokens even with a real AUTH_SECRET (never on a public server). */
  DEV_LOGIN: z
    .enum(['0', '1', 'true', 'false', ''])
    .default('')
    .transform((v) => v === '1' || v === 'true'),
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

/**
 * The backends the console offers: BACKENDS when given, else MONOLITH_URL and MICROSERVICES_URL.
 * @example backendsOf(loadEnv({ BACKENDS: 'hybrid=http://127.0.0.1:3200' })) // [{ id: 'hybrid', url: 'http://127.0.0.1:3200' }]
 */
export function backendsOf(
  env: Pick<FrontendEnv, 'MONOLITH_URL' | 'MICROSERVICES_URL'> & { BACKENDS?: FrontendEnv['BACKENDS'] },
): { id: string; url: string }[] {
  if (env.BACKENDS) return env.BACKENDS;
  const backends: { id: string; url: string }[] = [];
  if (env.MONOLITH_URL) backends.push({ id: 'monolith', url: env.MONOLITH_URL });
  if (env.MICROSERVICES_URL) backends.push({ id: 'microservices', url: env.MICROSERVICES_URL });
  return backends;
}

/** Dev tokens are minted only with the public dev secret or an explicit DEV_LOGIN=1. */
export function devLoginEnabled(env: Pick<FrontendEnv, 'AUTH_SECRET' | 'DEV_LOGIN'>): boolean {
  return env.DEV_LOGIN || env.AUTH_SECRET === DEV_AUTH_SECRET;
}
