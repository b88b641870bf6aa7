import { describe, expect, it } from 'vitest';
import { READS_AT_CAPACITY_SCENARIO } from '@archbench/contracts/comparison';
import { isReadsAtCapacity, readsCounted } from '../src/compare/runner';
import { PROFILES, browse, checkout, mixed, reads } from '../src/scenarios/index';

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
