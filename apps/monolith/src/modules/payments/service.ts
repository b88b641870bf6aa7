import type { ExpressionBuilder, Kysely } from 'kysely';
import type { PaymentRecord, PaymentToken } from '@archbench/contracts/schemas';
import { newId } from '@archbench/domain/ids';
import { paymentFromRow } from '@archbench/domain/orders';
import { PaymentProvider, callLeaseUntil, withCallLease } from '@archbench/domain/payment-provider';
import type { ChargeOutcome } from '@archbench/domain/payment-provider';
import type { Logger } from '@archbench/observability/logging';
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

/** A charge row written PENDING (`openCharge`): its id and the lease of the process that will call the provider. */
export interface OpenedCharge {
  paymentId: string;
  /** The row's `claimed_until` as written (see `withCallLease`). */
  lease: string;
}

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
 * When the oldest refund still to be made was recorded (`created_at`: the cancel or late capture
 * that owes it), or undefined when none is. Reads the `payments_pending_refunds` partial index
 * (pending refunds only), however many finished payments the table holds.
 */
export async function oldestPendingRefund(db: Kysely<PaymentsTables>): Promise<string | undefined> {
  const row = await db
    .selectFrom('payments')
    .select((eb) => eb.fn.min<string>('created_at').as('since'))
    .where('kind', '=', 'refund')
    .where('status', '=', 'PENDING')
    .executeTakeFirst();
  return row?.since ?? undefined;
}

/**
 * Payments: talks to the (simulated) provider, outside any database transaction, and records
 * every charge and refund. The unique (order_id, kind) row is written before the provider call,
 * so a second charge for the same order can never reach the provider: at most one capture.
 *
 * Whose call is it: the row of a call carries the lease of the process making it (`claimed_until`,
 * renewed every second while the provider answers, lapsing CALL_LEASE_MS after the process died;
 * `withCallLease`), so a second process on one PostgreSQL (a replica, the new pod of a rolling
 * update) tells a live call from a dead one: startup recovery and refund passes take only calls
 * whose lease lapsed.
 */
export function createPayments(
  db: Kysely<PaymentsTables>,
  providerOptions: PaymentsProviderOptions,
  metrics?: Pick<Metrics, 'paymentsTotal'>,
  logger?: Pick<Logger, 'warn'>,
) {
  let settings: ProviderSettings = { ...providerOptions.settings };
  let provider = providerOptions.provider ?? new PaymentProvider(settings);
  // Every order writes these two; compiled once.
  const insertPayment = prepareQuery(
    db,
    (q, $: { id: string; order_id: string; kind: string; amount_cents: number; created_at: string; claimed_until: string }) =>
      q.insertInto('payments').values({
        id: $.id,
        order_id: $.order_id,
        kind: $.kind,
        status: 'PENDING',
        amount_cents: $.amount_cents,
        provider_ref: null,
        created_at: $.created_at,
        claimed_until: $.claimed_until,
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
    let opened: OpenedCharge;
    try {
      opened = await openCharge(db, orderId, amountCents);
    } catch (error) {
      if (isUniqueViolation(error)) return 'DUPLICATE';
      throw error;
    }
    return send(opened, token, amountCents);
  }

  /** Moves a PENDING row's lease from `from` to `to` if it still reads `from`; false when it did not. */
  async function moveClaim(id: string, from: string, to: string): Promise<boolean> {
    const moved = await db
      .updateTable('payments')
      .set({ claimed_until: to })
      .where('id', '=', id)
      .where('status', '=', 'PENDING')
      .where('claimed_until', '=', from)
      .executeTakeFirst();
    return Number(moved.numUpdatedRows) === 1;
  }

  /**
   * Writes the PENDING charge row of an order, in the caller's transaction when one is given: from
   * then on a second charge for the order cannot reach the provider. Once that row is committed, a
   * crash before the provider answered leaves the charge in flight, which restart recovery fails
   * once its lease lapsed (the simulated provider cannot be asked). Returns what `send` needs.
   */
  async function openCharge(trx: QueryTarget, orderId: string, amountCents: number): Promise<OpenedCharge> {
    const paymentId = newId('pay');
    const lease = callLeaseUntil();
    await insertPayment.execute(trx, {
      id: paymentId,
      order_id: orderId,
      kind: 'charge',
      amount_cents: amountCents,
      created_at: nowIso(),
      claimed_until: lease,
    });
    return { paymentId, lease };
  }

  /** Calls the provider for a charge opened with `openCharge` (after its row is committed), renewing its lease meanwhile; records nothing. */
  async function send(opened: OpenedCharge, token: PaymentToken, amountCents: number): Promise<ChargeAttempt> {
    const { paymentId } = opened;
    const { result } = await withCallLease(
      opened.lease,
      (from, to) => moveClaim(paymentId, from, to),
      () => provider.charge(token, amountCents),
    );
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
     * of its row (`claimed_until`: a call lease, renewed while the provider answers), so a refund
     * another call or process is sending, or one that failed less than REFUND_RETRY_MS ago, is
     * left alone: an order is refunded once. One the provider fails stays PENDING and may be tried
     * again REFUND_RETRY_MS later; a dead process's is taken once its lease lapsed. Returns how
     * many this call refunded.
     */
    async completeRefunds(orderId?: string): Promise<number> {
      const now = nowIso();
      const claimable = (eb: ExpressionBuilder<PaymentsTables, 'payments'>) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', now)]);
      let query = db
        .selectFrom('payments')
        .select(['id', 'order_id', 'amount_cents'])
        .where('kind', '=', 'refund')
        .where('status', '=', 'PENDING')
        .where(claimable);
      if (orderId !== undefined) query = query.where('order_id', '=', orderId);
      const pending = await query.orderBy('created_at').limit(REFUND_BATCH).execute();
      let refunded = 0;
      for (const row of pending) {
        const claimedUntil = callLeaseUntil();
        const claim = await db
          .updateTable('payments')
          .set({ claimed_until: claimedUntil })
          .where('id', '=', row.id)
          .where('status', '=', 'PENDING')
          .where(claimable)
          .executeTakeFirst();
        if (Number(claim.numUpdatedRows) !== 1) continue;
        const { result, lease } = await withCallLease(
          claimedUntil,
          (from, to) => moveClaim(row.id, from, to),
          () => provider.refund(Number(row.amount_cents)),
        );
        metrics?.paymentsTotal.inc({ result: result.outcome === 'SUCCEEDED' ? 'refunded' : 'refund_failed' });
        const update = db.updateTable('payments').where('id', '=', row.id).where('status', '=', 'PENDING');
        if (result.outcome === 'SUCCEEDED') {
          await update.set({ status: 'SUCCEEDED', provider_ref: result.providerRef }).execute();
          refunded++;
        } else {
          // What an operator follows from RefundStuck (compose's alert on the oldest pending refund).
          logger?.warn(
            { orderId: row.order_id, paymentId: row.id, amountCents: Number(row.amount_cents) },
            `refund failed at the payment provider; tried again in ${REFUND_RETRY_MS / 1000} s`,
          );
          await update
            .set({ claimed_until: new Date(Date.now() + REFUND_RETRY_MS).toISOString() })
            .where('claimed_until', '=', lease)
            .execute();
        }
      }
      return refunded;
    },
    /** When the oldest refund still to be made was recorded (see `oldestPendingRefund`). */
    oldestPendingRefund: () => oldestPendingRefund(db),
    /**
     * When the last refund lease that a process started before `startedAt` may still hold runs
     * out (leases end at most CALL_LEASE_MS after their last renewal), or undefined when none is
     * held: restart recovery waits for it, then sends the refunds a dead process left.
     */
    async refundLeasesOfEarlierProcessesEnd(startedAt: string): Promise<number | undefined> {
      const row = await db
        .selectFrom('payments')
        .select((eb) => eb.fn.max('claimed_until').as('until'))
        .where('kind', '=', 'refund')
        .where('status', '=', 'PENDING')
        .where('claimed_until', '>=', nowIso())
        .where('claimed_until', '<=', callLeaseUntil(Date.parse(startedAt)))
        .executeTakeFirst();
      return row?.until ? Date.parse(row.until) : undefined;
    },
    /** Outcome of an earlier charge attempt (after a restart), or undefined when none was made. */
    async chargeStatus(orderId: string): Promise<string | undefined> {
      const row = await db.selectFrom('payments').select('status').where('order_id', '=', orderId).where('kind', '=', 'charge').executeTakeFirst();
      return row?.status;
    },
    /** The order's charge as restart recovery reads it: its status and its call lease (null on rows from before leases). */
    async chargeCall(orderId: string): Promise<{ status: string; claimedUntil: string | null } | undefined> {
      const row = await db
        .selectFrom('payments')
        .select(['status', 'claimed_until'])
        .where('order_id', '=', orderId)
        .where('kind', '=', 'charge')
        .executeTakeFirst();
      return row && { status: row.status, claimedUntil: row.claimed_until };
    },
    /**
     * Marks a charge whose process died as failed (the simulated provider cannot be asked), if its
     * lease still reads `lease`: false when its process renewed it meanwhile (it is alive) or it
     * was settled.
     */
    async abandonLapsedCharge(orderId: string, lease: string | null): Promise<boolean> {
      const abandoned = await db
        .updateTable('payments')
        .set({ status: 'FAILED' })
        .where('order_id', '=', orderId)
        .where('kind', '=', 'charge')
        .where('status', '=', 'PENDING')
        .where('claimed_until', lease === null ? 'is' : '=', lease)
        .executeTakeFirst();
      return Number(abandoned.numUpdatedRows) === 1;
    },
    /** Marks a charge left in flight as failed, whoever holds it (the deadline passed; a late capture is refunded). */
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
    /** Back to the settings the process started with (its PAYMENT_* env), whatever was switched since. */
    resetProvider(): ProviderSettings {
      settings = { ...providerOptions.settings };
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
