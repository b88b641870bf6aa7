import type { MessageBatch } from '@cloudflare/workers-types';
import { Hono } from 'hono';
import type { ShippingBindings } from '../../shared/bindings';
import { createLogger } from '../../shared/log';
import { meteredD1 } from '../../shared/metered-d1';
import { OrderEvent, parseMessage } from '../../shared/messages';
import { createWorkerMetrics } from '../../shared/metrics';
import { observeWorker } from '../../shared/observe';
import { createShipping } from './service';

const SERVICE = 'serverless-shipping';
const metrics = createWorkerMetrics(SERVICE);

/** The bindings with D1 metered into this worker's registry (rows read/written per invocation). */
const metered = (env: ShippingBindings): ShippingBindings => ({ ...env, DB: meteredD1(env.DB, (usage) => metrics.d1(usage)) });

const app = new Hono<{ Bindings: ShippingBindings }>();
observeWorker(app, { service: SERVICE, metrics, logger: (c) => createLogger(SERVICE, (c.env as ShippingBindings).LOG_LEVEL) });

/** Shipping: consumes OrderConfirmed / OrderCancelled; retried, then dead-lettered, like the payment step. */
export default {
  fetch: app.fetch,

  async queue(batch: MessageBatch<unknown>, rawEnv: ShippingBindings): Promise<void> {
    const started = Date.now();
    const env = metered(rawEnv);
    const logger = createLogger(SERVICE, env.LOG_LEVEL);
    const shipping = createShipping(env.DB);
    try {
      const parsed = batch.messages.map((message) => {
        try {
          return parseMessage(OrderEvent, message.body);
        } catch (error) {
          return error as Error;
        }
      });
      let failure: unknown;
      try {
        await shipping.handle(parsed.filter((p): p is OrderEvent => !(p instanceof Error)));
      } catch (error) {
        failure = error;
      }
      batch.messages.forEach((message, i) => {
        const error = parsed[i] instanceof Error ? parsed[i] : failure;
        if (error === undefined) {
          message.ack();
          metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'ack' });
          return;
        }
        logger.error({ err: error, messageId: message.id, attempts: message.attempts }, 'shipping step failed; message will be retried');
        // The consumer's retry_delay applies (same setting locally and in wrangler*.jsonc).
        message.retry();
        metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'retry' });
      });
    } finally {
      metrics.invocation('queue', (Date.now() - started) / 1000);
    }
  },
};
