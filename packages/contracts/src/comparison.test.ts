import { describe, expect, it } from 'vitest';
import { COMPARISON_SCHEMA_VERSION, ComparisonFormatError, comparisonJsonSchema, parseComparison, ranOnLocalEmulator } from './comparison';

function v1File() {
  return {
    schemaVersion: 1,
    tool: 'archbench',
    profile: 'quick',
    engine: 'embedded',
    startedAt: '2026-11-30T10:00:00.000Z',
    finishedAt: '2026-11-30T10:02:00.000Z',
    machine: { cores: 2, memoryBytes: 8 * 2 ** 30, node: 'v24.1.0', platform: 'linux', arch: 'x64' },
    topologies: [
      { name: 'monolith', processCount: 1, cpuSecondsPer1kOrders: 4, cpuSeconds: 12, ordersPlaced: 3000, peakRssBytes: 180 * 2 ** 20, hopsPerRequest: 0 },
    ],
    scenarios: [
      {
        scenario: 'checkout',
        topology: 'monolith',
        durationSeconds: 30,
        requests: 3000,
        throughputRps: 100,
        latencyMs: { p50: 10, p90: 20, p95: 25, p99: 40, max: 90 },
        errorRate: 0,
        statusCounts: { '201': 3000 },
        thresholds: [],
        thresholdsPassed: true,
      },
    ],
  };
}

function v2File() {
  return {
    ...v1File(),
    schemaVersion: 2,
    mode: 'started',
    experiments: ['load', 'faults'],
    topologies: [
      {
        ...v1File().topologies[0],
        idle: { cpuCores: 0.004, rssBytes: 90 * 2 ** 20, measuredSeconds: 5, billedAtRest: true },
        perRequest: { cpuMs: 1.2, cpuMsPerOrder: 4, wallMs: 9, requestsPerOrder: 1, queueMessagesPerOrder: 0, rssBytesPerProcess: 180 * 2 ** 20 },
        coldStart: null,
      },
      { name: 'serverless', processCount: 2, cpuSecondsPer1kOrders: 6, cpuSeconds: 20, ordersPlaced: 2000, peakRssBytes: 300 * 2 ** 20, hopsPerRequest: null },
      // A --target without a metrics URL: server-side figures are not measured.
      {
        name: 'staging-eu',
        processCount: null,
        cpuSecondsPer1kOrders: null,
        cpuSeconds: null,
        ordersPlaced: 1800,
        peakRssBytes: null,
        hopsPerRequest: null,
        source: 'target',
        serverSide: 'not-measured',
      },
    ],
    faults: [
      {
        topology: 'monolith',
        fault: 'dependency-crash',
        browseAvailability: 0.62,
        checkoutSuccess: 0.55,
        ordersLost: 0,
        ordersStuck: 0,
        duplicateCharges: 0,
        stockDrift: 0,
        recoverySeconds: 2.5,
        p95DuringFaultMs: 1800,
      },
    ],
    cost: {
      currency: 'USD',
      hoursPerMonth: 730,
      headroom: 0.3,
      targetUtilization: 0.6,
      prices: [{ id: 'vcpu-hour', description: 'vCPU', value: 0.04, unit: 'USD per vCPU-hour', source: 'AWS Fargate', date: '2026-11-01' }],
      profiles: [{ name: 'steady', busyRps: 200, peakRps: 200, hoursPerDay: 24, orderShare: 0.2 }],
      estimates: [{ topology: 'monolith', profile: 'steady', model: 'provisioned', monthlyUsd: 30, idleMonthlyUsd: 15, lines: [], notes: [] }],
    },
  };
}

describe('parseComparison', () => {
  it('writes version 3 and still reads version 1 files, which have no faults or cost', () => {
    expect(COMPARISON_SCHEMA_VERSION).toBe(3);
    const old = parseComparison(v1File());
    expect(old.schemaVersion).toBe(3);
    expect(old.convertedFrom?.schemaVersion).toBe(1);
    expect(old.faults).toEqual([]);
    expect(old.cost).toBeUndefined();
  });

  it('reads version 2 with faults, cost, new topologies and unmeasured server-side figures', () => {
    const c = parseComparison(v2File());
    expect(c.faults[0]).toMatchObject({ topology: 'monolith', fault: 'dependency-crash', recoverySeconds: 2.5 });
    expect(c.topologies.map((t) => t.name)).toEqual(['monolith', 'serverless', 'staging-eu']);
    expect(c.topologies[2]!.cpuSeconds).toBeNull();
    expect(c.cost?.profiles[0]!.quietRps).toBe(0);
  });

  it('refuses unknown versions, unknown faults and non-numeric fault figures, naming the problem', () => {
    expect(() => parseComparison({ ...v2File(), schemaVersion: 4 })).toThrow(/schemaVersion 4.*reads schemaVersion 1, 2 or 3/);
    const badFault = v2File();
    badFault.faults[0] = { ...badFault.faults[0]!, fault: 'meteor' };
    expect(() => parseComparison(badFault)).toThrow(ComparisonFormatError);
    const nullLost = v2File();
    (nullLost.faults[0] as Record<string, unknown>).ordersLost = null;
    expect(() => parseComparison(nullLost)).toThrow(/faults\.0\.ordersLost/);
    expect(() => parseComparison({ ...v2File(), topologies: [{ ...v2File().topologies[2], name: 'Staging EU' }] })).toThrow(/kebab-case/);
  });

  it('publishes a JSON Schema that accepts every readable version', () => {
    const schema = comparisonJsonSchema() as unknown as { properties: { schemaVersion: unknown }; required: string[] };
    expect(JSON.stringify(schema.properties.schemaVersion)).toMatch(/1.*2.*3/);
    expect(schema.required).not.toContain('faults');
  });
});

/** A version 2 checkout of 1,000 orders in 10 s, 100 of them failed, its throughput counted as `counted`. */
function v2Checkout(counted: 'every request' | 'successes', statusCounts: Record<string, number> = { '201': 900, '503': 100 }) {
  const base = v1File().scenarios[0]!;
  const [rps, rounds] = counted === 'every request' ? [100, [110, 90]] : [90, [99, 81]];
  return {
    ...v2File(),
    scenarios: [
      { ...base, durationSeconds: 10, requests: 1000, throughputRps: rps, errorRate: 0.1, statusCounts, roundThroughputRps: rounds },
      {
        ...base,
        scenario: 'browse',
        durationSeconds: 10,
        requests: 600,
        throughputRps: 60,
        errorRate: 0,
        statusCounts: { '200': 600 } as Record<string, number>,
      },
    ],
  };
}

describe('parseComparison of files written before version 3', () => {
  it('reads their throughput, which counted failed requests too, as successful requests per second, and says so', () => {
    const c = parseComparison(v2Checkout('every request'));
    expect(c.schemaVersion).toBe(3);
    expect(c.scenarios[0]!.throughputRps).toBeCloseTo(90, 9);
    expect(c.scenarios[0]!.roundThroughputRps!.map((r) => Number(r.toFixed(6)))).toEqual([99, 81]);
    // Nothing failed in browse: nothing to convert.
    expect(c.scenarios[1]!.throughputRps).toBe(60);
    expect(c.convertedFrom).toMatchObject({ schemaVersion: 2, throughputConverted: ['checkout/monolith'], rejectedOrdersMayCountAsPlaced: true });
    expect(c.convertedFrom!.warnings.join('\n')).toMatch(/counted failed requests too.*checkout\/monolith/);
    expect(c.convertedFrom!.warnings.join('\n')).toMatch(/REJECTED as placed orders.*cannot be corrected/);
    // Parsing what a reader re-serialised changes nothing again.
    expect(parseComparison(JSON.parse(JSON.stringify(c)))).toEqual(c);
  });

  it('leaves the throughput of version 2 files that already counted successes, and drops the rejected-orders caveat for files that name rejections', () => {
    const c = parseComparison(v2Checkout('successes', { '201': 900, '201 rejected: payment_declined': 100 }));
    expect(c.scenarios[0]!.throughputRps).toBe(90);
    expect(c.scenarios[0]!.roundThroughputRps).toEqual([99, 81]);
    expect(c.convertedFrom).toEqual({ schemaVersion: 2, throughputConverted: [], rejectedOrdersMayCountAsPlaced: false, warnings: [] });
  });

  it('converts version 1 files alike, and leaves version 3 files as they are', () => {
    const v1 = { ...v2Checkout('every request'), schemaVersion: 1 };
    expect(parseComparison(v1).scenarios[0]!.throughputRps).toBeCloseTo(90, 9);
    expect(parseComparison(v1).convertedFrom?.schemaVersion).toBe(1);
    const v3 = parseComparison({ ...v2Checkout('every request'), schemaVersion: 3 });
    expect(v3.scenarios[0]!.throughputRps).toBe(100);
    expect(v3.convertedFrom).toBeUndefined();
  });
});

describe('ranOnLocalEmulator', () => {
  it('is serverless started here (or from a file older than `source`), never a deployment or another topology', () => {
    expect(ranOnLocalEmulator({ name: 'serverless', source: 'started' })).toBe(true);
    expect(ranOnLocalEmulator({ name: 'serverless' })).toBe(true);
    expect(ranOnLocalEmulator({ name: 'serverless', source: 'target' })).toBe(false);
    expect(ranOnLocalEmulator({ name: 'monolith', source: 'started' })).toBe(false);
    expect(ranOnLocalEmulator({ name: 'hybrid' })).toBe(false);
  });
});
