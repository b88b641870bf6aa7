import type { MessageBatch } from '@cloudflare/workers-types';
import { Hono } from 'hono';
import type { ShippingBindings } from '../../shared/bindings';
import { createLogger } from '../../shared/log';
import { meteredD1 } from '../../shared/metered-d1';
import { OrderEvent, parseMessage } from '../../shared/messages';
import { createWorkerMetrics } from '../../shared/metrics';
import { observeWorker } from '../../shared/observe';
import { CONSUMER_SETTINGS } from '../../topology';
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
      await Promise.all(
        batch.messages.map(async (message) => {
          try {
            await shipping.handle(parseMessage(OrderEvent, message.body));
            message.ack();
            metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'ack' });
          } catch (error) {
            logger.error({ err: error, messageId: message.id, attempts: message.attempts }, 'shipping step failed; message will be retried');
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
