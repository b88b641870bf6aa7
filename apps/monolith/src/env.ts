import { z } from 'zod';
import { tracingOptionsFromEnv, TracingConfigError } from '@archbench/observability/tracing';
import type { TracingEnvOptions } from '@archbench/observability/tracing';
import { ConfigError, baseEnvSchema, parseEnv } from '@archbench/server-kit/env';

const flag = z
  .enum(['true', 'false', '1', '0'], { message: 'must be true or false' })
  .transform((value) => value === 'true' || value === '1');

/** The monolith's configuration; the only place it reads process.env. */
export const envSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  SERVICE_NAME: z.string().default('monolith'),
  /** false: no /metrics, no request or query histograms, no process metrics. */
  METRICS_ENABLED: flag.default(true),
  /** Level of the one log line per request; `debug` keeps the hot path silent at LOG_LEVEL=info. */
  ACCESS_LOG: z.enum(['info', 'debug', 'off']).default('debug'),
  // OpenTelemetry's own variables, checked by tracingOptionsFromEnv below.
  OTEL_SDK_DISABLED: z.string().optional(),
  OTEL_SERVICE_NAME: z.string().optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.string().optional(),
  OTEL_EXPORTER_OTLP_HEADERS: z.string().optional(),
  OTEL_TRACES_SAMPLER: z.string().optional(),
  OTEL_TRACES_SAMPLER_ARG: z.string().optional(),
  OTEL_RESOURCE_ATTRIBUTES: z.string().optional(),
});
export type Env = z.infer<typeof envSchema> & {
  /** initTracing options from the OTEL_* variables. */
  tracing: TracingEnvOptions;
};

export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const env = parseEnv(envSchema, source);
  try {
    return { ...env, tracing: tracingOptionsFromEnv(env) };
  } catch (error) {
    if (error instanceof TracingConfigError) throw new ConfigError(`invalid environment:\n  ${error.message}`);
    throw error;
  }
}
