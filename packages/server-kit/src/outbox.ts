import type { Logger } from '@archbench/observability/logging';
import { withConsumerSpan } from '@archbench/observability/tracing';
import type { Tracing } from '@archbench/observability/tracing';

/** An outbox row as the relay reads it: the event as JSON and the trace context of the change that wrote it. */
export interface OutboxRow {
  id: string;
  payload: string;
  /** W3C trace context (JSON), so delivery continues the trace of the change. */
  headers: string;
  created_at: string;
}

export interface OutboxRelayOptions<E> {
  /**
   * Up to `limit` events not handed over yet, in id (creation) order. Each app keeps its own
   * outbox table and queries (ADR 0003); the relay only needs these two.
   */
  unpublished: (limit: number) => Promise<readonly OutboxRow[]>;
  /** Marks these events handed over (once per round, for the events delivered in it). */
  markPublished: (ids: readonly string[]) => Promise<void>;
  /** Hands an event over; resolves once it was taken (HTTP answer, broker confirm), throws otherwise. */
  publish: (event: E) => Promise<void>;
  /** Name of the consumer span of each delivery, e.g. `orders.outbox`. */
  spanName: string;
  logger: Logger;
  tracing?: Tracing;
  /** Poll interval when nothing kicks the relay, ms. */
  intervalMs: number;
  /** Age of the oldest event not handed over yet, seconds (0 when none), at every round. */
  onLag?: (seconds: number) => void;
  /** Events read per round. Default 100. */
  batch?: number;
  /**
   * Hand-overs in flight at once. Default 16. One at a time, a hand-over's round trip bounds the
   * relay to a few hundred events a second, fewer than a core takes orders, and the outbox falls
   * behind for as long as checkout lasts. Consumers must accept events out of order (shipping does:
   * its inbox applies each event once and confirm and cancel commute); 1 keeps strict id order.
   */
  concurrency?: number;
}

/**
 * Delivers outbox events, started in id (creation) order with up to `concurrency` in flight, and
 * marks those handed over in one write per round. A failure stops the round (no new hand-over
 * starts; those in flight finish) and the rest is retried at the next tick or kick: at least
 * once, never lost; consumers apply each event id once (their inbox). A crash before the mark
 * only means those events are sent again.
 * @example const relay = createOutboxRelay({ unpublished, markPublished, publish, spanName: 'orders.outbox', logger, intervalMs: 250 }); relay.start(); relay.kick()
 */
export function createOutboxRelay<E>({
  unpublished,
  markPublished,
  publish,
  spanName,
  logger,
  tracing,
  intervalMs,
  onLag,
  batch: size = 100,
  concurrency = 16,
}: OutboxRelayOptions<E>) {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`outbox relay concurrency must be a whole number ≥ 1, got ${concurrency}`);
  let running: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  async function drain(): Promise<void> {
    do {
      again = false;
      const batch = await unpublished(size);
      onLag?.(batch[0] ? Math.max(0, (Date.now() - Date.parse(batch[0].created_at)) / 1000) : 0);
      const delivered: string[] = [];
      let next = 0;
      let failed: { error: unknown; eventId: string } | undefined;
      // `concurrency` lanes take the batch's rows in id order until it is done or one fails.
      const lane = async (): Promise<void> => {
        while (!failed && next < batch.length) {
          const row = batch[next++]!;
          try {
            const event = JSON.parse(row.payload) as E;
            // Delivered inside the trace of the change that wrote it, so one order is one trace.
            await withConsumerSpan(spanName, JSON.parse(row.headers) as Record<string, unknown>, () => publish(event), { tracing, system: 'outbox' });
            delivered.push(row.id);
          } catch (error) {
            failed ??= { error, eventId: row.id };
          }
        }
      };
      // A lane never throws: a failed hand-over only stops the lanes, so what was delivered is marked.
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, lane));
      if (delivered.length > 0) await markPublished(delivered);
      if (failed) {
        failures++;
        if (failures === 1 || failures % 20 === 0)
          logger.warn({ err: failed.error, eventId: failed.eventId, failures }, 'outbox relay could not hand over an event; retrying');
        return;
      }
      failures = 0;
      if (batch.length === size) again = true;
    } while (again);
  }

  /** Starts a delivery round now (or right after the one running); resolves when it ends. */
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
    /** Delivers now and then every `intervalMs` (the timer never keeps the process alive). */
    start(): void {
      timer ??= setInterval(() => void kick(), intervalMs);
      timer.unref();
      void kick();
    },
    /** Stops the timer and waits for the round running. */
    async stop(): Promise<void> {
      if (timer) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
