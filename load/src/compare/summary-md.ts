import { pairedThroughputRatio } from '@archbench/contracts/comparison';
import type { Comparison, ScenarioResult, TopologyResult } from '@archbench/contracts/comparison';

function ms(value: number): string {
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
}

function bytes(value: number | null | undefined): string {
  if (value === null || value === undefined) return 'not measured';
  return `${(value / 1024 / 1024).toFixed(0)} MiB`;
}

function ratio(value: number | null | undefined, base: number | null | undefined): string {
  if (value === null || value === undefined || base === null || base === undefined || base === 0) return '—';
  return `${(value / base).toFixed(2)}×`;
}

function pct(value: number): string {
  return `${(value * 100).toFixed(value > 0 && value < 0.001 ? 3 : 2)}%`;
}

function rps(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/**
 * Renders a comparison as GitHub-flavoured markdown (terminal, job summary, PR comment): a client
 * side table per scenario, a server side table, and ratios against the monolith.
 * @example writeFileSync('summary.md', renderSummary(comparison))
 */
export function renderSummary(comparison: Comparison): string {
  const lines: string[] = [];
  const m = comparison.machine;
  lines.push(`## archbench comparison: ${comparison.profile} profile, ${comparison.engine} engine`);
  lines.push('');
  lines.push(
    `${m.cores} cores${m.cpuModel ? ` (${m.cpuModel})` : ''}, ${(m.memoryBytes / 1024 ** 3).toFixed(1)} GiB, Node ${m.node}, ${m.platform}/${m.arch}. ` +
      `${comparison.startedAt} to ${comparison.finishedAt}${comparison.rounds ? `, ${comparison.rounds} interleaved round${comparison.rounds === 1 ? '' : 's'} per scenario` : ''}.`,
  );
  lines.push('');

  const monolithScenario = (s: ScenarioResult) => comparison.scenarios.find((x) => x.scenario === s.scenario && x.topology === 'monolith');
  lines.push('### Client side');
  lines.push('');
  lines.push('| Scenario | Topology | Model | Throughput (req/s) | p50 ms | p95 ms | p99 ms | Errors | Dropped | Thresholds | Throughput vs monolith (paired) | p95 vs monolith |');
  lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |');
  for (const s of comparison.scenarios) {
    const base = monolithScenario(s);
    const failed = s.thresholds.filter((t) => !t.passed).map((t) => `${t.metric} ${t.expression}`);
    lines.push(
      `| ${s.scenario} | ${s.topology} | ${s.loadModel ?? '—'} | ${rps(s.throughputRps)} | ${ms(s.latencyMs.p50)} | ${ms(s.latencyMs.p95)} | ${ms(s.latencyMs.p99)} | ${pct(s.errorRate)} | ${s.dropped} | ` +
        `${s.thresholdsPassed ? 'pass' : `FAIL: ${failed.join(', ')}`} | ${base ? ratio(pairedThroughputRatio(s, base), 1) : '—'} | ${ratio(s.latencyMs.p95, base?.latencyMs.p95)} |`,
    );
  }
  lines.push('');

  const mono = comparison.topologies.find((t) => t.name === 'monolith');
  lines.push('### Server side');
  lines.push('');
  lines.push('| Topology | Processes | CPU s / 1k orders | Peak RSS | Idle RSS | Hops / request | CPU vs monolith | Peak RSS vs monolith |');
  lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const hops = (t: TopologyResult) => (t.hopsPerRequest === null ? 'not measured' : t.hopsPerRequest.toFixed(2));
  for (const t of comparison.topologies) {
    lines.push(
      `| ${t.name} | ${t.processCount ?? 'not measured'} | ${t.cpuSecondsPer1kOrders === null ? '—' : t.cpuSecondsPer1kOrders.toFixed(2)} | ${bytes(t.peakRssBytes)} | ${t.idleRssBytes === undefined ? '—' : bytes(t.idleRssBytes)} | ${hops(t)} | ` +
        `${ratio(t.cpuSecondsPer1kOrders, mono?.cpuSecondsPer1kOrders)} | ${ratio(t.peakRssBytes, mono?.peakRssBytes)} |`,
    );
  }
  lines.push('');

  const closed = comparison.scenarios.filter((s) => s.loadModel === 'closed' && s.topology !== 'monolith');
  if (closed.length > 0) {
    lines.push('### Headline');
    lines.push('');
    for (const s of closed) {
      const base = monolithScenario(s);
      if (!base) continue;
      if (s.errorRate > 0.01 || base.errorRate > 0.01) {
        lines.push(`- ${s.scenario}: not comparable, too many failed requests (${s.topology} ${pct(s.errorRate)}, monolith ${pct(base.errorRate)}); see the server logs.`);
      } else {
        lines.push(
          `- ${s.scenario}: ${s.topology} sustains ${ratio(pairedThroughputRatio(s, base), 1)} the monolith's maximum throughput ` +
            `(median of per-round paired ratios; totals ${rps(s.throughputRps)} vs ${rps(base.throughputRps)} req/s).`,
        );
      }
    }
    lines.push('');
  }
  if (comparison.skippedTopologies?.length) {
    lines.push(`Skipped: ${comparison.skippedTopologies.map((s) => `${s.name} (${s.reason})`).join('; ')}.`);
    lines.push('');
  }
  lines.push('Open-model scenarios offer a fixed arrival rate (throughput is the offered rate; latency counts from each request\'s scheduled time). Closed-model scenarios measure the maximum sustained throughput.');
  return `${lines.join('\n')}\n`;
}
