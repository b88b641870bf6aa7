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
  it('delivers every event once, in id order, over several rounds, marking each round in one write', async () => {
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

  it('stops at a failed hand-over, keeps what was delivered, and resumes from the failed event at the next kick', async () => {
    const outbox = memoryOutbox(5);
    const sent: number[] = [];
    let failOn: number | undefined = 2;
    const relay = createOutboxRelay<{ n: number }>({
      ...outbox,
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
});
