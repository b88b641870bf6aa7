import type { DomainEvent } from '@archbench/domain/orders';
import type { Logger } from '@archbench/observability/logging';

// One definition for every topology, so the monolith and the orders service cannot drift apart.
export type { DomainEvent } from '@archbench/domain/orders';
export { nowIso } from '@archbench/domain/ids';

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
