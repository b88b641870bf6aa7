import type { OutboxRow } from '@archbench/server-kit/outbox';

/** How often the lag is set again while events wait, ms (no query: the rows' ages are known). */
export const LAG_TICK_MS = 1000;

/**
 * `archbench_outbox_lag_seconds` for the payments outbox: the age of the oldest event not handed
 * over yet, 0 when none, as the orders service reports its own relay's. Orders sets it from the
 * relay's `onLag` at every round, and its relay runs a round every 500 ms; payments' relay runs one
 * only when a write kicks it or every RELAY_RETRY_MS (10 s), so `onLag` alone would leave a stuck
 * relay's lag 10 s stale (0 until the first retry) and show a delivered event's age for up to 10 s
 * after it went. So this follows the relay's reads and marks instead: `read` with the rows of each
 * round, `delivered` once they are marked sent (0 at once when none is left), and while some wait,
 * their age every LAG_TICK_MS in between.
 * @example const lag = outboxLag((s) => metrics.outboxLagSeconds.set(s)); unpublished: async (n) => lag.read(await repo.unpublished(n), n)
 */
export function outboxLag(set: (seconds: number) => void, tickMs = LAG_TICK_MS) {
  /** The last round's events not handed over yet: id → creation time, epoch ms. */
  const waiting = new Map<string, number>();
  /** Whether the last round read a full batch (more may wait behind it: the relay reads again at once). */
  let full = false;
  let timer: NodeJS.Timeout | undefined;

  function update(): void {
    let oldest = Infinity;
    for (const createdAt of waiting.values()) oldest = Math.min(oldest, createdAt);
    set(oldest === Infinity ? 0 : Math.max(0, (Date.now() - oldest) / 1000));
    if (waiting.size > 0) {
      timer ??= setInterval(update, tickMs);
      timer.unref();
    } else stopTicking();
  }

  function stopTicking(): void {
    if (timer) clearInterval(timer);
    timer = undefined;
  }

  return {
    /** A round read these rows (up to `limit`, oldest first); returns them. */
    read<R extends Pick<OutboxRow, 'id' | 'created_at'>>(rows: readonly R[], limit: number): readonly R[] {
      waiting.clear();
      for (const row of rows) waiting.set(row.id, Date.parse(row.created_at));
      full = rows.length >= limit;
      update();
      return rows;
    },
    /** These events were marked sent. */
    delivered(ids: readonly string[]): void {
      for (const id of ids) waiting.delete(id);
      // A full batch all sent: the relay reads the next one at once, which sets the lag; not 0 meanwhile.
      if (waiting.size === 0 && full) return stopTicking();
      update();
    },
    /** Stops the ticking (the relay stopped); the lag keeps its last value. */
    stop: stopTicking,
  };
}
