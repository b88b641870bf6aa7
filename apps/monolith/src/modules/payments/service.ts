import type { Kysely, Transaction } from 'kysely';
import type { PaymentRecord, PaymentToken } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import type { ChargeOutcome, PaymentProvider } from '@archbench/domain/payment-provider';
import type { Metrics } from '@archbench/observability/metrics';
import { isUniqueViolation } from '@archbench/server-kit/db';
import type { Tables } from '../../db/schema';
import { nowIso } from '../../shared/events';

const toRecord = (row: Tables['payments']): PaymentRecord => ({
  id: row.id,
  orderId: row.order_id,
  kind: row.kind as PaymentRecord['kind'],
  status: row.status as PaymentRecord['status'],
  amountCents: Number(row.amount_cents),
  createdAt: row.created_at,
});

/**
 * Payments: talks to the (simulated) provider, outside any database transaction, and records
 * every charge and refund. The unique (order_id, kind) row is written before the provider call,
 * so a second charge for the same order can never reach the provider: at most one capture.
 */
export function createPayments(db: Kysely<Tables>, provider: PaymentProvider, metrics?: Pick<Metrics, 'paymentsTotal'>) {
  async function once(orderId: string, kind: 'charge', amountCents: number, call: () => Promise<{ outcome: ChargeOutcome; providerRef: string }>): Promise<ChargeOutcome | 'DUPLICATE'> {
    const id = newId('pay');
    try {
      await db
        .insertInto('payments')
        .values({ id, order_id: orderId, kind, status: 'PENDING', amount_cents: amountCents, provider_ref: null, created_at: nowIso() })
        .execute();
    } catch (error) {
      if (isUniqueViolation(error)) return 'DUPLICATE';
      throw error;
    }
    const result = await call();
    metrics?.paymentsTotal.inc({ result: result.outcome.toLowerCase() as 'succeeded' | 'declined' | 'failed' });
    await db.updateTable('payments').set({ status: result.outcome, provider_ref: result.providerRef }).where('id', '=', id).execute();
    return result.outcome;
  }

  return {
    /** Charges an order once; 'DUPLICATE' when a charge for it was already attempted. */
    charge(orderId: string, token: PaymentToken, amountCents: number) {
      return once(orderId, 'charge', amountCents, () => provider.charge(token, amountCents));
    },
    /**
     * Records the refund of a cancelled order inside the cancel's own transaction, so a crash
     * after the commit still leaves a PENDING refund that `completeRefunds` finishes.
     */
    async recordRefund(trx: Transaction<Tables>, orderId: string, amountCents: number): Promise<void> {
      await trx
        .insertInto('payments')
        .values({ id: newId('pay'), order_id: orderId, kind: 'refund', status: 'PENDING', amount_cents: amountCents, provider_ref: null, created_at: nowIso() })
        .execute();
    },
    /** Sends recorded refunds to the provider: one order's (after its cancel) or every pending one (at start). */
    async completeRefunds(orderId?: string): Promise<number> {
      let query = db.selectFrom('payments').select(['id', 'amount_cents']).where('kind', '=', 'refund').where('status', '=', 'PENDING');
      if (orderId !== undefined) query = query.where('order_id', '=', orderId);
      const pending = await query.execute();
      for (const row of pending) {
        const result = await provider.refund(Number(row.amount_cents));
        metrics?.paymentsTotal.inc({ result: result.outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
        await db.updateTable('payments').set({ status: result.outcome, provider_ref: result.providerRef }).where('id', '=', row.id).where('status', '=', 'PENDING').execute();
      }
      return pending.length;
    },
    /** Outcome of an earlier charge attempt (after a restart), or undefined when none was made. */
    async chargeStatus(orderId: string): Promise<string | undefined> {
      const row = await db.selectFrom('payments').select('status').where('order_id', '=', orderId).where('kind', '=', 'charge').executeTakeFirst();
      return row?.status;
    },
    /** Marks a charge left in flight by a crash as failed (the simulated provider cannot be asked). */
    async abandonCharge(orderId: string): Promise<void> {
      await db.updateTable('payments').set({ status: 'FAILED' }).where('order_id', '=', orderId).where('kind', '=', 'charge').where('status', '=', 'PENDING').execute();
    },
    async listForOrder(orderId: string): Promise<PaymentRecord[]> {
      const rows = await db.selectFrom('payments').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
      return rows.map(toRecord);
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
