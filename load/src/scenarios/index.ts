export type { LoadModel, LoadShape, Profile, ProfileName, RateStage, RequestKind, ScenarioDefinition, ThresholdDefinition, WeightedRequest } from './types.ts';
export {
  BROWSE_MIX,
  CHECKOUT_MIX,
  DEFAULT_THRESHOLDS,
  MIXED_MIX,
  PROFILES,
  PROFILE_NAMES,
  browse,
  checkout,
  loadDurationSeconds,
  loadModelOf,
  mixed,
  reads,
  spike,
} from './definitions.ts';
export {
  DEV_AUTH_SECRET_FOR_K6,
  EXPECTED_STATUSES,
  K6_FAILED_METRIC,
  K6_STATUS_BUCKETS,
  LOAD_CUSTOMERS,
  ORDER_FAILURES,
  ORDER_SKU_COUNT,
  ORDER_WAIT_SECONDS,
  PRODUCTS_PAGE_SIZE,
  REQUEST_TIMEOUT_SECONDS,
  afterResponse,
  buildRequest,
  createVuState,
  customerId,
  k6OrderFailureMetric,
  needsBody,
  orderFailure,
  orderFields,
  pickRequest,
  responseFailure,
  seededRandom,
  statusKey,
} from './requests.ts';
export type { OrderFailure, RequestSpec, VuState } from './requests.ts';
export { K6_GRACEFUL_STOP_SECONDS, K6_TREND_STATS, k6RequestParams, k6SummaryData, toK6Options } from './k6-options.ts';
export type { K6Options, K6RequestParams, K6SummaryRun } from './k6-options.ts';
