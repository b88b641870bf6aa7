/** Shipping module: the only entry other modules may import. */
import type { Shipping } from './service';

export { createShipping } from './service';
export type { Shipping };
/** All the rest of the app reads from shipping; an extracted shipping service can answer it too. */
export type ShipmentReader = Pick<Shipping, 'get'>;
