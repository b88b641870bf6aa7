/**
 * The place/cancel saga of the orders service as a table: every state, the states it may move to,
 * and which of them the sweeper drives. `setSaga` refuses any move the table does not list, so the
 * table is the whole truth about how an order's saga can go.
 *
 * | state      | the step run in it                                   | next                            |
 * | ---------- | ---------------------------------------------------- | ------------------------------- |
 * | RESERVING  | (the POST reserves; after a crash: give it back)     | PAYING, REFUSED, ABORTING       |
 * | ABORTING   | ReleaseStock (no order was created)                  | ABORTED                         |
 * | PAYING     | ChargePayment with `notAfter` = deadline             | CONFIRMED, RELEASING, EXPIRING  |
 * | RELEASING  | ReleaseStock, then the order is REJECTED             | REJECTED                        |
 * | EXPIRING   | deadline passed, order already REJECTED: ReleaseStock, VoidPayment | EXPIRED           |
 * | CONFIRMED  | (the order is CONFIRMED; a customer cancel starts)   | CANCELLING                      |
 * | CANCELLING | RefundPayment, ReleaseStock                          | CANCELLED                       |
 *
 * REFUSED, ABORTED, REJECTED, EXPIRED and CANCELLED are final.
 */
export const SAGA_TRANSITIONS = {
  RESERVING: ['PAYING', 'REFUSED', 'ABORTING'],
  ABORTING: ['ABORTED'],
  PAYING: ['CONFIRMED', 'RELEASING', 'EXPIRING'],
  RELEASING: ['REJECTED'],
  EXPIRING: ['EXPIRED'],
  CONFIRMED: ['CANCELLING'],
  CANCELLING: ['CANCELLED'],
  REFUSED: [],
  ABORTED: [],
  REJECTED: [],
  EXPIRED: [],
  CANCELLED: [],
} as const satisfies Record<string, readonly string[]>;

export type SagaState = keyof typeof SAGA_TRANSITIONS;

/** States with a step still to run: the sweeper drives sagas in these to the next state. */
export const ACTIVE_SAGA_STATES = ['RESERVING', 'ABORTING', 'PAYING', 'RELEASING', 'EXPIRING', 'CANCELLING'] as const satisfies readonly SagaState[];

export function isActive(state: string): boolean {
  return (ACTIVE_SAGA_STATES as readonly string[]).includes(state);
}

export function canMove(from: SagaState, to: SagaState): boolean {
  return (SAGA_TRANSITIONS[from] as readonly SagaState[]).includes(to);
}

/**
 * When a saga gives up: its creation time (stored, so a restarted orders service computes the
 * same instant) plus the configured deadline.
 * @example deadlineOf('2026-01-01T00:00:00.000Z', 60_000) // 1767225660000
 */
export function deadlineOf(createdAt: string, deadlineMs: number): number {
  return Date.parse(createdAt) + deadlineMs;
}
