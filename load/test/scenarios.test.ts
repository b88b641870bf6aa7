import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CreateOrderRequest } from '@archbench/contracts/schemas';
import { DEV_AUTH_SECRET } from '@archbench/contracts/tokens';
import { openApiPaths } from '@archbench/contracts/openapi';
import { PROBLEM_CODES } from '@archbench/contracts/problems';
import { SCARCE_FROM, SEED_STOCK, seedCatalog } from '@archbench/domain/catalog';
import { arrivalSchedule } from '../src/engine/schedule';
import {
  DEV_AUTH_SECRET_FOR_K6,
  K6_STATUS_BUCKETS,
  ORDER_SKU_COUNT,
  PROFILES,
  REQUEST_TIMEOUT_SECONDS,
  buildRequest,
  createVuState,
  k6RequestParams,
  loadDurationSeconds,
  loadModelOf,
  pickRequest,
  seededRandom,
  spike,
  toK6Options,
} from '../src/scenarios/index';
import { parseThreshold } from '../src/scenarios/thresholds';

const Positive = z.number().positive();
const LoadShapeSchema = z.discriminatedUnion('executor', [
  z.object({
    executor: z.literal('constant-arrival-rate'),
    rate: Positive,
    durationSeconds: Positive,
    preAllocatedVUs: z.number().int().positive(),
    maxVUs: z.number().int().positive(),
  }),
  z.object({
    executor: z.literal('ramping-arrival-rate'),
    startRate: z.number().nonnegative(),
    stages: z.array(z.object({ target: z.number().nonnegative(), durationSeconds: Positive })).min(1),
    preAllocatedVUs: z.number().int().positive(),
    maxVUs: z.number().int().positive(),
  }),
  z.object({ executor: z.literal('constant-vus'), vus: z.number().int().positive(), durationSeconds: Positive }),
]);
const ScenarioSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/),
  description: z.string().min(10),
  mix: z.array(z.object({ kind: z.enum(['list-products', 'get-product', 'place-order']), weight: Positive })).min(1),
  load: LoadShapeSchema,
  thresholds: z.array(z.object({ metric: z.enum(['http_req_duration', 'http_req_failed']), expression: z.string() })),
});

describe('scenario definitions', () => {
  for (const profile of Object.values(PROFILES)) {
    it(`profile ${profile.name} is well formed`, () => {
      expect(profile.rounds).toBeGreaterThanOrEqual(1);
      const names = profile.scenarios.map((s) => s.name);
      expect(new Set(names).size).toBe(names.length);
      for (const scenario of profile.scenarios) {
        ScenarioSchema.parse(scenario);
        for (const t of scenario.thresholds) expect(() => parseThreshold(t.expression)).not.toThrow();
        if (scenario.load.executor !== 'constant-vus') expect(scenario.load.maxVUs).toBeGreaterThanOrEqual(scenario.load.preAllocatedVUs);
      }
    });
  }

  it('standard has all five workloads, with the default thresholds', () => {
    expect(PROFILES.standard.scenarios.map((s) => s.name)).toEqual(['browse', 'reads', 'checkout', 'mixed', 'spike']);
    for (const s of PROFILES.standard.scenarios) {
      expect(s.thresholds).toEqual([
        { metric: 'http_req_duration', expression: 'p(95)<100' },
        { metric: 'http_req_failed', expression: 'rate<0.01' },
      ]);
    }
  });

  it('quick leaves room inside its four-minute budget for five topologies (starting and overhead take the rest)', () => {
    const q = PROFILES.quick;
    const perTopology = q.warmupSeconds + q.rounds * q.scenarios.reduce((sum, s) => sum + loadDurationSeconds(s.load), 0);
    expect(perTopology * 5 + q.idleSeconds).toBeLessThan(180);
    expect(q.experiments).toEqual([]);
  });

  it('every profile measures reads at capacity beside browse at its fixed rate: the same mix, closed and open', () => {
    for (const profile of Object.values(PROFILES)) {
      const browse = profile.scenarios.find((s) => s.name === 'browse')!;
      const reads = profile.scenarios.find((s) => s.name === 'reads')!;
      expect(reads.mix).toEqual(browse.mix);
      expect(loadModelOf(reads.load)).toBe('closed');
      expect(loadModelOf(browse.load)).toBe('open');
    }
  });

  it('orders only use ordinary seeded SKUs with large stock', () => {
    const catalog = seedCatalog();
    expect(ORDER_SKU_COUNT).toBeLessThanOrEqual(SCARCE_FROM);
    for (const product of catalog.slice(0, ORDER_SKU_COUNT)) expect(product.stock).toBe(SEED_STOCK);
    const vu = createVuState(1, ['t']);
    for (let i = 0; i < 500; i++) {
      const spec = buildRequest('place-order', vu);
      const body = CreateOrderRequest.parse(JSON.parse(spec.body!));
      expect(body.payment.token).toBe('tok_ok');
      expect(body.items.length).toBeGreaterThanOrEqual(1);
      expect(body.items.length).toBeLessThanOrEqual(2);
      expect(new Set(body.items.map((x) => x.sku)).size).toBe(body.items.length);
      for (const item of body.items) expect(Number(item.sku.slice(4))).toBeLessThan(ORDER_SKU_COUNT);
      expect(spec.headers.prefer).toBe('wait=5');
      expect(spec.headers.authorization).toBe('Bearer t');
    }
  });

  it('the k6 copy of the development secret matches the servers', () => {
    expect(DEV_AUTH_SECRET_FOR_K6).toBe(DEV_AUTH_SECRET);
  });

  it('picks request kinds in proportion to their weights, deterministically per seed', () => {
    const random = seededRandom(7);
    const counts = { 'list-products': 0, 'get-product': 0, 'place-order': 0 };
    const mix = PROFILES.standard.scenarios.find((s) => s.name === 'mixed')!.mix;
    for (let i = 0; i < 20_000; i++) counts[pickRequest(mix, random)]++;
    expect(counts['place-order'] / 20_000).toBeCloseTo(0.2, 1);
    expect(counts['get-product'] / 20_000).toBeCloseTo(0.56, 1);
    const a = seededRandom(3);
    const b = seededRandom(3);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});

describe('k6 mapping', () => {
  it('maps open-model scenarios to arrival-rate executors and thresholds by metric', () => {
    const browse = PROFILES.quick.scenarios.find((s) => s.name === 'browse')!;
    const options = toK6Options(browse);
    expect(options.scenarios.browse).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 60,
      timeUnit: '1s',
      duration: `${loadDurationSeconds(browse.load)}s`,
    });
    // http_req_failed sees only the status: the scripts' own failure rate (a rejected order is a failure) carries its thresholds.
    expect(options.thresholds).toEqual({ http_req_duration: ['p(95)<100'], archbench_req_failed: ['rate<0.01'] });
    expect(options.summaryTrendStats).toContain('p(99)');
    const ramp = toK6Options(spike(10, 100, 4)).scenarios.spike!;
    expect(ramp).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 10 });
    expect(ramp.stages).toEqual([
      { target: 10, duration: '4s' },
      { target: 100, duration: '2s' },
      { target: 100, duration: '4s' },
      { target: 10, duration: '2s' },
    ]);
    expect(toK6Options(PROFILES.quick.scenarios.find((s) => s.name === 'checkout')!).scenarios.checkout).toMatchObject({ executor: 'constant-vus', vus: 8 });
  });
});

describe('k6 open-model VUs', () => {
  // k6's arrival-rate executors drop an iteration as soon as every VU already started is busy (more
  // start only one at a time in the background); the embedded engine starts one on the spot up to
  // maxVUs. With every VU ready, k6 too drops only when all maxVUs are busy.
  const open = Object.values(PROFILES).flatMap((p) =>
    p.scenarios.filter((s) => s.load.executor !== 'constant-vus').map((s) => [`${p.name} ${s.name}`, s] as const),
  );

  it.each(open)('%s: k6 pre-allocates every VU up to maxVUs', (_, scenario) => {
    const load = scenario.load as Extract<typeof scenario.load, { maxVUs: number }>;
    expect(load.preAllocatedVUs).toBeLessThan(load.maxVUs); // the definition's own pre-allocation is smaller
    expect(toK6Options(scenario).scenarios[scenario.name]).toMatchObject({ preAllocatedVUs: load.maxVUs, maxVUs: load.maxVUs });
  });

  it('covers browse, mixed and spike', () => {
    expect(new Set(open.map(([, s]) => s.name))).toEqual(new Set(['browse', 'mixed', 'spike']));
  });
});

describe('k6 requests in flight at the end of a run', () => {
  const all = Object.values(PROFILES).flatMap((p) => p.scenarios.map((s) => [`${p.name} ${s.name}`, s] as const));

  it.each(all)('%s: k6 waits for a request in flight as long as its timeout (gracefulStop)', (_, scenario) => {
    // An iteration k6 interrupts at gracefulStop loses its samples and the counters after the
    // request; the embedded engine waits for every request in flight (up to the timeout).
    const gracefulStop = String(toK6Options(scenario).scenarios[scenario.name]!.gracefulStop);
    expect(gracefulStop).toMatch(/^\d+s$/);
    expect(parseInt(gracefulStop, 10)).toBeGreaterThan(REQUEST_TIMEOUT_SECONDS);
  });

  it("k6 requests time out when the embedded engine's do (30 s; k6 defaults to 60 s)", () => {
    expect(REQUEST_TIMEOUT_SECONDS).toBe(30);
    const spec = buildRequest('place-order', createVuState(1, ['t']));
    expect(k6RequestParams(spec)).toEqual({ headers: spec.headers, tags: { name: 'place-order' }, timeout: '30s' });
  });
});

describe('k6 status counters', () => {
  it('have a bucket for every status the API can answer, so k6 shows the code and not "other"', () => {
    const documented = Object.values(openApiPaths()).flatMap((item) =>
      Object.values(item as Record<string, { responses?: Record<string, unknown> }>).flatMap((op) => Object.keys(op.responses ?? {})),
    );
    const answerable = new Set([...documented.map(Number), ...Object.values(PROBLEM_CODES)]);
    expect(answerable.size).toBeGreaterThan(10);
    // 405 (method-not-allowed), 413, 415 and 431 went to archbench_status_other before.
    for (const status of answerable) expect(K6_STATUS_BUCKETS, `status ${status}`).toContain(status);
    // Node's own 408 (request timeout) and a proxy's 429 and 504 too.
    for (const status of [408, 429, 504]) expect(K6_STATUS_BUCKETS).toContain(status);
  });
});

describe('arrival schedule', () => {
  const count = (schedule: (i: number) => number | null) => {
    let i = 0;
    while (schedule(i) !== null) i++;
    return i;
  };

  it('spaces a constant rate evenly', () => {
    const schedule = arrivalSchedule({ executor: 'constant-arrival-rate', rate: 50, durationSeconds: 2, preAllocatedVUs: 1, maxVUs: 1 });
    expect(count(schedule)).toBe(100);
    expect(schedule(0)).toBe(0);
    expect(schedule(25)).toBeCloseTo(0.5, 9);
  });

  it('follows a linear ramp (arrivals = area under the rate curve)', () => {
    const load = {
      executor: 'ramping-arrival-rate' as const,
      startRate: 0,
      stages: [
        { target: 100, durationSeconds: 2 },
        { target: 100, durationSeconds: 1 },
      ],
      preAllocatedVUs: 1,
      maxVUs: 1,
    };
    const schedule = arrivalSchedule(load);
    expect(count(schedule)).toBe(200); // 100 in the ramp + 100 at the plateau
    // Half of the ramp's arrivals come in its last 29% (rate grows linearly).
    expect(schedule(50)).toBeCloseTo(Math.SQRT2, 6);
    const times = Array.from({ length: 200 }, (_, i) => schedule(i)!);
    for (let i = 1; i < times.length; i++) expect(times[i]!).toBeGreaterThan(times[i - 1]!);
  });
});
