/** Payments module: the only entry other modules may import. */
export { createPayments } from './service';
export type { Payments } from './service';
export { paymentsAdminRoutes } from './routes';
