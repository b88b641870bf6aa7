import type { MessageBatch, ScheduledController } from '@cloudflare/workers-types';
import { Hono } from 'hono';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import type { PaymentsBindings } from '../../shared/bindings';
import { createLogger } from '../../shared/log';
import { meteredD1 } from '../../shared/metered-d1';
import { PaymentCommand, parseMessage } from '../../shared/messages';
import { createWorkerMetrics } from '../../shared/metrics';
import { providerDefaults, readProviderSettings } from '../../shared/provider-settings';
import { observeWorker } from '../../shared/observe';
import { FULL_SWEEP_CRON, sweep } from './reconcile';
import { RetryLaterError, createPaymentStep } from './service';
import type { Outcome } from './service';

const SERVICE = 'serverless-payments';
const metrics = createWorkerMetrics(SERVICE);

/** The bindings with D1 metered into this worker's registry (rows read/written per invocation). */
const metered = (env: PaymentsBindings): PaymentsBindings => ({ ...env, DB: meteredD1(env.DB, (usage) => metrics.d1(usage)) });

/**
 * How long an isolate trusts the provider settings it read from D1: a switch (PUT
 * /admin/payments/provider on the API worker) takes effect within this, at one small read per
 * isolate per interval under load and none while idle.
 */
const PROVIDER_SETTINGS_TTL_MS = 500;

let cached: { key: string; provider: PaymentProvider; readAt: number } | undefined;

async function providerFor(env: PaymentsBindings): Promise<PaymentProvider> {
  if (cached && Date.now() - cached.readAt < PROVIDER_SETTINGS_TTL_MS) return cached.provider;
  const { provider: settings } = await readProviderSettings(env.DB, providerDefaults(env));
  const key = JSON.stringify(settings);
  // Unchanged settings keep the provider (and its reference sequence); changed ones replace it.
  cached = { key, provider: cached?.key === key ? cached.provider : new PaymentProvider(settings), readAt: Date.now() };
  return cached.provider;
}

async function stepFor(env: PaymentsBindings) {
  return createPaymentStep({ env, provider: await providerFor(env), metrics, logger: createLogger(SERVICE, env.LOG_LEVEL) });
}

/** Its own /health and /metrics (the API worker merges the metrics into its /metrics). */
const app = new Hono<{ Bindings: PaymentsBindings }>();
observeWorker(app, { service: SERVICE, metrics, logger: (c) => createLogger(SERVICE, (c.env as PaymentsBindings).LOG_LEVEL) });

/**
 * The payment step of the order saga: consumes charge and refund commands. Messages of a batch
 * run concurrently (a slow provider call must not hold up the others); each is acked on success
 * and retried on failure, and after the last retry the queue moves it to the dead-letter queue.
 */
export default {
  fetch: app.fetch,

  /** The Cron Triggers: sweep work the queues lost (see reconcile.ts). `@startup` (the local launcher) runs the full sweep on everything. */
  async scheduled(controller: ScheduledController, rawEnv: PaymentsBindings): Promise<void> {
    const started = Date.now();
    const env = metered(rawEnv);
    try {
      const startup = controller.cron === '@startup';
      // At start, scheduledTime is the launcher's start (before workerd ran): charges claimed before
      // it were cut off by the crash and are settled now, not 30 s later.
      const result = await sweep(env, await stepFor(env), metrics, {
        olderThanMs: startup ? 0 : undefined,
        full: startup || controller.cron === FULL_SWEEP_CRON,
        orphanedBefore: startup ? controller.scheduledTime : undefined,
      });
      if (result.charges + result.refunds + result.shipped + result.cancelled > 0)
        createLogger(SERVICE, env.LOG_LEVEL).warn({ ...result }, 'sweep resumed saga work the queues had lost');
    } finally {
      metrics.invocation('scheduled', (Date.now() - started) / 1000);
    }
  },

  async queue(batch: MessageBatch<unknown>, rawEnv: PaymentsBindings): Promise<void> {
    const started = Date.now();
    const env = metered(rawEnv);
    const logger = createLogger(SERVICE, env.LOG_LEVEL);
    try {
      const step = await stepFor(env);
      // Bodies that do not parse are poison: retried like any failure, then dead-lettered.
      const parsed = batch.messages.map((message) => {
        try {
          return { command: parseMessage(PaymentCommand, message.body), attempts: message.attempts };
        } catch (error) {
          return error as Error;
        }
      });
      const valid = parsed.filter((p): p is Exclude<typeof p, Error> => !(p instanceof Error));
      let outcomes: Outcome[];
      try {
        outcomes = await step.handle(valid);
      } catch (error) {
        // The batch's D1 round trip or send failed: every command is retried (each step is idempotent).
        outcomes = valid.map(() => error as Error);
      }
      let next = 0;
      batch.messages.forEach((message, i) => {
        const outcome = parsed[i] instanceof Error ? parsed[i] : outcomes[next++]!;
        if (outcome === 'ack') {
          message.ack();
          metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'ack' });
          return;
        }
        logger[outcome instanceof RetryLaterError ? 'warn' : 'error'](
          { err: outcome, messageId: message.id, attempts: message.attempts },
          'payment step failed; message will be retried',
        );
        // The consumer's retry_delay applies (same setting locally and in wrangler*.jsonc).
        message.retry();
        metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'retry' });
      });
    } finally {
      metrics.invocation('queue', (Date.now() - started) / 1000);
    }
  },
};
