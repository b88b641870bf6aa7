import type { D1Database, Fetcher, Queue } from '@cloudflare/workers-types';
import type { OrderEvent, PaymentCommand } from './messages';

/**
 * What the runtime hands every worker as `env` (Hono's `c.env`): D1, queue producers, service
 * bindings and settings. Each worker gets only the bindings its definition in topology.ts names,
 * so the per-worker types below pick from this one list.
 */
export interface Bindings {
  DB: D1Database;
  PAYMENTS_QUEUE: Queue<PaymentCommand>;
  EVENTS_QUEUE: Queue<OrderEvent>;
  PAYMENTS_WORKER?: Fetcher;
  SHIPPING_WORKER?: Fetcher;
  /** Secret (wrangler secret put AUTH_SECRET); HS256 key of customer and admin tokens. */
  AUTH_SECRET: string;
  PAYMENT_LATENCY_MS?: string;
  PAYMENT_SLOW_MS?: string;
  PAYMENT_FAILURE_RATE?: string;
  MAX_IN_FLIGHT?: string;
  /** Origins allowed by CORS, comma-separated (the API worker); empty: no CORS headers. */
  CORS_ORIGINS?: string;
  LOG_LEVEL?: string;
}

// The API worker reads the PAYMENT_* vars only to answer GET/PUT /admin/payments/provider with the settings in force.
export type ApiBindings = Pick<
  Bindings,
  | 'DB'
  | 'PAYMENTS_QUEUE'
  | 'EVENTS_QUEUE'
  | 'PAYMENTS_WORKER'
  | 'SHIPPING_WORKER'
  | 'AUTH_SECRET'
  | 'PAYMENT_LATENCY_MS'
  | 'PAYMENT_SLOW_MS'
  | 'PAYMENT_FAILURE_RATE'
  | 'MAX_IN_FLIGHT'
  | 'CORS_ORIGINS'
  | 'LOG_LEVEL'
>;
export type PaymentsBindings = Pick<
  Bindings,
  'DB' | 'PAYMENTS_QUEUE' | 'EVENTS_QUEUE' | 'PAYMENT_LATENCY_MS' | 'PAYMENT_SLOW_MS' | 'PAYMENT_FAILURE_RATE' | 'LOG_LEVEL'
>;
export type ShippingBindings = Pick<Bindings, 'DB' | 'LOG_LEVEL'>;

/** A numeric setting from `vars` (strings on the platform), or the default when unset or not a number. */
export function numberVar(value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const parsed = Number(value);
  return Number.isFinite(parsed) ? parsed : fallback;
}

/** A comma-separated var as a list (blank entries dropped), as CORS_ORIGINS reads on the Node servers. */
export function listVar(value: string | undefined): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
