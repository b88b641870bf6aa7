/**
 * `pnpm bench` (microservices): in one run, on this machine,
 *  1. the p50 latency one internal hop adds on loopback: GET /products/{sku} through the gateway
 *     (gateway → inventory) minus the same request straight to inventory, sequential requests,
 *     blocks interleaved; target ≤ 1 ms (an Istio sidecar adds 2.65 ms P90 per hop);
 *  2. throughput and p99 of POST /orders (tok_ok, one item, Prefer: wait=10), microservices vs the
 *     monolith, closed loop, rounds interleaved (monolith, microservices, monolith, …);
 *  3. resident memory summed over all processes of each topology, at rest and peak under load;
 *     target ≤ 600 MB for the microservices.
 * Options: --seconds 8 --rounds 2 --concurrency 16 --transport http|amqp --hop-requests 2000
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { mintToken } from '@archbench/contracts/tokens';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';
import { internalToken } from '../src/shared/service-app';

const args = benchArgs({
  seconds: { type: 'string', default: '8' },
  rounds: { type: 'string', default: '2' },
  concurrency: { type: 'string', default: '16' },
  transport: { type: 'string', default: 'http' },
  'hop-requests': { type: 'string', default: '2000' },
});
const seconds = benchNumber('seconds', args.seconds, 'count');
const rounds = benchNumber('rounds', args.rounds, 'count');
const concurrency = benchNumber('concurrency', args.concurrency, 'count');
const hopRequests = benchNumber('hop-requests', args['hop-requests'], 'count');
const transport = args.transport;
if (transport !== 'http' && transport !== 'amqp') {
  process.stderr.write(`--transport must be http or amqp, got ${JSON.stringify(transport)}\n`);
  process.exit(2);
}

const SECRET = 'microservices-bench-secret-0123456789';
const out = (line = '') => process.stdout.write(`${line}\n`);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function rssOf(pid: number): number {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
const sumRss = (pids: number[]) => pids.reduce((sum, pid) => sum + rssOf(pid), 0);
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

interface LoadResult {
  ok: number;
  errors: number;
  rps: number;
  p50: number;
  p99: number;
}

/** Closed loop: `concurrency` workers send requests back to back for `seconds`. */
async function load(
  url: string,
  request: () => { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string },
  onTick?: () => void,
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: concurrency, pipelining: 1 });
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const ticker = onTick ? setInterval(onTick, 250) : undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const r = request();
        const t0 = performance.now();
        try {
          const response = await pool.request({ method: r.method, path: r.path, headers: r.headers, body: r.body });
          await response.body.text();
          if (response.statusCode >= 200 && response.statusCode < 300) latencies.push(performance.now() - t0);
          else errors++;
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  if (ticker) clearInterval(ticker);
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { ok: latencies.length, errors, rps: latencies.length / elapsed, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** Sequential GETs (no queueing), so the difference between two targets is the added latency. */
async function sequential(url: string, path: string, headers: Record<string, string>, count: number): Promise<number[]> {
  const pool = new Pool(url, { connections: 1 });
  const latencies: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    const response = await pool.request({ method: 'GET', path, headers });
    await response.body.text();
    if (response.statusCode === 200) latencies.push(performance.now() - t0);
  }
  await pool.close();
  return latencies;
}

async function internalCalls(topology: RunningTopology): Promise<number> {
  let total = 0;
  for (const url of Object.values(topology.urls)) {
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const match of text.matchAll(/^archbench_internal_calls_total\{[^}]*\} (\d+(?:\.\d+)?)/gm)) total += Number(match[1]);
  }
  return total;
}

async function main() {
  const monolithDir = mkdtempSync(join(tmpdir(), 'archbench-bench-mono-'));
  const msDir = mkdtempSync(join(tmpdir(), 'archbench-bench-ms-'));
  const prefix = `archbench-bench-${Date.now().toString(36)}`;
  out(`archbench microservices bench: ${seconds}s x ${rounds} rounds, concurrency ${concurrency}, transport ${transport}, SQLite`);
  // Both bundled on plain Node with the same flags (the topology supervisor's default), so
  // memory compares like with like.
  const common = { ...process.env, AUTH_SECRET: SECRET, LOG_LEVEL: 'warn', NODE_ENV: 'production' };
  const monolithTopology = await startTopology('monolith', { env: common, port: 0, dataDir: monolithDir, output: { prefix: process.stderr }, restart: false });
  const monolith = { url: monolithTopology.baseUrl };
  const stopMonolith = () => monolithTopology.stop();
  const amqp = transport === 'amqp' ? { AMQP_URL: process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', AMQP_PREFIX: prefix } : {};
  const topology = await startTopology(`microservices-${transport}`, {
    env: { ...common, ...amqp },
    port: 0,
    dataDir: msDir,
    output: { prefix: process.stderr },
    restart: false,
  }).catch(async (error: unknown) => {
    await stopMonolith();
    throw error;
  });
  const urls = { gateway: topology.baseUrl, inventory: topology.urls.inventory! };
  out(
    `   monolith ${monolith.url}; microservices ${Object.entries(topology.urls)
      .map(([n, u]) => `${n} ${u}`)
      .join(', ')}`,
  );
  try {
    const msPids = topology.pids();
    const monoPids = monolithTopology.pids();
    await sleep(2000);
    const rest = { monolith: sumRss(monoPids), microservices: sumRss(msPids) };

    // 1. Added latency of one hop.
    const internal = { 'x-archbench-internal': internalToken(SECRET) };
    const path = '/products/SKU-0007';
    const direct: number[] = [];
    const viaGateway: number[] = [];
    const viaMonolith: number[] = [];
    await sequential(urls.gateway, path, {}, 200); // warm-up
    await sequential(urls.inventory, path, internal, 200);
    await sequential(monolith.url, path, {}, 200);
    const blocks = 4;
    for (let b = 0; b < blocks; b++) {
      direct.push(...(await sequential(urls.inventory, path, internal, hopRequests / blocks)));
      viaGateway.push(...(await sequential(urls.gateway, path, {}, hopRequests / blocks)));
      viaMonolith.push(...(await sequential(monolith.url, path, {}, hopRequests / blocks)));
    }
    for (const list of [direct, viaGateway, viaMonolith]) list.sort((a, b) => a - b);
    const hopP50 = percentile(viaGateway, 50) - percentile(direct, 50);
    const hopP90 = percentile(viaGateway, 90) - percentile(direct, 90);

    // 2. POST /orders, rounds interleaved.
    const token = mintToken(SECRET, { sub: 'bench-customer', expiresInSeconds: 3600 });
    let sku = 0;
    const order = () => ({
      method: 'POST' as const,
      path: '/orders',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=10' },
      body: JSON.stringify({ items: [{ sku: `SKU-${String(sku++ % 900).padStart(4, '0')}`, quantity: 1 }], payment: { token: 'tok_ok' } }),
    });
    const results: Record<'monolith' | 'microservices', LoadResult[]> = { monolith: [], microservices: [] };
    const peak = { monolith: rest.monolith, microservices: rest.microservices };
    const callsBefore = await internalCalls(topology);
    let msOrders = 0;
    for (let round = 0; round < rounds; round++) {
      results.monolith.push(await load(monolith.url, order, () => (peak.monolith = Math.max(peak.monolith, sumRss(monoPids)))));
      const ms = await load(urls.gateway, order, () => (peak.microservices = Math.max(peak.microservices, sumRss(msPids))));
      results.microservices.push(ms);
      msOrders += ms.ok;
    }
    await sleep(1500); // let the outbox relay deliver the last events
    const hopsPerOrder = ((await internalCalls(topology)) - callsBefore) / Math.max(1, msOrders);

    const merge = (list: LoadResult[]) => ({
      rps: list.reduce((s, r) => s + r.rps, 0) / list.length,
      p50: list.reduce((s, r) => s + r.p50, 0) / list.length,
      p99: list.reduce((s, r) => s + r.p99, 0) / list.length,
      errors: list.reduce((s, r) => s + r.errors, 0),
      ok: list.reduce((s, r) => s + r.ok, 0),
    });
    const mono = merge(results.monolith);
    const micro = merge(results.microservices);

    out();
    out('1. Added latency per internal hop (GET /products/{sku}, sequential, loopback)');
    out(`   inventory direct  p50 ${percentile(direct, 50).toFixed(3)} ms  p90 ${percentile(direct, 90).toFixed(3)} ms`);
    out(`   via gateway       p50 ${percentile(viaGateway, 50).toFixed(3)} ms  p90 ${percentile(viaGateway, 90).toFixed(3)} ms`);
    out(`   monolith          p50 ${percentile(viaMonolith, 50).toFixed(3)} ms  p90 ${percentile(viaMonolith, 90).toFixed(3)} ms`);
    out(
      `   added by one hop  p50 ${hopP50.toFixed(3)} ms  p90 ${hopP90.toFixed(3)} ms   target p50 <= 1 ms: ${hopP50 <= 1 ? 'MET' : 'MISSED'} (Istio sidecar: 2.65 ms P90 per hop)`,
    );
    out();
    out(`2. POST /orders (tok_ok, one item, Prefer: wait=10), ${concurrency} connections, mean of ${rounds} interleaved rounds`);
    out(
      `   monolith       ${mono.rps.toFixed(1)} orders/s  p50 ${mono.p50.toFixed(1)} ms  p99 ${mono.p99.toFixed(1)} ms  errors ${mono.errors}/${mono.ok + mono.errors}`,
    );
    out(
      `   microservices  ${micro.rps.toFixed(1)} orders/s  p50 ${micro.p50.toFixed(1)} ms  p99 ${micro.p99.toFixed(1)} ms  errors ${micro.errors}/${micro.ok + micro.errors}`,
    );
    out(`   ratio microservices/monolith: throughput ${(micro.rps / mono.rps).toFixed(2)}x, p99 ${(micro.p99 / mono.p99).toFixed(2)}x`);
    out(`   internal calls per order (${transport}): ${hopsPerOrder.toFixed(2)}`);
    out();
    out('3. Resident memory, summed over processes');
    out(`   monolith (1 process)       at rest ${mb(rest.monolith)}  peak under load ${mb(peak.monolith)}`);
    out(
      `   microservices (5 processes) at rest ${mb(rest.microservices)}  peak under load ${mb(peak.microservices)}   target <= 600 MB: ${peak.microservices <= 600 * 1024 * 1024 ? 'MET' : 'MISSED'}`,
    );
    out(`   ratio at rest ${(rest.microservices / rest.monolith).toFixed(2)}x, under load ${(peak.microservices / peak.monolith).toFixed(2)}x`);
  } finally {
    await topology.stop();
    await stopMonolith();
    rmSync(monolithDir, { recursive: true, force: true });
    rmSync(msDir, { recursive: true, force: true });
    if (transport === 'amqp') {
      const { deleteAmqpTopology } = await import('../src/shared/transport');
      await deleteAmqpTopology(process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672', prefix).catch(() => undefined);
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}${error instanceof Error && error.cause ? `\ncaused by: ${String(error.cause)}` : ''}\n`,
  );
  process.exit(1);
});
