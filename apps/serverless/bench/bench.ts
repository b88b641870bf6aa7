/**
 * `pnpm --filter @archbench/serverless bench`: what only the serverless option has, measured on
 * the local workerd beside the monolith in the same run (both started through
 * @archbench/topologies, interleaved start by start):
 * - start-up: spawn to /ready, and the first request after start against the warm median;
 * - per order: CPU-ms of the process tree (from /proc), requests, worker invocations and queue
 *   messages per order (from /metrics), resident memory after the orders.
 * Ratios are serverless / monolith. Usage: bench.ts [--starts 3] [--orders 200] [--concurrency 8]
 */
import { mintToken } from '@archbench/contracts/tokens';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { benchArgs, benchNumber } from '@archbench/topologies/bench-args';

const args = benchArgs({
  starts: { type: 'string', default: '3' },
  orders: { type: 'string', default: '200' },
  concurrency: { type: 'string', default: '8' },
});
const STARTS = benchNumber('starts', args.starts, 'count');
const ORDERS = benchNumber('orders', args.orders, 'count');
const CONCURRENCY = benchNumber('concurrency', args.concurrency, 'count');
const SECRET = 'bench-secret-0123456789abcdef';
const TOPOLOGIES = ['monolith', 'serverless'] as const;
type Name = (typeof TOPOLOGIES)[number];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

async function timed(run: () => Promise<Response>): Promise<number> {
  const started = performance.now();
  const res = await run();
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`request failed: ${res.status}`);
  return performance.now() - started;
}

function order(baseUrl: string, token: string, sku: string): Promise<Response> {
  return fetch(`${baseUrl}/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', prefer: 'wait=5' },
    body: JSON.stringify({ items: [{ sku, quantity: 1 }], payment: { token: 'tok_ok' } }),
  });
}

async function metric(topology: RunningTopology, name: string, labels: Record<string, string> = {}): Promise<number> {
  const text = await (await fetch(`${topology.baseUrl}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1]!, x[2]!]));
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum += Number(m[3]);
  }
  return sum;
}

interface StartResult {
  readyMs: number;
  firstGetMs: number;
  warmGetMs: number;
  firstOrderMs: number;
  warmOrderMs: number;
}

async function measureStart(name: Name): Promise<{ result: StartResult; topology: RunningTopology }> {
  const started = performance.now();
  const topology = await startTopology(name, { port: 0, authSecret: SECRET, logLevel: 'warn', output: 'capture', restart: false });
  const readyMs = performance.now() - started;
  const token = mintToken(SECRET, { sub: `bench-${name}` });
  const firstGetMs = await timed(() => fetch(`${topology.baseUrl}/products/SKU-0101`));
  const firstOrderMs = await timed(() => order(topology.baseUrl, token, 'SKU-0102'));
  const gets: number[] = [];
  const orders: number[] = [];
  for (let i = 0; i < 20; i++) gets.push(await timed(() => fetch(`${topology.baseUrl}/products/SKU-0101`)));
  for (let i = 0; i < 20; i++) orders.push(await timed(() => order(topology.baseUrl, token, 'SKU-0102')));
  return { result: { readyMs, firstGetMs, warmGetMs: median(gets), firstOrderMs, warmOrderMs: median(orders) }, topology };
}

async function perOrder(name: Name, topology: RunningTopology) {
  const token = mintToken(SECRET, { sub: `bench-load-${name}` });
  const before = await topology.snapshot();
  const m0 = {
    requests: await metric(topology, 'http_server_request_duration_seconds_count'),
    sent: await metric(topology, 'archbench_queue_messages_sent_total'),
    queueInvocations: await metric(topology, 'archbench_worker_invocations_total', { handler: 'queue' }),
    rowsWritten: await metric(topology, 'archbench_db_rows_written_total'),
    rowsRead: await metric(topology, 'archbench_db_rows_read_total'),
  };
  let next = 0;
  const worker = async () => {
    while (next < ORDERS) {
      const i = next++;
      const res = await order(topology.baseUrl, token, `SKU-0${200 + (i % 500)}`);
      await res.arrayBuffer();
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  const after = await topology.snapshot();
  return {
    ordersPerSecond: round(ORDERS / seconds),
    cpuMsPerOrder: round(((after.cpuSeconds - before.cpuSeconds) * 1000) / ORDERS, 2),
    rssMb: round(after.rssBytes / 2 ** 20),
    processes: after.pids.length,
    requestsPerOrder: round(((await metric(topology, 'http_server_request_duration_seconds_count')) - m0.requests) / ORDERS, 2),
    queueMessagesPerOrder: round(((await metric(topology, 'archbench_queue_messages_sent_total')) - m0.sent) / ORDERS, 2),
    queueInvocationsPerOrder: round(((await metric(topology, 'archbench_worker_invocations_total', { handler: 'queue' })) - m0.queueInvocations) / ORDERS, 2),
    d1RowsWrittenPerOrder: round(((await metric(topology, 'archbench_db_rows_written_total')) - m0.rowsWritten) / ORDERS, 2),
    d1RowsReadPerOrder: round(((await metric(topology, 'archbench_db_rows_read_total')) - m0.rowsRead) / ORDERS, 2),
  };
}

async function main() {
  const starts: Record<Name, StartResult[]> = { monolith: [], serverless: [] };
  const load: Partial<Record<Name, Awaited<ReturnType<typeof perOrder>>>> = {};
  for (let i = 0; i < STARTS; i++) {
    for (const name of TOPOLOGIES) {
      const { result, topology } = await measureStart(name);
      starts[name].push(result);
      try {
        if (i === STARTS - 1) load[name] = await perOrder(name, topology);
      } finally {
        await topology.stop();
      }
    }
  }
  const summary = Object.fromEntries(
    TOPOLOGIES.map((name) => {
      const s = starts[name];
      const pick = (k: keyof StartResult) => ({ p50: round(median(s.map((r) => r[k]))), max: round(max(s.map((r) => r[k]))) });
      return [
        name,
        {
          readyMs: pick('readyMs'),
          firstGetMs: pick('firstGetMs'),
          warmGetMs: pick('warmGetMs'),
          firstOrderMs: pick('firstOrderMs'),
          warmOrderMs: pick('warmOrderMs'),
          ...load[name],
        },
      ];
    }),
  );
  const ratio = (key: string) => {
    const value = (name: Name) => {
      const v = (summary[name] as Record<string, unknown>)[key];
      return typeof v === 'number' ? v : (v as { p50: number }).p50;
    };
    return round(value('serverless') / value('monolith'), 2);
  };
  const ratios = Object.fromEntries(
    ['readyMs', 'firstGetMs', 'firstOrderMs', 'warmOrderMs', 'cpuMsPerOrder', 'rssMb', 'ordersPerSecond'].map((k) => [k, ratio(k)]),
  );
  process.stdout.write(
    `${JSON.stringify({ starts: STARTS, orders: ORDERS, concurrency: CONCURRENCY, summary, ratiosServerlessToMonolith: ratios }, null, 2)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
