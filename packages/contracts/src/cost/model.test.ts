import { describe, expect, it } from 'vitest';
import type { TopologyResult } from '../comparison';
import { costInputsOf, estimateCost, type CostInputs } from './model';
import { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, withOverrides } from './prices';

const bursts = DEFAULT_LOAD_PROFILES.find((p) => p.name === 'idle-bursts-2000')!;
const serverless = (rowsWrittenPerOrder: number | null): CostInputs => ({
  topology: 'serverless',
  billing: 'per-request',
  processCount: 1,
  cpuMsPerRead: 1,
  cpuMsPerOrder: 4,
  wallMs: 10,
  peakRssBytes: null,
  idleRssBytes: null,
  requestsPerOrder: 2,
  queueMessagesPerOrder: 1,
  rowsWrittenPerOrder,
});
const rowsLine = (e: ReturnType<typeof estimateCost>) => e.lines.find((l) => l.priceId === 'd1-rows-written-million')!;
/** Rows written a month at the profile, from the line's label (`N M D1 rows written`). */
const rowsMillions = (e: ReturnType<typeof estimateCost>) => Number(/^([\d.]+) M D1 rows written/.exec(rowsLine(e).item)![1]);

describe('D1 rows per order', () => {
  it('prices the measured figure, and the d1-rows-written-per-order assumption only when it was not measured', () => {
    const measured = estimateCost(serverless(13), bursts);
    const assumed = estimateCost(serverless(null), bursts);
    expect(rowsMillions(measured) / rowsMillions(assumed)).toBeCloseTo(13 / 8, 2);
    expect(measured.notes).toContain('D1 rows per order measured: 13');
    expect(assumed.notes).toContain('D1 rows per order: the assumption d1-rows-written-per-order (8), not measured');
  });

  it('a value the user set with --price wins over the measured one, and the note says what it replaced', () => {
    const prices = withOverrides(DEFAULT_PRICES, ['d1-rows-written-per-order=1']);
    const set = estimateCost(serverless(13), bursts, { prices });
    // Before: the 13 measured were priced while the price list said "= 1 (set by --price ...)".
    expect(rowsMillions(set) / rowsMillions(estimateCost(serverless(13), bursts))).toBeCloseTo(1 / 13, 2);
    expect(set.notes).toContain('D1 rows per order: 1, set by --price d1-rows-written-per-order=1, overriding the 13 measured');
    const unmeasured = estimateCost(serverless(null), bursts, { prices });
    expect(rowsMillions(unmeasured)).toBe(rowsMillions(set));
    expect(unmeasured.notes).toContain('D1 rows per order: 1, set by --price d1-rows-written-per-order=1 (not measured)');
  });
});

describe('a target measured without server-side metrics', () => {
  // As load writes it: serverSide not-measured, and perRequest.cpuMs 0 because the schema keeps it a number.
  const target: TopologyResult = {
    name: 'monolith',
    source: 'target',
    serverSide: 'not-measured',
    processCount: null,
    cpuSecondsPer1kOrders: null,
    cpuSeconds: null,
    ordersPlaced: 120,
    peakRssBytes: null,
    idleRssBytes: null,
    hopsPerRequest: null,
    perRequest: { cpuMs: 0, cpuMsPerRead: null, cpuMsPerOrder: null, wallMs: 3, requestsPerOrder: 2, queueMessagesPerOrder: 0, rssBytesPerProcess: null },
  };

  it('has no CPU figure, so it is not priced as free compute', () => {
    const inputs = costInputsOf(target, 'per-request');
    expect(inputs).toMatchObject({ cpuMsPerRead: null, cpuMsPerOrder: null });
    const estimate = estimateCost(inputs, bursts);
    expect(estimate.monthlyUsd).toBeNull();
    // A metrics URL that did not answer: serverSide says metrics-url, but no CPU was read.
    expect(costInputsOf({ ...target, serverSide: 'metrics-url' }, 'per-request')).toMatchObject({ cpuMsPerRead: null, cpuMsPerOrder: null });
    // The same file with the CPU measured prices it.
    expect(
      costInputsOf({ ...target, serverSide: 'metrics-url', cpuSeconds: 12, perRequest: { ...target.perRequest!, cpuMs: 0.4 } }, 'per-request').cpuMsPerRead,
    ).toBe(0.4);
  });
});
