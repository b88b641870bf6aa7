import { setTimeout as sleep } from 'node:timers/promises';
import { PaymentProvider } from '@archbench/domain/payment-provider';
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

/**
 * Payments: charges and refunds against the simulated provider, behind a circuit breaker and a
 * call timeout. At most one charge per order: the unique (order, kind) row is written before the
 * provider is called, a duplicate command waits for or returns the first attempt's outcome, and
 * an attempt left PENDING by a crash is settled as FAILED (the simulated provider cannot be
 * asked what happened, so nothing is charged a second time). A charge past its saga's deadline
 * (`notAfter`) or after a void never reaches the provider.
 */
export function createPayments(options: PaymentsOptions) {
  const { repo, logger } = options;
  let providerSettings: PaymentProviderOptions = { ...options.provider };
  let provider = new PaymentProvider(providerSettings);
  const breaker = new CircuitBreaker({ ...options.breaker, onStateChange: (state) => logger.warn({ state }, `payment provider circuit ${state}`) });
  const inFlight = new Map<string, Promise<string>>();

  /** A PENDING row younger than this may belong to a call whose insert is still resolving here. */
  const orphanAfterMs = 1000;

  /** True when a PENDING row is an attempt of a process that died (nothing runs it here). */
  async function orphaned(key: string, row: { created_at: string }): Promise<boolean> {
    if (inFlight.has(key)) return false;
    const age = Date.now() - Date.parse(row.created_at);
    if (age >= orphanAfterMs) return true;
    await sleep(orphanAfterMs - age);
    return !inFlight.has(key);
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
        if (!(await orphaned(key, existing))) continue;
        // PENDING with nothing in flight here: the process that made the call died.
        if (kind === 'charge') {
          await repo.finish(existing.id, 'FAILED', existing.provider_ref);
          return 'FAILED';
        }
        return run(key, existing.id, call);
      }
      // Past the saga's deadline: the orders service has given up (or is about to); record the
      // refusal in the order's one charge row so no later delivery can start a call either.
      const expired = kind === 'charge' && (command as ChargeCommand).notAfter !== undefined && Date.now() > (command as ChargeCommand).notAfter!;
      let id: string;
      try {
        id = await repo.insertPending(command.orderId, kind, command.amountCents, command.id, expired ? 'EXPIRED' : 'PENDING');
      } catch (error) {
        if (isUniqueViolation(error)) continue; // a concurrent duplicate won; read its outcome
        throw error;
      }
      if (expired) return 'EXPIRED';
      return run(key, id, call);
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
        if (!(await orphaned(key, existing))) continue;
        await repo.finish(existing.id, 'FAILED', existing.provider_ref);
        return { ok: true, outcome: 'NOTHING_CAPTURED' };
      }
      if (existing.status !== 'SUCCEEDED') return { ok: true, outcome: 'NOTHING_CAPTURED' };
      await refund({ type: 'RefundPayment', id: command.id, orderId: command.orderId, amountCents: Number(existing.amount_cents) });
      return { ok: true, outcome: 'REFUNDED' };
    }
  }

  function run(key: string, id: string, call: () => Promise<{ outcome: string; providerRef: string | null }>): Promise<string> {
    const work = (async () => {
      const result = await call();
      // A refund the provider did not make stays PENDING: the saga sends the command again until it
      // is made (a row finished FAILED would answer every later copy without calling).
      if (!key.startsWith('refund') || result.outcome === 'SUCCEEDED') await repo.finish(id, result.outcome, result.providerRef);
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
