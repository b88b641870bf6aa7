/** Shipping module: the only entry other modules may import. */
import type { Shipping } from './service';

export { createShipping } from './service';
export type { Shipping };
export type { ShippingTables } from './tables';
/**
 * What the rest of the app asks shipping: create or cancel an order's shipment in the transaction
 * that confirms or cancels the order, the customer's shipment read, and restart recovery's "which
 * orders still need their shipment / cancel". An extracted shipping service (the hybrid's outbox)
 * answers it too.
 */
export type ShippingSeam = Pick<Shipping, 'createIn' | 'cancelIn' | 'get' | 'unshipped' | 'stillShipping'>;
