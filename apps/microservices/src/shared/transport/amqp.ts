import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { DependencyError } from '@archbench/domain/errors';
import { withConsumerSpan, withProducerSpan } from '@archbench/observability/tracing';
import type { ServiceName } from '../../env';
import { backoff, backoffMs } from '../retry';
import type { Observability } from '../service-app';
import { COMMAND_TARGET, EVENT_SUBSCRIBERS, PoisonMessageError, parseCommand, parseEvent } from '../messages';
import type { Command, MessageHeaders, Reply, ReplyOf, ServiceEvent } from '../messages';
import { isPoisonReply, poisonReply, refusedAsPoison } from './poison';
import type { PoisonReply } from './poison';
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
  /** First wait before reconnecting after the connection is lost, ms (doubles per failed try, with jitter). */
  reconnectMinMs?: number;
  /** Longest wait between reconnect tries, ms. */
  reconnectMaxMs?: number;
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

/** One live connection with its two channels; replaced as a whole when any part of it fails. */
interface Link {
  connection: ChannelModel;
  publisher: ConfirmChannel;
  consumer: Channel;
}

type OnMessage = (channel: Channel, message: ConsumeMessage) => void;

/**
 * Saga commands and replies on durable queues, events on a topic exchange, RabbitMQ style:
 * publisher confirms on every message, a prefetch limit per consumer, and a dead-letter exchange
 * + queue for messages that fail `maxDeliveries` times or are not messages at all. A command
 * dead-lettered as poison is answered with a poison reply, so its `send` fails at once with
 * PoisonCommandError, as over HTTP (422).
 *
 * A lost connection (broker restart, network cut, forced close) is not fatal: the transport
 * reconnects with exponential backoff, declares the topology again and resumes every consumer.
 * Nothing is lost meanwhile: a publish is only done once the broker confirmed it (senders and the
 * outbox relay retry what was not), a delivery is acked only after its handler ran (the broker
 * redelivers the rest; handlers are idempotent), and replies wait in a durable queue.
 * @example const transport = await createAmqpTransport({ url, prefix: 'archbench', self: 'orders', ... })
 */
export async function createAmqpTransport(options: AmqpTransportOptions): Promise<Transport> {
  const names = amqpNames(options.prefix);
  const { logger, tracing, metrics } = options.obs;
  const reconnectMinMs = options.reconnectMinMs ?? 250;
  const reconnectMaxMs = options.reconnectMaxMs ?? 10_000;
  let link: Link | undefined;
  let closing = false;
  let reconnecting: Promise<void> | undefined;
  let waiters: Array<() => void> = [];
  /** Queues this process consumes, by name: subscribed again on every new connection. */
  const subscriptions = new Map<string, { onMessage: OnMessage; noAck: boolean }>();
  const consumerTags = new Map<string, string>();

  async function declareTopology(channel: ConfirmChannel): Promise<void> {
    const queueOptions: Options.AssertQueue = { durable: true, deadLetterExchange: names.dlx };
    await channel.assertExchange(names.dlx, 'fanout', { durable: true });
    await channel.assertQueue(names.dlq, { durable: true });
    await channel.bindQueue(names.dlq, names.dlx, '');
    await channel.assertExchange(names.events, 'topic', { durable: true });
    // Declared by every process, so a message sent before its consumer started is kept, not dropped.
    for (const target of new Set(Object.values(COMMAND_TARGET))) await channel.assertQueue(names.commands(target), queueOptions);
    for (const [type, subscribers] of Object.entries(EVENT_SUBSCRIBERS)) {
      for (const subscriber of subscribers) {
        await channel.assertQueue(names.eventQueue(subscriber), queueOptions);
        await channel.bindQueue(names.eventQueue(subscriber), names.events, type);
      }
    }
    await channel.assertQueue(names.replies(options.self), { durable: true });
  }

  async function subscribe(current: Link, queue: string, onMessage: OnMessage, noAck: boolean): Promise<void> {
    const { consumerTag } = await current.consumer.consume(
      queue,
      (message) => {
        if (message) onMessage(current.consumer, message);
      },
      { noAck },
    );
    consumerTags.set(queue, consumerTag);
  }

  /** Connects, opens both channels, declares the topology and resumes every consumer. */
  async function open(): Promise<Link> {
    // Named, so the broker's connection list says which process holds which connection.
    const connection = await connect(options.url, { clientProperties: { connection_name: `${options.prefix}.${options.self} (pid ${process.pid})` } });
    // Without a listener an 'error' event would crash the process; 'close' (below) handles it.
    connection.on('error', (error: Error) => logger.warn({ err: error }, 'AMQP connection error'));
    try {
      const publisher = await connection.createConfirmChannel();
      const consumer = await connection.createChannel();
      for (const channel of [publisher, consumer]) channel.on('error', (error: Error) => logger.warn({ err: error }, 'AMQP channel error'));
      await consumer.prefetch(options.prefetch);
      await declareTopology(publisher);
      const current: Link = { connection, publisher, consumer };
      for (const [queue, { onMessage, noAck }] of subscriptions) await subscribe(current, queue, onMessage, noAck);
      return current;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  function attach(current: Link): void {
    const lost = (error?: Error) => {
      if (link !== current) return;
      link = undefined;
      if (closing) return;
      logger.warn({ err: error }, 'AMQP connection lost; reconnecting');
      void reconnect();
    };
    current.connection.on('close', lost);
    // A channel closed by the broker (an error on it) takes the whole link down, so both channels
    // and every consumer come back together.
    for (const channel of [current.publisher, current.consumer]) {
      channel.on('close', () => {
        if (link !== current || closing) return;
        lost(new Error('AMQP channel closed'));
        void current.connection.close().catch(() => undefined);
      });
    }
    link = current;
    for (const wake of waiters.splice(0)) wake();
  }

  function reconnect(): Promise<void> {
    reconnecting ??= (async () => {
      for (let attempt = 1; !closing; attempt++) {
        await sleep(backoffMs(attempt, reconnectMinMs, reconnectMaxMs));
        if (closing) return;
        try {
          const current = await open();
          if (closing) {
            await current.connection.close().catch(() => undefined);
            return;
          }
          attach(current);
          logger.info({ attempt }, 'AMQP reconnected; topology declared, consumers resumed');
          return;
        } catch (error) {
          if (attempt === 1 || attempt % 10 === 0) logger.warn({ err: error, attempt }, 'AMQP reconnect failed; retrying');
        }
      }
    })().finally(() => {
      reconnecting = undefined;
    });
    return reconnecting;
  }

  /** The live link, waiting up to `waitMs` for a reconnect. */
  function current(waitMs = options.timeoutMs): Promise<Link> {
    if (link) return Promise.resolve(link);
    if (closing) return Promise.reject(new DependencyError('rabbitmq', 'the AMQP transport is closed'));
    return new Promise((resolve, reject) => {
      const wake = () => {
        clearTimeout(timer);
        resolve(link!);
      };
      const timer = setTimeout(() => {
        waiters = waiters.filter((w) => w !== wake);
        reject(new DependencyError('rabbitmq', `no connection to RabbitMQ for ${waitMs} ms; reconnecting`));
      }, waitMs);
      waiters.push(wake);
    });
  }

  attach(await open());

  const publishConfirmed = async (exchange: string, routingKey: string, content: Buffer, properties: Options.Publish): Promise<void> => {
    const { publisher } = await current();
    await new Promise<void>((resolve, reject) => {
      // A broker that neither confirms nor drops the connection (memory alarm, blocked) must not
      // hang the caller for ever: it gives up and retries (every message is idempotent).
      const timer = setTimeout(() => reject(new DependencyError('rabbitmq', `no publisher confirm within ${options.timeoutMs} ms`)), options.timeoutMs);
      try {
        // Throws at once on a closed channel; a confirm lost with the connection calls back with an error.
        publisher.publish(exchange, routingKey, content, { persistent: true, contentType: 'application/json', ...properties }, (error) => {
          clearTimeout(timer);
          if (error) reject(error instanceof Error ? error : new Error(String(error)));
          else resolve();
        });
      } catch (error) {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  };

  const pending = new Map<string, { resolve: (reply: Reply | PoisonReply) => void }>();
  let replies: Promise<string> | undefined;
  const replyQueue = (): Promise<string> => {
    replies ??= (async () => {
      const queue = names.replies(options.self);
      const onMessage: OnMessage = (_channel, message) => {
        const waiter = pending.get(message.properties.correlationId as string);
        // Replies to a previous life of this process (or to an attempt already answered) are dropped.
        if (!waiter) return;
        try {
          waiter.resolve(JSON.parse(message.content.toString('utf8')) as Reply | PoisonReply);
        } catch (error) {
          logger.warn({ err: error }, 'unreadable reply dropped');
        }
      };
      subscriptions.set(queue, { onMessage, noAck: true });
      // A link lost meanwhile is no failure here: the reconnect subscribes every registered queue.
      if (link)
        await subscribe(link, queue, onMessage, true).catch((error: unknown) => logger.warn({ err: error, queue }, 'consume failed; resumed on reconnect'));
      return queue;
    })();
    return replies;
  };

  const inFlight = new Set<Promise<void>>();

  /** Acks or nacks on the channel that delivered the message; on a dead channel the broker redelivers it anyway. */
  const settle = (channel: Channel, message: ConsumeMessage, ack: boolean) => {
    try {
      if (ack) channel.ack(message);
      else channel.nack(message, false, false);
    } catch {
      // The channel closed after the delivery: the message is requeued by the broker.
    }
  };

  async function deliver(queue: string, channel: Channel, message: ConsumeMessage, handle: (data: unknown, headers: MessageHeaders) => Promise<Reply | void>) {
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
      settle(channel, message, true);
    } catch (error) {
      if (closing) return; // unacked: the broker redelivers to the next consumer
      if (error instanceof PoisonMessageError || deliveries >= options.maxDeliveries) {
        logger.error({ err: error, queue, deliveries, messageId: message.properties.messageId }, 'message dead-lettered');
        // A command's sender waits for a reply: tell it the command is poison, so it fails at once
        // (PoisonCommandError) instead of timing out and sending another copy to dead-letter, as the
        // HTTP transport's 422 does. A command that kept failing gets none: like a 500 over HTTP, the
        // sender may try again.
        const { replyTo, correlationId } = message.properties as { replyTo?: string; correlationId?: string };
        if (error instanceof PoisonMessageError && replyTo) {
          await publishConfirmed('', replyTo, Buffer.from(JSON.stringify(poisonReply(error.message))), { correlationId, persistent: false }).catch(
            (replyError: unknown) => logger.warn({ err: replyError, queue }, 'could not send the poison reply; the sender times out instead'),
          );
        }
        settle(channel, message, false);
        return;
      }
      logger.warn({ err: error, queue, deliveries, messageId: message.properties.messageId }, 'message failed; retrying');
      await backoff(deliveries, 100, 2000);
      try {
        await publishConfirmed('', queue, message.content, { ...message.properties, headers: { ...headers, [DELIVERIES_HEADER]: deliveries } });
      } catch (republishError) {
        // Not acked: the broker redelivers the original once this channel is gone.
        logger.warn({ err: republishError, queue }, 'could not requeue a failed message; the broker redelivers it');
        return;
      }
      settle(channel, message, true);
    }
  }

  async function consume(queue: string, handle: (data: unknown, headers: MessageHeaders) => Promise<Reply | void>) {
    const onMessage: OnMessage = (channel, message) => {
      const work = deliver(queue, channel, message, handle).catch((error: unknown) => logger.error({ err: error, queue }, 'message handling failed'));
      inFlight.add(work);
      void work.finally(() => inFlight.delete(work));
    };
    subscriptions.set(queue, { onMessage, noAck: false });
    if (link)
      await subscribe(link, queue, onMessage, false).catch((error: unknown) => logger.warn({ err: error, queue }, 'consume failed; resumed on reconnect'));
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
      const answer = new Promise<Reply | PoisonReply>((resolve) => pending.set(correlationId, { resolve }));
      try {
        for (let attempt = 1; attempt <= attempts; attempt++) {
          const queue = names.commands(target);
          await withProducerSpan(
            queue,
            (headers) =>
              publishConfirmed('', queue, Buffer.from(JSON.stringify(command)), { replyTo, correlationId, messageId: command.id, type: command.type, headers }),
            { tracing, metrics, attributes: { 'messaging.message.id': command.id } },
          );
          let timer: NodeJS.Timeout | undefined;
          const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
          const result = await Promise.race([answer, timeout]);
          clearTimeout(timer);
          if (isPoisonReply(result)) throw refusedAsPoison(target, command, result.detail);
          if (result !== 'timeout') return result as ReplyOf<C>;
        }
        throw new DependencyError(target, `${command.type} ${command.id}: no reply from ${target} after ${attempts} attempts of ${timeoutMs} ms`);
      } finally {
        pending.delete(correlationId);
      }
    },
    async publish(event: ServiceEvent): Promise<void> {
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
    healthy: () => link !== undefined,
    async stopReceiving() {
      const received = [...subscriptions.keys()].filter((queue) => queue !== names.replies(options.self));
      // Not subscribed again by a reconnect either.
      for (const queue of received) subscriptions.delete(queue);
      const current = link;
      for (const queue of received) {
        const tag = consumerTags.get(queue);
        consumerTags.delete(queue);
        if (current && tag !== undefined) await current.consumer.cancel(tag).catch(() => undefined);
      }
      await Promise.allSettled([...inFlight]);
    },
    async close() {
      closing = true;
      const last = link;
      if (last) for (const tag of consumerTags.values()) await last.consumer.cancel(tag).catch(() => undefined);
      await Promise.allSettled([...inFlight]);
      await last?.connection.close().catch(() => undefined);
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
