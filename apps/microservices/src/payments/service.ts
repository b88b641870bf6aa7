import { setTimeout as sleep } from 'node:timers/promises';
import { PaymentProvider, callLeaseUntil, withCallLease } from '@archbench/domain/payment-provider';
import type { PaymentProviderOptions } from '@archbench/domain/payment-provider';
import type { Logger } from '@archbench/observability/logging';
import { isUniqueViolation } from '@archbench/server-kit/db';
import { PoisonMessageError } from '../shared/messages';
import type { ChargeCommand, ChargeOutcome, ChargeReply, Command, RefundCommand, RefundReply, Reply, VoidCommand, VoidReply } from '../shared/messages';
import { CircuitBreaker } from './circuit-breaker';
import type { BreakerState, CircuitBreakerOptions } from './circuit-breaker';
import { LATE_CAPTURED, LATE_CAPTURE_REFUND } from './repository';
import type { PaymentsRepository } from './repository';

export interface PaymentsOptions {
  repo: PaymentsRepository;
  provider: PaymentProviderOptions;
  /** A provider to use until the first `configureProvider` (tests); default: one built from `provider`. */
  providerInstance?: PaymentProvider;
  /** A provider call slower than this counts as failed and the order is not charged, ms. */
  timeoutMs: number;
  breaker: Omit<CircuitBreakerOptions, 'onStateChange' | 'now'>;
  logger: Logger;
  onOutcome?: (kind: 'charge' | 'refund', outcome: string) => void;
  /** The outbox relay (app.ts), kicked when an event was written; without it (tests) events wait in the outbox. */
  relay?: { kick(): Promise<void> };
}

const TIMED_OUT = Symbol('timed out');
/** A PENDING row from before call leases (no `claimed_until`) counts as running this long after its creation, ms. */
const ORPHAN_AFTER_MS = 1000;
/** How often a duplicate command reads a row whose call another process is making, ms. */
const POLL_MS = 100;
/** A late capture's refund the provider failed is tried again after this, doubling up to LATE_REFUND_MAX_RETRY_MS. */
const LATE_REFUND_RETRY_MS = 1000;
export const LATE_REFUND_MAX_RETRY_MS = 30_000;

/** Whether a charge row's status means the provider holds the money (a late capture is refunded by payments itself). */
const captured = (status: string) => status === 'SUCCEEDED' || status === LATE_CAPTURED;
/** What a command is answered for a settled row: a late capture's order was answered as not charged, and stays so. */
const answerOf = (status: string) => (status === LATE_CAPTURED ? 'FAILED' : status);

/**
 * Payments: charges and refunds against the simulated provider, behind a circuit breaker and a
 * call timeout. At most one charge per order: the unique (order, kind) row is written before the
 * provider is called, a duplicate command waits for or returns the first attempt's outcome, and
 * an attempt left PENDING by a crash is settled as FAILED (the simulated provider cannot be
 * asked what happened, so nothing is charged a second time). A charge past its saga's deadline
 * (`notAfter`) or after a void never reaches the provider.
 *
 * Whose call is it: a PENDING row carries the lease of the process calling the provider
 * (`claimed_until`, renewed while the call runs: CALL_LEASE_MS), so a duplicate command that
 * reaches another payments process (a second replica on one PostgreSQL, the new pod of a rolling
 * update) waits for the call instead of taking it for a dead one, however slow the provider is;
 * a dead process's call is taken over once its lease lapses, in one conditional update that only
 * one process wins. A process that stalled past its lease (CALL_LEASE_MS − the renew interval)
 * records its call's outcome only if the row is still PENDING; when it was settled meanwhile, the
 * row's answer stands, and a capture the provider made all the same is refunded
 * (`refundLateCapture`) and announced to the orders service (LateCaptureRefunded, through the
 * outbox and `relay`), which shows the rejected order's payment REFUNDED.
 */
export function createPayments(options: PaymentsOptions) {
  const { repo, logger } = options;
  let providerSettings: PaymentProviderOptions = { ...options.provider };
  let provider = options.providerInstance ?? new PaymentProvider(providerSettings);
  const breaker = new CircuitBreaker({ ...options.breaker, onStateChange: (state) => logger.warn({ state }, `payment provider circuit ${state}`) });
  const inFlight = new Map<string, Promise<string>>();
  /** Late captures' refunds this process is sending (or trying again), by order id: the first try, and the whole. */
  const lateRefunds = new Map<string, { first: Promise<void>; work: Promise<void> }>();
  const stopping = new AbortController();

  /**
   * True when a PENDING row's call has no live process: not running here and its lease lapsed.
   * Otherwise waits a little (at most POLL_MS) and returns false, for the caller to read it again.
   */
  async function lapsed(key: string, row: { created_at: string; claimed_until: string | null }): Promise<boolean> {
    if (inFlight.has(key)) return false;
    const until = row.claimed_until === null ? Date.parse(row.created_at) + ORPHAN_AFTER_MS : Date.parse(row.claimed_until);
    const left = until - Date.now();
    if (left < 0) return true;
    await sleep(Math.min(left + 1, POLL_MS));
    return false;
  }

  async function attempt(
    command: ChargeCommand | RefundCommand,
    kind: 'charge' | 'refund',
    call: () => Promise<{ outcome: string; providerRef: string | null }>,
  ): Promise<string> {
    const key = `${kind}:${command.orderId}`;
    for (;;) {
      const running = inFlight.get(key);
      if (running) return running;
      const existing = await repo.find(command.orderId, kind);
      if (existing && existing.status !== 'PENDING') return answerOf(existing.status);
      if (existing) {
        if (!(await lapsed(key, existing))) continue;
        // PENDING, and the process that made the call died. Whoever settles or retakes it first wins.
        if (kind === 'charge') {
          if (!(await repo.settleLapsed(existing.id, existing.claimed_until, 'FAILED'))) continue;
          return 'FAILED';
        }
        const lease = callLeaseUntil();
        if (!(await repo.moveClaim(existing.id, existing.claimed_until, lease))) continue;
        return run(command, kind, existing.id, lease, call);
      }
      // Past the saga's deadline: the orders service has given up (or is about to); record the
      // refusal in the order's one charge row so no later delivery can start a call either.
      const expired = kind === 'charge' && (command as ChargeCommand).notAfter !== undefined && Date.now() > (command as ChargeCommand).notAfter!;
      let id: string;
      const lease = expired ? null : callLeaseUntil();
      try {
        id = await repo.insertPending(command.orderId, kind, command.amountCents, command.id, expired ? 'EXPIRED' : 'PENDING', lease);
      } catch (error) {
        if (isUniqueViolation(error)) continue; // a concurrent duplicate won; read its outcome
        throw error;
      }
      if (lease === null) return 'EXPIRED';
      return run(command, kind, id, lease, call);
    }
  }

  /**
   * Makes sure the order has no capture: from now on no charge of it can start (a tombstone row
   * takes the order's one charge slot), a charge in flight is waited for, a capture is refunded.
   */
  async function voidCharge(command: VoidCommand): Promise<VoidReply> {
    const key = `charge:${command.orderId}`;
    for (;;) {
      const running = inFlight.get(key);
      if (running) {
        await running.catch(() => undefined);
        continue;
      }
      const existing = await repo.find(command.orderId, 'charge');
      if (!existing) {
        try {
          await repo.insertPending(command.orderId, 'charge', 0, command.id, 'VOIDED');
        } catch (error) {
          if (isUniqueViolation(error)) continue;
          throw error;
        }
        return { ok: true, outcome: 'NOTHING_CAPTURED' };
      }
      if (existing.status === 'PENDING') {
        if (!(await lapsed(key, existing))) continue;
        if (!(await repo.settleLapsed(existing.id, existing.claimed_until, 'FAILED'))) continue;
        return { ok: true, outcome: 'NOTHING_CAPTURED' };
      }
      if (!captured(existing.status)) return { ok: true, outcome: 'NOTHING_CAPTURED' };
      await refund({ type: 'RefundPayment', id: command.id, orderId: command.orderId, amountCents: Number(existing.amount_cents) });
      return { ok: true, outcome: 'REFUNDED' };
    }
  }

  function run(
    command: ChargeCommand | RefundCommand,
    kind: 'charge' | 'refund',
    id: string,
    lease: string,
    call: () => Promise<{ outcome: string; providerRef: string | null }>,
  ): Promise<string> {
    const key = `${kind}:${command.orderId}`;
    const work = (async () => {
      const held = await withCallLease(
        lease,
        (from, to) => repo.moveClaim(id, from, to),
        call,
        () => logger.warn({ paymentId: id }, 'another process took over this provider call after this one stalled past its lease'),
      );
      const { result } = held;
      // A refund the provider did not make stays PENDING: the saga sends the command again until it
      // is made (a row finished FAILED would answer every later copy without calling). Its lease is
      // given back, so that copy calls at once, whichever process it reaches.
      let recorded = true;
      if (kind === 'refund' && result.outcome !== 'SUCCEEDED') await repo.moveClaim(id, held.lease, new Date(0).toISOString());
      else recorded = await repo.finish(id, result.outcome, result.providerRef);
      options.onOutcome?.(kind, result.outcome);
      return recorded ? result.outcome : settledElsewhere(command, kind, id, result);
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, work);
    return work;
  }

  /**
   * The row of a call this process made was settled by another process meanwhile: this one
   * stalled past its lease and the call was taken over (a charge settled FAILED without calling,
   * a refund made again). The row's answer stands, for every copy of the command alike. A charge
   * the provider captured all the same is recorded as such (LATE_CAPTURED: the records show the
   * capture and its refund, commands still answer FAILED) and given back, in the background: the
   * order was answered as not charged, and this answer does not wait for the refund.
   */
  async function settledElsewhere(
    command: ChargeCommand | RefundCommand,
    kind: 'charge' | 'refund',
    id: string,
    result: { outcome: string; providerRef: string | null },
  ): Promise<string> {
    const { orderId } = command;
    if (kind === 'charge' && result.outcome === 'SUCCEEDED') {
      // Only ever FAILED by then: another process settles a charge it did not make FAILED, never SUCCEEDED.
      logger.warn({ orderId }, 'the provider captured a charge after another process had settled it FAILED; refunding the capture');
      try {
        // With its LateCaptureRefunded in the outbox: the orders service shows the payment REFUNDED.
        if (await repo.markLateCapture(id, result.providerRef)) void options.relay?.kick();
      } catch (error) {
        logger.error({ err: error, orderId }, 'could not record a late capture; it is refunded (and announced) all the same');
      }
      void refundLateCapture(orderId, command.amountCents);
      return 'FAILED';
    }
    const status = answerOf((await repo.find(orderId, kind))?.status ?? result.outcome);
    logger.warn({ orderId, kind, outcome: result.outcome, recorded: status }, 'provider call ended after another process had settled it; its row stands');
    return status;
  }

  /**
   * Refunds a late capture: a charge the provider made after another process had settled its row
   * FAILED (the order was rejected). It is the order's refund row (`LATE_CAPTURE_REFUND` command
   * id), sent as every refund is (`attempt`: leased, counted by `onOutcome`); no saga will ever
   * ask for it, so while the provider fails it (or the database does) this process tries again
   * (LATE_REFUND_RETRY_MS, doubling) until it stops, and one a process left unrefunded is sent by
   * the next start (`resumeLateCaptureRefunds`). Before its first call, the orders service is
   * told (LateCaptureRefunded in the outbox, a no-op when `markLateCapture` wrote it already), so a
   * refund row never exists unannounced. Resolves after the first try; never throws.
   */
  function refundLateCapture(orderId: string, amountCents: number): Promise<void> {
    const running = lateRefunds.get(orderId);
    if (running) return running.first;
    const command: RefundCommand = { type: 'RefundPayment', id: `${LATE_CAPTURE_REFUND}${orderId}`, orderId, amountCents };
    let announced = false;
    const once = async (): Promise<boolean> => {
      try {
        if (!announced) {
          await repo.announceLateCapture(orderId);
          announced = true;
          void options.relay?.kick();
        }
        return (await attempt(command, 'refund', () => provider.refund(amountCents))) === 'SUCCEEDED';
      } catch (error) {
        logger.error({ err: error, orderId }, 'refund of a late capture failed; it will be retried');
        return false;
      }
    };
    let firstTried!: () => void;
    const first = new Promise<void>((resolve) => (firstTried = resolve));
    const work = (async () => {
      for (let delay = LATE_REFUND_RETRY_MS; ; delay = Math.min(2 * delay, LATE_REFUND_MAX_RETRY_MS)) {
        const refunded = await once();
        firstTried();
        if (refunded) return;
        logger.warn({ orderId, retryInMs: delay }, 'the refund of a late capture was not made; it will be retried');
        await sleep(delay, undefined, { signal: stopping.signal, ref: false }).catch(() => undefined);
        if (stopping.signal.aborted) return;
      }
    })().finally(() => lateRefunds.delete(orderId));
    lateRefunds.set(orderId, { first, work });
    return first;
  }

  async function charge(command: ChargeCommand): Promise<ChargeReply> {
    const outcome = await attempt(command, 'charge', async () => {
      if (!breaker.tryAcquire()) return { outcome: 'UNAVAILABLE', providerRef: 'circuit-open' };
      const result = await Promise.race([provider.charge(command.token, command.amountCents), sleep(options.timeoutMs, TIMED_OUT)]);
      if (result === TIMED_OUT) {
        breaker.record(false);
        // The simulated provider has no void call; a real integration would void the authorization here.
        return { outcome: 'UNAVAILABLE', providerRef: 'timeout' };
      }
      breaker.record(result.outcome !== 'FAILED');
      return result;
    });
    // A charge refused by a void answers like one refused past its deadline.
    return { ok: true, outcome: (outcome === 'VOIDED' ? 'EXPIRED' : outcome) as ChargeOutcome };
  }

  async function refund(command: RefundCommand): Promise<RefundReply> {
    const charged = await repo.find(command.orderId, 'charge');
    if (!charged || !captured(charged.status)) return { ok: true, outcome: 'NOTHING_TO_REFUND' };
    // Refunds are not gated by the breaker: a cancel must eventually give the money back.
    const outcome = await attempt(command, 'refund', () => provider.refund(command.amountCents));
    if (outcome !== 'SUCCEEDED') throw new Error(`refund of ${command.orderId} ended ${outcome}; it will be retried`);
    return { ok: true, outcome: 'SUCCEEDED' };
  }

  return {
    charge,
    refund,
    void: voidCharge,
    listForOrder: repo.listForOrder,
    /**
     * At start: sends the refunds of late captures that a payments process that stopped or died
     * left unmade (its refund row PENDING, or not written yet); one still leased by a live process
     * is waited for, as any copy of a refund waits. Late captures the orders service was never told
     * of (recorded before the outbox, or whose record failed) are announced first. Resolves after
     * each refund's first try; how many refunds it found.
     */
    async resumeLateCaptureRefunds(): Promise<number> {
      const unannounced = await repo.unannouncedLateCaptures();
      for (const orderId of unannounced) await repo.announceLateCapture(orderId);
      if (unannounced.length > 0) void options.relay?.kick();
      const unrefunded = await repo.unrefundedLateCaptures();
      await Promise.all(unrefunded.map((row) => refundLateCapture(row.order_id, Number(row.amount_cents))));
      return unrefunded.length;
    },
    async handle(command: Command): Promise<Reply> {
      if (command.type === 'ChargePayment') return charge(command);
      if (command.type === 'RefundPayment') return refund(command);
      if (command.type === 'VoidPayment') return voidCharge(command);
      // Poison: this service never takes it (a command routed to the wrong service); dead-lettered, not retried.
      throw new PoisonMessageError(`payments does not handle ${command.type}`);
    },
    /** Changes the simulated provider at run time (fault drills); the breaker keeps its state. */
    configureProvider(settings: PaymentProviderOptions): PaymentProviderOptions {
      providerSettings = { ...providerSettings, ...settings };
      provider = new PaymentProvider(providerSettings);
      return providerSettings;
    },
    /** Back to the settings the process started with (its PAYMENT_* env); the breaker keeps its state. */
    resetProvider(): PaymentProviderOptions {
      providerSettings = { ...options.provider };
      provider = new PaymentProvider(providerSettings);
      return providerSettings;
    },
    status(): { provider: PaymentProviderOptions; breaker: BreakerState } {
      return { provider: providerSettings, breaker: breaker.state };
    },
    /**
     * Waits for the calls in flight; stops retrying late captures' refunds (the next start sends
     * them). A charge that finishes meanwhile can find a late capture and start its refund, so the
     * refunds are waited for again once the calls settled: none outlives the drain (its database).
     */
    async drain(): Promise<void> {
      stopping.abort();
      await Promise.allSettled([...inFlight.values(), ...[...lateRefunds.values()].map((r) => r.work)]);
      while (lateRefunds.size > 0) await Promise.allSettled([...lateRefunds.values()].map((r) => r.work));
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
