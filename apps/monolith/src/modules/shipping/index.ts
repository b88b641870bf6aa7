/** Shipping module: the only entry other modules may import. */
import type { Shipping } from './service';

export { createShipping } from './service';
export type { Shipping };
export type { ShippingTables } from './tables';
/**
 * What the rest of the app asks shipping (the customer's shipment read, and restart recovery's
 * "which orders still need their event"); an extracted shipping service (the hybrid) answers it too.
 */
export type ShipmentReader = Pick<Shipping, 'get' | 'unshipped' | 'stillShipping'>;
