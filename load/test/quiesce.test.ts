import { describe, expect, it } from 'vitest';
import { quiesce } from '../src/compare/quiesce';
import type { ServerSnapshot } from '../src/compare/measured';

/** A topology whose CPU grows at `busyCores` for `busyMs` after the start, then at `idleCores`. */
function topology(busyMs: number, busyCores: number, idleCores: number) {
  const t0 = performance.now();
  let reads = 0;
  const read = async (): Promise<ServerSnapshot> => {
    reads++;
    const t = (performance.now() - t0) / 1000;
    const busy = Math.min(t, busyMs / 1000);
    return { processCount: 1, rssBytes: 1, cpuSeconds: busy * busyCores + Math.max(0, t - busy) * idleCores };
  };
  return { read, reads: () => reads };
}

describe('quiesce', () => {
  it('returns after two quiet readings when the topology is already at rest', async () => {
    const t = topology(0, 0, 0.01);
    const rest = await quiesce(t.read, { idleCpuCores: 0.01, intervalMs: 20 });
    expect(rest.settled).toBe(true);
    expect(rest.seconds).toBeLessThan(0.5);
    expect(t.reads()).toBe(3);
  });

  it('waits while the topology keeps working after the load, and counts that work in the last snapshot', async () => {
    const t = topology(300, 0.8, 0.01);
    const rest = await quiesce(t.read, { idleCpuCores: 0.01, intervalMs: 20 });
    expect(rest.settled).toBe(true);
    expect(rest.seconds).toBeGreaterThanOrEqual(0.25);
    expect(rest.waitedSeconds).toBeGreaterThan(rest.seconds);
    // The 0.3 s of work at 0.8 cores is inside the snapshot it returns.
    expect(rest.snapshot!.cpuSeconds).toBeGreaterThanOrEqual(0.23);
  });

  it('gives up at the timeout and says it did not settle', async () => {
    const t = topology(10_000, 0.5, 0);
    const rest = await quiesce(t.read, { idleCpuCores: 0, intervalMs: 20, timeoutSeconds: 0.2 });
    expect(rest.settled).toBe(false);
    expect(rest.seconds).toBeGreaterThanOrEqual(0.2);
    expect(rest.snapshot).not.toBeNull();
  });

  it('treats a busier idle level as rest (three times the idle rate)', async () => {
    const t = topology(0, 0, 0.2);
    const rest = await quiesce(t.read, { idleCpuCores: 0.1, intervalMs: 20 });
    expect(rest.settled).toBe(true);
  });

  it('does not wait on a topology it cannot measure', async () => {
    const rest = await quiesce(async () => null, { idleCpuCores: null, intervalMs: 20 });
    expect(rest).toEqual({ seconds: 0, waitedSeconds: 0, settled: true, snapshot: null });
  });
});
