export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Calls older than this leave the failure-rate window, ms. */
  windowMs: number;
  /** Calls in the window before the rate is judged (a few failures alone never open it). */
  minimumCalls: number;
  /** Share of failed calls (0..1] in the window that opens the circuit. */
  failureRate: number;
  /** How long the circuit stays open before one probe call is let through, ms. */
  openMs: number;
  now?: () => number;
  onStateChange?: (state: BreakerState) => void;
}

/**
 * A small circuit breaker: closed while the failure rate over a sliding window stays below the
 * threshold; open (calls refused at once) for `openMs` after it is crossed; then half-open, where
 * exactly one probe call goes through: its success closes the circuit, its failure opens it again.
 * @example const breaker = new CircuitBreaker({ windowMs: 10_000, minimumCalls: 10, failureRate: 0.5, openMs: 5000 })
 *          if (breaker.tryAcquire()) { const ok = await call(); breaker.record(ok) } else { failFast() }
 */
export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions;
  readonly #now: () => number;
  #state: BreakerState = 'closed';
  #calls: Array<{ at: number; ok: boolean }> = [];
  #openedAt = 0;
  #probing = false;

  constructor(options: CircuitBreakerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#options.openMs) return 'half-open';
    return this.#state;
  }

  /** True when a call may go to the dependency now; every true must be followed by one `record`. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'half-open' && !this.#probing) {
      this.#set('half-open');
      this.#probing = true;
      return true;
    }
    return false;
  }

  /** Records the result of a call let through by `tryAcquire`. */
  record(ok: boolean): void {
    const now = this.#now();
    if (this.#state === 'half-open') {
      this.#probing = false;
      if (ok) {
        this.#calls = [];
        this.#set('closed');
      } else this.#open(now);
      return;
    }
    if (this.#state === 'open') return; // a slow call that started before the circuit opened
    this.#calls.push({ at: now, ok });
    const from = now - this.#options.windowMs;
    while (this.#calls.length > 0 && this.#calls[0]!.at < from) this.#calls.shift();
    const failures = this.#calls.reduce((n, call) => n + (call.ok ? 0 : 1), 0);
    if (this.#calls.length >= this.#options.minimumCalls && failures / this.#calls.length >= this.#options.failureRate) this.#open(now);
  }

  #open(now: number): void {
    this.#openedAt = now;
    this.#calls = [];
    this.#set('open');
  }

  #set(state: BreakerState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#options.onStateChange?.(state);
  }
}
