import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';

function breaker() {
  let now = 0;
  const changes: string[] = [];
  const b = new CircuitBreaker({ windowMs: 1000, minimumCalls: 4, failureRate: 0.5, openMs: 500, now: () => now, onStateChange: (s) => changes.push(s) });
  return { b, changes, advance: (ms: number) => (now += ms) };
}

const call = (b: CircuitBreaker, ok: boolean) => {
  expect(b.tryAcquire()).toBe(true);
  b.record(ok);
};

describe('CircuitBreaker', () => {
  it('stays closed while failures are below the minimum number of calls', () => {
    const { b } = breaker();
    call(b, false);
    call(b, false);
    call(b, false);
    expect(b.state).toBe('closed');
  });

  it('opens at the failure rate, refuses calls, then lets exactly one probe through', () => {
    const { b, changes, advance } = breaker();
    call(b, true);
    call(b, false);
    call(b, true);
    call(b, false);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    advance(499);
    expect(b.tryAcquire()).toBe(false);
    advance(1);
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // the probe is in flight
    b.record(true);
    expect(b.state).toBe('closed');
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('opens again when the probe fails', () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 4; i++) call(b, false);
    advance(500);
    expect(b.tryAcquire()).toBe(true);
    b.record(false);
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const { b, advance } = breaker();
    call(b, false);
    call(b, false);
    advance(1001);
    call(b, true);
    call(b, false);
    call(b, true);
    expect(b.state).toBe('closed');
  });
});
