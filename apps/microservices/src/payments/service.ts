import { setTimeout as sleep } from 'node:timers/promises';
import { PaymentProvider, callLeaseUntil, withCallLease } from '@archbench/domain/payment-provider';
import type { PaymentProviderOptions } from '@archbench/domain/payment-provider';
import { AppError } from '@archbench/domain/errors';
import type { Logger } from '@archbench/observability/logging';
import { isUniqueViolation } from '@archbench/server-kit/db';
import type { ChargeCommand, ChargeOutcome, ChargeReply, Command, RefundCommand, RefundReply, Reply, VoidCommand, VoidReply } from '../shared/messages';
import { CircuitBreaker } from './circuit-breaker';
import type { BreakerState, CircuitBreakerOptions } from './circuit-breaker';
import type { PaymentsRepository } from './repository';

export interface PaymentsOptions {
  repo: PaymentsRepository;
  provider: PaymentProviderOptions;
  /** A provider call slower than this counts as failed and the order is not charged, ms. */
  timeoutMs: number;
  breaker: Omit<CircuitBreakerOptions, 'onStateChange' | 'now'>;
  logger: Logger;
  onOutcome?: (kind: 'charge' | 'refund', outcome: string) => void;
}

const TIMED_OUT = Symbol('timed out');
/** A PENDING row from before call leases (no `claimed_until`) counts as running this long after its creation, ms. */
const ORPHAN_AFTER_MS = 1000;
/** How often a duplicate command reads a row whose call another process is making, ms. */
const POLL_MS = 100;

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
 * one process wins.
 */
export function createPayments(options: PaymentsOptions) {
  const { repo, logger } = options;
  let providerSettings: PaymentProviderOptions = { ...options.provider };
  let provider = new PaymentProvider(providerSettings);
  const breaker = new CircuitBreaker({ ...options.breaker, onStateChange: (state) => logger.warn({ state }, `payment provider circuit ${state}`) });
  const inFlight = new Map<string, Promise<string>>();

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
      if (existing && existing.status !== 'PENDING') return existing.status;
      if (existing) {
        if (!(await lapsed(key, existing))) continue;
        // PENDING, and the process that made the call died. Whoever settles or retakes it first wins.
        if (kind === 'charge') {
          if (!(await repo.settleLapsed(existing.id, existing.claimed_until, 'FAILED'))) continue;
          return 'FAILED';
        }
        const lease = callLeaseUntil();
        if (!(await repo.moveClaim(existing.id, existing.claimed_until, lease))) continue;
        return run(key, existing.id, lease, call);
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
      return run(key, id, lease, call);
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
      if (existing.status !== 'SUCCEEDED') return { ok: true, outcome: 'NOTHING_CAPTURED' };
      await refund({ type: 'RefundPayment', id: command.id, orderId: command.orderId, amountCents: Number(existing.amount_cents) });
      return { ok: true, outcome: 'REFUNDED' };
    }
  }

  function run(key: string, id: string, lease: string, call: () => Promise<{ outcome: string; providerRef: string | null }>): Promise<string> {
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
      if (!key.startsWith('refund') || result.outcome === 'SUCCEEDED') await repo.finish(id, result.outcome, result.providerRef);
      else await repo.moveClaim(id, held.lease, new Date(0).toISOString());
      options.onOutcome?.(key.startsWith('charge') ? 'charge' : 'refund', result.outcome);
      return result.outcome;
    })().finally(() => inFlight.delete(key));
    inFlight.set(key, work);
    return work;
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
    if (charged?.status !== 'SUCCEEDED') return { ok: true, outcome: 'NOTHING_TO_REFUND' };
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
    async handle(command: Command): Promise<Reply> {
      if (command.type === 'ChargePayment') return charge(command);
      if (command.type === 'RefundPayment') return refund(command);
      if (command.type === 'VoidPayment') return voidCharge(command);
      throw new AppError('validation-failed', `payments does not handle ${command.type}`);
    },
    /** Changes the simulated provider at run time (fault drills); the breaker keeps its state. */
    configureProvider(settings: PaymentProviderOptions): PaymentProviderOptions {
      providerSettings = { ...providerSettings, ...settings };
      provider = new PaymentProvider(providerSettings);
      return providerSettings;
    },
    status(): { provider: PaymentProviderOptions; breaker: BreakerState } {
      return { provider: providerSettings, breaker: breaker.state };
    },
    async drain(): Promise<void> {
      await Promise.allSettled([...inFlight.values()]);
    },
  };
}

export type Payments = ReturnType<typeof createPayments>;
