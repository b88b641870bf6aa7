export { costSection, estimateCost, monthlyRequests } from '@archbench/contracts/cost';
export type { BillingModel, CostInputs, CostOptions } from '@archbench/contracts/cost';
