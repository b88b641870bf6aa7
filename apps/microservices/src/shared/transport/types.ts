import type { ServiceName } from '../../env';
import type { Command, CommandHandler, EventHandler, ReplyOf, ServiceEvent } from '../messages';

export interface SendOptions {
  /** Per-attempt timeout, ms. */
  timeoutMs?: number;
  /**
   * Attempts, including the first (default INTERNAL_ATTEMPTS); every command is idempotent, so
   * resending is safe. A saga step passes 1: the saga's own loop owns its retries, so the two
   * layers do not multiply (orders/service.ts, `command`).
   */
  attempts?: number;
}

export interface Handlers {
  command?: CommandHandler;
  event?: EventHandler;
}

/**
 * How services exchange saga commands (request/reply) and events. The saga code is the same for
 * both implementations; configuration picks HTTP (default) or RabbitMQ.
 */
export interface Transport {
  readonly kind: 'http' | 'amqp';
  /**
   * Sends a command to the service that owns it and waits for the reply. Throws PoisonCommandError
   * (not resent by the transport) when the receiver refused it as poison, a DependencyError on other failures.
   */
  send<C extends Command>(command: C, options?: SendOptions): Promise<ReplyOf<C>>;
  /** Delivers an event to every subscriber (at least once); throws when it could not be handed over. */
  publish(event: ServiceEvent): Promise<void>;
  /** Starts receiving commands/events for `service` (AMQP consumers; HTTP serves them via `internalRoutes`). */
  listen(service: ServiceName, handlers: Handlers): Promise<void>;
  /** True while the transport can carry messages (readiness). */
  healthy(): boolean;
  /**
   * At shutdown, before the process drains its work and closes its database: takes no more
   * commands or events (AMQP: cancels those consumers; the broker keeps what arrives for another
   * process) and waits for the ones being handled. Sending, and its replies, go on until `close`.
   */
  stopReceiving(): Promise<void>;
  close(): Promise<void>;
}
