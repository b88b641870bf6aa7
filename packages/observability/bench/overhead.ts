/**
 * `pnpm --filter @archbench/observability bench`: what observability costs the monolith.
 *
 * Starts the monolith once per variant (bundled with esbuild and run on plain Node with the
 * server flags, as `pnpm start` runs it; SQLite), differing only in env:
 *   off       OTEL_SDK_DISABLED=true, METRICS_ENABLED=false, LOG_LEVEL=silent
 *   default   the documented production default: metrics, info logs (trace and request ids on every
 *             line), W3C context, spans sampled parent-based at 10 % and exported over OTLP/HTTP
 *             (protobuf) to a local receiver (OTEL_EXPORTER_OTLP_ENDPOINT alone)
 *   full      everything at 100 % sampling: as default with OTEL_TRACES_SAMPLER=always_on
 *   tracing   tracing + export at 100 %, no metrics, no logs      metrics   metrics only
 *   unsampled tracing on with OTEL_TRACES_SAMPLER=always_off: context and span plumbing, no spans
 *   ratio0    tracing on with the default sampler at ratio 0: the non-recording path of `default`
 *   sampled   the default's tracing alone (10 % recorded and exported), no metrics, no logs
 *   context   info logs but no line per request: the cost of carrying the request context
 *   access    info logs with one access line per request (ACCESS_LOG=info)
 * (every variant with NODE_ENV=production, which selects those sampling and protocol defaults)
 * and load-tests GET /products/{sku} with autocannon, ONE server at a time (the others idle): a
 * round runs off, v1, off, v2, …, off (the variant order rotates per round), each run after a short
 * unmeasured warm-up. A variant's ratio in a round is its figure over the mean of the two `off`
 * runs around it; the bench prints the median (and range) over rounds of the throughput ratio and
 * of the server-CPU-per-request ratio. The verdict uses throughput; CPU per request is printed
 * beside it. It prints the load average at start and end and how much CPU other processes took
 * during the runs, and warns when the machine was busy (the figures are then not trustworthy).
 * Targets: `default` loses at most 10 % throughput, `full` at most 25 %.
 *
 * Flags: --duration 3 (s per run) --rounds 5 --connections 32 --warmup 1 (s before each run)
 *        --variants off,default,full,unsampled,metrics,context
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import { startTopology } from '@archbench/topologies';
import { otlpProtobufSpanCount } from '../src/test-support';
import type { RunningTopology } from '@archbench/topologies';
import { benchArgs } from '@archbench/topologies/bench-args';

const args = benchArgs({
  duration: { type: 'string', default: '3' },
  rounds: { type: 'string', default: '5' },
  connections: { type: 'string', default: '32' },
  warmup: { type: 'string', default: '1' },
  variants: { type: 'string', default: 'off,default,full,unsampled,metrics,context' },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);
const warmup = Number(args.warmup);
for (const [flag, value] of Object.entries({ duration, rounds, connections })) {
  if (!Number.isFinite(value) || value <= 0) {
    process.stderr.write(`--${flag} must be a positive number\n`);
    process.exit(2);
  }
}
if (!Number.isFinite(warmup) || warmup < 0) {
  process.stderr.write('--warmup must be a number ≥ 0\n');
  process.exit(2);
}
const CORES = cpus().length;

/** Stands in for a collector: counts spans and bytes, answers 200 like one. */
function startSink(): Promise<{ url: string; spans: () => number; bytes: () => number; close: () => void }> {
  let spans = 0;
  let bytes = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      bytes += raw.length;
      if (req.headers['content-type'] === 'application/x-protobuf') {
        // The default protocol: walking the message's length-delimited fields is enough.
        spans += otlpProtobufSpanCount(raw);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
        return;
      }
      // Counting a key is enough and keeps the sink from competing for CPU with a JSON.parse.
      const body = raw.toString('utf8');
      for (let i = body.indexOf('"spanId"'); i !== -1; i = body.indexOf('"spanId"', i + 8)) spans++;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans: () => spans, bytes: () => bytes, close: () => server.close() }),
    ),
  );
}

/** Set when the bench stops its monoliths, so their exits are not reported as failures. */
let stopping = false;

interface Instance {
  name: string;
  url: string;
  pid: number;
  topology: RunningTopology;
  logFile: string;
}

async function startMonolith(name: string, env: Record<string, string>, workDir: string): Promise<Instance> {
  const logFile = join(workDir, `${name}.log`);
  // Bundled, on plain Node with the default server flags: the production way (`pnpm start`).
  const topology = await startTopology('monolith', {
    port: 0,
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    dataDir: join(workDir, name),
    runner: 'bundle',
    output: { file: logFile },
    restart: false,
    readyTimeoutMs: 60_000,
    // Something else on this shared machine may stop it (a SIGTERM shows as "shutting down" in its log).
    onEvent: (event) =>
      event.type === 'exited' &&
      !stopping &&
      process.stderr.write(`monolith "${name}" exited (${event.signal ?? event.code}) during the run; see ${logFile}\n`),
  });
  return { name, url: topology.baseUrl, pid: topology.pids()[0]!, topology, logFile };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

/** CPU seconds the whole machine has been busy (all cores), from /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!;
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user! + nice! + system! + irq! + softirq! + steal!) / 100;
}

interface Run {
  rps: number;
  /** Server CPU microseconds per request. */
  cpuUs: number;
  /** Cores used by processes other than this server and this bench during the run. */
  otherCores: number;
  requests: number;
  p50: number;
  p99: number;
  failed: number;
}

let sku = 0;
async function load(url: string, pid: number, seconds: number): Promise<Run> {
  const cpuBefore = cpuSeconds(pid);
  const selfBefore = cpuSeconds('self');
  const busyBefore = machineBusySeconds();
  const t0 = performance.now();
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/products/SKU-${String((sku++ % 900) + 1).padStart(4, '0')}` }) }],
  });
  const wall = (performance.now() - t0) / 1000;
  const server = cpuSeconds(pid) - cpuBefore;
  const other = machineBusySeconds() - busyBefore - server - (cpuSeconds('self') - selfBefore);
  return {
    rps: result.requests.average,
    cpuUs: (server * 1e6) / Math.max(1, result.requests.total),
    otherCores: Math.max(0, other / wall),
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors,
  };
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'archbench-obs-bench-'));
  const sink = await startSink();
  // Every variant runs as in production (NODE_ENV=production, so a real AUTH_SECRET); that is
  // where the 10 % sampler and protobuf export are the defaults.
  const production = { NODE_ENV: 'production', AUTH_SECRET: randomBytes(24).toString('hex') };
  const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url };
  const variants: Record<string, Record<string, string>> = {
    off: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // Only the endpoint: the sampler is the production default (parent-based, 10 %).
    default: { ...exporting, METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    full: { ...exporting, OTEL_TRACES_SAMPLER: 'always_on', METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    tracing: { ...exporting, OTEL_TRACES_SAMPLER: 'always_on', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    metrics: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'true', LOG_LEVEL: 'silent' },
    access: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'info', ACCESS_LOG: 'info' },
    // Tracing on but every trace dropped by the sampler: the cost of context and span plumbing alone.
    unsampled: { ...exporting, OTEL_TRACES_SAMPLER: 'always_off', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // The default sampler (parent-based ratio) deciding "no" every time: default's 90 % path.
    ratio0: { ...exporting, OTEL_TRACES_SAMPLER_ARG: '0', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // The default's tracing alone: 10 % of traces recorded and exported, no metrics, no logs.
    sampled: { ...exporting, METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // Log correlation alone: the request context carried through awaits (AsyncLocalStorage), no lines.
    context: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'info' },
  };
  for (const name of Object.keys(variants)) variants[name] = { ...variants[name], ...production };
  const chosen = args.variants.split(',').map((v) => v.trim());
  for (const name of chosen) {
    if (!variants[name]) {
      process.stderr.write(`unknown variant ${name}; known: ${Object.keys(variants).join(', ')}\n`);
      process.exit(2);
    }
  }
  if (!chosen.includes('off')) chosen.unshift('off');
  const loadAtStart = loadavg();
  process.stderr.write(`load average at start (1/5/15 min): ${loadText()} on ${CORES} cores\n`);
  if (loadAtStart[0]! > CORES * 0.25) {
    process.stderr.write(`warning: the machine is busy before the bench starts (load ${loadAtStart[0]!.toFixed(2)}); ratios will be noisy\n`);
  }

  const instances = new Map<string, Instance>();
  const results: Record<string, Run[]> = {};
  /** Per variant: one { rps, cpu } ratio to the `off` runs around it, per round. */
  const ratios: Record<string, Array<{ rps: number; cpu: number }>> = {};
  const spansBy: Record<string, number> = {};
  const measure = async (instance: Instance): Promise<Run> => {
    if (warmup > 0) await load(instance.url, instance.pid, warmup);
    const before = sink.spans();
    const run = await load(instance.url, instance.pid, duration);
    (results[instance.name] ??= []).push(run);
    // Export is batched (1 s): let the last batch arrive before the next run so spans are attributed right.
    if (instance.name !== 'off') await sleep(1100);
    spansBy[instance.name] = (spansBy[instance.name] ?? 0) + (sink.spans() - before);
    return run;
  };
  try {
    for (const name of chosen) instances.set(name, await startMonolith(name, variants[name]!, workDir));
    process.stderr.write(`warming up ${instances.size} monoliths, one at a time (${connections} connections)…\n`);
    for (const instance of instances.values()) await load(instance.url, instance.pid, 2);
    await sleep(1500);
    const off = instances.get('off')!;
    const others = [...instances.values()].filter((instance) => instance !== off);
    for (let round = 1; round <= rounds; round++) {
      const order = others.map((_, i) => others[(i + round) % others.length]!);
      process.stderr.write(`round ${round}/${rounds}: off, ${order.map((o) => `${o.name}, off`).join(', ')} (${duration}s each)\n`);
      let before = await measure(off);
      for (const instance of order) {
        const run = await measure(instance);
        const after = await measure(off);
        const offRps = (before.rps + after.rps) / 2;
        const offCpu = (before.cpuUs + after.cpuUs) / 2;
        (ratios[instance.name] ??= []).push({ rps: run.rps / offRps, cpu: run.cpuUs / offCpu });
        before = after;
      }
    }
  } finally {
    stopping = true;
    await Promise.all([...instances.values()].map((instance) => instance.topology.stop()));
    sink.close();
  }

  const loadAtEnd = loadavg();
  const allRuns = Object.values(results).flat();
  const otherCores = median(allRuns.map((r) => r.otherCores));
  const maxOther = Math.max(...allRuns.map((r) => r.otherCores));
  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const lines = [
    '',
    `observability overhead on the monolith (bundled, NODE_ENV=production) — GET /products/{sku}; ${rounds} rounds of one server at a time (off, v1, off, v2, … off), ` +
      `${duration}s per run after ${warmup}s warm-up, ${connections} connections, Node ${process.versions.node}, ${CORES} cores`,
    `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min; the bench itself keeps about 2 busy); ` +
      `other processes used ${otherCores.toFixed(2)} cores during a run (median; max ${maxOther.toFixed(2)})`,
    '',
    '| variant | rps (median) | throughput ratio to off (median, range) | loss | server CPU µs/request | CPU per request ratio (median, range) | p50 / p99 ms | failed | spans exported per request | log bytes |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, instance] of instances) {
    const runs = results[name]!;
    const requests = runs.reduce((sum, r) => sum + r.requests, 0);
    const failed = runs.reduce((sum, r) => sum + r.failed, 0);
    const rs = ratios[name];
    const rpsRatio = rs ? median(rs.map((p) => p.rps)) : 1;
    const cpuRatio = rs ? median(rs.map((p) => p.cpu)) : 1;
    lines.push(
      '| ' +
        [
          name,
          median(runs.map((r) => r.rps)).toFixed(0),
          rs ? `${rpsRatio.toFixed(3)} (${range(rs.map((p) => p.rps))})` : '1',
          `${((1 - rpsRatio) * 100).toFixed(1)} %`,
          median(runs.map((r) => r.cpuUs)).toFixed(1),
          rs ? `${cpuRatio.toFixed(3)} (${range(rs.map((p) => p.cpu))})` : '1',
          `${median(runs.map((r) => r.p50))} / ${median(runs.map((r) => r.p99))}`,
          failed,
          ((spansBy[name] ?? 0) / requests).toFixed(3),
          statSync(instance.logFile).size,
        ].join(' | ') +
        ' |',
    );
  }
  lines.push('');
  const targets: Array<[string, string, number]> = [
    ['default', 'production default (metrics, logs with ids, W3C context, 10 % of traces exported)', 10],
    ['full', 'everything at 100 % sampling', 25],
  ];
  for (const [name, label, target] of targets) {
    const rs = ratios[name];
    if (!rs) continue;
    const loss = (1 - median(rs.map((p) => p.rps))) * 100;
    const cpuMore = (median(rs.map((p) => p.cpu)) - 1) * 100;
    lines.push(
      `${name}: ${label}: ${loss.toFixed(1)} % throughput loss (target ≤ ${target} %): ${loss <= target ? 'met' : 'MISSED'}; server CPU per request +${cpuMore.toFixed(1)} %`,
    );
  }
  if (otherCores > 0.25 || maxOther > 0.75) {
    lines.push(
      `warning: the machine was busy (other processes used ${otherCores.toFixed(2)} cores in a median run, up to ${maxOther.toFixed(2)}): the ratios above are noisy; rerun on a quiet machine before trusting a verdict`,
    );
  }
  lines.push('');
  process.stdout.write(lines.join('\n'));
  rmSync(workDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
