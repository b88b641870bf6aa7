import type { Comparison } from '@archbench/contracts/comparison';

/** One figure that got worse than the baseline by more than the tolerance. */
export interface Regression {
  figure: string;
  baseline: number;
  current: number;
  /** Change in percent, signed so that positive is worse. */
  worseByPercent: number;
}

export interface BaselineCheck {
  regressions: Regression[];
  /** Things that could not be compared (missing scenarios, a different profile). */
  notes: string[];
}

/** Latency changes smaller than this are noise at any tolerance, ms. */
const LATENCY_FLOOR_MS = 1;
/** Error-rate changes smaller than this (0.1 percentage points) are noise. */
const ERROR_RATE_FLOOR = 0.001;

/**
 * Compares a comparison with a baseline: throughput may not drop, and p95 latency, error rate,
 * CPU per 1,000 orders, peak memory and hops may not grow, by more than `tolerancePercent`.
 * @example compareWithBaseline(current, baseline, 10).regressions // [{ figure: 'checkout/monolith throughput', ... }]
 */
export function compareWithBaseline(current: Comparison, baseline: Comparison, tolerancePercent: number): BaselineCheck {
  const regressions: Regression[] = [];
  const notes: string[] = [];
  const limit = tolerancePercent / 100;
  if (current.profile !== baseline.profile)
    notes.push(`baseline profile is ${baseline.profile}, this run is ${current.profile}: figures may not be comparable`);
  if (current.engine !== baseline.engine) notes.push(`baseline engine is ${baseline.engine}, this run used ${current.engine}`);
  // A baseline written before schema version 3 was read with this run's meanings where the file
  // allows (parseComparison); what it converted or could not is said here.
  for (const warning of baseline.convertedFrom?.warnings ?? []) notes.push(`baseline: ${warning}`);

  const check = (figure: string, base: number | null | undefined, now: number | null | undefined, higherIsWorse: boolean, floor = 0) => {
    if (base === null || base === undefined || now === null || now === undefined) return;
    const worseBy = higherIsWorse ? now - base : base - now;
    if (worseBy <= floor) return;
    const relative = base === 0 ? Number.POSITIVE_INFINITY : worseBy / Math.abs(base);
    if (relative > limit) regressions.push({ figure, baseline: base, current: now, worseByPercent: relative * 100 });
  };

  for (const b of baseline.scenarios) {
    const c = current.scenarios.find((s) => s.scenario === b.scenario && s.topology === b.topology);
    if (!c) {
      notes.push(`${b.scenario}/${b.topology} is in the baseline but not in this run`);
      continue;
    }
    const id = `${b.scenario}/${b.topology}`;
    check(`${id} throughput (req/s)`, b.throughputRps, c.throughputRps, false);
    check(`${id} p95 latency (ms)`, b.latencyMs.p95, c.latencyMs.p95, true, LATENCY_FLOOR_MS);
    check(`${id} error rate`, b.errorRate, c.errorRate, true, ERROR_RATE_FLOOR);
  }
  for (const b of baseline.topologies) {
    const c = current.topologies.find((t) => t.name === b.name);
    if (!c) {
      notes.push(`${b.name} is in the baseline but not in this run`);
      continue;
    }
    check(`${b.name} CPU s per 1k orders`, b.cpuSecondsPer1kOrders, c.cpuSecondsPer1kOrders, true);
    check(`${b.name} peak RSS (bytes)`, b.peakRssBytes, c.peakRssBytes, true);
    // Hops per request are given at the 80/20 reference mix since the per-kind figures exist; a
    // baseline written before holds them over its runs as they came, a different figure.
    const perKind = (t: typeof b) => typeof t.perRequest?.hopsPerRead === 'number' && typeof t.perRequest.hopsPerOrder === 'number';
    if (perKind(b) === perKind(c)) check(`${b.name} hops per request`, b.hopsPerRequest, c.hopsPerRequest, true, 0.01);
    else notes.push(`${b.name} hops per request not compared: one of the two files predates the per-kind figures (hops at the 80/20 mix)`);
  }
  return { regressions, notes };
}

/** Markdown list of regressions for the terminal and the job summary. */
export function renderRegressions(check: BaselineCheck, tolerancePercent: number): string {
  const lines = [`### Baseline check (tolerance ${tolerancePercent}%)`, ''];
  if (check.regressions.length === 0) lines.push('No regressions.');
  for (const r of check.regressions) {
    lines.push(
      `- REGRESSION ${r.figure}: ${format(r.baseline)} -> ${format(r.current)} (${Number.isFinite(r.worseByPercent) ? `${r.worseByPercent.toFixed(1)}% worse` : 'was 0'})`,
    );
  }
  for (const note of check.notes) lines.push(`- note: ${note}`);
  return `${lines.join('\n')}\n`;
}

function format(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}
