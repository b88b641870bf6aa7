import { Hono } from 'hono';
import { AppError, DependencyError } from '@archbench/domain/errors';
import type { Logger } from '@archbench/observability/logging';
import type { InternalHttpClient } from '../http-client';
import { COMMAND_TARGET, EVENT_SUBSCRIBERS, PoisonMessageError, parseCommand, parseEvent } from '../messages';
import type { Command, MessageHeaders, ReplyOf, ServiceEvent } from '../messages';
import { refusedAsPoison } from './poison';
import type { Handlers, SendOptions, Transport } from './types';

export interface HttpTransportOptions {
  /** Knows every service's URL; propagates trace context and counts internal calls. */
  client: InternalHttpClient;
  /**
   * Logs an event a subscriber refused as poison (422), which is dropped, as RabbitMQ dead-letters
   * it. A command refused so fails with PoisonCommandError (not resent here; the saga decides).
   */
  logger?: Logger;
}

/** What a receiver answers a message that no retry can fix (a PoisonMessageError, a body that is not a message). */
const POISON_STATUS = 422;

/**
 * Commands as `POST /internal/commands` and events as `POST /internal/events` on the target
 * service, over the keep-alive pools of InternalHttpClient (timeouts, retries with backoff).
 * @example const transport = createHttpTransport({ client })
 */
export function createHttpTransport({ client, logger }: HttpTransportOptions): Transport {
  return {
    kind: 'http',
    async send<C extends Command>(command: C, options: SendOptions = {}): Promise<ReplyOf<C>> {
      const target = COMMAND_TARGET[command.type];
      const response = await client.request(target, {
        method: 'POST',
        path: '/internal/commands',
        body: JSON.stringify(command),
        retry: 'always',
        timeoutMs: options.timeoutMs,
        attempts: options.attempts,
      });
      if (response.status === POISON_STATUS) {
        // Poison: the service cannot take this command (until it is fixed). Not resent here, as the
        // AMQP consumer dead-letters it and sends a poison reply; the saga gives up a refused charge
        // and resends a refused compensation.
        throw refusedAsPoison(target, command, response.text);
      }
      if (response.status !== 200) {
        throw new DependencyError(target, `${command.type} ${command.id} answered ${response.status}: ${response.text.slice(0, 200)}`);
      }
      return JSON.parse(response.text) as ReplyOf<C>;
    },
    async publish(event: ServiceEvent): Promise<void> {
      for (const subscriber of EVENT_SUBSCRIBERS[event.type]) {
        const response = await client.request(subscriber, { method: 'POST', path: '/internal/events', body: JSON.stringify(event), retry: 'always' });
        if (response.status === POISON_STATUS) {
          // Poison: resending cannot fix it. Handed over (the relay marks it sent) and logged, as the
          // AMQP consumer dead-letters it at once; the relay would otherwise resend it forever.
          logger?.error(
            { subscriber, eventId: event.id, type: event.type, status: response.status, detail: response.text.slice(0, 200) },
            'event refused as poison; dead-lettered (dropped)',
          );
          continue;
        }
        if (response.status >= 300) throw new DependencyError(subscriber, `${event.type} ${event.id} answered ${response.status}`);
      }
    },
    async listen() {
      // HTTP receives through internalRoutes(), mounted by each service's app.
    },
    healthy: () => true,
    async stopReceiving() {
      // Commands and events arrive as HTTP requests: the server stopped taking them and drained them already.
    },
    async close() {
      await client.close();
    },
  };
}

/**
 * The receiving side of the HTTP transport, mounted by every service app. A handler that throws
 * answers 500 (the sender retries); a body that is not a message, or a handler's
 * PoisonMessageError (a message this service cannot take), answers 422 (no retry: the sender
 * drops an event and fails a command with PoisonCommandError, as RabbitMQ dead-letters them).
 */
export function internalRoutes(handlers: Handlers) {
  return new Hono()
    .post('/internal/commands', async (c) => {
      if (!handlers.command) throw new AppError('not-found', 'this service takes no commands');
      const body: unknown = await c.req.json().catch(() => null);
      const command = await asMessage(() => parseCommand(body));
      const { command: handle } = handlers;
      return c.json(await asMessage(() => handle(command, c.req.header() as MessageHeaders)));
    })
    .post('/internal/events', async (c) => {
      if (!handlers.event) throw new AppError('not-found', 'this service takes no events');
      const body: unknown = await c.req.json().catch(() => null);
      const event = await asMessage(() => parseEvent(body));
      const { event: handle } = handlers;
      await asMessage(() => handle(event, c.req.header() as MessageHeaders));
      return c.body(null, 204);
    });
}

/** Runs `work`, turning a PoisonMessageError into 422 validation-failed (POISON_STATUS). */
async function asMessage<T>(work: () => T | Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PoisonMessageError) throw new AppError('validation-failed', error.message);
    throw error;
  }
}
