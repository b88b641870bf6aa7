import type { LoadShape } from '../scenarios/types.ts';

interface Segment {
  start: number;
  duration: number;
  fromRate: number;
  toRate: number;
  /** Arrivals before this segment. */
  before: number;
}

/**
 * The open-model arrival schedule of a load shape: arrival `i` happens when the integral of the
 * (piecewise linear) rate reaches `i`, exactly as k6's arrival-rate executors space iterations.
 * Returns seconds from the start, or null once the shape is over.
 * @example arrivalSchedule({ executor: 'constant-arrival-rate', rate: 10, durationSeconds: 1, preAllocatedVUs: 1, maxVUs: 1 })(3) // 0.3
 */
export function arrivalSchedule(load: LoadShape): (index: number) => number | null {
  const segments: Segment[] = [];
  if (load.executor === 'constant-arrival-rate') {
    segments.push({ start: 0, duration: load.durationSeconds, fromRate: load.rate, toRate: load.rate, before: 0 });
  } else if (load.executor === 'ramping-arrival-rate') {
    let start = 0;
    let before = 0;
    let rate = load.startRate;
    for (const stage of load.stages) {
      segments.push({ start, duration: stage.durationSeconds, fromRate: rate, toRate: stage.target, before });
      before += ((rate + stage.target) / 2) * stage.durationSeconds;
      start += stage.durationSeconds;
      rate = stage.target;
    }
  } else {
    throw new Error('constant-vus is a closed model and has no arrival schedule');
  }
  return (index: number) => {
    for (const s of segments) {
      const inSegment = ((s.fromRate + s.toRate) / 2) * s.duration;
      const needed = index - s.before;
      if (needed < 0 || needed >= inSegment) continue;
      const a = (s.toRate - s.fromRate) / (2 * s.duration);
      const b = s.fromRate;
      let tau: number;
      if (Math.abs(a) < 1e-12) tau = needed / b;
      else tau = (-b + Math.sqrt(b * b + 4 * a * needed)) / (2 * a);
      return s.start + Math.min(Math.max(tau, 0), s.duration);
    }
    return null;
  };
}
