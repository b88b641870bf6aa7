// Shared by the observability benches: the variants of the monolith they compare (environment
// only: the same bundle runs every one), the span sink the exporting variants send to, the
// requests they send, waiting for a server, its CPU time, and the statistics they print.
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Request as AutocannonRequest } from 'autocannon';
import { setTimeout as sleep } from 'node:timers/promises';
import { mintToken } from '@archbench/contracts/tokens';
import { skuOf } from '@archbench/domain/catalog';
import { otlpProtobufSpanCount } from '../src/test-support';
import type { NextRequest } from './keep-alive-load';

let sku = 0;
/** The next GET the benches send: `/products/SKU-0001` … `/products/SKU-0900` in turn (the seeded catalog). */
export function nextProductPath(): string {
  return `/products/${skuOf((sku++ % 900) + 1)}`;
}

/**
 * The AUTH_SECRET of every monolith the benches start (a production server refuses the development
 * default), made once per bench process so the tokens of orderRequests pass.
 */
export const BENCH_AUTH_SECRET = randomBytes(24).toString('hex');

/**
 * POST /orders as the monolith bench sends it: one item of the next seeded SKU (stock 100,000
 * each), paid with `tok_ok`, waiting for the terminal status (`Prefer: wait=5`): the full order path.
 */
export function orderRequests(): NextRequest {
  const token = mintToken(BENCH_AUTH_SECRET, { sub: 'bench-customer', expiresInSeconds: 24 * 3600 });
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=5' };
  let n = 0;
  return () => ({
    method: 'POST',
    path: '/orders',
    headers,
    body: JSON.stringify({ items: [{ sku: skuOf(n++ % 900), quantity: 1 }], payment: { token: 'tok_ok' } }),
  });
}

/** A request the benches can load: its label and a maker of each process's requests. */
export interface BenchRequest {
  label: string;
  requests: () => NextRequest;
}

/** What the benches can load (`--request`). */
export const BENCH_REQUESTS = {
  product: { label: 'GET /products/{sku}', requests: () => nextProductPath },
  order: { label: 'POST /orders (tok_ok, 1 item, Prefer: wait=5)', requests: orderRequests },
} satisfies Record<string, BenchRequest>;

/** The `--request` flag's choice; an unknown name exits with code 2 and the known ones. */
export function chooseRequest(flag: string): BenchRequest {
  const chosen: BenchRequest | undefined = Object.hasOwn(BENCH_REQUESTS, flag) ? BENCH_REQUESTS[flag as keyof typeof BENCH_REQUESTS] : undefined;
  if (chosen === undefined) {
    process.stderr.write(`unknown --request ${JSON.stringify(flag)}; known: ${Object.keys(BENCH_REQUESTS).join(', ')}\n`);
    process.exit(2);
  }
  return chosen;
}

/** autocannon's `requests` for one of BENCH_REQUESTS: each request the next one it makes. */
export function autocannonRequests(kind: BenchRequest): AutocannonRequest[] {
  const next = kind.requests();
  return [
    {
      setupRequest: (req) => {
        const r = next();
        if (typeof r === 'string') return { ...req, method: 'GET', path: r };
        return { ...req, method: r.method as AutocannonRequest['method'], path: r.path, headers: { ...req.headers, ...r.headers }, body: r.body };
      },
    },
  ];
}

/** What one load run of one server got back, for requireServed. */
export interface ServedCount {
  /** The server as the bench names it (`default-2`). */
  server: string;
  ok: number;
  failed: number;
  /** The first failure, as the load generator saw it (`status 401`, an error). */
  firstFailure?: string;
  /** Where to look next: the server's log file or the end of its stderr. */
  hint?: string;
}

/**
 * Stops a bench at a run in which no request to a server succeeded: its CPU per request and its
 * ratios would then describe the error path (a 401 costs a tenth of an order), not the request
 * the bench says it measures. The error names the server, the first failure and where to look.
 */
export function requireServed({ server, ok, failed, firstFailure, hint }: ServedCount): void {
  if (ok > 0) return;
  throw new Error(`no request to ${server} succeeded (${failed} failed; the first: ${firstFailure ?? 'no answer'})${hint ? `; ${hint}` : ''}`);
}

/** The status codes of an autocannon result other than 2xx, as `401 × 812, 500 × 3`; undefined when there are none. */
export function failedStatuses(statusCodeStats: Record<string, { count?: number }> | undefined): string | undefined {
  const failing = Object.entries(statusCodeStats ?? {}).filter(([code]) => !code.startsWith('2'));
  return failing.length === 0 ? undefined : failing.map(([code, { count }]) => `${code} × ${count ?? 0}`).join(', ');
}

/**
 * The CPU a variant adds per request, as its ratio to `off` and in µs: `+4.6 % (+3.1 µs)`. The µs
 * are the ratio applied to `off`'s CPU per request, so the two always agree in sign; a difference
 * of two medians taken over rounds at different machine speeds can say −12 µs beside +4.6 %.
 */
export function cpuAddedText(ratio: number, offUs: number): string {
  const signed = (value: number, digits: number) => `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(digits)}`;
  return `${signed((ratio - 1) * 100, 1)} % (${signed((ratio - 1) * offUs, 1)} µs)`;
}

/** The mean of a non-empty list. */
export function mean(values: readonly number[]): number {
  return values.reduce((sum, v) => sum + v, 0) / values.length;
}

/** `min–max` of a non-empty list of ratios, two decimals. */
export function range(values: readonly number[]): string {
  return `${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)}`;
}

/** The median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  return sorted.length % 2 === 1 ? sorted[Math.floor(mid)]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** A reproducible stream of numbers in [0, 1) from a seed (mulberry32), for the bootstrap. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * The ratio of two means, `variant` over `baseline` (one value per process), with a bootstrap
 * interval: both lists are resampled with replacement `iterations` times and the middle `level`
 * of the resampled ratios kept. Processes are the unit here because identical processes differ
 * for life, by up to tens of per cent on this kind of machine; the interval says how far another
 * draw of processes could move the ratio. Seeded, so a given set of numbers always gives the same interval.
 */
export function ratioWithInterval(
  variant: readonly number[],
  baseline: readonly number[],
  level = 0.9,
  iterations = 4000,
  random = seededRandom(14),
): { ratio: number; low: number; high: number } {
  const resampledMean = (values: readonly number[]) => {
    let sum = 0;
    for (let i = 0; i < values.length; i++) sum += values[Math.floor(random() * values.length)]!;
    return sum / values.length;
  };
  const ratios = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) ratios[i] = resampledMean(variant) / resampledMean(baseline);
  ratios.sort();
  const tail = (1 - level) / 2;
  return {
    ratio: mean(variant) / mean(baseline),
    low: ratios[Math.floor(tail * (iterations - 1))]!,
    high: ratios[Math.ceil((1 - tail) * (iterations - 1))]!,
  };
}

/** Student's t quantiles for a two-sided 90 % interval, by degrees of freedom (1-10; 1.645 beyond). */
const T90 = [Number.NaN, 6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812];

/**
 * The mean of a few independent samples (whole runs of a bench) with its two-sided 90 % interval
 * from Student's t; a single sample has no interval (low and high are NaN).
 */
export function meanWithInterval(values: readonly number[]): { mean: number; low: number; high: number } {
  const m = mean(values);
  const n = values.length;
  if (n < 2) return { mean: m, low: Number.NaN, high: Number.NaN };
  const variance = values.reduce((sum, v) => sum + (v - m) ** 2, 0) / (n - 1);
  const half = (T90[n - 1] ?? 1.645) * Math.sqrt(variance / n);
  return { mean: m, low: m - half, high: m + half };
}

/**
 * CPU seconds a process has used so far: all its threads, and its main thread alone. Read from the
 * scheduler's nanosecond run times (`/proc/<pid>/task/<tid>/schedstat`); `/proc/<pid>/stat` counts
 * in ticks of 10 ms, about 1 % of what a server uses in one of the benches' runs. Falls back to
 * the ticks where the kernel keeps no schedstat. Linux only.
 */
export function processCpu(pid: number): { all: number; main: number } {
  let all = 0;
  let main = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let seconds: number;
    try {
      seconds = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0]) / 1e9;
    } catch {
      // No schedstat (or the thread just ended): utime + stime, in ticks of 10 ms.
      let stat: string;
      try {
        stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const { user, kernel } = userKernelOfStat(stat);
      seconds = user + kernel;
    }
    all += seconds;
    if (Number(tid) === pid) main = seconds;
  }
  return { all, main };
}

/**
 * User and kernel CPU seconds of a process (all its threads) from `/proc/<pid>/stat`, whose
 * `utime` and `stime` fields count ticks of 10 ms (USER_HZ = 100). Coarse, so the benches take only
 * the kernel's share from it and the total from `processCpu`'s nanosecond run times.
 */
export function processUserKernel(pid: number): { user: number; kernel: number } {
  return userKernelOfStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
}

/** `utime` and `stime` of a `/proc/<pid>/stat` line, in seconds; the command name may hold spaces and parentheses. */
export function userKernelOfStat(stat: string): { user: number; kernel: number } {
  // Fields after the command name: state is field 3, utime 14 and stime 15 (proc(5)).
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(fields[11]);
  const kernel = Number(fields[12]);
  if (!Number.isFinite(user) || !Number.isFinite(kernel)) throw new Error(`not a /proc/<pid>/stat line: ${stat.slice(0, 80)}`);
  return { user: user / 100, kernel: kernel / 100 };
}

/** A monolith a bench started: its stderr's end is kept for the error when it exits early. */
export interface BenchServer {
  name: string;
  url: string;
  child: ChildProcess;
  stderrTail: string;
}

/** Keeps the last 2,000 characters of the server's stderr in `stderrTail` (for untilReady's error). */
export function keepStderrTail(server: BenchServer): void {
  server.child.stderr?.on('data', (chunk: Buffer) => (server.stderrTail = (server.stderrTail + chunk.toString('utf8')).slice(-2000)));
}

/** Waits until the server's `/ready` answers 200; throws when its process exits first or after `timeoutMs`. */
export async function untilReady(server: BenchServer, timeoutMs: number, pollMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.child.exitCode !== null) {
      throw new Error(`the ${server.name} monolith exited (${server.child.exitCode}) before it was ready; its stderr ended:\n${server.stderrTail}`);
    }
    try {
      if ((await fetch(`${server.url}/ready`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(pollMs);
  }
  throw new Error(`the ${server.name} monolith was not ready after ${timeoutMs / 1000} s`);
}

/**
 * Stands in for a collector: answers 200 like one and counts spans per first path segment, so
 * each variant, exporting to `<sink>/<variant>`, has its own count.
 */
export function startSink(): Promise<{ url: string; spans: (variant: string) => number; close: () => void }> {
  const spans = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const variant = (req.url ?? '/').split('/')[1] ?? '';
      let count = 0;
      if (req.headers['content-type'] === 'application/x-protobuf') {
        // The default protocol: walking the message's length-delimited fields is enough.
        count = otlpProtobufSpanCount(raw);
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      } else {
        // Counting a key is enough and keeps the sink from competing for CPU with a JSON.parse.
        const body = raw.toString('utf8');
        for (let i = body.indexOf('"spanId"'); i !== -1; i = body.indexOf('"spanId"', i + 8)) count++;
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      }
      spans.set(variant, (spans.get(variant) ?? 0) + count);
    });
  });
  return new Promise((done) =>
    server.listen(0, '127.0.0.1', () =>
      done({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans: (v) => spans.get(v) ?? 0, close: () => server.close() }),
    ),
  );
}

/**
 * The environment of each variant, by name. Every variant runs as in production (NODE_ENV=production,
 * so a real AUTH_SECRET): that is where the 10 % sampler and protobuf export are the defaults. An
 * exporting variant sends to `<sink>/<variant>`, so the sink counts its spans apart.
 */
export function variantEnvironments(sinkUrl: string): Record<string, Record<string, string>> {
  const production = { NODE_ENV: 'production', AUTH_SECRET: BENCH_AUTH_SECRET };
  const exporting = { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl };
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
    // The default with no trace recorded (ratio 0): all of the default but the 10 % path and its export.
    nosampled: { ...exporting, OTEL_TRACES_SAMPLER_ARG: '0', METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    // The default with half of the traces recorded: beside `nosampled`, `default` and `full`, how the
    // cost grows with the recorded share (linear if a recorded request costs the same at any share).
    half: { ...exporting, OTEL_TRACES_SAMPLER_ARG: '0.5', METRICS_ENABLED: 'true', LOG_LEVEL: 'info' },
    // The default's tracing alone: 10 % of traces recorded and exported, no metrics, no logs.
    sampled: { ...exporting, METRICS_ENABLED: 'false', LOG_LEVEL: 'silent' },
    // Log correlation alone: the request context carried through awaits (AsyncLocalStorage), no lines.
    context: { OTEL_SDK_DISABLED: 'true', METRICS_ENABLED: 'false', LOG_LEVEL: 'info' },
  };
  for (const [name, env] of Object.entries(variants)) {
    variants[name] = { ...env, ...production, ...(env.OTEL_EXPORTER_OTLP_ENDPOINT ? { OTEL_EXPORTER_OTLP_ENDPOINT: `${sinkUrl}/${name}` } : {}) };
  }
  return variants;
}

/** The variants a comma-separated flag names, `off` (the baseline) first; exits 2 on an unknown name. */
export function chooseVariants(flag: string, variants: Record<string, unknown>): string[] {
  const chosen = flag
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '');
  for (const name of chosen) {
    if (!Object.hasOwn(variants, name)) {
      process.stderr.write(`unknown variant ${name}; known: ${Object.keys(variants).join(', ')}\n`);
      process.exit(2);
    }
  }
  return ['off', ...chosen.filter((name) => name !== 'off')];
}
