import { constants } from 'node:os';
import { killAllSupervisedNow } from './supervisor';

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

/** Signals this close after the first are the same signal delivered twice (see stopOnSignals). */
const SAME_SIGNAL_MS = 1000;

/**
 * Calls `stop(why)` on Ctrl-C, SIGTERM, SIGHUP, or when the parent (pnpm) exits: what a
 * launcher that owns child processes must listen to so that none outlives it. A second signal
 * while it stops (a server draining for SHUTDOWN_DRAIN_MS), a second or more after the first, does
 * not wait: every child process of
 * this process is SIGKILLed at once (killAllSupervisedNow), saying so on stderr, and the process
 * exits with 128 + the signal's number (130 for Ctrl-C).
 * @example stopOnSignals((why) => void shutdown(why))
 */
export function stopOnSignals(stop: (why: string) => void): void {
  let stopping = false;
  let firstSignalAt = 0;
  const once = (why: string) => {
    if (stopping) return;
    stopping = true;
    stop(why);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!stopping) {
        firstSignalAt = performance.now();
        once(signal);
        process.stderr.write(`(${signal === 'SIGINT' ? 'Ctrl-C' : signal} again kills every process at once, without waiting for its drain)\n`);
        return;
      }
      // One Ctrl-C can arrive twice: the terminal signals the whole process group, and pnpm passes
      // the signal on to its script too (node gets both when the script shell execs it, as bash
      // does). A repeat within SAME_SIGNAL_MS is that one signal, not the user's second.
      if (performance.now() - firstSignalAt < SAME_SIGNAL_MS) return;
      process.stderr.write(`${signal} again: killing every process now (SIGKILL), without waiting for their drain\n`);
      killAllSupervisedNow();
      process.exit(128 + constants.signals[signal]);
    });
  }
  watchParent(() => once('parent process exited'));
}
