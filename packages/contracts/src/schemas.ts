import { z } from 'zod';

/**
 * The public API of archbench, as zod schemas. Both reference apps validate with these and the
 * OpenAPI document is generated from them, so the contract has one source.
 */

/** Limits that are part of the contract (the conformance suite checks them). */
export const LIMITS = {
  /** Largest request body accepted, in bytes; larger bodies get 413. */
  maxBodyBytes: 64 * 1024,
  maxItemsPerOrder: 50,
  maxQuantity: 1000,
  maxPageSize: 100,
  defaultPageSize: 20,
  /** Upper bound for `Prefer: wait=N`, in seconds. Larger values are clamped. */
  maxWaitSeconds: 30,
  /** Longest `Idempotency-Key` header accepted, in characters; longer keys get 422. */
  maxIdempotencyKeyLength: 200,
  /** Largest request line plus headers, in bytes (Node's default); larger get 431 headers-too-large. */
  maxHeaderBytes: 16 * 1024,
} as const;

export const Sku = z
  .string()
  .regex(/^SKU-\d{4}$/, 'must look like SKU-0001')
  .meta({ id: 'Sku', example: 'SKU-0001' });

export const Product = z
  .object({
    sku: Sku,
    name: z.string(),
    priceCents: z.number().int().nonnegative(),
    currency: z.literal('EUR'),
    stock: z.number().int().nonnegative().describe('Units available to order now.'),
  })
  .meta({ id: 'Product' });
export type Product = z.infer<typeof Product>;

const PAGE_SIZE_MESSAGE = `must be a whole number from 1 to ${LIMITS.maxPageSize}`;

export const PageQuery = z.object({
  // Digits only from a query string: `0x10`, `1e1`, `1.0` and an empty value are refused, not read as numbers.
  limit: z
    .preprocess(
      (value) => (typeof value === 'string' && /^\d{1,9}$/.test(value) ? Number(value) : value),
      z.number({ error: PAGE_SIZE_MESSAGE }).int(PAGE_SIZE_MESSAGE).min(1, PAGE_SIZE_MESSAGE).max(LIMITS.maxPageSize, PAGE_SIZE_MESSAGE),
    )
    .default(LIMITS.defaultPageSize),
  cursor: z.string().max(200).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

export const ProductPage = z
  .object({
    items: z.array(Product),
    nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null at the end.'),
  })
  .meta({ id: 'ProductPage' });
export type ProductPage = z.infer<typeof ProductPage>;

export const OrderStatus = z.enum(['PENDING', 'CONFIRMED', 'REJECTED', 'CANCELLED']).meta({ id: 'OrderStatus' });
export type OrderStatus = z.infer<typeof OrderStatus>;
export const TERMINAL_STATUSES: readonly OrderStatus[] = ['CONFIRMED', 'REJECTED', 'CANCELLED'];

export const PaymentStatus = z.enum(['PENDING', 'CAPTURED', 'DECLINED', 'FAILED', 'REFUNDED']).meta({ id: 'PaymentStatus' });
export type PaymentStatus = z.infer<typeof PaymentStatus>;

/** Why an order was rejected; stable codes a client can switch on. */
export const RejectionReason = z.enum(['payment_declined', 'payment_provider_error', 'payment_provider_unavailable']).meta({ id: 'RejectionReason' });
export type RejectionReason = z.infer<typeof RejectionReason>;

/** Card tokens of the simulated payment provider. */
export const PaymentToken = z.enum(['tok_ok', 'tok_decline', 'tok_error', 'tok_slow']).meta({ id: 'PaymentToken' });
export type PaymentToken = z.infer<typeof PaymentToken>;

export const OrderItemInput = z.strictObject({
  sku: Sku,
  quantity: z
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(LIMITS.maxQuantity, `must be at most ${LIMITS.maxQuantity}`),
});

export const CreateOrderRequest = z
  .strictObject({
    items: z
      .array(OrderItemInput)
      .min(1, 'an order needs at least one item')
      .max(LIMITS.maxItemsPerOrder, `at most ${LIMITS.maxItemsPerOrder} items per order`)
      .superRefine((items, ctx) => {
        const seen = new Set<string>();
        items.forEach((item, index) => {
          if (seen.has(item.sku)) {
            ctx.addIssue({ code: 'custom', path: [index, 'sku'], message: 'each SKU may appear once per order' });
          }
          seen.add(item.sku);
        });
      }),
    payment: z.strictObject({ token: PaymentToken }),
  })
  .meta({ id: 'CreateOrderRequest' });
export type CreateOrderRequest = z.infer<typeof CreateOrderRequest>;

export const OrderItem = z.object({
  sku: Sku,
  quantity: z.number().int().positive(),
  unitPriceCents: z.number().int().nonnegative(),
});
export type OrderItem = z.infer<typeof OrderItem>;

export const Order = z
  .object({
    id: z.string(),
    customerId: z.string(),
    status: OrderStatus,
    items: z.array(OrderItem),
    totalCents: z.number().int().nonnegative(),
    currency: z.literal('EUR'),
    paymentStatus: PaymentStatus,
    rejectionReason: RejectionReason.nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Order' });
export type Order = z.infer<typeof Order>;

export const OrderListQuery = PageQuery.extend({ status: OrderStatus.optional() });
export type OrderListQuery = z.infer<typeof OrderListQuery>;

export const OrderPage = z.object({ items: z.array(Order), nextCursor: z.string().nullable() }).meta({ id: 'OrderPage' });
export type OrderPage = z.infer<typeof OrderPage>;

export const Shipment = z
  .object({
    id: z.string(),
    orderId: z.string(),
    status: z.enum(['PREPARING', 'CANCELLED']),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Shipment' });
export type Shipment = z.infer<typeof Shipment>;

export const PaymentRecord = z
  .object({
    id: z.string(),
    orderId: z.string(),
    kind: z.enum(['charge', 'refund']),
    status: z
      .enum(['PENDING', 'SUCCEEDED', 'DECLINED', 'FAILED'])
      .describe('PENDING until the provider has answered; a refund the provider failed stays PENDING until a retry succeeds.'),
    amountCents: z.number().int().nonnegative(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'PaymentRecord' });
export type PaymentRecord = z.infer<typeof PaymentRecord>;

export const PaymentList = z.object({ items: z.array(PaymentRecord) }).meta({ id: 'PaymentList' });
export type PaymentList = z.infer<typeof PaymentList>;

const RESTOCK_MESSAGE = 'must be a whole number from 1 to 1000000';
export const RestockRequest = z
  .strictObject({ quantity: z.number({ error: RESTOCK_MESSAGE }).int(RESTOCK_MESSAGE).min(1, RESTOCK_MESSAGE).max(1_000_000, RESTOCK_MESSAGE) })
  .meta({ id: 'RestockRequest' });
export type RestockRequest = z.infer<typeof RestockRequest>;

/** The slowest `latencyMs` (and `slowMs`) the provider switch accepts at run time, ms. */
export const MAX_PROVIDER_LATENCY_MS = 120_000;

const providerLatency = z.number().int().min(0).max(MAX_PROVIDER_LATENCY_MS);
/**
 * What `PUT /admin/payments/provider` (the simulated payment provider's switch for fault drills)
 * takes in every topology: any subset of the three settings, nothing else. The one copy: the
 * monolith, the hybrid, the microservices' gateway and payments service and the serverless API
 * worker all validate with it.
 */
export const ProviderSettingsPatch = z
  .strictObject({
    latencyMs: providerLatency.optional().describe('Base latency of every provider call, ms.'),
    slowMs: providerLatency.optional().describe('Latency of tok_slow, ms.'),
    failureRate: z.number().min(0).max(1).optional().describe('Share of provider calls (0..1) that fail like a 5xx.'),
  })
  .meta({ id: 'ProviderSettingsPatch' });
export type ProviderSettingsPatch = z.infer<typeof ProviderSettingsPatch>;

/** What `GET`/`PUT`/`DELETE /admin/payments/provider` answer: the provider settings in force, flat. */
export const ProviderSettings = z
  .strictObject({
    latencyMs: z.number().int().min(0),
    slowMs: z.number().int().min(0),
    failureRate: z.number().min(0).max(1),
  })
  .meta({ id: 'ProviderSettings' });
export type ProviderSettings = z.infer<typeof ProviderSettings>;

export const SeedResult = z.object({ products: z.number().int() }).meta({ id: 'SeedResult' });

export const Health = z
  .object({ status: z.enum(['ok', 'unavailable']), service: z.string(), checks: z.record(z.string(), z.string()).optional() })
  .meta({ id: 'Health' });
export type Health = z.infer<typeof Health>;

export const FieldError = z.object({ path: z.string(), message: z.string() });
export type FieldError = z.infer<typeof FieldError>;

/** RFC 9457 problem details, as every error of the API is sent. */
export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    code: z.string().describe('Stable machine-readable error code.'),
    instance: z.string().optional(),
    errors: z.array(FieldError).optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

/** Parses `Prefer: wait=N` (RFC 7240); returns seconds clamped to the contract's maximum, or undefined. */
export function parsePreferWait(header: string | undefined | null): number | undefined {
  if (!header) return undefined;
  const match = /(?:^|[,;\s])wait\s*=\s*"?(\d+)"?/i.exec(header);
  if (!match?.[1]) return undefined;
  return Math.min(Number(match[1]), LIMITS.maxWaitSeconds);
}

/** Turns zod issues into the field errors of a validation problem. */
export function toFieldErrors(error: z.ZodError, prefix = ''): FieldError[] {
  return error.issues.map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(body)',
    message: issue.message,
  }));
}
