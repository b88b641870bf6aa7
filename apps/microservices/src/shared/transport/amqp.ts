import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { DependencyError } from '@archbench/observability/errors';
import { withConsumerSpan, withProducerSpan } from '@archbench/observability/tracing';
import type { ServiceName } from '../../env';
import { backoff } from '../http-client';
import type { Observability } from '../service-app';
import { COMMAND_TARGET, EVENT_SUBSCRIBERS, PoisonMessageError, parseCommand, parseEvent } from '../messages';
import type { Command, DomainEvent, MessageHeaders, Reply, ReplyOf } from '../messages';
import type { Handlers, SendOptions, Transport } from './types';

export interface AmqpTransportOptions {
  url: string;
  /** Prefix of every queue and exchange name. */
  prefix: string;
  /** The process using the transport (names its reply queue). */
  self: ServiceName | 'gateway';
  prefetch: number;
  /** Deliveries of one message before it goes to the dead-letter queue. */
  maxDeliveries: number;
  timeoutMs: number;
  attempts: number;
  /** Logger; producer/consumer spans carry the trace through the broker; sends count as internal calls. */
  obs: Observability;
  /** Called when the broker connection is lost for good; the process should exit and be restarted. */
  onFatal?: (error: Error) => void;
}

/** Every queue and exchange name for a prefix, so setup and test cleanup agree. */
export function amqpNames(prefix: string) {
  return {
    events: `${prefix}.events`,
    dlx: `${prefix}.dlx`,
    dlq: `${prefix}.dlq`,
    commands: (service: string) => `${prefix}.${service}.commands`,
    eventQueue: (service: string) => `${prefix}.${service}.events`,
    replies: (service: string) => `${prefix}.${service}.replies`,
  };
}

const DELIVERIES_HEADER = 'x-archbench-deliveries';

/**
 * Saga commands and replies on durable queues, events on a topic exchange, RabbitMQ style:
 * publisher confirms on every message, a prefetch limit per consumer, and a dead-letter exchange
 * + queue for messages that fail `maxDeliveries` times or are not messages at all.
 * @example const transport = await createAmqpTransport({ url, prefix: 'archbench', self: 'orders', ... })
 */
export async function createAmqpTransport(options: AmqpTransportOptions): Promise<Transport> {
  const names = amqpNames(options.prefix);
  const { logger, tracing, metrics } = options.obs;
  const connection: ChannelModel = await connect(options.url);
  let open = true;
  let closing = false;
  connection.on('error', (error: Error) => logger.error({ err: error }, 'AMQP connection error'));
  connection.on('close', (error?: Error) => {
    open = false;
    if (!closing) options.onFatal?.(error ?? new Error('AMQP connection closed'));
  });
  const publisher: ConfirmChannel = await connection.createConfirmChannel();
  const consumer: Channel = await connection.createChannel();
  await consumer.prefetch(options.prefetch);

  const queueOptions: Options.AssertQueue = { durable: true, deadLetterExchange: names.dlx };
  await publisher.assertExchange(names.dlx, 'fanout', { durable: true });
  await publisher.assertQueue(names.dlq, { durable: true });
  await publisher.bindQueue(names.dlq, names.dlx, '');
  await publisher.assertExchange(names.events, 'topic', { durable: true });
  // Declared by every process, so a message sent before its consumer started is kept, not dropped.
  for (const target of new Set(Object.values(COMMAND_TARGET))) await publisher.assertQueue(names.commands(target), queueOptions);
  for (const [type, subscribers] of Object.entries(EVENT_SUBSCRIBERS)) {
    for (const subscriber of subscribers) {
      await publisher.assertQueue(names.eventQueue(subscriber), queueOptions);
      await publisher.bindQueue(names.eventQueue(subscriber), names.events, type);
    }
  }

  const publishConfirmed = (exchange: string, routingKey: string, content: Buffer, properties: Options.Publish): Promise<void> =>
    new Promise((resolve, reject) => {
      publisher.publish(exchange, routingKey, content, { persistent: true, contentType: 'application/json', ...properties }, (error) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(),
      );
    });

  const pending = new Map<string, { resolve: (reply: Reply) => void }>();
  let replies: Promise<string> | undefined;
  const replyQueue = (): Promise<string> => {
    replies ??= (async () => {
      const queue = names.replies(options.self);
      await publisher.assertQueue(queue, { durable: true });
      await consumer.consume(
        queue,
        (message) => {
          if (!message) return;
          const waiter = pending.get(message.properties.correlationId as string);
          // Replies to a previous life of this process (or to an attempt already answered) are dropped.
          if (!waiter) return;
          try {
            waiter.resolve(JSON.parse(message.content.toString('utf8')) as Reply);
          } catch (error) {
            logger.warn({ err: error }, 'unreadable reply dropped');
          }
        },
        { noAck: true },
      );
      return queue;
    })();
    return replies;
  };

  const inFlight = new Set<Promise<void>>();
  const consumerTags: string[] = [];

  async function deliver(queue: string, message: ConsumeMessage, handle: (data: unknown, headers: MessageHeaders) => Promise<Reply | void>) {
    const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
    const deliveries = Number(headers[DELIVERIES_HEADER] ?? 0) + 1;
    try {
      let data: unknown;
      try {
        data = JSON.parse(message.content.toString('utf8'));
      } catch {
        throw new PoisonMessageError('message body is not JSON');
      }
      const reply = await withConsumerSpan(queue, headers, () => handle(data, stringHeaders(headers)), { tracing });
      if (reply !== undefined && message.properties.replyTo) {
        await publishConfirmed('', message.properties.replyTo as string, Buffer.from(JSON.stringify(reply)), {
          correlationId: message.properties.correlationId as string,
          persistent: false,
        });
      }
      consumer.ack(message);
    } catch (error) {
      if (closing) return; // unacked: the broker redelivers to the next consumer
      if (error instanceof PoisonMessageError || deliveries >= options.maxDeliveries) {
        logger.error({ err: error, queue, deliveries, messageId: message.properties.messageId }, 'message dead-lettered');
        consumer.nack(message, false, false);
        return;
      }
      logger.warn({ err: error, queue, deliveries, messageId: message.properties.messageId }, 'message failed; retrying');
      await backoff(deliveries, 100, 2000);
      await publishConfirmed('', queue, message.content, { ...message.properties, headers: { ...headers, [DELIVERIES_HEADER]: deliveries } });
      consumer.ack(message);
    }
  }

  async function consume(queue: string, handle: (data: unknown, headers: MessageHeaders) => Promise<Reply | void>) {
    const { consumerTag } = await consumer.consume(queue, (message) => {
      if (!message) return;
      const work = deliver(queue, message, handle).catch((error: unknown) => logger.error({ err: error, queue }, 'message handling failed'));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    });
    consumerTags.push(consumerTag);
  }

  return {
    kind: 'amqp',
    async send<C extends Command>(command: C, sendOptions: SendOptions = {}): Promise<ReplyOf<C>> {
      const replyTo = await replyQueue();
      const target = COMMAND_TARGET[command.type];
      const attempts = sendOptions.attempts ?? options.attempts;
      const timeoutMs = sendOptions.timeoutMs ?? options.timeoutMs;
      // One correlation id for all attempts, so a late reply to an earlier attempt still counts.
      const correlationId = randomUUID();
      const answer = new Promise<Reply>((resolve) => pending.set(correlationId, { resolve }));
      try {
        for (let attempt = 1; attempt <= attempts; attempt++) {
          const queue = names.commands(target);
          await withProducerSpan(
            queue,
            (headers) => publishConfirmed('', queue, Buffer.from(JSON.stringify(command)), { replyTo, correlationId, messageId: command.id, type: command.type, headers }),
            { tracing, metrics, attributes: { 'messaging.message.id': command.id } },
          );
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
          const result = await Promise.race([answer, timeout]);
          clearTimeout(timer);
          if (result !== 'timeout') return result as ReplyOf<C>;
        }
        throw new DependencyError(target, `${command.type} ${command.id}: no reply from ${target} after ${attempts} attempts of ${timeoutMs} ms`);
      } finally {
        pending.delete(correlationId);
      }
    },
    async publish(event: DomainEvent): Promise<void> {
      await withProducerSpan(
        names.events,
        (headers) => publishConfirmed(names.events, event.type, Buffer.from(JSON.stringify(event)), { messageId: event.id, type: event.type, headers }),
        { tracing, metrics, attributes: { 'messaging.message.id': event.id } },
      );
    },
    async listen(service: ServiceName, handlers: Handlers): Promise<void> {
      const { command, event } = handlers;
      if (command) await consume(names.commands(service), (data, headers) => command(parseCommand(data), headers));
      if (event) await consume(names.eventQueue(service), (data, headers) => event(parseEvent(data), headers));
    },
    healthy: () => open,
    async close() {
      closing = true;
      for (const tag of consumerTags) await consumer.cancel(tag).catch(() => undefined);
      await Promise.allSettled([...inFlight]);
      await connection.close().catch(() => undefined);
    },
  };
}

function stringHeaders(headers: Record<string, unknown>): MessageHeaders {
  const out: MessageHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (typeof value === 'string') out[name] = value;
  return out;
}

/** Deletes every queue and exchange of a prefix (tests use a prefix unique to the run). */
export async function deleteAmqpTopology(url: string, prefix: string): Promise<void> {
  const names = amqpNames(prefix);
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    const services = ['inventory', 'orders', 'payments', 'shipping', 'gateway'];
    for (const service of services) {
      for (const queue of [names.commands(service), names.eventQueue(service), names.replies(service)]) await channel.deleteQueue(queue);
    }
    await channel.deleteQueue(names.dlq);
    await channel.deleteExchange(names.events);
    await channel.deleteExchange(names.dlx);
    await channel.close();
  } finally {
    await connection.close();
  }
}
