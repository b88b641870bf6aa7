import type { Kysely } from 'kysely';
import type { DomainEvent } from '@archbench/microservices/messages';
import type { Logger } from '@archbench/observability/logging';
import type { Tracing } from '@archbench/observability/tracing';
import { createOutboxRelay as createRelay } from '@archbench/server-kit/outbox';
import { prepareQuery } from '@archbench/server-kit/prepared';
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

/**
 * The core's outbox relay: the shared relay (`@archbench/server-kit/outbox`, the one the
 * microservices' orders service runs too) over the core's `outbox` table. Events go in id
 * (creation) order; the shipping service applies each event id once (its inbox).
 * @example const relay = createOutboxRelay({ db, publish, logger }); relay.start(); relay.kick()
 */
export function createOutboxRelay({ db: moduleDb, publish, logger, tracing, intervalMs = 250, onLag }: OutboxRelayOptions) {
  const db = withOutbox(moduleDb);
  // Run at every kick and tick: compiled once.
  const unpublished = prepareQuery(db, (q, $: { limit: number }) =>
    q.selectFrom('outbox').select(['id', 'payload', 'headers', 'created_at']).where('published_at', 'is', null).orderBy('id').limit($.limit),
  );
  const relay = createRelay<DomainEvent>({
    unpublished: (limit) => unpublished.execute(db, { limit }),
    markPublished: async (ids) => {
      await db.updateTable('outbox').set({ published_at: new Date().toISOString() }).where('id', 'in', ids).execute();
    },
    publish,
    spanName: 'core.outbox',
    logger,
    tracing,
    intervalMs,
    onLag,
  });
  return {
    ...relay,
    /** Events not yet handed over (readiness detail, tests). */
    async backlog(): Promise<number> {
      const row = await db
        .selectFrom('outbox')
        .select((eb) => eb.fn.countAll<string | number>().as('n'))
        .where('published_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
