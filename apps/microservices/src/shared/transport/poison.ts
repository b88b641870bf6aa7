import { DependencyError } from '@archbench/domain/errors';
import type { ServiceName } from '../../env';
import type { Command } from '../messages';

/**
 * Thrown by `Transport.send` when the receiver refused the command as poison (its handler threw
 * PoisonMessageError, or the body was not a command): HTTP answered 422, RabbitMQ dead-lettered it
 * and sent a poison reply. Neither transport resends it; the saga
 * (orders/service.ts) gives up a refused charge at once and resends a refused compensation until
 * the service takes it (after a fix), since giving that up would keep stock or money. A DependencyError, so a
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
 * What both transports' `send` do with a poison answer: the PoisonCommandError to throw. Not
 * logged here (a compensation is resent until it is taken, so this runs on every attempt): the
 * saga logs it (orders/service.ts `command`), and on RabbitMQ the receiver logged the
 * dead-lettering (over HTTP the 422 is not logged by the receiver).
 */
export function refusedAsPoison(target: ServiceName, command: Command, detail: string): PoisonCommandError {
  return new PoisonCommandError(target, command, detail.slice(0, 200));
}
