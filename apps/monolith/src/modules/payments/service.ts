import type { ExpressionBuilder, Kysely } from 'kysely';
import type { PaymentRecord, PaymentToken } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { paymentFromRow } from '@archbench/domain/orders';
import { PaymentProvider, refundClaimTimes } from '@archbench/domain/payment-provider';
import type { ChargeOutcome } from '@archbench/domain/payment-provider';
import type { Metrics } from '@archbench/observability/metrics';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { prepareQuery } from '@archbench/server-kit/prepared';
import type { QueryTarget } from '@archbench/server-kit/prepared';
import { nowIso } from '../../shared/events';
import { joinTransaction } from '../../shared/transaction';
import type { SharedTransaction } from '../../shared/transaction';
import type { PaymentsTables } from './tables';

/** A refund the provider failed is tried again this long after (the deadline sweeper looks every pass). */
export const REFUND_RETRY_MS = 30_000;
/** Most refunds one `completeRefunds` call sends. */
const REFUND_BATCH = 100;

/** A charge the provider answered, not yet recorded: `recordCharge` writes it. */
export interface ChargeAttempt {
  paymentId: string;
  outcome: ChargeOutcome;
  providerRef: string;
}

/** Settings of the simulated provider that can change at run time (fault drills). */
export interface ProviderSettings {
  latencyMs: number;
  slowMs: number;
  failureRate: number;
}

export interface PaymentsProviderOptions {
  /** The settings in force at start (from PAYMENT_* env). */
  settings: ProviderSettings;
  /** A provider to use until the first `configureProvider` (tests); default: one built from `settings`. */
  provider?: PaymentProvider;
}

/**
 * Payments: talks to the (simulated) provider, outside any database transaction, and records
 * every charge and refund. The unique (order_id, kind) row is written before the provider call,
 * so a second charge for the same order can never reach the provider: at most one capture.
 */
export function createPayments(db: Kysely<PaymentsTables>, providerOptions: PaymentsProviderOptions, metrics?: Pick<Metrics, 'paymentsTotal'>) {
  let settings: ProviderSettings = { ...providerOptions.settings };
  let provider = providerOptions.provider ?? new PaymentProvider(settings);
  // Every order writes these two; compiled once.
  const insertPayment = prepareQuery(db, (q, $: { id: string; order_id: string; kind: string; amount_cents: number; created_at: string }) =>
    q.insertInto('payments').values({
      id: $.id,
      order_id: $.order_id,
      kind: $.kind,
      status: 'PENDING',
      amount_cents: $.amount_cents,
      provider_ref: null,
      created_at: $.created_at,
      claimed_until: null,
    }),
  );
  const setOutcome = prepareQuery(db, (q, $: { id: string; status: string; provider_ref: string }) =>
    q.updateTable('payments').set({ status: $.status, provider_ref: $.provider_ref }).where('id', '=', $.id),
  );
  const results = {
    SUCCEEDED: metrics?.paymentsTotal.labels({ result: 'succeeded' }),
    DECLINED: metrics?.paymentsTotal.labels({ result: 'declined' }),
    FAILED: metrics?.paymentsTotal.labels({ result: 'failed' }),
  };

  /**
   * Writes the PENDING charge row (committed before the provider is called, so a second charge for
   * the same order can never reach it), then calls the provider. 'DUPLICATE' when a charge for the
   * order was already attempted.
   */
  async function attempt(orderId: string, token: PaymentToken, amountCents: number): Promise<ChargeAttempt | 'DUPLICATE'> {
    let paymentId: string;
    try {
      paymentId = await openCharge(db, orderId, amountCents);
    } catch (error) {
      if (isUniqueViolation(error)) return 'DUPLICATE';
      throw error;
    }
    return send(paymentId, token, amountCents);
  }

  /**
   * Writes the PENDING charge row of an order, in the caller's transaction when one is given: from
   * then on a second charge for the order cannot reach the provider. Once that row is committed, a
   * crash before the provider answered leaves the charge in flight, which restart recovery fails
   * (the simulated provider cannot be asked). Returns the payment id for `send`.
   */
  async function openCharge(trx: QueryTarget, orderId: string, amountCents: number): Promise<string> {
    const paymentId = newId('pay');
    await insertPayment.execute(trx, { id: paymentId, order_id: orderId, kind: 'charge', amount_cents: amountCents, created_at: nowIso() });
    return paymentId;
  }

  /** Calls the provider for a charge opened with `openCharge` (after its row is committed); records nothing. */
  async function send(paymentId: string, token: PaymentToken, amountCents: number): Promise<ChargeAttempt> {
    const result = await provider.charge(token, amountCents);
    results[result.outcome]?.inc();
    return { paymentId, outcome: result.outcome, providerRef: result.providerRef };
  }

  /** Records a provider answer; pass the caller's transaction to commit it with what follows from it. */
  async function recordCharge(trx: QueryTarget, charge: ChargeAttempt): Promise<void> {
    await setOutcome.execute(trx, { id: charge.paymentId, status: charge.outcome, provider_ref: charge.providerRef });
  }

  return {
    /** Charges an order once and records the outcome; 'DUPLICATE' when a charge for it was already attempted. */
    async charge(orderId: string, token: PaymentToken, amountCents: number): Promise<ChargeOutcome | 'DUPLICATE'> {
      const result = await attempt(orderId, token, amountCents);
      if (result === 'DUPLICATE') return result;
      await recordCharge(db, result);
      return result.outcome;
    },
    /**
     * The two halves of `charge`, for a caller that records the outcome in its own transaction
     * together with what follows from it (the order's confirmation): one commit instead of two.
     */
    attempt,
    recordCharge,
    /** `attempt` split at the commit: open the charge in the order's own transaction, send it after. */
    openCharge,
    send,
    /**
     * Records the refund of a cancelled order inside the cancel's own transaction, so a crash
     * after the commit still leaves a PENDING refund that `completeRefunds` finishes.
     */
    async recordRefund(shared: SharedTransaction, orderId: string, amountCents: number): Promise<void> {
      await joinTransaction<PaymentsTables>(shared)
        .insertInto('payments')
        .values({
          id: newId('pay'),
          order_id: orderId,
          kind: 'refund',
          status: 'PENDING',
          amount_cents: amountCents,
          provider_ref: null,
          created_at: nowIso(),
          claimed_until: null,
        })
        .execute();
    },
    /**
     * Sends recorded refunds to the provider: one order's (after its cancel) or every pending one
     * (at start, and from the deadline sweeper). Each is claimed first, in one conditional update
     * of its row (`claimed_until`, REFUND_CLAIM_MS ahead), so a refund another call is sending, or
     * one that failed less than REFUND_RETRY_MS ago, is left alone: an order is refunded once. One
     * the provider fails stays PENDING and may be tried again REFUND_RETRY_MS later. Returns how
     * many this call refunded. `orphanedBefore` (startup recovery passes this process's start): a
     * claim made before it is a dead process's and is taken now, not when it runs out.
     */
    async completeRefunds(orderId?: string, orphanedBefore?: string): Promise<number> {
      const { endedBy } = refundClaimTimes(orphanedBefore === undefined ? undefined : Date.parse(orphanedBefore));
      const claimable = (eb: ExpressionBuilder<PaymentsTables, 'payments'>) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', endedBy)]);
      let query = db.selectFrom('payments').select(['id', 'amount_cents']).where('kind', '=', 'refund').where('status', '=', 'PENDING').where(claimable);
      if (orderId !== undefined) query = query.where('order_id', '=', orderId);
      const pending = await query.orderBy('created_at').limit(REFUND_BATCH).execute();
      let refunded = 0;
      for (const row of pending) {
        const claimedUntil = refundClaimTimes().until;
        const claim = await db
          .updateTable('payments')
          .set({ claimed_until: claimedUntil })
          .where('id', '=', row.id)
          .where('status', '=', 'PENDING')
          .where(claimable)
          .executeTakeFirst();
        if (Number(claim.numUpdatedRows) !== 1) continue;
        const result = await provider.refund(Number(row.amount_cents));
        metrics?.paymentsTotal.inc({ result: result.outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
        const update = db.updateTable('payments').where('id', '=', row.id).where('status', '=', 'PENDING');
        if (result.outcome === 'SUCCEEDED') {
          await update.set({ status: 'SUCCEEDED', provider_ref: result.providerRef }).execute();
          refunded++;
        } else {
          await update
            .set({ claimed_until: new Date(Date.now() + REFUND_RETRY_MS).toISOString() })
            .where('claimed_until', '=', claimedUntil)
            .execute();
        }
      }
      return refunded;
    },
    /** Outcome of an earlier charge attempt (after a restart), or undefined when none was made. */
    async chargeStatus(orderId: string): Promise<string | undefined> {
      const row = await db.selectFrom('payments').select('status').where('order_id', '=', orderId).where('kind', '=', 'charge').executeTakeFirst();
      return row?.status;
    },
    /** Marks a charge left in flight by a crash as failed (the simulated provider cannot be asked). */
    async abandonCharge(orderId: string, shared?: SharedTransaction): Promise<void> {
      await (shared ? joinTransaction<PaymentsTables>(shared) : db)
        .updateTable('payments')
        .set({ status: 'FAILED' })
        .where('order_id', '=', orderId)
        .where('kind', '=', 'charge')
        .where('status', '=', 'PENDING')
        .execute();
    },
    /** The provider settings in force. */
    providerSettings(): ProviderSettings {
      return { ...settings };
    },
    /**
     * Changes the simulated provider at run time (fault drills such as a provider outage); calls
     * already at the provider finish with the settings they started with.
     */
    configureProvider(patch: Partial<ProviderSettings>): ProviderSettings {
      settings = {
        latencyMs: patch.latencyMs ?? settings.latencyMs,
        slowMs: patch.slowMs ?? settings.slowMs,
        failureRate: patch.failureRate ?? settings.failureRate,
      };
      provider = new PaymentProvider(settings);
      return { ...settings };
    },
    async listForOrder(orderId: string): Promise<PaymentRecord[]> {
      const rows = await db.selectFrom('payments').selectAll().where('order_id', '=', orderId).orderBy('created_at').execute();
      return rows.map(paymentFromRow);
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
