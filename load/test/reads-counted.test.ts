import { describe, expect, it } from 'vitest';
import { READS_AT_CAPACITY_SCENARIO, REFERENCE_ORDER_SHARE } from '@archbench/contracts/comparison';
import { atReferenceMix, isReadsAtCapacity, ordersOnly, readWallCounted, readsCounted } from '../src/compare/runner';
import { MIXED_MIX, PROFILES, browse, checkout, mixed, reads } from '../src/scenarios/index';

describe('which runs make the CPU per read (readsCounted)', () => {
  it('takes the reads at capacity, not browse at its fixed rate, when the profile has both', () => {
    const quick = PROFILES.quick.scenarios;
    expect(quick.filter((s) => readsCounted(s, quick)).map((s) => s.name)).toEqual(['reads']);
    const standard = PROFILES.standard.scenarios;
    expect(standard.filter((s) => readsCounted(s, standard)).map((s) => s.name)).toEqual(['reads']);
  });

  it('falls back to the open-model reads of a profile without reads at capacity', () => {
    const old = [browse(60, 2), checkout(8, 5)];
    expect(old.filter((s) => readsCounted(s, old)).map((s) => s.name)).toEqual(['browse']);
  });

  it('is the scenario the decision CLI leaves out of latency verdicts (contracts names it)', () => {
    expect(reads(8, 1).name).toBe(READS_AT_CAPACITY_SCENARIO);
  });

  it('sets only the reads at capacity aside from the per-request figures (hops, wall time, CPU per public request)', () => {
    expect(PROFILES.standard.scenarios.filter(isReadsAtCapacity).map((s) => s.name)).toEqual(['reads']);
  });

  it('never counts a scenario that places orders', () => {
    const all = [reads(8, 1), checkout(8, 5), mixed(100, 30)];
    expect(readsCounted(checkout(8, 5), all)).toBe(false);
    expect(readsCounted(mixed(100, 30), all)).toBe(false);
  });
});

describe('per-kind figures and the reference mix', () => {
  it('takes the wall time per read from browse (open model, no queueing at capacity), else from the reads run', () => {
    for (const profile of [PROFILES.quick, PROFILES.standard]) {
      expect(profile.scenarios.filter((s) => readWallCounted(s, profile.scenarios)).map((s) => s.name)).toEqual(['browse']);
    }
    const readsAlone = [reads(8, 1), checkout(8, 5)];
    expect(readsAlone.filter((s) => readWallCounted(s, readsAlone)).map((s) => s.name)).toEqual(['reads']);
  });

  it('takes the figures per order from checkout alone, not from the mixed runs', () => {
    expect(PROFILES.standard.scenarios.filter(ordersOnly).map((s) => s.name)).toEqual(['checkout']);
  });

  it("mixes a read's and an order's figure at the mixed scenario's share of orders, for every topology alike", () => {
    const orderWeight = MIXED_MIX.filter((x) => x.kind === 'place-order').reduce((sum, x) => sum + x.weight, 0);
    expect(REFERENCE_ORDER_SHARE).toBeCloseTo(orderWeight / MIXED_MIX.reduce((sum, x) => sum + x.weight, 0), 10);
    // Two topologies with the same per-kind cost get the same figure, whatever share of orders
    // their own runs happened to reach (over the runs as they came: 0.1 × 0.2 + 0.5 × 0.8 = 0.42
    // for one whose requests were 80 % orders, 0.18 for one at 20 %).
    expect(atReferenceMix(0.1, 0.5)).toBeCloseTo(0.18, 10);
    expect(atReferenceMix(null, 0.5)).toBeNull();
    expect(atReferenceMix(0.1, null)).toBeNull();
  });
});
