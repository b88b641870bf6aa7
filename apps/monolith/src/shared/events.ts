import type { Logger } from '@archbench/observability/logging';

/** Domain events that cross module boundaries inside the monolith. */
export type DomainEvent =
  | { type: 'OrderConfirmed'; orderId: string; customerId: string; totalCents: number }
  | { type: 'OrderCancelled'; orderId: string; customerId: string };

type Handler<E extends DomainEvent> = (event: E) => Promise<void> | void;

/**
 * In-process event bus. Events are published only after the transaction that caused them
 * committed, so a subscriber never sees an event for a rolled-back change. Handlers run
 * sequentially; a failing handler is logged and does not fail the publisher.
 */
export class EventBus {
  readonly #handlers = new Map<DomainEvent['type'], Handler<DomainEvent>[]>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  subscribe<T extends DomainEvent['type']>(type: T, handler: Handler<Extract<DomainEvent, { type: T }>>): void {
    const list = this.#handlers.get(type) ?? [];
    list.push(handler as Handler<DomainEvent>);
    this.#handlers.set(type, list);
  }

  async publish(event: DomainEvent): Promise<void> {
    for (const handler of this.#handlers.get(event.type) ?? []) {
      try {
        await handler(event);
      } catch (error) {
        this.#logger.error({ err: error, event: event.type, orderId: event.orderId }, 'event handler failed');
      }
    }
  }
}

let lastMs = 0;
let lastIso = new Date(0).toISOString();

/** The current time as ISO 8601; formatted once per millisecond (an order stamps it several times). */
export const nowIso = (): string => {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastIso = new Date(now).toISOString();
  }
  return lastIso;
};
