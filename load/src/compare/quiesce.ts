import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import type { ServerSnapshot } from './measured';

export interface QuiesceOptions {
  /** The topology at rest, in cores (measured in the idle period); null when not measured. */
  idleCpuCores: number | null;
  /** How often CPU is read, ms. */
  intervalMs?: number;
  /** Give up after this long and say so (work that never stops is not a backlog), s. */
  timeoutSeconds?: number;
}

export interface Quiesced {
  /** Time from the end of the load until the topology was back at rest, s (0: at once). */
  seconds: number;
  /** The whole wait, the two quiet readings that end it included, s: the idle CPU to take off. */
  waitedSeconds: number;
  /** False when the timeout came first. */
  settled: boolean;
  /** The last snapshot read (null when the topology could not be measured). */
  snapshot: ServerSnapshot | null;
}

/** Below this many cores (or three times the idle rate, if higher) a topology counts as at rest. */
export const AT_REST_CORES = 0.05;

/**
 * Waits until a topology is back at rest after a load segment: its CPU rate, read every
 * `intervalMs`, below `max(0.05, 3 × idle)` cores for two readings in a row. Work a topology
 * finishes after the last response (an outbox relay handing orders' events to the shipping
 * service, a queue consumer catching up) belongs to the requests that made it; without this wait
 * it was charged to whichever segment came next (the hybrid's reads cost five times the monolith's
 * in quick compares because checkout's shipments were still being relayed during browse).
 * @example const { snapshot, seconds } = await quiesce(() => m.snapshot(), { idleCpuCores: 0.01 })
 */
export async function quiesce(read: () => Promise<ServerSnapshot | null>, options: QuiesceOptions): Promise<Quiesced> {
  const intervalMs = options.intervalMs ?? 200;
  const timeoutMs = (options.timeoutSeconds ?? 30) * 1000;
  const threshold = Math.max(AT_REST_CORES, 3 * (options.idleCpuCores ?? 0));
  const start = performance.now();
  let previous = await read();
  if (previous === null) return { seconds: 0, waitedSeconds: 0, settled: true, snapshot: null };
  let previousAt = performance.now();
  let quiet = 0;
  for (;;) {
    await sleep(intervalMs);
    const current = await read();
    const at = performance.now();
    const waited = (at - start) / 1000;
    if (current === null) return { seconds: waited, waitedSeconds: waited, settled: false, snapshot: null };
    const cores = (current.cpuSeconds - previous.cpuSeconds) / Math.max(1e-3, (at - previousAt) / 1000);
    previous = current;
    previousAt = at;
    quiet = cores <= threshold ? quiet + 1 : 0;
    // The first reading after the load includes its last moments; two quiet ones in a row mean rest.
    if (quiet >= 2) return { seconds: Math.max(0, waited - (2 * intervalMs) / 1000), waitedSeconds: waited, settled: true, snapshot: current };
    if (at - start >= timeoutMs) return { seconds: waited, waitedSeconds: waited, settled: false, snapshot: current };
  }
}
