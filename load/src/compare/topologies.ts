import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { TopologyName } from '@archbench/contracts/comparison';
import { tsxExecArgv } from '../engine/embedded-engine';
import { parsePromText, sumMetric } from '../metrics/prom-text';
import type { PromSample } from '../metrics/prom-text';
import { procAvailable, processTree, snapshotTree } from '../metrics/proc';
import type { ProcSnapshot } from '../metrics/proc';

/** The repository root (load/ lives directly below it). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface TopologyEnv {
  authSecret: string;
  amqpUrl: string | undefined;
}

interface TopologyPlan {
  name: TopologyName;
  /** Entry file relative to the repository root. */
  entry: string;
  /** Ports: the public one first, then internal services (each serves /metrics). */
  portCount: number;
  /** The entry only supervises the real servers (left out of CPU, memory and process count). */
  supervisor: boolean;
  extraEnv: (env: TopologyEnv) => Record<string, string>;
  /** Why it cannot run here, or undefined. */
  unavailable: (env: TopologyEnv, root: string) => string | undefined;
}

const MICROSERVICES_ENTRY = 'apps/microservices/src/launch.ts';
const MONOLITH_ENTRY = 'apps/monolith/src/launch.ts';

const PLANS: Record<TopologyName, TopologyPlan> = {
  monolith: {
    name: 'monolith',
    // Like the microservices launcher, it runs the server bundled on plain Node with the same flags.
    entry: MONOLITH_ENTRY,
    portCount: 1,
    supervisor: true,
    extraEnv: () => ({}),
    unavailable: (_env, root) => (existsSync(join(root, MONOLITH_ENTRY)) ? undefined : `${MONOLITH_ENTRY} is missing`),
  },
  'microservices-http': {
    name: 'microservices-http',
    entry: MICROSERVICES_ENTRY,
    portCount: 5,
    supervisor: true,
    extraEnv: () => ({ TRANSPORT: 'http' }),
    unavailable: (_env, root) => (existsSync(join(root, MICROSERVICES_ENTRY)) ? undefined : `${MICROSERVICES_ENTRY} does not exist yet`),
  },
  'microservices-amqp': {
    name: 'microservices-amqp',
    entry: MICROSERVICES_ENTRY,
    portCount: 5,
    supervisor: true,
    extraEnv: (env) => ({ TRANSPORT: 'amqp', AMQP_URL: env.amqpUrl ?? '' }),
    unavailable: (env, root) => {
      if (!existsSync(join(root, MICROSERVICES_ENTRY))) return `${MICROSERVICES_ENTRY} does not exist yet`;
      return env.amqpUrl ? undefined : 'AMQP_URL is not set (e.g. AMQP_URL=amqp://guest:guest@127.0.0.1:5672)';
    },
  },
};

/** Why a topology cannot run on this machine, or undefined when it can. */
export function topologyUnavailable(name: TopologyName, env: TopologyEnv, root = REPO_ROOT): string | undefined {
  return PLANS[name].unavailable(env, root);
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * Finds `count` consecutive free ports (the microservices use PORT..PORT+4).
 * @example const [gateway] = await findFreePorts(5)
 */
export async function findFreePorts(count: number): Promise<number[]> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 30_000);
    const ports = Array.from({ length: count }, (_, i) => base + i);
    let ok = true;
    for (const port of ports) {
      if (!(await portFree(port))) {
        ok = false;
        break;
      }
    }
    if (ok) return ports;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

export class TopologyStartError extends Error {
  override readonly name = 'TopologyStartError';
}

const live = new Set<RunningTopology>();
const PROC = procAvailable();

/**
 * Kills every topology still running, synchronously (SIGKILL to each process group): for the
 * CLI's Ctrl-C handler, where there is no time for a graceful drain.
 */
export function killAllTopologiesNow(): void {
  for (const topology of live) {
    try {
      process.kill(-topology.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  live.clear();
}

/** A started topology: its public URL, its process tree, and how to stop it. */
export class RunningTopology {
  private exited = false;

  constructor(
    readonly name: TopologyName,
    readonly baseUrl: string,
    readonly ports: number[],
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly logFile: string,
    private readonly supervisor = false,
  ) {
    live.add(this);
    child.once('exit', () => {
      this.exited = true;
    });
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /**
   * CPU seconds and RSS summed over the topology's processes: from /proc where there is one
   * (Linux; counts every process, needs nothing from the servers), else from the servers' own
   * prom-client metrics (process_cpu_seconds_total, process_resident_memory_bytes).
   */
  async snapshot(): Promise<ProcSnapshot> {
    if (PROC) return snapshotTree(this.pid, this.supervisor);
    const scrapes = (await this.scrapeMetrics()).filter((s): s is PromSample[] => s !== undefined);
    return {
      pids: scrapes.map((_, i) => i),
      cpuSeconds: scrapes.reduce((sum, s) => sum + (sumMetric(s, 'process_cpu_seconds_total') ?? 0), 0),
      rssBytes: scrapes.reduce((sum, s) => sum + (sumMetric(s, 'process_resident_memory_bytes') ?? 0), 0),
    };
  }

  /** Scrapes /metrics of every process; a process without the endpoint yields undefined. */
  async scrapeMetrics(): Promise<(PromSample[] | undefined)[]> {
    return Promise.all(
      this.ports.map(async (port) => {
        try {
          const response = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(3000) });
          if (!response.ok) return undefined;
          return parsePromText(await response.text());
        } catch {
          return undefined;
        }
      }),
    );
  }

  logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Stops the whole process group: SIGTERM (graceful drain), then SIGKILL after `timeoutMs`
   * for anything still alive, so no server outlives the comparison.
   */
  async stop(timeoutMs = 10_000): Promise<void> {
    const pgid = this.pid;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-pgid, signal);
      } catch {
        // the group is already gone
      }
    };
    const remaining = () => (PROC ? processTree(pgid).filter((p) => p.pid === pgid || p.pgrp === pgid).length : 0);
    signalGroup('SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && (!this.exited || remaining() > 0)) await sleep(100);
    if (!this.exited || remaining() > 0) {
      signalGroup('SIGKILL');
      const hardDeadline = Date.now() + 5000;
      while (Date.now() < hardDeadline && !this.exited) await sleep(50);
    }
    live.delete(this);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export interface StartTopologyOptions {
  env: TopologyEnv;
  /** Folder for the servers' logs. */
  logDir: string;
  root?: string;
  readyTimeoutMs?: number;
}

/**
 * Starts a topology fresh: a new temporary DATA_DIR (so it seeds from scratch), free ports, its
 * own process group; resolves once GET /ready answers 200.
 * @example const t = await startTopology('monolith', { env, logDir }); ...; await t.stop();
 */
export async function startTopology(name: TopologyName, options: StartTopologyOptions): Promise<RunningTopology> {
  const root = options.root ?? REPO_ROOT;
  const plan = PLANS[name];
  const reason = plan.unavailable(options.env, root);
  if (reason) throw new TopologyStartError(`${name} cannot run: ${reason}`);
  const ports = await findFreePorts(plan.portCount);
  const dataDir = mkdtempSync(join(tmpdir(), `archbench-${name}-`));
  const logFile = join(options.logDir, `${name}.log`);
  const log = openSync(logFile, 'w');
  const entry = join(root, plan.entry);
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    HOST: '127.0.0.1',
    PORT: String(ports[0]),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    AUTH_SECRET: options.env.authSecret,
    ...plan.extraEnv(options.env),
  };
  // Run node with tsx's loader directly (not the tsx CLI) so no wrapper process inflates the
  // process count, CPU or memory of the topology.
  const child = spawn(process.execPath, [...tsxExecArgv(), entry], {
    cwd: join(root, plan.entry.split('/src/')[0]!),
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  closeSync(log);
  const topology = new RunningTopology(name, `http://127.0.0.1:${ports[0]}`, ports, child, dataDir, logFile, plan.supervisor);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
  while (Date.now() < deadline) {
    if (!topology.alive) {
      rmSync(dataDir, { recursive: true, force: true });
      throw new TopologyStartError(`${name} exited before it was ready; last log lines:\n${topology.logTail()}`);
    }
    try {
      const response = await fetch(`${topology.baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
      if (response.ok) return topology;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  await topology.stop();
  throw new TopologyStartError(`${name} was not ready within ${Math.round((options.readyTimeoutMs ?? 90_000) / 1000)} s; last log lines:\n${topology.logTail()}`);
}
