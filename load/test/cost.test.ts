import { describe, expect, it } from 'vitest';
import type { TopologyResult } from '@archbench/contracts/comparison';
import { costSection, estimateCost, monthlyRequests } from '../src/cost/model';
import type { CostInputs } from '../src/cost/model';
import { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, parseLoadProfile, PriceError, withOverrides } from '../src/cost/prices';

const steady = DEFAULT_LOAD_PROFILES.find((p) => p.name === 'steady-200')!;
const bursts = DEFAULT_LOAD_PROFILES.find((p) => p.name === 'idle-bursts-2000')!;

function inputs(over: Partial<CostInputs> = {}): CostInputs {
  return {
    topology: 'monolith',
    billing: 'provisioned',
    processCount: 1,
    cpuMsPerRead: 1,
    cpuMsPerOrder: 4,
    wallMs: 10,
    peakRssBytes: 200e6,
    idleRssBytes: 100e6,
    requestsPerOrder: 1,
    queueMessagesPerOrder: 0,
    ...over,
  };
}

describe('monthly cost', () => {
  it('prices a provisioned topology for its peak all month, from measured CPU per request', () => {
    // 200 req/s × (0.8 × 1 + 0.2 × 4 = 1.6 ms) = 0.32 cores, / 0.6 utilisation = 0.533 vCPU.
    const e = estimateCost(inputs(), steady);
    expect(e.model).toBe('provisioned');
    expect(e.provisioned?.vcpus).toBeCloseTo(0.533, 2);
    const vcpu = 0.5333 * 730 * 0.04048;
    const memory = 0.5 * 730 * 0.004445; // 260 MB with headroom is under the 0.5 GB task minimum
    expect(e.monthlyUsd).toBeCloseTo(vcpu + memory, 0);
    // Ten times the peak: ten times the CPU, replicas with their own memory.
    const peak = estimateCost(inputs(), { ...steady, peakRps: 2000 });
    expect(peak.provisioned!.replicas).toBeGreaterThan(1);
    expect(peak.monthlyUsd!).toBeGreaterThan(e.monthlyUsd! * 5);
  });

  it('charges serverless per request: the plan fee when idle, far less than provisioned for idle bursts', () => {
    const serverless = inputs({ topology: 'serverless', billing: 'per-request', requestsPerOrder: 3, queueMessagesPerOrder: 2 });
    const idle = estimateCost(serverless, { ...bursts, busyRps: 0, peakRps: 0, quietRps: 0 });
    expect(idle.monthlyUsd).toBe(5);
    expect(idle.idleMonthlyUsd).toBe(5);
    // Bursts of 2,000 req/s five minutes a day: the provisioned topology pays for the peak all month.
    const rare = { ...bursts, hoursPerDay: 5 / 60 };
    expect(estimateCost(serverless, rare).monthlyUsd!).toBeLessThan(estimateCost(inputs(), rare).monthlyUsd! / 2);
    const b = estimateCost(serverless, bursts);
    expect(b.monthlyUsd).toBeCloseTo(
      b.lines.reduce((sum, l) => sum + l.usd, 0),
      1,
    );
    // 2000 req/s for 0.5 h a day plus 0.5 req/s the rest, over 730 h.
    expect(monthlyRequests(bursts)).toBeCloseTo((2000 * 0.5 + 0.5 * 23.5) * 3600 * (730 / 24), -3);
    const requests = b.lines.find((l) => l.priceId === 'workers-request-million')!;
    expect(requests.usd).toBeGreaterThan(0);
  });

  it("bills GB-s for a read's and an order's wall time at the profile's mix, not the runs' mix as it came", () => {
    const lambda = withOverrides(DEFAULT_PRICES, ['gb-second=0.0000166667']);
    const serverless = inputs({ topology: 'serverless', billing: 'per-request', requestsPerOrder: 3, queueMessagesPerOrder: 2 });
    const gbSeconds = (e: ReturnType<typeof estimateCost>) => e.lines.find((l) => l.priceId === 'gb-second')!.quantity;
    // steady-200 sends 20 % orders: 0.8 × 4 ms + 0.2 × 100 ms = 23.2 ms a request at 0.128 GB.
    const perKind = estimateCost({ ...serverless, wallMs: 210, wallMsPerRead: 4, wallMsPerOrder: 100 }, steady, { prices: lambda });
    expect(gbSeconds(perKind)).toBeCloseTo(monthlyRequests(steady) * 0.0232 * 0.128, -2);
    // A file without the per-kind figures still prices the wall time it has.
    const old = estimateCost({ ...serverless, wallMs: 210 }, steady, { prices: lambda });
    expect(gbSeconds(old)).toBeCloseTo(monthlyRequests(steady) * 0.21 * 0.128, -2);
  });

  it('uses overridden prices and says who set them', () => {
    const prices = withOverrides(DEFAULT_PRICES, ['vcpu-hour=0.08']);
    expect(prices.find((p) => p.id === 'vcpu-hour')).toMatchObject({ value: 0.08, overriddenBy: '--price vcpu-hour=0.08' });
    const cheap = estimateCost(inputs(), steady);
    const dear = estimateCost(inputs(), steady, { prices });
    expect(dear.monthlyUsd!).toBeGreaterThan(cheap.monthlyUsd!);
    expect(() => withOverrides(DEFAULT_PRICES, ['nope=1'])).toThrow(PriceError);
    expect(() => withOverrides(DEFAULT_PRICES, ['vcpu-hour=-1'])).toThrow(/>= 0/);
  });

  it('does not invent a figure when an input was not measured', () => {
    const t = {
      name: 'staging',
      processCount: null,
      cpuSecondsPer1kOrders: null,
      cpuSeconds: null,
      ordersPlaced: 10,
      peakRssBytes: null,
      hopsPerRequest: null,
    } as TopologyResult;
    const section = costSection([t], () => 'provisioned');
    expect(section.estimates).toHaveLength(2);
    for (const e of section.estimates) {
      expect(e.monthlyUsd).toBeNull();
      expect(e.notes[0]).toMatch(/not measured/);
    }
    expect(section.prices.every((p) => p.source.length > 0 && /^\d{4}-\d{2}-\d{2}$/.test(p.date))).toBe(true);
  });

  it('parses load profiles and refuses bad ones with a clear message', () => {
    expect(parseLoadProfile('team=busy:50,peak:400,hours:10')).toEqual({
      name: 'team',
      busyRps: 50,
      peakRps: 400,
      hoursPerDay: 10,
      quietRps: 0,
      orderShare: 0.2,
    });
    expect(() => parseLoadProfile('team=busy:50')).toThrow(/hours are required/);
    expect(() => parseLoadProfile('team=busy:50,hours:30')).toThrow(/0..24/);
    expect(() => parseLoadProfile('team=busy:500,peak:100,hours:1')).toThrow(/peak must be at least busy/);
    expect(() => parseLoadProfile('Team=busy:1,hours:1')).toThrow(/kebab-case/);
  });
});
