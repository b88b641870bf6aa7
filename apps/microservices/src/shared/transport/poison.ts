import { DependencyError } from '@archbench/domain/errors';
import type { Logger } from '@archbench/observability/logging';
import type { ServiceName } from '../../env';
import type { Command } from '../messages';

/**
 * Thrown by `Transport.send` when the receiver refused the command as poison (its handler threw
 * PoisonMessageError, or the body was not a command): HTTP answered 422, RabbitMQ dead-lettered it
 * and sent a poison reply. Final on both transports: neither resends it, nor does the saga
 * (orders/service.ts), since no copy of the command can ever be taken. A DependencyError, so a
 * request waiting for it answers 502 as for any failed peer.
 */
export class PoisonCommandError extends DependencyError {
  readonly commandType: Command['type'];
  readonly commandId: string;
  constructor(target: ServiceName, command: Pick<Command, 'type' | 'id'>, detail: string) {
    super(target, `${command.type} ${command.id} refused by ${target} as poison (dead-lettered): ${detail}`);
    this.name = 'PoisonCommandError';
    this.commandType = command.type;
    this.commandId = command.id;
  }
}

/**
 * The reply a RabbitMQ consumer sends for a command it dead-letters as poison, so its sender learns
 * at once instead of waiting for a reply that never comes and resending (the HTTP transport's 422).
 * Never returned by `send`: it becomes a PoisonCommandError.
 */
export interface PoisonReply {
  ok: false;
  poison: true;
  detail: string;
}

export function poisonReply(detail: string): PoisonReply {
  return { ok: false, poison: true, detail };
}

export function isPoisonReply(reply: unknown): reply is PoisonReply {
  return typeof reply === 'object' && reply !== null && (reply as Partial<PoisonReply>).poison === true;
}

/**
 * What both transports' `send` do with a poison answer: log the command as dead-lettered (as the
 * RabbitMQ consumer does when it dead-letters it) and return the PoisonCommandError to throw.
 */
export function refusedAsPoison(logger: Logger | undefined, target: ServiceName, command: Command, detail: string): PoisonCommandError {
  const error = new PoisonCommandError(target, command, detail.slice(0, 200));
  logger?.error(
    { target, commandId: command.id, type: command.type, orderId: command.orderId, detail: detail.slice(0, 200) },
    'command refused as poison; dead-lettered (not resent)',
  );
  return error;
}
