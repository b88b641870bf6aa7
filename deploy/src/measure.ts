import { cpus, totalmem } from 'node:os';
import { snapshotTree } from '@archbench/topologies/proc';
import { mintToken } from '@archbench/contracts/tokens';
import type { RunningServer } from './standalone';

export interface ProcessFigures {
  name: string;
  idleRssMiB: number;
  peakRssMiB: number;
  /** Mean CPU cores used during the load. */
  loadCpuCores: number;
}

export interface GroupFigures {
  group: string;
  entry: string;
  seconds: number;
  requests: number;
  orders: number;
  errors: number;
  processes: ProcessFigures[];
}

export interface MeasureOptions {
  seconds: number;
  concurrency: number;
  authSecret: string;
  /** GET only these paths (a server without the order API, such as the console's). */
  readOnlyPaths?: string[];
}

const MiB = 1024 * 1024;
const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

/**
 * Resident memory and CPU of each process of one running topology, at rest and under a short
 * closed-model load on its public entry (80 % product reads, 20 % orders with Prefer: wait), read
 * from /proc every 250 ms. What the Kubernetes requests and limits are derived from.
 * @example await measureGroup('monolith', servers, 'monolith', { seconds: 15, concurrency: 8, authSecret })
 */
export async function measureGroup(group: string, servers: Map<string, RunningServer>, entry: string, options: MeasureOptions): Promise<GroupFigures> {
  const pids = new Map([...servers].map(([name, s]) => [name, s.child.pid!]));
  await new Promise((r) => setTimeout(r, 2000));
  const idle = new Map([...pids].map(([name, pid]) => [name, snapshotTree(pid).rssBytes]));
  const peak = new Map(idle);
  const cpuBefore = new Map([...pids].map(([name, pid]) => [name, snapshotTree(pid).cpuSeconds]));
  const sampler = setInterval(() => {
    for (const [name, pid] of pids) peak.set(name, Math.max(peak.get(name) ?? 0, snapshotTree(pid).rssBytes));
  }, 250);
  const base = servers.get(entry)!.url;
  const tokens = Array.from({ length: 20 }, (_, i) => mintToken(options.authSecret, { sub: `measure-${i}` }));
  const started = Date.now();
  const until = started + options.seconds * 1000;
  let requests = 0;
  let orders = 0;
  let errors = 0;
  let n = 0;
  const worker = async () => {
    while (Date.now() < until) {
      const i = n++;
      const order = !options.readOnlyPaths && i % 5 === 4;
      const sku = `SKU-${String(i % 900).padStart(4, '0')}`;
      const path = options.readOnlyPaths ? options.readOnlyPaths[i % options.readOnlyPaths.length]! : order ? '/orders' : `/products/${sku}`;
      const response = await fetch(`${base}${path}`, {
        method: order ? 'POST' : 'GET',
        headers: order ? { authorization: `Bearer ${tokens[i % tokens.length]}`, 'content-type': 'application/json', prefer: 'wait=5' } : {},
        body: order ? JSON.stringify({ items: [{ sku, quantity: 1 }], payment: { token: 'tok_ok' } }) : undefined,
      }).catch(() => undefined);
      await response?.arrayBuffer();
      requests++;
      if (!response || response.status >= 400) errors++;
      else if (order) orders++;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (Date.now() - started) / 1000;
  clearInterval(sampler);
  return {
    group,
    entry,
    seconds: round(seconds),
    requests,
    orders,
    errors,
    processes: [...pids].map(([name, pid]) => ({
      name,
      idleRssMiB: round(idle.get(name)! / MiB),
      peakRssMiB: round(peak.get(name)! / MiB),
      loadCpuCores: round((snapshotTree(pid).cpuSeconds - cpuBefore.get(name)!) / seconds, 3),
    })),
  };
}

/** The machine the figures were taken on (they move with it). */
export function machine() {
  return { cores: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: round(totalmem() / 1024 ** 3), node: process.version };
}
