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
 *   nosampled the default with the ratio at 0: all of the default but the recorded 10 % and its export
 *   half      the default with the ratio at 0.5: with nosampled, default and full, how the cost grows with the recorded share
 *   sampled   the default's tracing alone (10 % recorded and exported), no metrics, no logs
 *   context   info logs but no line per request: the cost of carrying the request context
 *   access    info logs with one access line per request (ACCESS_LOG=info)
 * (every variant with NODE_ENV=production, which selects those sampling and protocol defaults).
 *
 * Each variant runs in --processes separate monoliths (4 by default), all started up front and
 * loaded ONE at a time on GET /products/{sku} by a keep-alive load generator in this process
 * (bench/keep-alive-load.ts; about half autocannon's CPU per request, and the same ratios as
 * autocannon in an A/B on the same servers), the others idle. A round runs every process once, a short
 * run after a short unmeasured warm-up, in an order that rotates and reverses from round to round.
 *
 * Processes, not rounds, are the unit of the comparison: identical monoliths started a second
 * apart differ for life on this kind of machine, often by a few per cent and at times by 15-35 %,
 * which is more than the effect measured. So each process gets a score, the median over rounds of
 * its run against the mean of the `off` processes in the same round (drift of the shared machine
 * between rounds cancels), and a variant's ratio is the mean score of its processes over the mean
 * score of the `off` processes, with a 90 % bootstrap interval over processes. The table shows
 * each variant's processes against `off` (for `off` itself: how far identical processes differed,
 * an A/A check). The interval does not cover the machine's state, which moves a whole run (runs
 * minutes apart here differed by more than their intervals): a verdict needs runs at different
 * times, which --runs N gives (N whole runs with fresh processes, one after the other, then the
 * mean loss with a Student t interval over runs). The verdict uses throughput and says when the interval spans the target; CPU per
 * request is printed beside it. Each variant exports to its own path of the span sink, so spans
 * are counted per variant with no pause between runs. The bench prints the load average at start
 * and end and how much CPU other processes took during the runs, and warns when the machine was busy.
 * Targets: `default` loses at most 10 % throughput, `full` at most 25 %.
 *
 * V8 keeps optimizing the request path for the first 100-200k requests (about 10 s of load; with
 * --trace-opt the count of compiled functions levels off there), and variants with more code warm
 * up later, so each process first gets --initial-warmup seconds of unmeasured load.
 *
 * --request order loads POST /orders instead (tok_ok, one item, Prefer: wait=5, as the monolith bench
 * sends it): the same features on the full order path; its losses are printed without a verdict.
 *
 * Flags: --duration 2 (s per run) --rounds 4 --processes 4 --connections 32 --warmup 0.5 (s before each run)
 *        --initial-warmup 8 (s per process, once)
 *        --no-pause (leave the servers not under load running; by default they are paused, see setPaused)
 *        --runs 1 (whole runs with fresh processes; with more than one, a verdict over runs follows)
 *        --variants off,default,full  (any of the names above; `off` is always added)
 *        --request product (GET /products/{sku}) | order (POST /orders)
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { killAllTopologiesNow, startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';
import { KeepAliveLoad } from './keep-alive-load';
import {
  chooseRequest,
  chooseVariants,
  cpuAddedText,
  mean,
  meanWithInterval,
  median,
  processCpu,
  processUserKernel,
  range,
  ratioWithInterval,
  requireServed,
  startSink,
  variantEnvironments,
} from './variants';

const args = benchArgs({
  duration: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '4' },
  processes: { type: 'string', default: '4' },
  connections: { type: 'string', default: '32' },
  warmup: { type: 'string', default: '0.5' },
  'initial-warmup': { type: 'string', default: '8' },
  'no-pause': { type: 'boolean' },
  runs: { type: 'string', default: '1' },
  variants: { type: 'string', default: 'off,default,full' },
  request: { type: 'string', default: 'product' },
});
const duration = benchNumber('duration', args.duration, 'positive');
const rounds = benchNumber('rounds', args.rounds, 'count');
const processes = benchNumber('processes', args.processes, 'count');
const connections = benchNumber('connections', args.connections, 'count');
const warmup = benchNumber('warmup', args.warmup, 'non-negative');
const initialWarmup = benchNumber('initial-warmup', args['initial-warmup'], 'non-negative');
const runs = benchNumber('runs', args.runs, 'count');
const request = chooseRequest(args.request);
/** The targets are the issue's, for the cheapest request; another request's losses are printed without a verdict. */
const judged = args.request === 'product';
const NO_VERDICT = 'no verdict: the targets are for GET /products/{sku})';
const CORES = cpus().length;
/** The variants with a target: name, what it is, the most throughput it may lose (%). */
const TARGETS: Array<[string, string, number]> = [
  ['default', 'production default (metrics, logs with ids, W3C context, 10 % of traces exported)', 10],
  ['full', 'everything at 100 % sampling', 25],
];
/** Pause (SIGSTOP) every server but the one loaded, unless --no-pause. */
const pauseIdle = args['no-pause'] !== true;

/** Set when the bench stops its monoliths, so their exits are not reported as failures. */
let stopping = false;

interface Instance {
  /** The variant's name. */
  name: string;
  /** Which of the variant's processes, from 1. */
  index: number;
  url: string;
  pid: number;
  topology: RunningTopology;
  logFile: string;
  load: KeepAliveLoad;
  /** Its measured runs, one per round. */
  runs: Run[];
  /** Per round: its run against the mean of that round's `off` runs. */
  relative: Array<{ rps: number; cpu: number }>;
}

async function startMonolith(name: string, index: number, env: Record<string, string>, workDir: string): Promise<Instance> {
  const id = `${name}-${index}`;
  const logFile = join(workDir, `${id}.log`);
  // Bundled, on plain Node with the default server flags: the production way (`pnpm start`).
  const topology = await startTopology('monolith', {
    port: 0,
    env: { ...process.env, HOST: '127.0.0.1', ...env },
    dataDir: join(workDir, id),
    runner: 'bundle',
    output: { file: logFile },
    restart: false,
    readyTimeoutMs: 60_000,
    // Something else on this shared machine may stop it (a SIGTERM shows as "shutting down" in its log).
    onEvent: (event) =>
      event.type === 'exited' && !stopping && process.stderr.write(`monolith "${id}" exited (${event.signal ?? event.code}) during the run; see ${logFile}\n`),
  });
  const url = topology.baseUrl;
  return {
    name,
    index,
    url,
    pid: topology.pids()[0]!,
    topology,
    logFile,
    load: new KeepAliveLoad(url, connections, request.requests()),
    runs: [],
    relative: [],
  };
}

/**
 * Stops (SIGSTOP) or continues (SIGCONT) a server's process. An idle monolith is not idle: its
 * timers (prom-client's event-loop monitor wakes it every 10 ms), the span exporter and V8's
 * threads took about 0.01 core each, 0.25 core with 23 of them beside the one under load. Paused,
 * they take none; the warm-up before each run absorbs the timers that fire late when it continues.
 * A paused server cannot notice that the bench is gone, so Ctrl-C kills every server, and a
 * guardian process continues them should the bench be killed outright (see startGuardian).
 */
function setPaused(instance: Instance, paused: boolean): void {
  if (!pauseIdle) return;
  // Its connections are closed first: a paused server's keep-alive timers would otherwise close
  // them the moment it continues, under the first requests of the next run.
  if (paused) instance.load.close();
  try {
    process.kill(instance.pid, paused ? 'SIGSTOP' : 'SIGCONT');
  } catch {
    // Already gone: its run fails and says so.
  }
}

/**
 * A small detached process that, once this bench has gone without cleaning up (SIGKILL),
 * continues (SIGCONT) the servers, which then see their IPC channel closed and exit instead of
 * staying stopped, and removes the bench's data directory.
 */
function startGuardian(pids: readonly number[], workDir: string): ChildProcess {
  const code = `const [bench, ...servers] = process.argv.slice(2).map(Number);
const timer = setInterval(() => {
  try { process.kill(bench, 0); } catch {
    clearInterval(timer);
    for (const pid of servers) { try { process.kill(pid, 'SIGCONT'); } catch {} }
    setTimeout(() => { require('node:fs').rmSync(process.argv[1], { recursive: true, force: true }); process.exit(0); }, 2000);
  }
}, 500);`;
  const guardian = spawn(process.execPath, ['-e', code, workDir, String(process.pid), ...pids.map(String)], { detached: true, stdio: 'ignore' });
  guardian.unref();
  return guardian;
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
  /** The kernel's share of that CPU (system calls, and on loopback the client's receive path and wakeup). */
  kernelShare: number;
  /** Cores used by processes other than this server and this bench during the run. */
  otherCores: number;
  requests: number;
  failed: number;
}

async function load(instance: Instance, seconds: number): Promise<Run> {
  const cpuBefore = processCpu(instance.pid).all;
  const ticksBefore = processUserKernel(instance.pid);
  const selfBefore = processCpu(process.pid).all;
  const busyBefore = machineBusySeconds();
  const t0 = performance.now();
  const slice = await instance.load.run(seconds);
  requireServed({
    server: `${instance.name}-${instance.index}`,
    ok: slice.ok,
    failed: slice.failed,
    firstFailure: instance.load.firstError,
    hint: `its log: ${instance.logFile}`,
  });
  const wall = (performance.now() - t0) / 1000;
  const server = processCpu(instance.pid).all - cpuBefore;
  const ticks = processUserKernel(instance.pid);
  const kernel = ticks.kernel - ticksBefore.kernel;
  const user = ticks.user - ticksBefore.user;
  const other = machineBusySeconds() - busyBefore - server - (processCpu(process.pid).all - selfBefore);
  const requests = slice.ok + slice.failed;
  return {
    rps: slice.ok / slice.seconds,
    cpuUs: (server * 1e6) / Math.max(1, requests),
    kernelShare: user + kernel > 0 ? kernel / (user + kernel) : 0,
    otherCores: Math.max(0, other / wall),
    requests,
    failed: slice.failed,
  };
}

/**
 * A throughput ratio to `off` (with its interval) as a loss against a target. Judged on the loss
 * as printed (one decimal), so a printed 25.0 % never reads as a miss of 25 %; the loss's interval
 * runs the other way round from the ratio's.
 */
function lossVerdict(throughput: { ratio: number; low: number; high: number }, target: number) {
  const loss = Math.round((1 - throughput.ratio) * 1000) / 10;
  const [low, high] = [(1 - throughput.high) * 100, (1 - throughput.low) * 100];
  return { loss, interval: `${low.toFixed(1)}–${high.toFixed(1)} %`, met: loss <= target, straddles: low <= target && high > target };
}

type Sink = Awaited<ReturnType<typeof startSink>>;

const loadText = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');

/** What one run of the bench measured: its processes (with their runs), requests sent and spans exported per variant. */
interface Measured {
  instances: Instance[];
  sent: Record<string, number>;
  spans: Record<string, number>;
}

/** The detached guardian of the servers of the run under way (see startGuardian). */
let guardian: ChildProcess | undefined;

/** One run: starts --processes monoliths per variant in `dir`, warms them up, loads them round by round, stops them. */
async function measure(sink: Sink, variants: Record<string, Record<string, string>>, chosen: string[], dir: string): Promise<Measured> {
  mkdirSync(dir, { recursive: true });
  stopping = false;
  const instances: Instance[] = [];
  /** Per variant: requests sent to its processes, warm-ups included (their spans are exported too). */
  const sent: Record<string, number> = {};
  const spansBefore = Object.fromEntries(chosen.map((name) => [name, sink.spans(name)]));
  try {
    // Interleaved (off-1, default-1, full-1, off-2, …) so each variant's processes sit apart in the order.
    for (let index = 1; index <= processes; index++) {
      for (const name of chosen) instances.push(await startMonolith(name, index, variants[name]!, dir));
    }
    if (pauseIdle)
      guardian = startGuardian(
        instances.map((instance) => instance.pid),
        // The bench's data directory, this run's parent.
        dirname(dir),
      );
    process.stderr.write(
      `warming up ${instances.length} monoliths (${chosen.length} variants × ${processes}) for ${initialWarmup}s each, one at a time (${connections} connections)…\n`,
    );
    for (const instance of instances) setPaused(instance, true);
    for (const instance of instances) {
      sent[instance.name] ??= 0;
      setPaused(instance, false);
      if (initialWarmup > 0) sent[instance.name]! += (await load(instance, initialWarmup)).requests;
      setPaused(instance, true);
      instance.load.resetLatency();
    }
    for (let round = 1; round <= rounds; round++) {
      const rotated = instances.map((_, i) => instances[(i + round) % instances.length]!);
      const order = round % 2 === 0 ? rotated.reverse() : rotated;
      process.stderr.write(`round ${round}/${rounds}: ${order.map((o) => `${o.name}-${o.index}`).join(', ')} (${duration}s each)\n`);
      const inRound = new Map<Instance, Run>();
      for (const instance of order) {
        setPaused(instance, false);
        if (warmup > 0) sent[instance.name]! += (await load(instance, warmup)).requests;
        const run = await load(instance, duration);
        setPaused(instance, true);
        sent[instance.name]! += run.requests;
        instance.runs.push(run);
        inRound.set(instance, run);
      }
      // Each process's run against the `off` processes' mean of the same round: drift of the
      // machine between rounds cancels.
      const offRuns = [...inRound].filter(([instance]) => instance.name === 'off').map(([, run]) => run);
      const offRps = mean(offRuns.map((r) => r.rps));
      const offCpu = mean(offRuns.map((r) => r.cpuUs));
      for (const [instance, run] of inRound) instance.relative.push({ rps: run.rps / offRps, cpu: run.cpuUs / offCpu });
    }
    // Export is batched (1 s): let the last batches arrive before counting.
    for (const instance of instances) setPaused(instance, false);
    await sleep(1500);
  } finally {
    stopping = true;
    for (const instance of instances) setPaused(instance, false);
    for (const instance of instances) instance.load.close();
    await Promise.all(instances.map((instance) => instance.topology.stop()));
    guardian?.kill();
    guardian = undefined;
  }
  return { instances, sent, spans: Object.fromEntries(chosen.map((name) => [name, sink.spans(name) - spansBefore[name]!])) };
}

/** The table and verdict lines of one run, and each variant's throughput comparison with `off`. */
function report(
  measured: Measured,
  chosen: string[],
  loadAtStart: number[],
): { lines: string[]; throughput: Record<string, { ratio: number; low: number; high: number }> } {
  const { instances, sent, spans } = measured;
  const loadAtEnd = loadavg();
  const allRuns = instances.flatMap((instance) => instance.runs);
  const otherCores = median(allRuns.map((r) => r.otherCores));
  const maxOther = Math.max(...allRuns.map((r) => r.otherCores));
  const own = (name: string) => instances.filter((instance) => instance.name === name);
  /** A process's speed relative to `off`: the median over rounds of its runs against that round's `off` mean. */
  const score = (instance: Instance, key: 'rps' | 'cpu') => median(instance.relative.map((r) => r[key]));
  const offScore = (key: 'rps' | 'cpu') => mean(own('off').map((instance) => score(instance, key)));
  /** The variant against `off` (ratio of means over processes) with its 90 % bootstrap interval over processes. */
  const compare = (name: string, key: 'rps' | 'cpu') =>
    ratioWithInterval(
      own(name).map((instance) => score(instance, key)),
      own('off').map((instance) => score(instance, key)),
    );
  const cell = (c: { ratio: number; low: number; high: number }) => `${c.ratio.toFixed(3)} (${c.low.toFixed(2)}–${c.high.toFixed(2)})`;
  /** Median CPU per request, split by the median kernel share of the runs (`/proc` ticks). */
  const cpuCell = (runs: Run[]) => {
    const total = median(runs.map((r) => r.cpuUs));
    const kernel = total * median(runs.map((r) => r.kernelShare));
    return `${total.toFixed(1)} (${(total - kernel).toFixed(1)} + ${kernel.toFixed(1)})`;
  };
  /** p50 / p99 in ms over the variant's processes (the median process). */
  const latencies = (name: string) =>
    `${median(own(name).map((i) => i.load.latencyPercentile(0.5))).toFixed(2)} / ${median(own(name).map((i) => i.load.latencyPercentile(0.99))).toFixed(2)}`;
  const lines = [
    '',
    `observability overhead on the monolith (bundled, NODE_ENV=production) — ${request.label}; ${processes} processes per variant, ${rounds} rounds of one server at a time, ` +
      `${duration}s per run after ${warmup}s warm-up, ${connections} keep-alive connections, Node ${process.versions.node}, ${CORES} cores`,
    `load average at start ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}, at end ${loadAtEnd.map((l) => l.toFixed(2)).join(' / ')} (1/5/15 min; the bench itself keeps about 2 busy); ` +
      `other processes used ${otherCores.toFixed(2)} cores during a run (median; max ${maxOther.toFixed(2)})`,
    '',
    '| variant | rps (median run) | throughput ratio to off (90 % interval) | its processes against off | loss | server CPU µs/request (user + kernel) | CPU per request ratio (90 % interval) | p50 / p99 ms | failed | spans exported per request | log bytes |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const name of chosen) {
    const runs = own(name).flatMap((instance) => instance.runs);
    const throughput = compare(name, 'rps');
    const cpu = compare(name, 'cpu');
    const base = offScore('rps');
    lines.push(
      '| ' +
        [
          name,
          median(runs.map((r) => r.rps)).toFixed(0),
          name === 'off' ? '1' : cell(throughput),
          range(own(name).map((instance) => score(instance, 'rps') / base)),
          name === 'off' ? '—' : `${((1 - throughput.ratio) * 100).toFixed(1)} %`,
          cpuCell(runs),
          name === 'off' ? '1' : cell(cpu),
          latencies(name),
          runs.reduce((sum, r) => sum + r.failed, 0),
          (spans[name]! / sent[name]!).toFixed(3),
          own(name).reduce((sum, instance) => sum + statSync(instance.logFile).size, 0),
        ].join(' | ') +
        ' |',
    );
  }
  lines.push('');
  /** The CPU a variant adds per request: its ratio to `off`, and that ratio in µs of `off`'s median run. */
  const cpuAdded = (name: string) =>
    `server CPU per request ${cpuAddedText(compare(name, 'cpu').ratio, median(own('off').flatMap((i) => i.runs.map((r) => r.cpuUs))))}`;
  for (const [name, label, target] of TARGETS) {
    if (!chosen.includes(name)) continue;
    const v = lossVerdict(compare(name, 'rps'), target);
    const judgement = judged
      ? `target ≤ ${target} %): ${v.met ? 'met' : 'MISSED'}${v.straddles ? ' — the interval spans the target, so another draw of processes may say otherwise' : ''}`
      : NO_VERDICT;
    lines.push(`${name}: ${label}: ${v.loss.toFixed(1)} % throughput loss (90 % interval over processes ${v.interval}; ${judgement}; ${cpuAdded(name)}`);
  }
  const failed = instances.filter((instance) => instance.runs.some((r) => r.failed > 0));
  if (failed.length > 0) {
    lines.push(
      `warning: some requests failed (${failed.map((i) => `${i.name}-${i.index}: ${i.load.firstError ?? '?'}`).join('; ')}): a failing request is cheaper or dearer than a served one, so the ratios above mix the two`,
    );
  }
  if (otherCores > 0.25 || maxOther > 0.75) {
    lines.push(
      `warning: the machine was busy (other processes used ${otherCores.toFixed(2)} cores in a median run, up to ${maxOther.toFixed(2)}): the ratios above are noisy; rerun on a quiet machine before trusting a verdict`,
    );
  }
  return { lines, throughput: Object.fromEntries(chosen.filter((name) => name !== 'off').map((name) => [name, compare(name, 'rps')])) };
}

async function main() {
  const workDir = mkdtempSync(join(tmpdir(), 'archbench-obs-bench-'));
  // Ctrl-C: no server (paused or not), guardian or data directory left behind.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAllTopologiesNow();
      guardian?.kill();
      rmSync(workDir, { recursive: true, force: true });
      process.exit(130);
    });
  }
  const sink = await startSink();
  const variants = variantEnvironments(sink.url);
  const chosen = chooseVariants(args.variants, variants);
  /** Per variant: its throughput ratio to `off` in each run. */
  const byRun: Record<string, number[]> = {};
  try {
    for (let run = 1; run <= runs; run++) {
      const loadAtStart = loadavg();
      process.stderr.write(`${runs > 1 ? `run ${run}/${runs}: ` : ''}load average at start (1/5/15 min): ${loadText()} on ${CORES} cores\n`);
      if (loadAtStart[0]! > CORES * 0.25) {
        process.stderr.write(`warning: the machine is busy before the bench starts (load ${loadAtStart[0]!.toFixed(2)}); ratios will be noisy\n`);
      }
      const measured = await measure(sink, variants, chosen, join(workDir, `run-${run}`));
      const { lines, throughput } = report(measured, chosen, loadAtStart);
      if (runs > 1) lines.splice(1, 0, `run ${run} of ${runs}`);
      process.stdout.write(`${lines.join('\n')}\n`);
      for (const [name, t] of Object.entries(throughput)) (byRun[name] ??= []).push(t.ratio);
    }
  } finally {
    sink.close();
    rmSync(workDir, { recursive: true, force: true });
  }
  if (runs > 1) {
    const lines = [
      '',
      `over ${runs} runs with fresh processes (each run's ratio one sample; the interval is Student's t over runs, so it covers the machine's state from run to run):`,
    ];
    for (const [name, label, target] of TARGETS) {
      const ratios = byRun[name];
      if (!ratios) continue;
      const m = meanWithInterval(ratios);
      const v = lossVerdict({ ratio: m.mean, low: m.low, high: m.high }, target);
      const judgement = judged ? `target ≤ ${target} %): ${v.met ? 'met' : 'MISSED'}${v.straddles ? ' — the interval spans the target' : ''}` : NO_VERDICT;
      lines.push(
        `${name}: ${label}: ${v.loss.toFixed(1)} % throughput loss (runs: ${ratios.map((r) => `${((1 - r) * 100).toFixed(1)} %`).join(', ')}; 90 % interval ${v.interval}; ${judgement}`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
