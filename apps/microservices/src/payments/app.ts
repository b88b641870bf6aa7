import type { Kysely } from 'kysely';
import type { PaymentProvider } from '@archbench/domain/payment-provider';
import type { PaymentResult } from '@archbench/observability/metrics';
import { ping } from '@archbench/server-kit/db';
import { createOutboxRelay } from '@archbench/server-kit/outbox';
import { unroutedHandler } from '@archbench/server-kit/http';
import type { Env } from '../env';
import type { ServiceEvent } from '../shared/messages';
import { createServiceApp } from '../shared/service-app';
import type { Observability } from '../shared/service-app';
import { observedDb } from '../shared/database';
import { bindService } from '../shared/transport';
import type { Transport } from '../shared/transport';
import { outboxLag } from './outbox-lag';
import { registerRefundAge } from './refund-age';
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
  /** A provider to use instead of one built from PAYMENT_* (tests). */
  providerInstance?: PaymentProvider;
}

/** The payments service: charge/refund commands behind a circuit breaker, admin payment records. */
const RESULTS: Record<string, PaymentResult> = { SUCCEEDED: 'succeeded', DECLINED: 'declined', FAILED: 'failed', UNAVAILABLE: 'failed' };

/**
 * How often the payments outbox relay looks for events on its own, ms. Each event is written with a
 * late capture and the relay kicked then, so this only paces the retries of a hand-over that failed
 * (the orders service down): polling every 500 ms cost a query twice a second for a rare event.
 */
export const RELAY_RETRY_MS = 10_000;

export function createPaymentsApp({ env, db: rawDb, obs, dialect, transport, internalToken, providerInstance }: PaymentsAppDeps) {
  const { logger, metrics, tracing } = obs;
  const repo = createPaymentsRepository(observedDb(rawDb, obs, dialect));
  // archbench_outbox_lag_seconds{service="payments"}, as orders reports its relay's: kept current
  // between this relay's rare rounds (see outboxLag).
  const lag = metrics ? outboxLag((seconds) => metrics.outboxLagSeconds.set(seconds)) : undefined;
  // Payments' own events (LateCaptureRefunded, for the orders service): the relay the orders service runs too.
  const outboxRelay = createOutboxRelay<ServiceEvent>({
    unpublished: async (limit) => {
      const rows = await repo.unpublished(limit);
      return lag ? lag.read(rows, limit) : rows;
    },
    markPublished: async (ids) => {
      await repo.markPublished(ids);
      lag?.delivered(ids);
    },
    publish: (event) => transport.publish(event),
    spanName: 'payments.outbox',
    logger,
    tracing,
    // Every write kicks the relay (`kick`): the timer only retries a hand-over that failed.
    intervalMs: RELAY_RETRY_MS,
  });
  let relayStopped = false;
  /** Kicks the relay; nothing once it stopped (a late capture's refund finishing during shutdown leaves its event to the next start). */
  const relay = { kick: (): Promise<void> => (relayStopped ? Promise.resolve() : outboxRelay.kick()) };
  const payments = createPayments({
    repo,
    relay,
    provider: { latencyMs: env.PAYMENT_LATENCY_MS, slowMs: env.PAYMENT_SLOW_MS, failureRate: env.PAYMENT_FAILURE_RATE },
    providerInstance,
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
  // archbench_refund_oldest_pending_seconds, as the monolith's: a refund the provider keeps failing shows as a growing age.
  if (metrics) registerRefundAge(metrics, rawDb, logger);
  const app = createServiceApp({ service: 'payments', ...obs, internalToken, checks: { database: () => ping(rawDb), transport: () => transport.healthy() } });
  app.route('/', paymentsRoutes(payments));
  // A wrong method on one of its routes (admin, internal): 405 with Allow, as on the public API.
  app.notFound(unroutedHandler(app, obs));
  const listen = bindService(app, transport, 'payments', { command: (command) => payments.handle(command) });
  return {
    app,
    payments,
    /** Takes commands and starts the outbox relay (it sends what a previous process left unsent). */
    async start(): Promise<void> {
      await listen();
      outboxRelay.start();
    },
    /** Waits for the calls in flight, then stops the relay (unsent events wait for the next start). */
    async stop(): Promise<void> {
      await payments.drain();
      relayStopped = true;
      await outboxRelay.stop();
      lag?.stop();
    },
  };
}
