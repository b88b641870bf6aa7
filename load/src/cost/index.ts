export { HOURS_PER_MONTH, costInputsOf, costSection, estimateCost, monthlyRequests } from './model';
export type { BillingModel, CostInputs, CostOptions } from './model';
export { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, PriceError, parseLoadProfile, withOverrides } from './prices';
