// The one cost model: `pnpm compare` (load) and the decision CLI both price with it, so a
// topology costs the same, in the same currency, in summary.md and in the ADR.
export { HOURS_PER_MONTH, MONTH_SECONDS, costInputsOf, costSection, estimateCost, monthlyRequests } from './model';
export type { BillingModel, CostInputs, CostOptions } from './model';
export { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, PriceError, parseLoadProfile, strictDecimal, withOverrides } from './prices';
