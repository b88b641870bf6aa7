import { z } from 'zod';
import { baseEnvSchema, loadServerEnv } from '@archbench/server-kit/env';
import type { ServerEnv } from '@archbench/server-kit/env';

export const SERVICE_NAMES = ['inventory', 'orders', 'payments', 'shipping'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

const url = z.string().url();
const optionalUrl = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value === '' ? undefined : value))
  .pipe(url.optional());

/**
 * Configuration of every microservices process (gateway, services and the launcher); the only
 * place this app reads process.env. Each process reads the part it needs.
 */
export const envSchema = baseEnvSchema.extend({
  /** Port of this process; the launcher gives the gateway PORT and the services PORT+1..PORT+4. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3100),
  SERVICE_NAME: z.string().optional(),
  DATABASE_URL: optionalUrl,
  DATABASE_URL_INVENTORY: optionalUrl,
  DATABASE_URL_ORDERS: optionalUrl,
  DATABASE_URL_PAYMENTS: optionalUrl,
  DATABASE_URL_SHIPPING: optionalUrl,
  INVENTORY_URL: url.default('http://127.0.0.1:3101'),
  ORDERS_URL: url.default('http://127.0.0.1:3102'),
  PAYMENTS_URL: url.default('http://127.0.0.1:3103'),
  SHIPPING_URL: url.default('http://127.0.0.1:3104'),
  INVENTORY_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  ORDERS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PAYMENTS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SHIPPING_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Saga commands and events between services: HTTP (default) or RabbitMQ; amqp when AMQP_URL is set and TRANSPORT is not. */
  TRANSPORT: z.enum(['http', 'amqp']).optional(),
  AMQP_URL: optionalUrl,
  /** Prefix of every queue and exchange, so parallel runs do not share names. */
  AMQP_PREFIX: z
    .string()
    .regex(/^[\w.-]{1,100}$/)
    .default('archbench'),
  AMQP_PREFETCH: z.coerce.number().int().min(1).max(1000).default(32),
  /** Deliveries of one message before it is dead-lettered. */
  AMQP_MAX_DELIVERIES: z.coerce.number().int().min(1).max(100).default(5),
  /** Per-attempt timeout of an internal call, ms, and attempts before giving up. */
  INTERNAL_TIMEOUT_MS: z.coerce.number().int().positive().default(5000),
  INTERNAL_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  /** Payment provider circuit breaker. */
  PAYMENT_TIMEOUT_MS: z.coerce.number().int().positive().default(4000),
  PAYMENT_BREAKER_WINDOW_MS: z.coerce.number().int().positive().default(10_000),
  PAYMENT_BREAKER_MIN_CALLS: z.coerce.number().int().positive().default(10),
  PAYMENT_BREAKER_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.5),
  PAYMENT_BREAKER_OPEN_MS: z.coerce.number().int().positive().default(5000),
  /** How the launcher runs each process: an esbuild bundle on plain Node (default), or through tsx. */
  RUNNER: z.enum(['bundle', 'tsx']).default('bundle'),
  /** How often the orders service sweeps for sagas that need driving, ms. */
  SAGA_SWEEP_MS: z.coerce.number().int().positive().default(1000),
  /**
   * How long a saga may take from the order's creation before it gives up, ms: past it, an order
   * still waiting for its payment is REJECTED, its stock released and its charge voided or
   * refunded. Derived from the stored creation time, so it holds across restarts.
   */
  SAGA_DEADLINE_MS: z.coerce.number().int().min(1000).max(86_400_000).default(60_000),
  /** First and longest wait between attempts to reconnect to RabbitMQ, ms. */
  AMQP_RECONNECT_MIN_MS: z.coerce.number().int().positive().default(250),
  AMQP_RECONNECT_MAX_MS: z.coerce.number().int().positive().default(10_000),
});
export type Env = ServerEnv<typeof envSchema>;

/** Reads and validates the environment; throws ConfigError listing every bad variable. */
export function loadEnv(source: NodeJS.ProcessEnv = process.env): Env {
  return loadServerEnv(envSchema, source);
}

/** The transport in force: TRANSPORT when given, else amqp when AMQP_URL is set, else http. */
export function transportOf(env: Pick<Env, 'TRANSPORT' | 'AMQP_URL'>): 'http' | 'amqp' {
  return env.TRANSPORT ?? (env.AMQP_URL ? 'amqp' : 'http');
}

/** Base URL of each service as the other processes reach it. */
export function serviceUrls(env: Env): Record<ServiceName, string> {
  return { inventory: env.INVENTORY_URL, orders: env.ORDERS_URL, payments: env.PAYMENTS_URL, shipping: env.SHIPPING_URL };
}
