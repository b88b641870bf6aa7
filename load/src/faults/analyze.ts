import type { RequestEvent } from '../engine/run-scenario';

/** The time line of one fault experiment, ms from the start of the load run. */
export interface FaultWindow {
  /** When the fault was injected. */
  injectAt: number;
  /** When it was lifted (crash and broker loss: the same as injectAt, the system recovers by itself). */
  liftAt: number;
  /** End of the window over which availability and p95 are measured ("during the fault"). */
  windowEnd: number;
  /** End of the load run. */
  runEnd: number;
}

export interface TimelineFigures {
  browseAvailability: number;
  checkoutSuccess: number;
  p95DuringFaultMs: number;
  recoverySeconds: number;
  recovered: boolean;
  /** What counted as normal: success share and p95 of the seconds before the fault. */
  normal: { successRate: number; p95Ms: number };
  ordersSentDuringFault: number;
  browseSentDuringFault: number;
  /** Iterations due during the fault window that were never sent (every VU busy): counted as failed above. */
  droppedDuringFault: number;
}

/** Latencies of the requests that were sent (a dropped iteration has none). */
function latencies(list: readonly RequestEvent[]): number[] {
  const values: number[] = [];
  for (const e of list) if (e.dropped !== true) values.push(e.ms);
  return values;
}

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * Whether a request succeeded as a user sees it: a catalog read answered 200; an order that ended
 * CONFIRMED (its final status comes from the state read after the deadline, since an order the
 * API accepted as PENDING may still have been confirmed, or lost, later).
 */
function requestSucceeded(event: RequestEvent, finalStatus: ReadonlyMap<string, string>): boolean {
  if (event.kind === 'browse') return event.ok;
  if (event.orderId === undefined) return false;
  return (finalStatus.get(event.orderId) ?? event.orderStatus) === 'CONFIRMED';
}

/**
 * Availability, p95 and recovery of one fault experiment from its per-request time line.
 *
 * - browse availability / checkout success: share of requests *scheduled* in
 *   [injectAt, windowEnd) that succeeded (see requestSucceeded); an iteration dropped because
 *   every VU was busy (a system that hangs rather than refuses) is scheduled and failed;
 * - p95 during the fault: of the requests sent, latency counted from the scheduled time;
 * - recovery: from `liftAt` to the start of the first `recoveryWindowMs` in which every
 *   1-second bucket is normal: success share at least 99 % of the pre-fault share, and p95 at
 *   most max(3 × pre-fault p95, pre-fault p95 + 100 ms). Not recovered by the end of the run:
 *   `recovered: false` and the time observed after the lift.
 * @example analyzeTimeline(events, { injectAt: 5000, liftAt: 5000, windowEnd: 10000, runEnd: 25000 }, finalStatus, 5000)
 */
export function analyzeTimeline(
  events: readonly RequestEvent[],
  window: FaultWindow,
  finalStatus: ReadonlyMap<string, string>,
  recoveryWindowMs: number,
  bucketMs = 1000,
): TimelineFigures {
  const during = events.filter((e) => e.at >= window.injectAt && e.at < window.windowEnd);
  const browse = during.filter((e) => e.kind === 'browse');
  const orders = during.filter((e) => e.kind === 'order');
  const share = (list: readonly RequestEvent[]) => (list.length === 0 ? 1 : list.filter((e) => requestSucceeded(e, finalStatus)).length / list.length);

  // "Normal" is what this topology did before the fault, skipping the first second (connections opening).
  const before = events.filter((e) => e.at >= Math.min(bucketMs, window.injectAt / 2) && e.at < window.injectAt);
  const normalRate = before.length === 0 ? 1 : share(before);
  const normalP95 = percentile(latencies(before), 95);
  const minRate = normalRate * 0.99;
  const maxP95 = Math.max(normalP95 * 3, normalP95 + 100);

  const buckets = new Map<number, RequestEvent[]>();
  for (const e of events) {
    if (e.at < window.liftAt) continue;
    const index = Math.floor((e.at - window.liftAt) / bucketMs);
    const list = buckets.get(index);
    if (list) list.push(e);
    else buckets.set(index, [e]);
  }
  const bucketCount = Math.max(0, Math.floor((window.runEnd - window.liftAt) / bucketMs));
  const normalBucket = (index: number) => {
    const list = buckets.get(index);
    if (!list || list.length === 0) return true;
    return share(list) >= minRate && percentile(latencies(list), 95) <= maxP95;
  };
  const needed = Math.max(1, Math.round(recoveryWindowMs / bucketMs));
  let recoveredAt: number | undefined;
  let run = 0;
  for (let i = 0; i < bucketCount; i++) {
    run = normalBucket(i) ? run + 1 : 0;
    if (run >= needed) {
      recoveredAt = i - needed + 1;
      break;
    }
  }
  return {
    browseAvailability: share(browse),
    checkoutSuccess: share(orders),
    p95DuringFaultMs: percentile(latencies(during), 95),
    recoverySeconds: recoveredAt === undefined ? Math.max(0, window.runEnd - window.liftAt) / 1000 : (recoveredAt * bucketMs) / 1000,
    recovered: recoveredAt !== undefined,
    normal: { successRate: normalRate, p95Ms: normalP95 },
    ordersSentDuringFault: orders.length,
    browseSentDuringFault: browse.length,
    droppedDuringFault: during.filter((e) => e.dropped === true).length,
  };
}
