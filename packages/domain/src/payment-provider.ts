import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_PROVIDER_LATENCY_MS } from '@archbench/contracts/schemas';
import type { PaymentToken } from '@archbench/contracts/schemas';

/**
 * The simulated third-party payment provider. `tok_ok` succeeds, `tok_decline` is declined,
 * `tok_error` fails like a broken provider (its 5xx), `tok_slow` succeeds after `slowMs`.
 * `latencyMs` and `failureRate` apply to every call, refunds included, to show how a slow or flaky
 * dependency spreads through each architecture (and that a refund the provider fails is retried).
 */
export interface PaymentProviderOptions {
  /** Base latency of every call, ms. */
  latencyMs?: number;
  /** Latency of `tok_slow`, ms. */
  slowMs?: number;
  /** Share of calls (0..1) that fail like a 5xx regardless of token. */
  failureRate?: number;
  random?: () => number;
}

export type ChargeOutcome = 'SUCCEEDED' | 'DECLINED' | 'FAILED';

/** The slowest `latencyMs` (and `slowMs`) the apps' provider switch accepts at run time, ms (the contract's). */
export { MAX_PROVIDER_LATENCY_MS };

/**
 * Serverless: how long a refund's claim (its row's `claimed_until`) keeps any other attempt from
 * calling the provider for it (the Node apps hold renewed call leases instead, see
 * CALL_LEASE_MS): longer than the slowest refund call the provider switch allows, so only a
 * claim whose process died expires while its call could still be running. A crash after the
 * provider refunded but before the row says so still means a second refund once the claim
 * expires: the simulated provider takes no idempotency key (a real integration passes the row id).
 */
export const REFUND_CLAIM_MS = MAX_PROVIDER_LATENCY_MS + 30_000;

/**
 * The two instants of a refund claim, as ISO text (how the apps store `claimed_until`): `until`,
 * the end of a claim made now; `endedBy`, before which a claim has run out: now, or, given the
 * start of this runtime (`orphanedBefore`, ms), every claim made before that start (a dead
 * runtime's) counts as run out too.
 */
export function refundClaimTimes(orphanedBefore?: number): { until: string; endedBy: string } {
  const now = Date.now();
  return {
    until: new Date(now + REFUND_CLAIM_MS).toISOString(),
    endedBy: new Date(orphanedBefore === undefined ? now : Math.max(now, orphanedBefore + REFUND_CLAIM_MS)).toISOString(),
  };
}

/**
 * A lease on one provider call, kept in its row (`claimed_until`) so that any process sharing the
 * database can tell a live call from a dead one: the process making the call renews it every
 * CALL_LEASE_RENEW_MS while the call runs (`withCallLease`), so another replica, or one started
 * during a rolling update, never takes over a call that is still running however slow the
 * provider is, and a call whose process died lapses within CALL_LEASE_MS. Only a process that
 * stalls longer than CALL_LEASE_MS − CALL_LEASE_RENEW_MS (its renewals stop, or its outcome
 * waits that long to be written) can have its call taken over, and only hosts whose clocks
 * agree within that margin can share calls (NTP, as Kubernetes nodes run).
 */
export const CALL_LEASE_MS = 10_000;
/**
 * How often a running call's lease is renewed: a call that just ended has at least
 * CALL_LEASE_MS − CALL_LEASE_RENEW_MS (8 s) left to write its outcome, and the hosts' clocks may
 * disagree by as much before a live call looks lapsed.
 */
const CALL_LEASE_RENEW_MS = 2_000;

/** The end of a call lease taken (or renewed) now, as ISO text. */
export function callLeaseUntil(now = Date.now()): string {
  return new Date(now + CALL_LEASE_MS).toISOString();
}

/**
 * Runs `call` while renewing its lease. `renew(from, to)` moves the row's `claimed_until` from
 * `from` to `to` only if it still reads `from` (a conditional update) and says whether it did.
 * A renewal that finds the lease gone (another process took the call over after this one stalled)
 * stops renewing and reports it to `onLost`; one that throws (a database error) is tried again at
 * the next tick until the lease has run out, then counts as lost too (another process may take the
 * call over from then on). Resolves with the call's result and the lease as last renewed.
 * @example const { result, lease } = await withCallLease(claimedUntil, (from, to) => repo.renewClaim(id, from, to), () => provider.refund(amount))
 */
export async function withCallLease<T>(
  lease: string,
  renew: (from: string, to: string) => Promise<boolean>,
  call: () => Promise<T>,
  onLost?: () => void,
): Promise<{ result: T; lease: string }> {
  let held = lease;
  let done = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let renewal: Promise<void> | undefined;
  const tick = () => {
    timer = setTimeout(() => {
      const next = callLeaseUntil();
      renewal = renew(held, next).then(
        (renewed) => {
          if (renewed) held = next;
          if (done) return;
          if (renewed) tick();
          else onLost?.();
        },
        () => {
          if (done) return;
          if (Date.now() < Date.parse(held)) tick();
          else onLost?.();
        },
      );
    }, CALL_LEASE_RENEW_MS);
  };
  tick();
  let result: T;
  try {
    result = await call();
  } finally {
    done = true;
    clearTimeout(timer);
    await renewal; // the lease returned is the one the row holds
  }
  return { result, lease: held };
}

export interface ProviderResult {
  outcome: ChargeOutcome;
  providerRef: string;
}

export class PaymentProvider {
  readonly #latencyMs: number;
  readonly #slowMs: number;
  readonly #failureRate: number;
  readonly #random: () => number;
  #seq = 0;

  constructor(options: PaymentProviderOptions = {}) {
    this.#latencyMs = options.latencyMs ?? 0;
    this.#slowMs = options.slowMs ?? 1500;
    this.#failureRate = options.failureRate ?? 0;
    this.#random = options.random ?? Math.random;
  }

  /** Whether this call fails like a 5xx (its share is `failureRate`). */
  #fails(): boolean {
    return this.#failureRate > 0 && this.#random() < this.#failureRate;
  }

  /** Charges (authorizes and captures) `amountCents`; never throws. */
  async charge(token: PaymentToken, _amountCents: number): Promise<ProviderResult> {
    const ref = `prov_${++this.#seq}`;
    if (this.#latencyMs > 0) await sleep(this.#latencyMs);
    if (token === 'tok_slow') await sleep(this.#slowMs);
    if (token === 'tok_error' || this.#fails()) {
      return { outcome: 'FAILED', providerRef: ref };
    }
    if (token === 'tok_decline') return { outcome: 'DECLINED', providerRef: ref };
    return { outcome: 'SUCCEEDED', providerRef: ref };
  }

  /** Refunds a captured charge; never throws. Only `failureRate` makes it fail (like a 5xx). */
  async refund(_amountCents: number): Promise<ProviderResult> {
    const ref = `prov_${++this.#seq}`;
    if (this.#latencyMs > 0) await sleep(this.#latencyMs);
    if (this.#fails()) return { outcome: 'FAILED', providerRef: ref };
    return { outcome: 'SUCCEEDED', providerRef: ref };
  }
}
