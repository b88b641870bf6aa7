import { z } from 'zod';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';
import { TracingConfigError, tracingOptionsFromEnv } from '@archbench/observability/tracing';
import type { TracingEnvOptions } from '@archbench/observability/tracing';

/** How long a server lets in-flight requests finish after SIGTERM when SHUTDOWN_DRAIN_MS is unset, ms. */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 10_000;
/** The longest drain SHUTDOWN_DRAIN_MS may ask for, ms: a rollout should not wait longer than 10 minutes for one pod. */
export const MAX_SHUTDOWN_DRAIN_MS = 600_000;

const drainMessage = `must be a whole number of milliseconds from 0 to ${MAX_SHUTDOWN_DRAIN_MS}`;

/**
 * The environment every archbench server honours. Each app's `env.ts` extends this schema and
 * is the only place that reads `process.env`.
 */
export const baseEnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('127.0.0.1'),
  DATA_DIR: z.string().default('data'),
  DATABASE_URL: z.string().url().optional(),
  /** exclusive: the server holds its SQLite file alone (fewer system calls); normal: others may open it too. */
  SQLITE_LOCKING_MODE: z.enum(['exclusive', 'normal']).default('exclusive'),
  AUTH_SECRET: z.string().min(16, 'AUTH_SECRET must be at least 16 characters').default(DEV_AUTH_SECRET),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((value) =>
      value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /**
   * After SIGTERM (or SIGINT), how long the server lets in-flight requests finish before it closes
   * their connections, ms (serveWithShutdown). Decimal digits only: `coerce` would take '' as 0 and
   * '0x10' as 16, and a drain silently cut to nothing is what this variable exists to prevent.
   */
  SHUTDOWN_DRAIN_MS: z
    .string()
    .regex(/^\d+$/, drainMessage)
    .transform(Number)
    .pipe(z.number().max(MAX_SHUTDOWN_DRAIN_MS, drainMessage))
    .default(DEFAULT_SHUTDOWN_DRAIN_MS),
  /** Requests in flight beyond which the server answers 503 + Retry-After. */
  MAX_IN_FLIGHT: z.coerce.number().int().positive().default(512),
  /** Simulated payment provider: base latency, tok_slow latency, random failure share. */
  PAYMENT_LATENCY_MS: z.coerce.number().int().min(0).default(0),
  PAYMENT_SLOW_MS: z.coerce.number().int().min(0).default(1500),
  PAYMENT_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
  /** false: no /metrics, no request or query histograms, no process metrics. */
  METRICS_ENABLED: z
    .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
    .transform((value) => value === 'true' || value === '1')
    .default(true),
  /** Level of the one log line per request; `debug` keeps the hot path silent at LOG_LEVEL=info. */
  ACCESS_LOG: z.enum(['info', 'debug', 'off']).default('debug'),
  // OpenTelemetry's own variables, checked by tracingOptionsFromEnv in loadServerEnv.
  OTEL_SDK_DISABLED: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.string().optional(),
  OTEL_TRACES_SAMPLER: z.string().optional(),
  OTEL_TRACES_SAMPLER_ARG: z.string().optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
  OTEL_BSP_SCHEDULE_DELAY: z.string().optional(),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: z.string().optional(),
  OTEL_BSP_MAX_QUEUE_SIZE: z.string().optional(),
});
export type BaseEnv = z.infer<typeof baseEnvSchema>;
/** What a server's database opener reads: where the data is, and how SQLite locks it (optional for tests). */
export type DatabaseEnv = Pick<BaseEnv, 'DATABASE_URL' | 'DATA_DIR'> & Partial<Pick<BaseEnv, 'SQLITE_LOCKING_MODE'>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Parses the environment with a schema; throws ConfigError listing every bad variable.
 * Refuses the development AUTH_SECRET when NODE_ENV=production.
 */
export function parseEnv<S extends z.ZodType<BaseEnv>>(schema: S, source: NodeJS.ProcessEnv): z.infer<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid environment:\n${lines.join('\n')}`);
  }
  const env = result.data as BaseEnv;
  if (env.NODE_ENV === 'production' && env.AUTH_SECRET === DEV_AUTH_SECRET) {
    throw new ConfigError('AUTH_SECRET is the development default; set a real secret when NODE_ENV=production');
  }
  return result.data;
}

/** A server's parsed environment plus its tracing options (from the OTEL_* variables). */
export type ServerEnv<S extends z.ZodType<BaseEnv>> = z.infer<S> & { tracing: TracingEnvOptions };

/**
 * Parses a server's environment (see parseEnv) and derives its tracing options; a bad OTEL_*
 * value is a ConfigError like any other bad variable.
 * @example export const loadEnv = (source = process.env) => loadServerEnv(envSchema, source)
 */
export function loadServerEnv<S extends z.ZodType<BaseEnv>>(schema: S, source: NodeJS.ProcessEnv): ServerEnv<S> {
  const env = parseEnv(schema, source);
  try {
    return { ...env, tracing: tracingOptionsFromEnv(env as BaseEnv) };
  } catch (error) {
    if (error instanceof TracingConfigError) throw new ConfigError(`invalid environment:\n  ${error.message}`);
    throw error;
  }
}

/** True when the server runs with the public development secret (callers log a loud warning). */
export function usesDevSecret(env: BaseEnv): boolean {
  return env.AUTH_SECRET === DEV_AUTH_SECRET;
}
