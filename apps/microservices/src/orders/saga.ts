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
 * | EXPIRING   | deadline passed, order already REJECTED: VoidPayment and ReleaseStock, at once | EXPIRED |
 * | CONFIRMED  | (the order is CONFIRMED; a customer cancel starts)   | CANCELLING                      |
 * | CANCELLING | RefundPayment, ReleaseStock                          | CANCELLED                       |
 *
 * REFUSED, ABORTED, REJECTED, EXPIRED and CANCELLED are final.
 */
const SAGA = {
  RESERVING: { next: ['PAYING', 'REFUSED', 'ABORTING'], swept: true },
  ABORTING: { next: ['ABORTED'], swept: true },
  PAYING: { next: ['CONFIRMED', 'RELEASING', 'EXPIRING'], swept: true },
  RELEASING: { next: ['REJECTED'], swept: true },
  EXPIRING: { next: ['EXPIRED'], swept: true },
  // Waits for a customer's cancel, not for the sweeper.
  CONFIRMED: { next: ['CANCELLING'], swept: false },
  CANCELLING: { next: ['CANCELLED'], swept: true },
  REFUSED: { next: [], swept: false },
  ABORTED: { next: [], swept: false },
  REJECTED: { next: [], swept: false },
  EXPIRED: { next: [], swept: false },
  CANCELLED: { next: [], swept: false },
} as const satisfies Record<string, { next: readonly string[]; swept: boolean }>;

export type SagaState = keyof typeof SAGA;

/** The moves of the table above, by state. */
export const SAGA_TRANSITIONS = Object.fromEntries(Object.entries(SAGA).map(([state, row]) => [state, row.next])) as {
  [S in SagaState]: (typeof SAGA)[S]['next'];
};

/** States with a step still to run (`swept` in the table): the sweeper drives sagas in these to the next state. */
export const ACTIVE_SAGA_STATES = (Object.keys(SAGA) as SagaState[]).filter((state) => SAGA[state].swept);

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
