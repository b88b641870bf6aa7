import type { LoadShape, Profile, ProfileName, ScenarioDefinition, ThresholdDefinition, WeightedRequest } from './types.ts';

/** Defaults every scenario starts from: p95 under 100 ms and fewer than 1% failed requests. */
export const DEFAULT_THRESHOLDS: ThresholdDefinition[] = [
  { metric: 'http_req_duration', expression: 'p(95)<100' },
  { metric: 'http_req_failed', expression: 'rate<0.01' },
];

/** Reads: page through the catalog and open product pages. */
export const BROWSE_MIX: WeightedRequest[] = [
  { kind: 'list-products', weight: 30 },
  { kind: 'get-product', weight: 70 },
];
/** Writes: place orders and wait for the terminal status (`Prefer: wait=5`). */
export const CHECKOUT_MIX: WeightedRequest[] = [{ kind: 'place-order', weight: 100 }];
/** 80% browse, 20% checkout. */
export const MIXED_MIX: WeightedRequest[] = [
  { kind: 'list-products', weight: 24 },
  { kind: 'get-product', weight: 56 },
  { kind: 'place-order', weight: 20 },
];

function scenario(name: string, description: string, mix: WeightedRequest[], load: LoadShape): ScenarioDefinition {
  return { name, description, mix, load, thresholds: DEFAULT_THRESHOLDS };
}

/**
 * Builds the browse scenario at a fixed arrival rate.
 * @example browse(100, 8) // 100 iterations/s for 8 s, open model
 */
export function browse(rate: number, durationSeconds: number): ScenarioDefinition {
  return scenario('browse', 'GET /products (paging) and GET /products/{sku} at a fixed arrival rate', BROWSE_MIX, {
    executor: 'constant-arrival-rate',
    rate,
    durationSeconds,
    preAllocatedVUs: Math.max(2, Math.ceil(rate / 20)),
    maxVUs: Math.max(20, rate),
  });
}

/**
 * Builds the reads scenario: the browse mix as a closed model, `vus` clients reading back to back.
 * Its throughput is the most reads per second the topology sustains, and its CPU per read is the
 * cost model's (a deployment sized for its peak runs warm and busy; at browse's moderate rate a
 * read costs several times as much CPU: code the JIT has not optimised, a wake-up per request,
 * the processes' idle work spread over few requests).
 * @example reads(8, 2)
 */
export function reads(vus: number, durationSeconds: number): ScenarioDefinition {
  return scenario('reads', 'GET /products (paging) and GET /products/{sku}, closed model at maximum throughput', BROWSE_MIX, {
    executor: 'constant-vus',
    vus,
    durationSeconds,
  });
}

/**
 * Builds the checkout scenario as a closed model: `vus` customers place orders back to back, so
 * throughput is the most orders per second the topology sustains.
 * @example checkout(8, 8)
 */
export function checkout(vus: number, durationSeconds: number): ScenarioDefinition {
  return scenario('checkout', 'POST /orders (tok_ok, one or two items, Prefer: wait=5), closed model at maximum throughput', CHECKOUT_MIX, {
    executor: 'constant-vus',
    vus,
    durationSeconds,
  });
}

/** 80% browse / 20% checkout at a fixed arrival rate. */
export function mixed(rate: number, durationSeconds: number): ScenarioDefinition {
  return scenario('mixed', '80% browse, 20% checkout at a fixed arrival rate', MIXED_MIX, {
    executor: 'constant-arrival-rate',
    rate,
    durationSeconds,
    preAllocatedVUs: Math.max(2, Math.ceil(rate / 10)),
    maxVUs: Math.max(20, rate * 2),
  });
}

/** The mixed workload under a ramp: base rate, a fast rise to `peak`, a hold, and the way down. */
export function spike(base: number, peak: number, stageSeconds: number): ScenarioDefinition {
  return scenario('spike', `mixed workload ramping ${base} -> ${peak} -> ${base} iterations/s`, MIXED_MIX, {
    executor: 'ramping-arrival-rate',
    startRate: base,
    stages: [
      { target: base, durationSeconds: stageSeconds },
      { target: peak, durationSeconds: Math.max(1, Math.round(stageSeconds / 2)) },
      { target: peak, durationSeconds: stageSeconds },
      { target: base, durationSeconds: Math.max(1, Math.round(stageSeconds / 2)) },
    ],
    preAllocatedVUs: Math.max(4, Math.ceil(peak / 10)),
    maxVUs: Math.max(40, peak * 2),
  });
}

/**
 * The profiles `pnpm compare --profile` accepts. `quick` is sized for a 2-core machine where the
 * load generator shares the cores with the servers (see load/README.md for why).
 */
export const PROFILES: Record<ProfileName, Profile> = {
  smoke: {
    name: 'smoke',
    description: 'a few seconds, to check that everything starts and the result file is valid',
    rounds: 1,
    warmupSeconds: 1,
    scenarios: [browse(20, 2), reads(2, 1), checkout(2, 2)],
    experiments: [],
    idleSeconds: 1,
    coldStartSamples: 1,
    faultPlan: { rate: 20, durationSeconds: 12, injectAtSeconds: 3, faultSeconds: 3, recoveryWindowSeconds: 2, quietDeadlineSeconds: 15 },
  },
  quick: {
    name: 'quick',
    description: 'browse at a moderate fixed rate, reads and checkout at maximum throughput, four rounds',
    // 4 rounds of browse 2 s + reads 1 s + checkout 5 s: five topologies (two of them five
    // processes) in about four minutes on a 2-core machine; cold start and faults are left to standard.
    rounds: 4,
    warmupSeconds: 3,
    scenarios: [browse(60, 2), reads(8, 1), checkout(8, 5)],
    experiments: [],
    idleSeconds: 3,
    coldStartSamples: 1,
    faultPlan: { rate: 30, durationSeconds: 24, injectAtSeconds: 6, faultSeconds: 5, recoveryWindowSeconds: 3, quietDeadlineSeconds: 20 },
  },
  standard: {
    name: 'standard',
    description: 'all five workloads, 20-30 s each per round, three rounds',
    rounds: 3,
    warmupSeconds: 10,
    scenarios: [browse(150, 30), reads(16, 20), checkout(16, 30), mixed(100, 30), spike(40, 300, 10)],
    experiments: ['coldstart', 'faults'],
    idleSeconds: 30,
    coldStartSamples: 3,
    faultPlan: { rate: 50, durationSeconds: 50, injectAtSeconds: 10, faultSeconds: 10, recoveryWindowSeconds: 10, quietDeadlineSeconds: 45 },
  },
};

export const PROFILE_NAMES = Object.keys(PROFILES) as ProfileName[];

/** Seconds one round of a load shape lasts. */
export function loadDurationSeconds(load: LoadShape): number {
  return load.executor === 'ramping-arrival-rate' ? load.stages.reduce((sum, s) => sum + s.durationSeconds, 0) : load.durationSeconds;
}

/** `open` for arrival-rate executors, `closed` for constant-vus. */
export function loadModelOf(load: LoadShape): 'open' | 'closed' {
  return load.executor === 'constant-vus' ? 'closed' : 'open';
}
