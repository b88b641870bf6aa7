/**
 * Calls `onGone` once when this process's parent exits. `pnpm run` does not pass SIGTERM on to
 * the script it started (it exits and the script is re-parented), so a launcher under pnpm
 * watches its parent and stops its children itself: `kill <pnpm pid>` then leaves nothing behind.
 * @example watchParent(() => void shutdown('parent exited'))
 */
export function watchParent(onGone: () => void, intervalMs = 500): () => void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(timer);
      onGone();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * Calls `stop(why)` on Ctrl-C, SIGTERM, SIGHUP, or when the parent (pnpm) exits: what a
 * launcher that owns child processes must listen to so that none outlives it.
 * @example stopOnSignals((why) => void shutdown(why))
 */
export function stopOnSignals(stop: (why: string) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
  watchParent(() => stop('parent process exited'));
}
