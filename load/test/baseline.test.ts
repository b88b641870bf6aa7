import { describe, expect, it } from 'vitest';
import type { Comparison } from '@archbench/contracts/comparison';
import { COMPARISON_SCHEMA_VERSION, parseComparison } from '@archbench/contracts/comparison';
import { parseCompareArgs, UsageError } from '../src/compare/args';
import { compareWithBaseline, renderRegressions } from '../src/compare/baseline';
import { renderSummary } from '../src/compare/summary-md';

/** This run's file as written (current schema version). */
function comparisonFile() {
  const latency = (p95: number) => ({ p50: p95 / 3, p90: p95 / 1.5, p95, p99: p95 * 2, max: p95 * 4 });
  return {
    schemaVersion: COMPARISON_SCHEMA_VERSION,
    tool: 'archbench',
    profile: 'quick',
    engine: 'embedded',
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:02:00.000Z',
    machine: { cores: 2, memoryBytes: 8 * 1024 ** 3, node: 'v20.20.0', platform: 'linux', arch: 'x64' },
    topologies: [
      { name: 'monolith', processCount: 1, cpuSecondsPer1kOrders: 2, cpuSeconds: 10, ordersPlaced: 5000, peakRssBytes: 150e6, hopsPerRequest: 0 },
      { name: 'microservices-http', processCount: 5, cpuSecondsPer1kOrders: 6, cpuSeconds: 20, ordersPlaced: 3000, peakRssBytes: 600e6, hopsPerRequest: 2.5 },
    ],
    scenarios: [
      {
        scenario: 'checkout',
        topology: 'monolith',
        durationSeconds: 18,
        requests: 5000,
        throughputRps: 277,
        latencyMs: latency(40),
        errorRate: 0,
        statusCounts: { '201': 5000 },
        thresholds: [],
        thresholdsPassed: true,
        loadModel: 'closed',
      },
      {
        scenario: 'checkout',
        topology: 'microservices-http',
        durationSeconds: 18,
        requests: 3000,
        throughputRps: 166,
        latencyMs: latency(70),
        errorRate: 0.002,
        statusCounts: { '201': 2994, '503': 6 },
        thresholds: [],
        thresholdsPassed: true,
        loadModel: 'closed',
      },
    ],
  };
}

function comparison(): Comparison {
  return parseComparison(comparisonFile());
}

describe('baseline regression check', () => {
  it('finds nothing when the run equals the baseline', () => {
    expect(compareWithBaseline(comparison(), comparison(), 10).regressions).toEqual([]);
  });

  it('flags lower throughput and higher latency, CPU, memory and error rate beyond the tolerance', () => {
    const current = comparison();
    current.scenarios[0]!.throughputRps = 230; // -17%
    current.scenarios[1]!.latencyMs.p95 = 90; // +29%
    current.scenarios[1]!.errorRate = 0.02;
    current.topologies[1]!.cpuSecondsPer1kOrders = 6.5; // +8%: inside 10%
    current.topologies[0]!.peakRssBytes = 200e6; // +33%
    const check = compareWithBaseline(current, comparison(), 10);
    expect(check.regressions.map((r) => r.figure)).toEqual([
      'checkout/monolith throughput (req/s)',
      'checkout/microservices-http p95 latency (ms)',
      'checkout/microservices-http error rate',
      'monolith peak RSS (bytes)',
    ]);
    expect(check.regressions[0]!.worseByPercent).toBeCloseTo(17, 0);
    expect(renderRegressions(check, 10)).toContain('REGRESSION checkout/monolith throughput (req/s): 277 -> 230');
  });

  it('ignores improvements and tiny absolute changes', () => {
    const current = comparison();
    current.scenarios[0]!.throughputRps = 400;
    current.scenarios[0]!.latencyMs.p95 = 40.8; // +2%, under the 1 ms floor anyway
    current.scenarios[0]!.errorRate = 0.0005; // from 0, under the 0.1 point floor
    expect(compareWithBaseline(current, comparison(), 1).regressions).toEqual([]);
  });

  it('compares hops per request only between files that give them at the same mix', () => {
    const perKind = (c: Comparison, hops: number) => {
      const t = c.topologies[1]!;
      t.hopsPerRequest = hops;
      t.perRequest = {
        cpuMs: 1,
        cpuMsPerOrder: 2,
        wallMs: 5,
        requestsPerOrder: 4,
        queueMessagesPerOrder: 0,
        rssBytesPerProcess: 1e8,
        hopsPerRead: 1,
        hopsPerOrder: 3,
      };
      return c;
    };
    // A baseline from before (2.5 over its runs as they came) against 3.0 at 80/20: two different
    // figures, not a regression.
    const across = compareWithBaseline(perKind(comparison(), 3), comparison(), 10);
    expect(across.regressions).toEqual([]);
    expect(across.notes.join('\n')).toMatch(/microservices-http hops per request not compared: one of the two files predates/);
    // Both at 80/20: a real increase is flagged.
    const both = compareWithBaseline(perKind(comparison(), 1.8), perKind(comparison(), 1.4), 10);
    expect(both.regressions.map((r) => r.figure)).toEqual(['microservices-http hops per request']);
  });

  it("reads a baseline written before schema version 3 with this run's throughput (successes) and notes what it converted and what it cannot", () => {
    // The same run, a fifth of microservices-http's orders failing: a version 2 file counted them in its throughput.
    const failing = (file: ReturnType<typeof comparisonFile>, throughputRps: number) => {
      Object.assign(file.scenarios[1]!, { errorRate: 0.2, statusCounts: { '201': 2400, '503': 600 }, throughputRps });
      return file;
    };
    const current = parseComparison(failing(comparisonFile(), 2400 / 18));
    const baseline = parseComparison({ ...failing(comparisonFile(), 3000 / 18), schemaVersion: 2 });
    const check = compareWithBaseline(current, baseline, 10);
    expect(check.regressions).toEqual([]);
    const notes = renderRegressions(check, 10);
    expect(notes).toMatch(
      /note: baseline: throughput in this version 2 file counted failed requests too; read as successful requests\/s .* for checkout\/microservices-http/,
    );
    expect(notes).toMatch(/note: baseline: this version 2 file may count orders answered 201 but REJECTED as placed orders/);
    // A baseline of this version: nothing to say.
    expect(compareWithBaseline(current, current, 10).notes).toEqual([]);
  });

  it('notes what it could not compare', () => {
    const current = comparison();
    current.scenarios.pop();
    current.profile = 'standard';
    const check = compareWithBaseline(current, comparison(), 10);
    expect(check.notes.join('\n')).toMatch(/baseline profile is quick/);
    expect(check.notes.join('\n')).toMatch(/checkout\/microservices-http is in the baseline but not in this run/);
  });
});

describe('summary markdown', () => {
  it('has a client and a server table with ratios against the monolith', () => {
    const md = renderSummary(comparison());
    expect(md).toMatch(/\| checkout \| microservices-http \| closed \| 166 \|.*\| 0\.60× \| 1\.75× \|/);
    expect(md).toMatch(/\| microservices-http \| 5 \| 6\.00 \|.*\| 2\.50 \| 3\.00× \| 4\.00× \|/);
    expect(md).toContain("microservices-http sustains 0.60× the monolith's maximum throughput");
  });
});

describe('compare arguments', () => {
  it('parses the documented options', () => {
    expect(
      parseCompareArgs([
        '--profile',
        'standard',
        '--engine',
        'embedded',
        '--topologies',
        'monolith,microservices-http',
        '--out',
        'x',
        '--baseline',
        'b.json',
        '--tolerance',
        '5%',
      ]),
    ).toEqual({
      profile: 'standard',
      engine: 'embedded',
      topologies: ['monolith', 'microservices-http'],
      experiments: undefined,
      targets: [],
      authSecret: undefined,
      tokenFile: undefined,
      prices: [],
      loadProfiles: undefined,
      outDir: 'x',
      baseline: 'b.json',
      tolerance: 5,
      help: false,
    });
    expect(parseCompareArgs([])).toMatchObject({ profile: 'quick', engine: 'auto', topologies: undefined, outDir: 'results', tolerance: 10 });
  });

  it.each([
    [['--profile', 'huge'], /--profile must be one of smoke, quick, standard/],
    [['--engine', 'wrk'], /--engine must be k6, embedded or auto, got "wrk"/],
    [['--topologies', 'monolith,lambda'], /unknown topology "lambda"/],
    [['--topologies', 'monolith,monolith'], /twice/],
    [['--tolerance', '5'], /only makes sense with --baseline/],
    [['--baseline', 'b.json', '--tolerance', 'ten'], /--tolerance must be a percentage/],
    [['--bogus'], /Unknown option '--bogus'/],
    [['extra'], /positional/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseCompareArgs(argv)).toThrow(UsageError);
    expect(() => parseCompareArgs(argv)).toThrow(message);
  });
});

describe('summary headline', () => {
  it('refuses to state a ratio when one side mostly failed', () => {
    const c = comparison();
    c.scenarios[1]!.errorRate = 0.5;
    expect(renderSummary(c)).toMatch(/checkout: not comparable, too many failed requests \(microservices-http 50\.00%/);
  });
});

describe('paired throughput ratio', () => {
  it('is the median of per-round ratios, so one disturbed round barely moves it', async () => {
    const { pairedThroughputRatio } = await import('@archbench/contracts/comparison');
    const c = comparison();
    const [mono, micro] = c.scenarios as [Comparison['scenarios'][number], Comparison['scenarios'][number]];
    mono.roundThroughputRps = [200, 210, 600, 190, 205]; // round 3: the machine was briefly quiet for the monolith
    micro.roundThroughputRps = [40, 42, 45, 38, 41];
    expect(pairedThroughputRatio(micro, mono)).toBeCloseTo(0.2, 5);
    expect(renderSummary(c)).toContain('microservices-http sustains 0.20× the monolith');
    delete micro.roundThroughputRps;
    expect(pairedThroughputRatio(micro, mono)).toBeCloseTo(166 / 277, 5);
  });
});
