import type { Kysely } from 'kysely';
import type { PaymentResult } from '@archbench/observability/metrics';
import { ping } from '@archbench/server-kit/db';
import type { Env } from '../env';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { observedDb } from '../shared/database';
import { bindService } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { createPaymentsRepository } from './repository';
import { paymentsRoutes } from './routes';
import type { PaymentsTables } from './schema';
import { createPayments } from './service';

export interface PaymentsAppDeps {
  env: Env;
  db: Kysely<PaymentsTables>;
  obs: Observability;
  dialect: 'sqlite' | 'postgres';
  transport: Transport;
  internalToken: string;
}

/** The payments service: charge/refund commands behind a circuit breaker, admin payment records. */
const RESULTS: Record<string, PaymentResult> = { SUCCEEDED: 'succeeded', DECLINED: 'declined', FAILED: 'failed', UNAVAILABLE: 'failed' };

export function createPaymentsApp({ env, db: rawDb, obs, dialect, transport, internalToken }: PaymentsAppDeps) {
  const { logger, metrics } = obs;
  const payments = createPayments({
    repo: createPaymentsRepository(observedDb(rawDb, obs, dialect)),
    provider: { latencyMs: env.PAYMENT_LATENCY_MS, slowMs: env.PAYMENT_SLOW_MS, failureRate: env.PAYMENT_FAILURE_RATE },
    timeoutMs: env.PAYMENT_TIMEOUT_MS,
    breaker: {
      windowMs: env.PAYMENT_BREAKER_WINDOW_MS,
      minimumCalls: env.PAYMENT_BREAKER_MIN_CALLS,
      failureRate: env.PAYMENT_BREAKER_FAILURE_RATE,
      openMs: env.PAYMENT_BREAKER_OPEN_MS,
    },
    logger,
    onOutcome: (kind, outcome) => {
      if (kind === 'refund') metrics?.paymentsTotal.inc({ result: outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
      else metrics?.paymentsTotal.inc({ result: RESULTS[outcome] ?? 'failed' });
    },
  });
  const app = createServiceApp({ service: 'payments', ...obs, internalToken, checks: { database: () => ping(rawDb), transport: () => transport.healthy() } });
  app.route('/', paymentsRoutes(payments));
  return { app, payments, start: bindService(app, transport, 'payments', { command: (command) => payments.handle(command) }) };
}
