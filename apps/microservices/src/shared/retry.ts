import { setTimeout as sleep } from 'node:timers/promises';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { RetryPolicy } from 'cockatiel';

export interface RetryOptions {
  /** Attempts, including the first; `Infinity` retries until `retryable` says no. */
  attempts: number;
  /** Whether a thrown error is worth another attempt. */
  retryable: (error: unknown) => boolean;
  /** Whether a returned value is worth another attempt (a 503, say); the last one is returned. */
  retryResult?: (result: unknown) => boolean;
  /** First wait between attempts, ms. */
  firstDelayMs?: number;
  /** Longest wait between attempts, ms. */
  maxDelayMs?: number;
}

/**
 * The one retry policy of the services (cockatiel): exponential backoff with decorrelated jitter,
 * so retries of many callers spread out. Internal HTTP calls and saga commands both use it.
 * @example await retryPolicy({ attempts: 4, retryable: () => true }).execute(() => client.request(...))
 */
export function retryPolicy(options: RetryOptions): RetryPolicy {
  let policy = handleWhen(options.retryable);
  if (options.retryResult) policy = policy.orWhenResult(options.retryResult);
  return retry(policy, {
    // cockatiel counts retries, not attempts.
    maxAttempts: options.attempts - 1,
    backoff: new ExponentialBackoff({ initialDelay: options.firstDelayMs ?? 50, maxDelay: options.maxDelayMs ?? 1000 }),
  });
}

/**
 * The same schedule as one wait, for loops the broker drives (redelivery, reconnect) rather than
 * a call: 50 ms, 100 ms, 200 ms … capped, with jitter.
 * @example await backoff(deliveries, 100, 2000)
 */
export function backoff(attempt: number, baseMs = 50, capMs = 1000): Promise<void> {
  return sleep(backoffMs(attempt, baseMs, capMs));
}

/** The wait before attempt `attempt + 1` (half fixed, half random). */
export function backoffMs(attempt: number, baseMs = 50, capMs = 1000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(attempt - 1, 20));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}
