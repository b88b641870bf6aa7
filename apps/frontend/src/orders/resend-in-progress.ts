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

/** Why a resend stopped: the user left the console or switched backend or customer. */
const left = () => new DOMException('the placement was left', 'AbortError');

/** Resolves after `ms`, or rejects with an AbortError as soon as `signal` is aborted. */
function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(left());
    const done = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const timer = setTimeout(done, ms);
    function stop() {
      clearTimeout(timer);
      reject(left());
    }
    signal.addEventListener('abort', stop, { once: true });
  });
}

export interface ResendOptions {
  /**
   * Aborted when the user leaves the console or switches backend or customer: no further resend
   * is sent, and a resend under way is aborted (its fetch gets this signal) and its answer ignored.
   */
  signal: AbortSignal;
  /** Called before each wait (resend counts from 1), e.g. to say that the earlier order is still being placed. */
  onInProgress?: (resend: number, waitMs: number) => void;
  resends?: number;
}

/**
 * Calls `send` and, while it fails with 409 idempotency-in-progress, calls it again after
 * `inProgressWaitMs`, at most `resends` more times: the first request with that key is still
 * being processed, and a resend with the same key gets its order (201/202, Idempotent-Replayed)
 * once it is done. Any other outcome, or the last 409, is returned or thrown as is; an abort
 * during a wait throws an AbortError and sends nothing more.
 *
 * The first call gets no signal: it may be the one that places the order, and its answer still
 * counts after the user left (the cart is updated). Each resend gets `signal`, to pass on to its
 * fetch: once aborted, a resend under way is aborted and whatever it answers is ignored (an
 * AbortError is thrown instead), so it cannot land in another backend's or customer's view.
 * @example await resendWhileInProgress((signal) => api.placeOrder(body, { idempotencyKey: key, signal }), { signal })
 */
export async function resendWhileInProgress<T>(
  send: (signal?: AbortSignal) => Promise<T>,
  { signal, onInProgress, resends = IN_PROGRESS_RESENDS }: ResendOptions,
): Promise<T> {
  for (let resend = 1; ; resend++) {
    const isResend = resend > 1;
    try {
      const result = await send(isResend ? signal : undefined);
      if (isResend && signal.aborted) throw left();
      return result;
    } catch (error) {
      if (isResend && signal.aborted) throw left();
      if (!isInProgress(error) || resend > resends) throw error;
      const ms = inProgressWaitMs(resend, error.problem.retryAfterSeconds);
      onInProgress?.(resend, ms);
      await wait(ms, signal);
    }
  }
}
