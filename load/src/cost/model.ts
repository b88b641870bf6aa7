export { HOURS_PER_MONTH, MONTH_SECONDS, costInputsOf, costSection, estimateCost, monthlyRequests } from '@archbench/contracts/cost';
export type { BillingModel, CostInputs, CostOptions } from '@archbench/contracts/cost';
