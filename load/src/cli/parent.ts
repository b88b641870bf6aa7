import { readFileSync } from 'node:fs';
import { watchParent } from '@archbench/topologies';

/** The parent pid of a process from /proc (Linux), or undefined when it cannot be read. */
export function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a process is tsx's CLI (`tsx file.ts`, as `pnpm compare` runs compare): a wrapper that
 * relays signals to the node process it starts, but does not notice its own parent exiting.
 */
export function isTsxWrapper(pid: number): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.slice(0, 2).some((arg) => /(^|[\\/])tsx([\\/]dist[\\/]cli\.m?js)?$/.test(arg));
  } catch {
    return false;
  }
}

/**
 * Calls `onGone` once when whoever launched this process goes away, as the topology launchers do
 * (watchParent of @archbench/topologies): `pnpm run` does not pass SIGTERM on to its script, it
 * exits and leaves the script running. Under `pnpm compare` the parent is tsx's CLI, which stays
 * when pnpm goes, so then its parent is watched too. Returns a function that stops watching.
 * @example watchLauncher(() => stopEverything('the process that started compare exited'))
 */
export function watchLauncher(onGone: () => void, intervalMs = 500): () => void {
  let fired = false;
  const once = () => {
    if (fired) return;
    fired = true;
    stop();
    onGone();
  };
  const stopParent = watchParent(once, intervalMs);
  const wrapper = process.ppid;
  const launcher = isTsxWrapper(wrapper) ? parentOf(wrapper) : undefined;
  const timer =
    launcher === undefined
      ? undefined
      : setInterval(() => {
          if (parentOf(wrapper) !== launcher) once();
        }, intervalMs);
  timer?.unref();
  function stop() {
    stopParent();
    if (timer) clearInterval(timer);
  }
  return stop;
}
