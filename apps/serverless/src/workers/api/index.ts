import type { ExecutionContext, MessageBatch } from '@cloudflare/workers-types';
import { newId } from '@archbench/domain/ids';
import type { ApiBindings } from '../../shared/bindings';
import { createLogger } from '../../shared/log';
import { meteredD1 } from '../../shared/metered-d1';
import { createWorkerMetrics } from '../../shared/metrics';
import { QUEUES } from '../../topology';
import { createApp } from './app';

const SERVICE = 'serverless-api';
const PROBES = /^\/(?:health|ready|metrics)$/;

// Module scope lives as long as the isolate: one app and one registry per isolate.
const metrics = createWorkerMetrics(SERVICE);

/** The bindings with D1 metered into this worker's registry (rows read/written per invocation). */
const metered = (env: ApiBindings): ApiBindings => ({ ...env, DB: meteredD1(env.DB, (usage) => metrics.d1(usage)) });

const app = createApp({ service: SERVICE, metrics });

/** Which queue a dead letter came from, told by its shape (the DLQ batch only names itself). */
function sourceQueue(body: unknown): string {
  if (body && typeof body === 'object') {
    if ('kind' in body) return QUEUES.payments;
    if ('type' in body) return QUEUES.orderEvents;
  }
  return 'unknown';
}

/**
 * The HTTP API worker: `fetch` is the Hono app; `queue` consumes the dead-letter queue and keeps
 * each message in D1 (GET /admin/dead-letters) so a failed saga step is visible, not lost.
 */
export default {
  async fetch(request: Request, env: ApiBindings, ctx: ExecutionContext): Promise<Response> {
    const started = Date.now();
    try {
      return await app.fetch(request, metered(env), ctx);
    } finally {
      if (!PROBES.test(new URL(request.url).pathname)) metrics.invocation('fetch', (Date.now() - started) / 1000);
    }
  },

  async queue(batch: MessageBatch<unknown>, rawEnv: ApiBindings): Promise<void> {
    const started = Date.now();
    const env = metered(rawEnv);
    const logger = createLogger(SERVICE, env.LOG_LEVEL);
    try {
      for (const message of batch.messages) {
        const queue = sourceQueue(message.body);
        try {
          await env.DB.prepare('INSERT INTO dead_letters (id, queue, body, attempts, received_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (id) DO NOTHING')
            .bind(message.id || newId('dlq'), queue, JSON.stringify(message.body ?? null), message.attempts, new Date().toISOString())
            .run();
          metrics.inc('deadLetters', { queue });
          metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'ack' });
          logger.error({ queue, messageId: message.id, body: message.body }, 'message dead-lettered after its retries');
          message.ack();
        } catch (error) {
          logger.error({ err: error, messageId: message.id }, 'could not record a dead letter; retrying');
          metrics.inc('queueConsumed', { queue: batch.queue, outcome: 'retry' });
          message.retry();
        }
      }
    } finally {
      metrics.invocation('queue', (Date.now() - started) / 1000);
    }
  },
};
