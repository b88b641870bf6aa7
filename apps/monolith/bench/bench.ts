/**
 * `pnpm bench` (monolith): throughput and latency of GET /products/{sku} and POST /orders against
 * the monolith on SQLite, each as a ratio to a bare node:http server measured in the same run,
 * plus the monolith's peak RSS under that load. Each round loads bare and monolith back to back
 * per request kind, in an order that flips every round, and the ratio is the median of the
 * per-round ratios, so drift of this shared machine hits both sides of a ratio alike. Server CPU
 * per request (from /proc) is printed too: steadier than throughput when the machine is busy.
 * Targets (issue 14): GET ≥ 0.6×, POST ≥ 0.15×, RSS ≤ 150 MB.
 *
 * Before round 1 the monolith gets --warmup seconds of unmeasured load per request kind: V8 keeps
 * optimizing the request path for the first 100-200k requests (with --trace-opt the count of
 * compiled functions levels off after about 10 s of GETs), and a ratio taken before that compares
 * the bare server with a monolith still compiling.
 *
 * Flags: --duration 5 (s per run) --rounds 3 --connections 32 --warmup 10 (s per request kind, once)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { DEV_AUTH_SECRET, mintToken } from '@archbench/contracts/tokens';
import { defineTopology, startTopology } from '@archbench/topologies';
import type { TopologyDefinition } from '@archbench/topologies';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';

const args = benchArgs({
  duration: { type: 'string', default: '5' },
  rounds: { type: 'string', default: '3' },
  connections: { type: 'string', default: '32' },
  warmup: { type: 'string', default: '10' },
});
const duration = benchNumber('duration', args.duration, 'positive');
const rounds = benchNumber('rounds', args.rounds, 'count');
const connections = benchNumber('connections', args.connections, 'count');
const warmup = benchNumber('warmup', args.warmup, 'non-negative');

interface Server {
  url: string;
  pid: number;
  stop: () => Promise<void>;
}

/** The baseline as a one-process topology, so it runs exactly like the monolith (bundled, same Node flags). */
const BARE: TopologyDefinition = defineTopology({
  name: 'bare',
  title: 'bare node:http',
  description: 'a fixed JSON answer to every request: the ceiling of any Node HTTP server here',
  app: 'apps/monolith',
  defaultPort: 0,
  publicProcess: 'bare',
  processes: [{ name: 'bare', entry: 'bench/bare-server.ts', portOffset: 0, capabilities: [], readyPath: '/health', metricsPath: null }],
  storage: 'none',
  transport: 'none',
  billing: 'provisioned',
});

/** Starts a server through the topology supervisor and resolves once it is ready. */
async function start(topology: 'monolith' | TopologyDefinition, env: Record<string, string>): Promise<Server> {
  const running = await startTopology(topology, { port: 0, env: { ...process.env, ...env }, restart: false });
  return { url: running.baseUrl, pid: running.pids()[0]!, stop: () => running.stop() };
}

function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

/** CPU seconds (user + system) a process has used so far (Linux /proc). */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface Run {
  rps: number;
  /** Server CPU µs per request. */
  cpuUs: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, path: string, method: 'GET' | 'POST', pid: number, peak: { rss: number }, seconds = duration): Promise<Run> {
  const token = mintToken(DEV_AUTH_SECRET, { sub: 'bench-customer', expiresInSeconds: 3600 });
  let n = 0;
  const cpuBefore = cpuSeconds(pid);
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, rssBytes(pid));
  }, 200);
  const result = await autocannon({
    url: url + path,
    connections,
    duration: seconds,
    method,
    headers: method === 'POST' ? { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=5' } : undefined,
    requests: [
      {
        method,
        setupRequest: (req) => {
          if (method === 'GET') return { ...req, path: `/products/SKU-${String(n++ % 900).padStart(4, '0')}` };
          return {
            ...req,
            path: '/orders',
            body: JSON.stringify({ items: [{ sku: `SKU-${String(n++ % 900).padStart(4, '0')}`, quantity: 1 }], payment: { token: 'tok_ok' } }),
          };
        },
      },
    ],
  });
  clearInterval(sampler);
  const cpuUs = ((cpuSeconds(pid) - cpuBefore) * 1e6) / Math.max(1, result.requests.total);
  return { rps: result.requests.average, cpuUs, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main() {
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-bench-'));
  const bare = await start(BARE, {});
  const mono = await start('monolith', { DATA_DIR: dataDir, LOG_LEVEL: 'warn' });
  const peak = { rss: 0 };
  const results: Record<string, Run[]> = {};
  /** Per request kind: monolith/bare throughput ratio of each round. */
  const ratios: Record<string, number[]> = {};
  const record = (key: string, run: Run) => (results[key] ??= []).push(run);
  const pathOf = (method: 'GET' | 'POST') => (method === 'GET' ? '/products/SKU-0001' : '/orders');
  try {
    process.stderr.write(`warming up the monolith, ${warmup}s per request kind (${connections} connections)…\n`);
    // Both request kinds, so the JIT has seen the order path before round 1.
    if (warmup > 0) for (const method of ['GET', 'POST'] as const) await load(mono.url, pathOf(method), method, mono.pid, { rss: 0 }, warmup);
    for (let round = 1; round <= rounds; round++) {
      for (const method of ['GET', 'POST'] as const) {
        const order =
          round % 2 === 1
            ? ([
                ['bare', bare],
                ['monolith', mono],
              ] as const)
            : ([
                ['monolith', mono],
                ['bare', bare],
              ] as const);
        const runs: Record<string, Run> = {};
        for (const [target, server] of order) {
          process.stderr.write(`round ${round}/${rounds}: ${method} ${target} (${duration}s)\n`);
          runs[target] = await load(server.url, pathOf(method), method, server.pid, target === 'monolith' ? peak : { rss: 0 });
          record(`${target} ${method}`, runs[target]);
        }
        (ratios[method] ??= []).push(runs.monolith!.rps / runs.bare!.rps);
      }
    }
  } finally {
    await bare.stop();
    await mono.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const summary = (key: string) => {
    const runs = results[key]!;
    return {
      rps: median(runs.map((r) => r.rps)),
      cpuUs: median(runs.map((r) => r.cpuUs)),
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      failed: runs.reduce((s, r) => s + r.non2xx + r.errors, 0),
    };
  };
  const lines = [
    '',
    `monolith (SQLite) vs bare node:http — ${rounds} interleaved rounds × ${duration}s after ${warmup}s of warm-up per request kind, ${connections} connections, medians (ratio: median of per-round ratios)`,
    '',
  ];
  lines.push(
    '| request | bare rps | monolith rps | ratio (range) | target | verdict | CPU µs/request bare / monolith | monolith p50 / p99 ms | failed |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  const verdicts: boolean[] = [];
  for (const [method, target] of [
    ['GET', 0.6],
    ['POST', 0.15],
  ] as const) {
    const b = summary(`bare ${method}`);
    const m = summary(`monolith ${method}`);
    const perRound = ratios[method]!;
    const ratio = median(perRound);
    const met = ratio >= target && m.failed === 0;
    verdicts.push(met);
    const label = method === 'GET' ? 'GET /products/{sku}' : 'POST /orders (tok_ok, 1 item, Prefer: wait)';
    const range = `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`;
    lines.push(
      `| ${label} | ${b.rps.toFixed(0)} | ${m.rps.toFixed(0)} | ${ratio.toFixed(2)}× (${range}) | ≥ ${target}× | ${met ? 'met' : 'MISSED'} | ${b.cpuUs.toFixed(0)} / ${m.cpuUs.toFixed(0)} | ${m.p50} / ${m.p99} | ${m.failed} |`,
    );
  }
  const rssMb = peak.rss / 1024 / 1024;
  verdicts.push(rssMb <= 150);
  lines.push('', `monolith peak RSS under load: ${rssMb.toFixed(0)} MB (target ≤ 150 MB): ${rssMb <= 150 ? 'met' : 'MISSED'}`);
  lines.push(verdicts.every(Boolean) ? 'all targets met' : 'TARGET MISSED (see table)', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
