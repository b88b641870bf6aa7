import type { MessageBatch } from '@cloudflare/workers-types';
import { Hono } from 'hono';
import { PaymentProvider } from '@archbench/domain/payment-provider';
import type { PaymentsBindings } from '../../shared/bindings';
import { numberVar } from '../../shared/bindings';
import { createLogger } from '../../shared/log';
import { meteredD1 } from '../../shared/metered-d1';
import { PaymentCommand, parseMessage } from '../../shared/messages';
import { createWorkerMetrics } from '../../shared/metrics';
import { observeWorker } from '../../shared/observe';
import { CONSUMER_SETTINGS } from '../../topology';
import { RetryLaterError, createPaymentStep } from './service';

const SERVICE = 'serverless-payments';
const metrics = createWorkerMetrics(SERVICE);

/** The bindings with D1 metered into this worker's registry (rows read/written per invocation). */
const metered = (env: PaymentsBindings): PaymentsBindings => ({ ...env, DB: meteredD1(env.DB, (usage) => metrics.d1(usage)) });

let provider: PaymentProvider | undefined;

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

  async queue(batch: MessageBatch<unknown>, rawEnv: PaymentsBindings): Promise<void> {
    const started = Date.now();
    const env = metered(rawEnv);
    const logger = createLogger(SERVICE, env.LOG_LEVEL);
    provider ??= new PaymentProvider({
      latencyMs: numberVar(env.PAYMENT_LATENCY_MS, 0),
      slowMs: numberVar(env.PAYMENT_SLOW_MS, 1500),
      failureRate: numberVar(env.PAYMENT_FAILURE_RATE, 0),
    });
    const step = createPaymentStep({ env, provider, metrics, logger });
    try {
      await Promise.all(
        batch.messages.map(async (message) => {
          try {
            await step.handle(parseMessage(PaymentCommand, message.body), message.attempts);
            message.ack();
            metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'ack' });
          } catch (error) {
            const level = error instanceof RetryLaterError ? 'warn' : 'error';
            logger[level]({ err: error, messageId: message.id, attempts: message.attempts }, 'payment step failed; message will be retried');
            message.retry({ delaySeconds: CONSUMER_SETTINGS.retryDelay });
            metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'retry' });
          }
        }),
      );
    } finally {
      metrics.invocation('queue', (Date.now() - started) / 1000);
    }
  },
};
