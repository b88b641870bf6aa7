import { REFERENCE_ORDER_SHARE, pairedThroughputRatio, ranOnLocalEmulator } from '@archbench/contracts/comparison';
import type { Comparison, FaultResult, ScenarioResult, TopologyResult } from '@archbench/contracts/comparison';

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

const FAILURE_NOTES: Record<string, string> = { '0': 'transport error or timeout', '202': 'order still PENDING when Prefer: wait ran out' };

/**
 * The failed responses of a scenario by what they were, most first: every `statusCounts` key but
 * the successful 200 and 201 (an order answered 201 that was not placed is counted under
 * `201 <failure>`, e.g. `201 rejected: payment_provider_error`).
 * @example failureCounts(checkout) // ['1407 × 201 rejected: payment_provider_error']
 */
export function failureCounts(s: Pick<ScenarioResult, 'statusCounts'>): string[] {
  return Object.entries(s.statusCounts)
    .filter(([key, count]) => key !== '200' && key !== '201' && count > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([key, count]) => `${count} × ${key}${FAILURE_NOTES[key] ? ` (${FAILURE_NOTES[key]})` : ''}`);
}

/**
 * Scenario results in which every request failed, one line each with what they failed with: such
 * a run measured nothing (a wrong --auth-secret answers 401 to every order), and compare exits 3.
 * @example everyRequestFailed(comparison) // ['every request of checkout against shop failed (40 × 401: ...)']
 */
export function everyRequestFailed(comparison: Pick<Comparison, 'scenarios'>): string[] {
  return comparison.scenarios
    .filter((s) => s.requests > 0 && s.errorRate >= 1)
    .map((s) => {
      const hint =
        s.statusCounts['401'] || s.statusCounts['403']
          ? "; a 401 or 403 means the tokens are not signed with the servers' AUTH_SECRET (--auth-secret, --token-file)"
          : '';
      return `every request of ${s.scenario} against ${s.topology} failed (${failureCounts(s).slice(0, 3).join(', ')})${hint}`;
    });
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
  if (m.loadAverage && m.loadAverage[0]! > m.cores) {
    lines.push(
      `> **Busy machine**: load average ${m.loadAverage.join(' / ')} on ${m.cores} cores when the run started. Other work competed with the servers and the load generator; ratios from this run are noisier than usual.`,
    );
    lines.push('');
  }

  if (comparison.mode === 'target') {
    const urls = comparison.topologies.map((t) => `${t.name} at ${t.baseUrl ?? 'an unrecorded URL'}`);
    lines.push(`Measured deployments that already run (\`--target\`; nothing was started): ${urls.join(', ')}.`);
    lines.push('');
  }
  if (comparison.topologies.some(ranOnLocalEmulator)) {
    lines.push(
      "> **serverless ran on a local emulator**: one workerd process running the workers, D1 and the queues, on the cores that also generated the load. Cloudflare scales out per request and runs D1 and Queues as remote services, so its latency under load and its fault figures here are the emulator's; its CPU, hops, queue messages and rows per order are the app's own. `archbench decide` (from model v3 on) scores its latency, failure isolation and recovery from its prior for that reason; measure a deployment with `--target serverless=URL` to count them.",
    );
    lines.push('');
  }
  const monolithScenario = (s: ScenarioResult) => comparison.scenarios.find((x) => x.scenario === s.scenario && x.topology === 'monolith');
  lines.push('### Client side');
  lines.push('');
  lines.push(
    '| Scenario | Topology | Model | Throughput (req/s) | p50 ms | p95 ms | p99 ms | Errors | Dropped | Thresholds | Throughput vs monolith (paired) | p95 vs monolith |',
  );
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
  const failures = comparison.scenarios.flatMap((s) => {
    const named = failureCounts(s);
    return named.length > 0 ? [`${s.scenario} on ${s.topology}: ${named.join(', ')}`] : [];
  });
  if (failures.length > 0) {
    lines.push(`Failed requests: ${failures.join('; ')}.`);
    lines.push('');
  }

  const mono = comparison.topologies.find((t) => t.name === 'monolith');
  lines.push('### Server side');
  lines.push('');
  lines.push(
    `| Topology | Processes | CPU s / 1k orders | Peak RSS | Idle RSS | Hops / request (${Math.round((1 - REFERENCE_ORDER_SHARE) * 100)}/${Math.round(REFERENCE_ORDER_SHARE * 100)} mix) | CPU vs monolith | Peak RSS vs monolith |`,
  );
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
        lines.push(
          `- ${s.scenario}: not comparable, too many failed requests (${s.topology} ${pct(s.errorRate)}, monolith ${pct(base.errorRate)}); see the server logs.`,
        );
      } else {
        lines.push(
          `- ${s.scenario}: ${s.topology} sustains ${ratio(pairedThroughputRatio(s, base), 1)} the monolith's maximum throughput ` +
            `(median of per-round paired ratios; totals ${rps(s.throughputRps)} vs ${rps(base.throughputRps)} req/s).`,
        );
      }
    }
    lines.push('');
  }
  lines.push(...renderExtras(comparison));
  if (comparison.skippedTopologies?.length) {
    lines.push(`Skipped: ${comparison.skippedTopologies.map((s) => `${s.name} (${s.reason})`).join('; ')}.`);
    lines.push('');
  }
  lines.push(`${openModelNote(comparison.engine)} Closed-model scenarios measure the maximum sustained throughput.`);
  return `${lines.join('\n')}\n`;
}

/**
 * What an open-model scenario's figures mean with the engine that measured them: the embedded
 * engine counts latency from each request's scheduled time; k6 reports `http_req_duration`, from
 * the send, without connection setup or any delay before it (a k6 script is given no scheduled
 * time to count from).
 * @example openModelNote('k6')
 */
export function openModelNote(engine: string): string {
  const offered = 'Open-model scenarios offer a fixed arrival rate (throughput is the offered rate, less failed requests)';
  if (engine === 'k6')
    return (
      `${offered}; latency is k6's http_req_duration: from sending each request to its last byte, without connection setup or any ` +
      'delay before the send (a load generator running late), so under a stall it can read lower than the embedded engine, which counts from each ' +
      "request's scheduled time."
    );
  return `${offered}; latency counts from each request's scheduled time, so a wait for a connection or for the load generator is charged to the request.`;
}

function usd(value: number | null): string {
  if (value === null) return 'not estimated';
  return value >= 100 ? `$${value.toFixed(0)}` : `$${value.toFixed(2)}`;
}

function share(value: number): string {
  return `${(value * 100).toFixed(1)} %`;
}

function n(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined ? 'not measured' : value.toFixed(digits);
}

const FAULT_TITLES: Record<string, string> = {
  'dependency-crash': 'dependency crash (SIGKILL payments)',
  'provider-outage': 'payment provider outage',
  'broker-loss': 'broker connections lost',
};

/**
 * A fault's row title: what was done. A `--fault-cmd` hook's crash is whatever the hook did, not
 * compare's SIGKILL of the process that runs payments.
 * @example faultTitle({ fault: 'dependency-crash', injection: { method: '--fault-cmd hook (…)', … } }) // 'dependency crash (by the --fault-cmd hook)'
 */
export function faultTitle(f: Pick<FaultResult, 'fault' | 'injection'>): string {
  if (f.fault === 'dependency-crash' && f.injection?.method.startsWith('--fault-cmd')) return 'dependency crash (by the --fault-cmd hook)';
  return FAULT_TITLES[f.fault] ?? f.fault;
}

/** The Injection cell: verified or not, and the evidence ("injected by the hook, not verified: …" says it itself). */
function injectionCell(f: Pick<FaultResult, 'injection'>): string {
  if (!f.injection) return '—';
  if (f.injection.verified) return `verified: ${f.injection.detail}`;
  return f.injection.detail.startsWith('injected by the hook, not verified') ? f.injection.detail : `NOT VERIFIED: ${f.injection.detail}`;
}

/**
 * The version 2 sections: fault experiments, monthly cost at load profiles with the prices used,
 * idle and cold start, per-request figures. Empty for version 1 files.
 */
function renderExtras(comparison: Comparison): string[] {
  const lines: string[] = [];
  if (comparison.faults.length === 0 && comparison.skippedFaults?.length) {
    lines.push('### Faults');
    lines.push('');
    lines.push(`Every fault was skipped: ${comparison.skippedFaults.map((s) => `${s.topology} / ${s.fault} (${s.reason})`).join('; ')}.`);
    lines.push('');
  } else if (comparison.faults.length > 0) {
    lines.push('### Faults');
    lines.push('');
    lines.push(
      'Each under a steady mixed load (open model); availability and p95 over the fault window (an iteration dropped because every virtual user was still waiting counts as failed); lost/stuck/duplicates/drift read from the real state after the deadline.',
    );
    lines.push('');
    lines.push(
      '| Topology | Fault | Browse available | Checkout succeeded | Dropped | Orders lost | Orders stuck | Duplicate charges | Stock drift | Recovery | p95 during fault | Injection |',
    );
    lines.push('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const f of comparison.faults) {
      const recovery = f.recovered === false ? `not within ${f.recoverySeconds.toFixed(0)} s` : `${f.recoverySeconds.toFixed(1)} s`;
      const injection = injectionCell(f);
      lines.push(
        `| ${f.topology} | ${faultTitle(f)} | ${share(f.browseAvailability)} | ${share(f.checkoutSuccess)} | ${f.droppedDuringFault ?? '—'} | ${f.ordersLost} | ${f.ordersStuck} | ${f.duplicateCharges} | ${f.stockDrift} | ${recovery} | ${ms(f.p95DuringFaultMs)} ms | ${injection.replace(/\|/g, '/')} |`,
      );
    }
    if (comparison.skippedFaults?.length) {
      lines.push('');
      lines.push(`Not run: ${comparison.skippedFaults.map((s) => `${s.topology} / ${s.fault} (${s.reason})`).join('; ')}.`);
    }
    lines.push('');
  }

  const cost = comparison.cost;
  if (cost) {
    lines.push('### Monthly cost');
    lines.push('');
    lines.push(
      `${cost.currency}, ${cost.hoursPerMonth} h a month. Provisioned topologies are sized for the peak (CPU at ${cost.targetUtilization * 100} % target utilisation, memory = peak RSS × ${1 + cost.headroom}) and pay for it all month; serverless pays per request and CPU time. Prices are assumptions (listed below, with source and date; override with \`--price ID=VALUE\`).`,
    );
    lines.push('');
    for (const profile of cost.profiles) {
      lines.push(
        `**${profile.name}**${profile.description ? `: ${profile.description}` : ''} (busy ${profile.busyRps} req/s for ${profile.hoursPerDay} h/day, peak ${profile.peakRps} req/s, quiet ${profile.quietRps} req/s, ${share(profile.orderShare)} orders)`,
      );
      lines.push('');
      lines.push('| Topology | Model | Per month | With no traffic | Provisioned | Basis |');
      lines.push('| --- | --- | ---: | ---: | --- | --- |');
      for (const e of cost.estimates.filter((x) => x.profile === profile.name)) {
        // Not estimated: the sizing was computed from figures that are missing (0 CPU-ms, no memory), so none is shown.
        const estimated = e.monthlyUsd !== null;
        const provisioned = e.provisioned && estimated ? `${e.provisioned.vcpus.toFixed(2)} vCPU, ${e.provisioned.memoryGiB.toFixed(2)} GiB` : '—';
        const notes = estimated ? e.notes : e.notes.filter((note) => note.startsWith('not estimated'));
        lines.push(
          `| ${e.topology} | ${e.model} | ${usd(e.monthlyUsd)} | ${usd(e.idleMonthlyUsd)} | ${provisioned} | ${notes.join('; ').replace(/\|/g, '/')} |`,
        );
      }
      lines.push('');
    }
    lines.push('<details><summary>Price assumptions</summary>');
    lines.push('');
    lines.push('| Id | Value | Unit | What | Source | Price list date |');
    lines.push('| --- | ---: | --- | --- | --- | --- |');
    for (const p of cost.prices)
      lines.push(`| ${p.id} | ${p.value} | ${p.unit} | ${p.description}${p.overriddenBy ? ` (set by ${p.overriddenBy})` : ''} | ${p.source} | ${p.date} |`);
    lines.push('');
    lines.push('</details>');
    lines.push('');
  }

  const withRest = comparison.topologies.filter((t) => t.idle || t.coldStart);
  if (withRest.length > 0) {
    lines.push('### At rest and cold start');
    lines.push('');
    lines.push(
      '| Topology | Idle CPU | Idle RSS | Compute paid at rest | Spawn → first answer (p50 / max) | First request | First request after idle | Warm request | Starts |',
    );
    lines.push('| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const t of withRest) {
      const c = t.coldStart;
      lines.push(
        `| ${t.name} | ${t.idle ? `${(t.idle.cpuCores * 100).toFixed(1)} % of a core` : 'not measured'} | ${t.idle ? bytes(t.idle.rssBytes) : 'not measured'} | ${t.idle ? (t.idle.billedAtRest ? 'yes' : 'no (scales to zero)') : '—'} | ` +
          (c
            ? `${ms(c.startToFirstResponse.p50Ms)} / ${ms(c.startToFirstResponse.maxMs)} ms | ${ms(c.firstRequest.p50Ms)} ms | ${ms(c.afterIdle.p50Ms)} ms after ${c.afterIdle.idleSeconds} s | ${ms(c.warmMs)} ms | ${c.startToFirstResponse.samples} |`
            : 'not measured | — | — | — | — |'),
      );
    }
    lines.push('');
  }

  const withPerRequest = comparison.topologies.filter((t) => t.perRequest);
  if (withPerRequest.length > 0) {
    lines.push('### Per request (cost model inputs)');
    lines.push('');
    lines.push(
      '| Topology | CPU-ms / read | CPU-ms / order | Wall ms / read | Wall ms / order | Hops / read | Hops / order | Invocations / order | Queue messages / order | RSS / process |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const t of withPerRequest) {
      const p = t.perRequest!;
      lines.push(
        `| ${t.name} | ${n(p.cpuMsPerRead)} | ${n(p.cpuMsPerOrder)} | ${n(p.wallMsPerRead)} | ${n(p.wallMsPerOrder)} | ${n(p.hopsPerRead)} | ${n(p.hopsPerOrder)} | ${n(p.requestsPerOrder)} | ` +
          `${n(p.queueMessagesPerOrder)} | ${bytes(p.rssBytesPerProcess)} |`,
      );
    }
    lines.push('');
    lines.push(
      `Each kind of request is measured in its own run: reads in reads (CPU) and browse (wall time, at a moderate fixed rate), orders in checkout (at capacity, so their wall time includes a saturated server's queueing). Figures "per request" elsewhere mix them at ${Math.round((1 - REFERENCE_ORDER_SHARE) * 100)} % reads and ${Math.round(REFERENCE_ORDER_SHARE * 100)} % orders for every topology; the cost model mixes them at each load profile's share.`,
    );
    lines.push('');
  }
  return lines;
}
