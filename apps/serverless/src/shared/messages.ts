import { z } from 'zod';

/**
 * Queue message shapes. Consumers validate every body: a message that does not parse is poison,
 * fails every attempt and ends in the dead-letter queue instead of being half-processed.
 */
export const PaymentCommand = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('charge'), orderId: z.string().min(1).max(64) }),
  z.strictObject({ kind: z.literal('refund'), orderId: z.string().min(1).max(64) }),
]);
export type PaymentCommand = z.infer<typeof PaymentCommand>;

export const OrderEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('OrderConfirmed'), orderId: z.string().min(1).max(64), customerId: z.string(), totalCents: z.number().int() }),
  z.strictObject({ type: z.literal('OrderCancelled'), orderId: z.string().min(1).max(64), customerId: z.string() }),
]);
export type OrderEvent = z.infer<typeof OrderEvent>;

/** Thrown for a message body that can never be processed. */
export class PoisonMessageError extends Error {
  override readonly name = 'PoisonMessageError';
}

/** Parses a queue message body or throws PoisonMessageError naming what is wrong. */
export function parseMessage<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body);
  if (!result.success) {
    throw new PoisonMessageError(`invalid message: ${result.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}`);
  }
  return result.data;
}
