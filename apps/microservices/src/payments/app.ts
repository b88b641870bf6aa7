import type { Kysely } from 'kysely';
import type { Logger } from '@archbench/observability/logging';
import { ping } from '@archbench/server-kit/db';
import type { Env } from '../env';
import { createServiceApp } from '../shared/service-app';
import { internalRoutes } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { createPaymentsRepository } from './repository';
import { paymentsRoutes } from './routes';
import type { PaymentsTables } from './schema';
import { createPayments } from './service';

export interface PaymentsAppDeps {
  env: Env;
  db: Kysely<PaymentsTables>;
  logger: Logger;
  transport: Transport;
  internalToken: string;
  onOutcome?: (kind: 'charge' | 'refund', outcome: string) => void;
}

/** The payments service: charge/refund commands behind a circuit breaker, admin payment records. */
export function createPaymentsApp({ env, db, logger, transport, internalToken, onOutcome }: PaymentsAppDeps) {
  const payments = createPayments({
    repo: createPaymentsRepository(db),
    provider: { latencyMs: env.PAYMENT_LATENCY_MS, slowMs: env.PAYMENT_SLOW_MS, failureRate: env.PAYMENT_FAILURE_RATE },
    timeoutMs: env.PAYMENT_TIMEOUT_MS,
    breaker: {
      windowMs: env.PAYMENT_BREAKER_WINDOW_MS,
      minimumCalls: env.PAYMENT_BREAKER_MIN_CALLS,
      failureRate: env.PAYMENT_BREAKER_FAILURE_RATE,
      openMs: env.PAYMENT_BREAKER_OPEN_MS,
    },
    logger,
    onOutcome,
  });
  const app = createServiceApp({ service: 'payments', logger, internalToken, checks: { database: () => ping(db), transport: () => transport.healthy() } });
  app.route('/', paymentsRoutes(payments));
  app.route('/', internalRoutes({ command: (command) => payments.handle(command) }));
  return { app, payments, start: () => transport.listen('payments', { command: (command) => payments.handle(command) }) };
}
