import { describe, expect, it } from 'vitest';
import { createLogger } from '@archbench/observability/logging';
import { createOutboxRelay } from './outbox';
import type { OutboxRow } from './outbox';

/** An outbox table in memory: the relay is what is checked here; each app's real table is tested in the app. */
function memoryOutbox(count: number) {
  const rows = Array.from({ length: count }, (_, i) => ({
    id: `evt-${String(i).padStart(4, '0')}`,
    payload: JSON.stringify({ n: i }),
    headers: '{}',
    created_at: new Date(Date.now() - 2000).toISOString(),
    published: false,
  }));
  const marks: string[][] = [];
  return {
    marks,
    unpublished: async (limit: number): Promise<OutboxRow[]> => rows.filter((r) => !r.published).slice(0, limit),
    markPublished: async (ids: readonly string[]) => {
      marks.push([...ids]);
      for (const row of rows) if (ids.includes(row.id)) row.published = true;
    },
    pending: () => rows.filter((r) => !r.published).length,
  };
}

const logger = createLogger({ service: 'outbox-test', level: 'silent' });

describe('outbox relay', () => {
  it('delivers every event once, started in id order, over several rounds, marking each round in one write', async () => {
    const outbox = memoryOutbox(250);
    const sent: number[] = [];
    const lags: number[] = [];
    const relay = createOutboxRelay<{ n: number }>({
      ...outbox,
      publish: async (event) => void sent.push(event.n),
      spanName: 'test.outbox',
      logger,
      intervalMs: 60_000,
      onLag: (seconds) => lags.push(seconds),
    });
    await relay.kick();
    expect(sent).toEqual(Array.from({ length: 250 }, (_, i) => i));
    expect(outbox.marks.map((m) => m.length)).toEqual([100, 100, 50]);
    expect(outbox.pending()).toBe(0);
    // The lag of the first round is the oldest event's age; none is left after the last.
    expect(lags[0]).toBeGreaterThan(1.5);
    await relay.kick();
    expect(lags.at(-1)).toBe(0);
    expect(sent).toHaveLength(250);
  });

  it('with concurrency 1, stops at a failed hand-over, keeps what was delivered, and resumes from the failed event at the next kick', async () => {
    const outbox = memoryOutbox(5);
    const sent: number[] = [];
    let failOn: number | undefined = 2;
    const relay = createOutboxRelay<{ n: number }>({
      ...outbox,
      concurrency: 1,
      publish: async (event) => {
        if (event.n === failOn) throw new Error('consumer unreachable');
        sent.push(event.n);
      },
      spanName: 'test.outbox',
      logger,
      intervalMs: 60_000,
    });
    await relay.kick();
    expect(sent).toEqual([0, 1]);
    expect(outbox.pending()).toBe(3);
    failOn = undefined;
    await relay.kick();
    expect(sent).toEqual([0, 1, 2, 3, 4]);
    expect(outbox.pending()).toBe(0);
  });

  it('keeps up to `concurrency` hand-overs in flight, so a slow consumer round trip does not bound the relay to one event at a time', async () => {
    const outbox = memoryOutbox(40);
    let inFlight = 0;
    let most = 0;
    const started: number[] = [];
    const relay = createOutboxRelay<{ n: number }>({
      ...outbox,
      publish: async (event) => {
        started.push(event.n);
        most = Math.max(most, ++inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
      },
      spanName: 'test.outbox',
      logger,
      intervalMs: 60_000,
      concurrency: 8,
    });
    await relay.kick();
    expect(most).toBe(8);
    expect(started).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(outbox.marks).toHaveLength(1);
    expect(outbox.pending()).toBe(0);
  });

  it('at a failed hand-over starts no more, marks the others that were taken, and sends only the rest at the next kick', async () => {
    const outbox = memoryOutbox(30);
    const taken = new Map<number, number>();
    let failing = true;
    const relay = createOutboxRelay<{ n: number }>({
      ...outbox,
      publish: async (event) => {
        // Event 3 fails slowly-ish, after its lane mates have started theirs.
        await new Promise((resolve) => setTimeout(resolve, event.n === 3 ? 2 : 10));
        if (failing && event.n === 3) throw new Error('consumer unreachable');
        taken.set(event.n, (taken.get(event.n) ?? 0) + 1);
      },
      spanName: 'test.outbox',
      logger,
      intervalMs: 60_000,
      concurrency: 4,
    });
    await relay.kick();
    // Events 0-3 started together; 3 failed first, so no lane took event 4 or later.
    expect([...taken.keys()].sort((a, b) => a - b)).toEqual([0, 1, 2]);
    expect(outbox.marks).toEqual([['evt-0000', 'evt-0001', 'evt-0002']]);
    expect(outbox.pending()).toBe(27);
    failing = false;
    await relay.kick();
    expect(outbox.pending()).toBe(0);
    // Nothing that was marked went out twice.
    expect([...taken.values()].every((count) => count === 1)).toBe(true);
    expect(taken.size).toBe(30);
  });

  it('refuses a concurrency that is not a whole number of at least 1', () => {
    const outbox = memoryOutbox(0);
    for (const concurrency of [0, -1, 1.5, Number.NaN])
      expect(() => createOutboxRelay({ ...outbox, publish: async () => {}, spanName: 'test.outbox', logger, intervalMs: 60_000, concurrency })).toThrow(
        /concurrency must be a whole number/,
      );
  });
});
