import type { Kysely } from 'kysely';
import type { DomainEvent } from '@archbench/microservices/messages';
import type { Logger } from '@archbench/observability/logging';
import { withConsumerSpan } from '@archbench/observability/tracing';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { Tracing } from '@archbench/observability/tracing';
import { withOutbox } from '../db';
import type { Tables } from '../db';

export interface OutboxRelayOptions {
  db: Kysely<Tables>;
  /** Hands an event to the shipping service; resolves once it was taken (HTTP answer, broker confirm). */
  publish: (event: DomainEvent) => Promise<void>;
  logger: Logger;
  tracing?: Tracing;
  /** Poll interval when nothing kicks the relay, ms. */
  intervalMs?: number;
  /** Age of the oldest event not handed over yet, seconds (0 when none), at every round. */
  onLag?: (seconds: number) => void;
}

const BATCH = 100;

/**
 * Delivers outbox events in id (creation) order, one at a time, marking each published once
 * handed over. A failure stops the batch and is retried at the next tick: at least once, never
 * lost; the shipping service applies each event id once (its inbox).
 * @example const relay = createOutboxRelay({ db, publish, logger }); relay.start(); relay.kick()
 */
export function createOutboxRelay({ db: moduleDb, publish, logger, tracing, intervalMs = 250, onLag }: OutboxRelayOptions) {
  const db = withOutbox(moduleDb);
  // Run at every kick and tick: compiled once.
  const unpublished = prepareQuery(db, (q) =>
    q.selectFrom('outbox').select(['id', 'payload', 'headers', 'created_at']).where('published_at', 'is', null).orderBy('id').limit(BATCH),
  );
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  async function drain(): Promise<void> {
    do {
      again = false;
      const batch = await unpublished.execute(db, {});
      onLag?.(batch[0] ? Math.max(0, (Date.now() - Date.parse(batch[0].created_at)) / 1000) : 0);
      const delivered: string[] = [];
      try {
        for (const row of batch) {
          const event = JSON.parse(row.payload) as DomainEvent;
          // Delivered inside the trace of the change that wrote it, so one order is one trace.
          await withConsumerSpan('core.outbox', JSON.parse(row.headers) as Record<string, unknown>, () => publish(event), { tracing, system: 'outbox' });
          delivered.push(row.id);
          failures = 0;
        }
      } catch (error) {
        failures++;
        if (failures === 1 || failures % 20 === 0)
          logger.warn({ err: error, eventId: batch[delivered.length]?.id, failures }, 'outbox relay could not hand over an event; retrying');
        again = false;
      } finally {
        // One write for the batch; a crash before it only means those events are sent again.
        if (delivered.length > 0) await db.updateTable('outbox').set({ published_at: new Date().toISOString() }).where('id', 'in', delivered).execute();
      }
      if (delivered.length < batch.length) return;
      if (batch.length === BATCH) again = true;
    } while (again);
  }

  /** Starts a delivery round now (or right after the one running). */
  function kick(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = drain()
      .catch((error: unknown) => logger.error({ err: error }, 'outbox relay failed'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  return {
    kick,
    /** Events not yet handed over (readiness detail, tests). */
    async backlog(): Promise<number> {
      const row = await db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('published_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    start() {
      timer ??= setInterval(() => void kick(), intervalMs);
      timer.unref();
      void kick();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
