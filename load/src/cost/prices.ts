export { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, PriceError, parseLoadProfile, strictDecimal, withOverrides } from '@archbench/contracts/cost';
