import { describe, expect, it } from 'vitest';
import type { RequestEvent } from '../src/engine/run-scenario';
import { analyzeTimeline } from '../src/faults/analyze';

/** 10 requests a second for `seconds`, browse and order alternating, all fine unless `fail` says otherwise. */
function timeline(seconds: number, fail: (at: number, kind: 'browse' | 'order') => boolean, slowMs = 0): RequestEvent[] {
  const events: RequestEvent[] = [];
  for (let i = 0; i < seconds * 10; i++) {
    const at = i * 100;
    const kind = i % 2 === 0 ? 'browse' : 'order';
    const bad = fail(at, kind);
    events.push({
      at,
      kind,
      status: bad ? 503 : kind === 'order' ? 201 : 200,
      ok: !bad,
      ms: 5 + (bad ? slowMs : 0),
      ...(kind === 'order' && !bad ? { orderId: `o${i}`, orderStatus: 'CONFIRMED' } : {}),
    });
  }
  return events;
}

describe('analyzeTimeline', () => {
  it('measures availability over the fault window and recovery from the lift', () => {
    // Everything fails from 5 s to 8 s; the fault is lifted at 7 s, so recovery is 1 s.
    const events = timeline(20, (at) => at >= 5000 && at < 8000);
    const figures = analyzeTimeline(events, { injectAt: 5000, liftAt: 7000, windowEnd: 7000, runEnd: 20_000 }, new Map(), 3000);
    expect(figures.browseAvailability).toBe(0);
    expect(figures.checkoutSuccess).toBe(0);
    expect(figures.recovered).toBe(true);
    expect(figures.recoverySeconds).toBe(1);
    expect(figures.browseSentDuringFault).toBe(10);
  });

  it('counts an order accepted as PENDING by its final state, and a lost one as a failure', () => {
    const events: RequestEvent[] = [
      { at: 1000, kind: 'order', status: 202, ok: false, ms: 5000, orderId: 'later-confirmed', orderStatus: 'PENDING' },
      { at: 1100, kind: 'order', status: 202, ok: false, ms: 5000, orderId: 'never-finished', orderStatus: 'PENDING' },
      { at: 1200, kind: 'order', status: 0, ok: false, ms: 30 },
      { at: 1300, kind: 'order', status: 201, ok: true, ms: 20, orderId: 'confirmed', orderStatus: 'CONFIRMED' },
    ];
    const final = new Map([
      ['later-confirmed', 'CONFIRMED'],
      ['never-finished', 'PENDING'],
      ['confirmed', 'CONFIRMED'],
    ]);
    const figures = analyzeTimeline(events, { injectAt: 900, liftAt: 900, windowEnd: 2000, runEnd: 3000 }, final, 1000);
    expect(figures.checkoutSuccess).toBe(0.5);
    expect(figures.p95DuringFaultMs).toBe(5000);
  });

  it('reports no recovery when the failures outlast the run', () => {
    const events = timeline(12, (at) => at >= 4000);
    const figures = analyzeTimeline(events, { injectAt: 4000, liftAt: 6000, windowEnd: 6000, runEnd: 12_000 }, new Map(), 2000);
    expect(figures.recovered).toBe(false);
    expect(figures.recoverySeconds).toBe(6);
  });

  it('does not call slow success normal: latency far above the pre-fault p95 delays recovery', () => {
    // Answers succeed again from 6 s but take 2 s each until 9 s.
    const events = timeline(16, () => false).map((e) => (e.at >= 6000 && e.at < 9000 ? { ...e, ms: 2000 } : e));
    const figures = analyzeTimeline(events, { injectAt: 5000, liftAt: 6000, windowEnd: 6000, runEnd: 16_000 }, new Map(), 2000);
    expect(figures.recoverySeconds).toBe(3);
  });
});
