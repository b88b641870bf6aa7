// The cost model lives in @archbench/contracts/cost (shared with the decision CLI); re-exported
// here so `@archbench/load/cost` keeps working.
export * from '@archbench/contracts/cost';
