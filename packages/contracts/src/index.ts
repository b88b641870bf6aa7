export {
  LIMITS,
  TERMINAL_STATUSES,
  CreateOrderRequest,
  Order,
  OrderPage,
  OrderListQuery,
  OrderStatus,
  PageQuery,
  PaymentList,
  PaymentRecord,
  PaymentStatus,
  PaymentToken,
  Problem,
  Product,
  ProductPage,
  RejectionReason,
  RestockRequest,
  Shipment,
  parsePreferWait,
  toFieldErrors,
} from './schemas';
export type { FieldError } from './schemas';
export { PROBLEM_BASE, PROBLEM_CODES, PROBLEM_CONTENT_TYPE } from './problems';
export type { ProblemCode } from './problems';
export { buildOpenApiDocument } from './openapi';
export { DEV_AUTH_SECRET, mintToken, verifyToken } from './tokens';
export type { Role, TokenClaims } from './tokens';
