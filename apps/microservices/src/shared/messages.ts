import type { FieldError, PaymentToken } from '@archbench/contracts/schemas';
import type { PricedItem, StoredEvent } from '@archbench/domain/orders';
import type { ServiceName } from '../env';

/**
 * The messages services exchange. Every command carries an `id` derived from the order it is
 * about (`reserve:<orderId>`), so a retried or redelivered command is recognised and has no
 * second effect.
 */
export type ReserveCommand = { type: 'ReserveStock'; id: string; orderId: string; items: Array<{ sku: string; quantity: number }> };
export type ReleaseCommand = { type: 'ReleaseStock'; id: string; orderId: string };
/**
 * `notAfter` (epoch ms) is the saga's deadline: payments starts no provider call after it and
 * answers EXPIRED, so a charge delivered late (queued while payments was down) cannot capture
 * money for an order the saga already gave up on.
 */
export type ChargeCommand = { type: 'ChargePayment'; id: string; orderId: string; token: PaymentToken; amountCents: number; notAfter?: number };
export type RefundCommand = { type: 'RefundPayment'; id: string; orderId: string; amountCents: number };
/**
 * Sent by a saga past its deadline: no charge of the order may start from now on, one in flight
 * is waited for, and one that captured is refunded.
 */
export type VoidCommand = { type: 'VoidPayment'; id: string; orderId: string };
export type Command = ReserveCommand | ReleaseCommand | ChargeCommand | RefundCommand | VoidCommand;

export type ReserveReply =
  { ok: true; items: PricedItem[] } | { ok: false; code: 'unknown-sku' | 'insufficient-stock' | 'already-released'; detail: string; errors?: FieldError[] };
export type ReleaseReply = { ok: true; released: number };
/**
 * UNAVAILABLE: the circuit breaker refused or the provider timed out; nothing was captured.
 * EXPIRED: the charge arrived after its `notAfter` or after a void; the provider was not called.
 */
export type ChargeOutcome = 'SUCCEEDED' | 'DECLINED' | 'FAILED' | 'UNAVAILABLE' | 'EXPIRED';
export type ChargeReply = { ok: true; outcome: ChargeOutcome };
export type RefundReply = { ok: true; outcome: 'SUCCEEDED' | 'FAILED' | 'NOTHING_TO_REFUND' };
/** NOTHING_CAPTURED: no charge ran or it did not capture; REFUNDED: it had captured and was refunded. */
export type VoidReply = { ok: true; outcome: 'NOTHING_CAPTURED' | 'REFUNDED' };

export type ReplyOf<C extends Command> = C extends ReserveCommand
  ? ReserveReply
  : C extends ReleaseCommand
    ? ReleaseReply
    : C extends ChargeCommand
      ? ChargeReply
      : C extends RefundCommand
        ? RefundReply
        : C extends VoidCommand
          ? VoidReply
          : never;
export type Reply = ReserveReply | ReleaseReply | ChargeReply | RefundReply | VoidReply;

/** Which service handles each command. */
export const COMMAND_TARGET: Record<Command['type'], ServiceName> = {
  ReserveStock: 'inventory',
  ReleaseStock: 'inventory',
  ChargePayment: 'payments',
  RefundPayment: 'payments',
  VoidPayment: 'payments',
};

/**
 * An event as services exchange it: @archbench/domain's `StoredEvent` (the order's DomainEvent
 * plus the id the outbox gave it, by which shipping drops a redelivery).
 */
export type DomainEvent = StoredEvent;

/**
 * Published by payments when it recorded a late capture (a charge the provider made after another
 * payments process had settled its row FAILED, so the saga rejected the order) and the refund that
 * gives it back: the rejected order's payment status becomes REFUNDED, as the monolith's does when
 * it records such a refund. `id` is the payments outbox row's, one per order.
 */
export type LateCaptureRefunded = { type: 'LateCaptureRefunded'; id: string; orderId: string };

/** Every event services exchange: the orders service's (DomainEvent) and the payments service's. */
export type ServiceEvent = DomainEvent | LateCaptureRefunded;

/** Which services consume each event (HTTP pushes to them; AMQP binds their queues). */
export const EVENT_SUBSCRIBERS: Record<ServiceEvent['type'], ServiceName[]> = {
  OrderConfirmed: ['shipping'],
  OrderCancelled: ['shipping'],
  LateCaptureRefunded: ['orders'],
};

/** Trace context carried with a message (W3C traceparent), so one order is one trace. */
export type MessageHeaders = Record<string, string>;

export interface CommandHandler {
  (command: Command, headers: MessageHeaders): Promise<Reply>;
}
export interface EventHandler {
  (event: ServiceEvent, headers: MessageHeaders): Promise<void>;
}

/** A command or event failing in a way a retry cannot fix (bad shape): dead-letter it. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

const COMMAND_TYPES = new Set<string>(Object.keys(COMMAND_TARGET));
const EVENT_TYPES = new Set<string>(Object.keys(EVENT_SUBSCRIBERS));

/** Checks the envelope of a received command; throws PoisonMessageError when it is not one. */
export function parseCommand(data: unknown): Command {
  const c = data as Partial<Command> | null;
  if (!c || typeof c !== 'object' || typeof c.type !== 'string' || !COMMAND_TYPES.has(c.type) || typeof c.id !== 'string' || typeof c.orderId !== 'string') {
    throw new PoisonMessageError('not a command: needs type, id and orderId');
  }
  return c as Command;
}

/** Checks the envelope of a received event; throws PoisonMessageError when it is not one. */
export function parseEvent(data: unknown): ServiceEvent {
  const e = data as Partial<ServiceEvent> | null;
  if (!e || typeof e !== 'object' || typeof e.type !== 'string' || !EVENT_TYPES.has(e.type) || typeof e.id !== 'string' || typeof e.orderId !== 'string') {
    throw new PoisonMessageError('not an event: needs type, id and orderId');
  }
  return e as ServiceEvent;
}
