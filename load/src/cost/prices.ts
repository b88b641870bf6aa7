export { DEFAULT_LOAD_PROFILES, DEFAULT_PRICES, PriceError, parseLoadProfile, withOverrides } from '@archbench/contracts/cost';
