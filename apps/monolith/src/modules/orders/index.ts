/** Orders module: the only entry other modules may import. */
export { createOrders } from './service';
export type { Orders, PlaceResult } from './service';
export type { OrdersTables } from './tables';
export { orderRoutes } from './routes';
