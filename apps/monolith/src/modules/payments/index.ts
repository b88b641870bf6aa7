/** Payments module: the only entry other modules may import. */
export { createPayments } from './service';
export { REFUND_AGE_METRIC, registerRefundAge } from './refund-age';
export type { OpenedCharge, Payments, ProviderSettings } from './service';
export type { PaymentsTables } from './tables';
export { paymentsAdminRoutes } from './routes';
