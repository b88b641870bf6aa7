/**
 * `pnpm bench` (monolith): throughput and latency of GET /products/{sku} and POST /orders against
 * the monolith on SQLite, each as a ratio to a bare node:http server measured in the same run,
 * plus the monolith's peak RSS under that load. Rounds are interleaved (bare, monolith, bare, …)
 * so machine drift hurts both alike. Targets: GET ≥ 0.5×, POST ≥ 0.15×, RSS ≤ 150 MB.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { DEV_AUTH_SECRET, mintToken } from '@archbench/contracts/tokens';
import { defineTopology, startTopology } from '@archbench/topologies';
import type { TopologyDefinition } from '@archbench/topologies';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
  },
});
const duration = Number(args.duration);
const rounds = Number(args.rounds);
const connections = Number(args.connections);

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

interface Run {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
}

async function load(url: string, path: string, method: 'GET' | 'POST', pid: number, peak: { rss: number }): Promise<Run> {
  const token = mintToken(DEV_AUTH_SECRET, { sub: 'bench-customer', expiresInSeconds: 3600 });
  let n = 0;
  const sampler = setInterval(() => {
    peak.rss = Math.max(peak.rss, rssBytes(pid));
  }, 200);
  const result = await autocannon({
    url: url + path,
    connections,
    duration,
    method,
    headers:
      method === 'POST'
        ? { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=5' }
        : undefined,
    requests: [
      {
        method,
        setupRequest: (req) => {
          if (method === 'GET') return { ...req, path: `/products/SKU-${String(n++ % 900).padStart(4, '0')}` };
          return { ...req, path: '/orders', body: JSON.stringify({ items: [{ sku: `SKU-${String(n++ % 900).padStart(4, '0')}`, quantity: 1 }], payment: { token: 'tok_ok' } }) };
        },
      },
    ],
  });
  clearInterval(sampler);
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
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
  const record = (key: string, run: Run) => (results[key] ??= []).push(run);
  try {
    process.stderr.write(`warming up (${connections} connections)…\n`);
    await load(mono.url, '/products/SKU-0001', 'GET', mono.pid, { rss: 0 });
    for (let round = 1; round <= rounds; round++) {
      for (const [target, server] of [['bare', bare], ['monolith', mono]] as const) {
        for (const method of ['GET', 'POST'] as const) {
          process.stderr.write(`round ${round}/${rounds}: ${method} ${target} (${duration}s)\n`);
          const run = await load(server.url, method === 'GET' ? '/products/SKU-0001' : '/orders', method, server.pid, target === 'monolith' ? peak : { rss: 0 });
          record(`${target} ${method}`, run);
        }
      }
    }
  } finally {
    await bare.stop();
    await mono.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const summary = (key: string) => {
    const runs = results[key]!;
    return { rps: median(runs.map((r) => r.rps)), p50: median(runs.map((r) => r.p50)), p99: median(runs.map((r) => r.p99)), failed: runs.reduce((s, r) => s + r.non2xx + r.errors, 0) };
  };
  const lines = ['', `monolith (SQLite) vs bare node:http — ${rounds} interleaved rounds × ${duration}s, ${connections} connections, medians`, ''];
  lines.push('| request | bare rps | monolith rps | ratio | target | monolith p50 / p99 ms | failed |', '|---|---|---|---|---|---|---|');
  const verdicts: boolean[] = [];
  for (const [method, target] of [['GET', 0.5], ['POST', 0.15]] as const) {
    const b = summary(`bare ${method}`);
    const m = summary(`monolith ${method}`);
    const ratio = m.rps / b.rps;
    verdicts.push(ratio >= target && m.failed === 0);
    const label = method === 'GET' ? 'GET /products/{sku}' : 'POST /orders (tok_ok, 1 item, Prefer: wait)';
    lines.push(`| ${label} | ${b.rps.toFixed(0)} | ${m.rps.toFixed(0)} | ${ratio.toFixed(2)}× | ≥ ${target}× | ${m.p50} / ${m.p99} | ${m.failed} |`);
  }
  const rssMb = peak.rss / 1024 / 1024;
  verdicts.push(rssMb <= 150);
  lines.push('', `monolith peak RSS under load: ${rssMb.toFixed(0)} MB (target ≤ 150 MB)`);
  lines.push(verdicts.every(Boolean) ? 'all targets met' : 'TARGET MISSED (see table)', '');
  process.stdout.write(lines.join('\n'));
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
