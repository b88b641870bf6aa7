import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../src/engine/run-scenario';
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

describe('a system that hangs instead of refusing', () => {
  it('records the iterations dropped while every VU waits, as failures of the kind the mix draws', async () => {
    // Answers the first 10 requests at once, then holds every request until the end of the test.
    let answered = 0;
    const server = createServer((_req, res) => {
      if (answered++ < 10) res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const result = await runScenario({
        baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        scenario: {
          name: 'hang',
          description: 'test',
          mix: [
            { kind: 'get-product', weight: 1 },
            { kind: 'place-order', weight: 1 },
          ],
          load: { executor: 'constant-arrival-rate', rate: 40, durationSeconds: 1.5, preAllocatedVUs: 5, maxVUs: 10 },
          thresholds: [],
        },
        tokens: ['t'],
        requestTimeoutMs: 2500,
        recordEvents: true,
      });
      const events = result.events ?? [];
      const dropped = events.filter((e) => e.dropped === true);
      // 60 due: 10 answered, 10 hung on the 10 VUs, the other 40 dropped.
      expect(result.dropped).toBe(40);
      expect(dropped).toHaveLength(40);
      expect(dropped.every((e) => !e.ok && e.status === 0 && e.ms === 0)).toBe(true);
      expect(new Set(dropped.map((e) => e.kind))).toEqual(new Set(['browse', 'order']));
      // Each at its due time, 25 ms apart, from the second half-second on.
      expect(Math.min(...dropped.map((e) => e.at))).toBeGreaterThanOrEqual(400);
      expect(Math.max(...dropped.map((e) => e.at))).toBeLessThan(1500);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 10_000);

  it('does not call seconds with only dropped iterations normal, nor count them in p95', () => {
    // 10 a second; from 5 s on the system hangs: the first few requests time out (failed, slow),
    // every later one is dropped, until it answers again at 12 s. Crash-like: lifted at 5 s.
    const events = timeline(20, () => false).map((e): RequestEvent => {
      if (e.at >= 5000 && e.at < 5300) return { at: e.at, kind: e.kind, status: 0, ok: false, ms: 15_000 };
      if (e.at >= 5300 && e.at < 12_000) return { at: e.at, kind: e.kind, status: 0, ok: false, ms: 0, dropped: true };
      return e;
    });
    const figures = analyzeTimeline(events, { injectAt: 5000, liftAt: 5000, windowEnd: 10_000, runEnd: 20_000 }, new Map(), 3000);
    expect(figures.browseAvailability).toBe(0);
    expect(figures.checkoutSuccess).toBe(0);
    expect(figures.droppedDuringFault).toBe(47);
    // Recovered when it answers again (7 s after the lift), not when the hung requests stop.
    expect(figures.recovered).toBe(true);
    expect(figures.recoverySeconds).toBe(7);
    // p95 of the requests sent: the timed-out ones, not the dropped ones' zero.
    expect(figures.p95DuringFaultMs).toBe(15_000);
  });
});
