// Shared by the embedded engine (Node) and the k6 scripts (k6's JS runtime): keep this folder free
// of Node imports and bare package imports, and import siblings with explicit `.ts` extensions,
// because k6 resolves modules by path only.

/** One kind of public request a workload sends. */
export type RequestKind = 'list-products' | 'get-product' | 'place-order';

/** A request kind with its share of a workload's iterations (weights are relative). */
export interface WeightedRequest {
  kind: RequestKind;
  weight: number;
}

/** One stage of a ramping arrival rate: move linearly to `target` iterations/s over `durationSeconds`. */
export interface RateStage {
  target: number;
  durationSeconds: number;
}

/**
 * How load is offered, named after k6's executors. Arrival-rate executors are open-model runs
 * (iterations start on schedule whether or not earlier ones finished; the embedded engine counts
 * latency from the scheduled time, k6 from the send: its http_req_duration); `constant-vus` is a
 * closed model that measures maximum throughput.
 */
export type LoadShape =
  | {
      executor: 'constant-arrival-rate';
      /** Iterations per second. */
      rate: number;
      durationSeconds: number;
      /**
       * VUs the embedded engine creates up front; it creates more on the spot up to `maxVUs`. The
       * k6 mapping pre-allocates all `maxVUs` instead (k6 drops an iteration when every started VU
       * is busy and starts more only in the background), so both engines behave alike.
       */
      preAllocatedVUs: number;
      /** Iterations that find all `maxVUs` busy are dropped and counted, by both engines. */
      maxVUs: number;
    }
  | {
      executor: 'ramping-arrival-rate';
      startRate: number;
      stages: RateStage[];
      preAllocatedVUs: number;
      maxVUs: number;
    }
  | {
      executor: 'constant-vus';
      vus: number;
      durationSeconds: number;
    };

export type LoadModel = 'open' | 'closed';

/** A k6-style threshold: `metric` is `http_req_duration` (ms) or `http_req_failed` (rate 0..1). */
export interface ThresholdDefinition {
  metric: 'http_req_duration' | 'http_req_failed';
  /** k6 expression such as `p(95)<100` or `rate<0.01`. */
  expression: string;
}

/** A workload: what requests it sends, how load is offered, and what counts as passing. */
export interface ScenarioDefinition {
  name: string;
  description: string;
  mix: WeightedRequest[];
  load: LoadShape;
  thresholds: ThresholdDefinition[];
}

export type ProfileName = 'smoke' | 'quick' | 'standard';

/** Experiments `pnpm compare` can run besides the load rounds (which always run). */
export type ExperimentName = 'faults' | 'coldstart';

/** Sizes of each fault experiment: a mixed open-model load with one fault in it. */
export interface FaultPlanDefinition {
  /** Mixed load, iterations/s. */
  rate: number;
  /** Length of the load run, s. */
  durationSeconds: number;
  /** Fault injected at this second of the run. */
  injectAtSeconds: number;
  /** Fault window, s: how long an outage lasts and over how long availability is measured. */
  faultSeconds: number;
  /** Seconds of normal success that count as recovered. */
  recoveryWindowSeconds: number;
  /** How long to wait after the load for every order to settle, s. */
  quietDeadlineSeconds: number;
}

/** A set of scenarios with their sizes, run in `rounds` interleaved rounds per topology. */
export interface Profile {
  name: ProfileName;
  description: string;
  /** Each scenario runs once per round against each topology (A B A B ...). */
  rounds: number;
  /** Unrecorded load per topology before the first round, so JIT and caches are warm. */
  warmupSeconds: number;
  scenarios: ScenarioDefinition[];
  /** Experiments run unless `--experiments` says otherwise. */
  experiments: ExperimentName[];
  /** Idle period after start (idle CPU/RSS, then the first request after idle), s. */
  idleSeconds: number;
  /** Starts per topology measured for cold start (the first is the run's own start). */
  coldStartSamples: number;
  faultPlan: FaultPlanDefinition;
}
