/**
 * `pnpm --filter @archbench/observability bench`: what observability costs the monolith.
 *
 * Starts the monolith several times in one run, all at once on SQLite, differing only in env:
 *   off       OTEL_SDK_DISABLED=true, METRICS_ENABLED=false, LOG_LEVEL=silent
 *   default   the documented production default: metrics, info logs (trace and request ids on every
 *             line) to a file, W3C context, spans sampled parent-based at 10 % and exported over
 *             OTLP/HTTP (protobuf) to a local receiver (OTEL_EXPORTER_OTLP_ENDPOINT alone)
 * (every variant with NODE_ENV=production, which selects those sampling and protocol defaults)
 *   full      everything at 100 % sampling: as default with OTEL_TRACES_SAMPLER=always_on
 *   tracing   tracing + export only          metrics   metrics only
 *   access    info logs with one access line per request (ACCESS_LOG=info), to a file
 *   context   info logs but no line per request: the cost of carrying the request context
 *   unsampled tracing on with OTEL_TRACES_SAMPLER=always_off: context and span plumbing, no spans
 * and load-tests GET /products/{sku} with autocannon. Every round loads each variant once, in a
 * rotating order, side by side with `off` (both at once, each with its own connections, after a
 * short unmeasured warm-up so no process is measured cold): whatever else the shared machine does
 * hits both sides of a ratio alike. Prints, per variant, the median over rounds of its throughput
 * ratio and server-CPU-per-request ratio to `off`.
 * Targets: `default` loses at most 10 % throughput, `full` at most 25 %.
 *
 * Flags: --duration 3 (s per run) --rounds 5 --connections 16 --variants off,default,full,tracing,unsampled,metrics,access,context
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startTopology } from '@archbench/topologies';
import { otlpProtobufSpans } from '../src/test-support';
import type { RunningTopology } from '@archbench/topologies';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    variants: { type: 'string', default: 'off,default,full,unsampled,metrics,context' },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);

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
        spans += otlpProtobufSpans(raw).length;
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
  // Through tsx, as before, with stdout and stderr in the log file; no restarts: a crash must show.
  const topology = await startTopology('monolith', {
    port: 0,
    env: { ...process.env, HOST: '127.0.0.1', NODE_ENV: 'development', ...env },
    dataDir: join(workDir, name),
    runner: 'tsx',
    nodeFlags: [],
    output: { file: logFile },
    restart: false,
    readyTimeoutMs: 30_000,
    // Something else on this shared machine may stop it (a SIGTERM shows as "shutting down" in its log).
    onEvent: (event) =>
      event.type === 'exited' &&
      !stopping &&
      process.stderr.write(`monolith "${name}" exited (${event.signal ?? event.code}) during the run; see ${logFile}\n`),
  });
  return { name, url: topology.baseUrl, pid: topology.pids()[0]!, topology, logFile };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

interface Run {
  rps: number;
  /** Server CPU microseconds per request: steadier than rps on a machine shared with others. */
  cpuUs: number;
  requests: number;
  p50: number;
  p99: number;
  failed: number;
}

async function load(url: string, pid: number, seconds: number): Promise<Run> {
  let n = 0;
  const cpuBefore = cpuSeconds(pid);
  const result = await autocannon({
    url,
    connections,
    duration: seconds,
    requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: `/products/SKU-${String((n++ % 900) + 1).padStart(4, '0')}` }) }],
  });
  const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.requests.total);
  return {
    rps: result.requests.average,
    cpuUs,
    requests: result.requests.total,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failed: result.non2xx + result.errors,
  };
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'archbench-obs-bench-'));
  const sink = await startSink();
  // Every variant runs as in production (NODE_ENV=production, so a real AUTH_SECRET); that is
  // where the 10 % sampler and protobuf export are the defaults.
  const production = { NODE_ENV: 'production', AUTH_SECRET: randomBytes(24).toString('hex') };
  const variants: Record<string, Record<string, string>> = {
    off: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // Only the endpoint: the sampler is the production default (parent-based, 10 %).
    default: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    full: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on', METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    tracing: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_on', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    metrics: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'true', LOG_LEVEL: 'silent' },
    access: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'info', ACCESS_LOG: 'info' },
    // Tracing on but every trace dropped by the sampler: the cost of context and span plumbing alone.
    unsampled: { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'always_off', METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // Log correlation alone: the request context carried through awaits (AsyncLocalStorage), no lines.
    context: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'info' },
  };
  for (const name of Object.keys(variants)) variants[name] = { ...variants[name], ...production };
  const chosen = args.variants.split(',').map((v) => v.trim());
  for (const name of chosen) if (!variants[name]) throw new Error(`unknown variant ${name}; known: ${Object.keys(variants).join(', ')}`);
  if (!chosen.includes('off')) chosen.unshift('off');

  const instances = new Map<string, Instance>();
  const results: Record<string, Run[]> = {};
  /** Per variant: one { rps, cpu } ratio to the `off` run beside it, per round. */
  const pairs: Record<string, Array<{ rps: number; cpu: number }>> = {};
  const spansBy: Record<string, number> = {};
  /**
   * Loads `off` and one variant at the same time, each with its own connections: whatever else
   * this shared machine does in that window slows both alike, so their ratio is about the
   * variant, not about the moment it ran in (sequential runs here moved a ratio by ±0.5).
   */
  const measurePair = async (off: Instance, variant: Instance): Promise<[Run, Run]> => {
    await Promise.all([load(off.url, off.pid, 1), load(variant.url, variant.pid, 1)]);
    const before = sink.spans();
    const [offRun, run] = await Promise.all([load(off.url, off.pid, duration), load(variant.url, variant.pid, duration)]);
    (results[off.name] ??= []).push(offRun);
    (results[variant.name] ??= []).push(run);
    // Export is batched: let the last batch arrive before the next run so spans are attributed right.
    await sleep(1100);
    spansBy[variant.name] = (spansBy[variant.name] ?? 0) + (sink.spans() - before);
    return [offRun, run];
  };
  try {
    for (const name of chosen) instances.set(name, await startMonolith(name, variants[name]!, workDir));
    process.stderr.write(`warming up ${instances.size} monoliths (${connections} connections)…\n`);
    for (const instance of instances.values()) await load(instance.url, instance.pid, 2);
    await sleep(1500);
    const off = instances.get('off')!;
    const others = [...instances.values()].filter((instance) => instance !== off);
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < others.length; i++) {
        const instance = others[(i + round) % others.length]!;
        process.stderr.write(`round ${round}/${rounds}: off + ${instance.name} side by side (${duration}s)\n`);
        const [offRun, run] = await measurePair(off, instance);
        (pairs[instance.name] ??= []).push({ rps: run.rps / offRun.rps, cpu: run.cpuUs / offRun.cpuUs });
      }
    }
  } finally {
    stopping = true;
    await Promise.all([...instances.values()].map((instance) => instance.topology.stop()));
    sink.close();
  }

  const range = (values: number[]) => `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
  const lines = [
    '',
    `observability overhead on the monolith — GET /products/{sku}; ${rounds} interleaved rounds, ${duration}s per run after 1s warm-up, ${connections} connections`,
    '',
    '| variant | rps (median) | throughput ratio to off (median, range) | loss | server CPU µs/request | CPU per request ratio (median, range) | p50 / p99 ms | failed | spans exported per request | log bytes |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [name, instance] of instances) {
    const runs = results[name]!;
    const requests = runs.reduce((sum, r) => sum + r.requests, 0);
    const failed = runs.reduce((sum, r) => sum + r.failed, 0);
    const ratios = pairs[name];
    const rpsRatio = ratios ? median(ratios.map((p) => p.rps)) : 1;
    const cpuRatio = ratios ? median(ratios.map((p) => p.cpu)) : 1;
    lines.push(
      [
        name,
        median(runs.map((r) => r.rps)).toFixed(0),
        ratios ? `${rpsRatio.toFixed(3)} (${range(ratios.map((p) => p.rps))})` : '1',
        `${((1 - rpsRatio) * 100).toFixed(1)} %`,
        median(runs.map((r) => r.cpuUs)).toFixed(0),
        ratios ? `${cpuRatio.toFixed(3)} (${range(ratios.map((p) => p.cpu))})` : '1',
        `${median(runs.map((r) => r.p50))} / ${median(runs.map((r) => r.p99))}`,
        failed,
        ((spansBy[name] ?? 0) / requests).toFixed(2),
        statSync(instance.logFile).size,
      ]
        .join(' | ')
        .replace(/^/, '| ') + ' |',
    );
  }
  lines.push('');
  const targets: Array<[string, string, number]> = [
    ['default', 'production default (metrics, logs with ids, W3C context, 10 % of traces exported)', 10],
    ['full', 'everything at 100 % sampling', 25],
  ];
  for (const [name, label, target] of targets) {
    const ratios = pairs[name];
    if (!ratios) continue;
    const loss = (1 - median(ratios.map((p) => p.rps))) * 100;
    const cpuLoss = (1 - 1 / median(ratios.map((p) => p.cpu))) * 100;
    lines.push(
      `${name}: ${label}: ${loss.toFixed(1)} % throughput loss (target ≤ ${target} %): ${loss <= target ? 'met' : 'MISSED'}; by server CPU per request: ${cpuLoss.toFixed(1)} %`,
    );
  }
  if (pairs.default || pairs.full) lines.push('anchors: Express + OpenTelemetry −47 %, mercurius −31 %, ASP.NET Core −15 %');
  lines.push('');
  process.stdout.write(lines.join('\n'));
  rmSync(workDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
