import { ApiError } from '../api/problem';

/**
 * How often a placement answered 409 idempotency-in-progress is sent again by itself (the same
 * request, the same Idempotency-Key), and how long it waits in between: the server's Retry-After
 * when it sends one (the API contract does not promise it), else a backoff from 1 s doubling to 5 s.
 * Each wait is bounded, so a far Retry-After cannot park the console. Six resends wait 21 s at
 * most in all (a server that holds each copy a while, as the microservices' 2 s, adds to that).
 */
export const IN_PROGRESS_RESENDS = 6;
const FIRST_WAIT_MS = 1000;
const LONGEST_WAIT_MS = 5000;
const SHORTEST_WAIT_MS = 250;

/** Whether an error is the API's answer that a request with the same Idempotency-Key is still being processed. */
export function isInProgress(error: unknown): error is ApiError {
  return error instanceof ApiError && error.problem.code === 'idempotency-in-progress';
}

/**
 * The wait before resend number `resend` (1 for the first): Retry-After seconds when given,
 * bounded to 0.25–5 s, else 1, 2, 4, 5, 5… s.
 * @example inProgressWaitMs(1) // 1000; inProgressWaitMs(2, 3) // 3000
 */
export function inProgressWaitMs(resend: number, retryAfterSeconds?: number): number {
  if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds)) {
    return Math.min(LONGEST_WAIT_MS, Math.max(SHORTEST_WAIT_MS, retryAfterSeconds * 1000));
  }
  return Math.min(LONGEST_WAIT_MS, FIRST_WAIT_MS * 2 ** (resend - 1));
}

const wait = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface ResendOptions {
  /** Called before each wait (resend counts from 1), e.g. to say that the earlier order is still being placed. */
  onInProgress?: (resend: number, waitMs: number) => void;
  resends?: number;
}

/**
 * Calls `send` and, while it fails with 409 idempotency-in-progress, calls it again after
 * `inProgressWaitMs`, at most `resends` more times: the first request with that key is still
 * being processed, and a resend with the same key gets its order (201/202, Idempotent-Replayed)
 * once it is done. Any other outcome, or the last 409, is returned or thrown as is.
 *
 * Nothing stops or aborts it: the order is being placed on the server whatever the user does
 * (leaving the console or switching backend or customer cannot un-place it), and its answer is
 * the only way the console learns that order and takes its lines and key out of the stored cart.
 * Left with the key and lines, the cart would order them a second time once edited, or on
 * another backend or for another customer, which do not know the key. The caller decides what
 * the answer shows: nothing in a view the user switched to.
 * @example await resendWhileInProgress(() => api.placeOrder(body, { idempotencyKey: key }), { onInProgress })
 */
export async function resendWhileInProgress<T>(send: () => Promise<T>, { onInProgress, resends = IN_PROGRESS_RESENDS }: ResendOptions = {}): Promise<T> {
  for (let resend = 1; ; resend++) {
    try {
      return await send();
    } catch (error) {
      if (!isInProgress(error) || resend > resends) throw error;
      const ms = inProgressWaitMs(resend, error.problem.retryAfterSeconds);
      onInProgress?.(resend, ms);
      await wait(ms);
    }
  }
}
