/** Shipping module: the only entry other modules may import. */
export { createShipping } from './service';
export type { Shipping } from './service';
