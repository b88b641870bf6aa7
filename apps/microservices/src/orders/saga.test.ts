import { describe, expect, it } from 'vitest';
import { ACTIVE_SAGA_STATES, SAGA_TRANSITIONS, canMove, deadlineOf, isActive } from './saga';
import type { SagaState } from './saga';

describe('saga transition table', () => {
  const states = Object.keys(SAGA_TRANSITIONS) as SagaState[];

  it('leads every active state to a final one, and every move only to known states', () => {
    const final = states.filter((s) => SAGA_TRANSITIONS[s].length === 0);
    expect(final.sort()).toEqual(['ABORTED', 'CANCELLED', 'EXPIRED', 'REFUSED', 'REJECTED']);
    for (const state of ACTIVE_SAGA_STATES) {
      // Breadth-first: some path must end in a final state (no saga can cycle forever).
      const seen = new Set<SagaState>([state]);
      const queue: SagaState[] = [state];
      let reachesFinal = false;
      while (queue.length > 0) {
        const next = SAGA_TRANSITIONS[queue.shift()!] as readonly SagaState[];
        if (next.length === 0) reachesFinal = true;
        for (const to of next) {
          expect(states).toContain(to);
          if (seen.has(to)) continue;
          seen.add(to);
          queue.push(to);
        }
      }
      expect(reachesFinal, `${state} reaches a final state`).toBe(true);
    }
  });

  it('gives up on a payment only from PAYING, and an expired saga never confirms', () => {
    expect(states.filter((s) => canMove(s, 'EXPIRING'))).toEqual(['PAYING']);
    expect(canMove('EXPIRING', 'CONFIRMED')).toBe(false);
    expect(canMove('EXPIRED', 'CONFIRMED')).toBe(false);
    expect(canMove('REJECTED', 'PAYING')).toBe(false);
  });

  it('sweeps exactly the states with a step to run', () => {
    expect(states.filter(isActive).sort()).toEqual(['ABORTING', 'CANCELLING', 'EXPIRING', 'PAYING', 'RELEASING', 'RESERVING']);
    expect(isActive('CONFIRMED')).toBe(false); // waits for a customer, not for the sweeper
  });

  it('derives the deadline from the stored creation time', () => {
    expect(deadlineOf('2026-01-01T00:00:00.000Z', 60_000)).toBe(Date.parse('2026-01-01T00:01:00.000Z'));
  });
});
