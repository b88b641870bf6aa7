import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  REPO_ROOT,
  TopologyStartError,
  describeEvent,
  getTopology,
  killAllTopologiesNow,
  startTopology as startDefined,
  topologyNames,
  topologyUnavailable as unavailableHere,
} from '@archbench/topologies';
import type { ProcSnapshot, RunningTopology as SupervisedTopology } from '@archbench/topologies';
import { parsePromText } from '../metrics/prom-text';
import type { PromSample } from '../metrics/prom-text';

/**
 * Compare's view of @archbench/topologies (the one definition of every topology and its
 * supervisor): starts each topology fresh, seeded, on free ports, with its log in the run's
 * folder, and parses what it scrapes. The definitions, ports, readiness, restarts and /proc
 * figures all live in that package.
 */
export { TopologyStartError, killAllTopologiesNow, topologyNames };

export interface TopologyEnv {
  authSecret: string;
  amqpUrl: string | undefined;
  /** PostgreSQL instead of SQLite files. */
  databaseUrl?: string | undefined;
}

/** Only what the servers need: nothing from the shell that runs compare leaks into a measurement. */
function serverEnv(env: TopologyEnv): NodeJS.ProcessEnv {
  return {
    // Only what a child needs to find binaries; everything else is set explicitly below.
    // eslint-disable-next-line no-restricted-properties -- pass-through to the child
    PATH: process.env.PATH,
    // eslint-disable-next-line no-restricted-properties -- pass-through to the child
    HOME: process.env.HOME,
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    AUTH_SECRET: env.authSecret,
    ...(env.amqpUrl ? { AMQP_URL: env.amqpUrl } : {}),
    ...(env.databaseUrl ? { DATABASE_URL: env.databaseUrl } : {}),
  };
}

/** Why a topology cannot run on this machine, or undefined when it can. */
export function topologyUnavailable(name: string, env: TopologyEnv, root = REPO_ROOT): string | undefined {
  try {
    return unavailableHere(getTopology(name), serverEnv(env), root);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** A started topology as the compare runner uses it; `supervised` has the rest (processes, kill, restarts). */
/** Data folders of topologies started here and not stopped yet (see removeDataDirsNow). */
const liveDataDirs = new Set<string>();

/** Removes the data folders of every running topology, for a signal handler (after killAllTopologiesNow). */
export function removeDataDirsNow(): void {
  for (const dir of liveDataDirs) rmSync(dir, { recursive: true, force: true });
  liveDataDirs.clear();
}

export class RunningTopology {
  constructor(
    readonly supervised: SupervisedTopology,
    readonly logFile: string,
    /** performance.now() when the first process was spawned (after bundling), for cold start. */
    readonly spawnedAt: number,
    private readonly dataDir?: string,
  ) {}

  get name(): string {
    return this.supervised.name;
  }

  get baseUrl(): string {
    return this.supervised.baseUrl;
  }

  get alive(): boolean {
    return this.supervised.alive;
  }

  /** CPU seconds and RSS summed over the topology's server processes. */
  snapshot(): Promise<ProcSnapshot> {
    return this.supervised.snapshot();
  }

  /** Scrapes /metrics of every process; a process without the endpoint yields undefined. */
  async scrapeMetrics(): Promise<(PromSample[] | undefined)[]> {
    return (await this.supervised.scrapeMetrics()).map((m) => {
      if (m.text === undefined) return undefined;
      try {
        return parsePromText(m.text);
      } catch {
        return undefined;
      }
    });
  }

  logTail(lines = 20): string {
    return this.supervised.logTail(lines);
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    await this.supervised.stop(timeoutMs);
    if (this.dataDir) {
      rmSync(this.dataDir, { recursive: true, force: true });
      liveDataDirs.delete(this.dataDir);
    }
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
 * Starts a topology fresh: a new temporary DATA_DIR (so it seeds from scratch), free ports,
 * supervised by this process; resolves once every process answers /ready.
 * @example const t = await startTopology('monolith', { env, logDir }); ...; await t.stop();
 */
export async function startTopology(name: string, options: StartTopologyOptions): Promise<RunningTopology> {
  const logFile = join(options.logDir, `${name}.log`);
  writeFileSync(logFile, '', { flag: 'a' });
  let spawnedAt: number | undefined;
  // A data folder of compare's own naming: sweeps of stale archbench-<topology>-* folders by
  // other tools must not delete the state of a topology in the middle of a run.
  const dataDir = mkdtempSync(join(tmpdir(), `abcompare-${name}-`));
  liveDataDirs.add(dataDir);
  const started = startDefined(name, {
    port: 0,
    dataDir,
    env: serverEnv(options.env),
    root: options.root,
    readyTimeoutMs: options.readyTimeoutMs ?? 90_000,
    output: { file: logFile },
    // Cold start counts from the first spawn, not from bundling (a build step, done once).
    onEvent: (event) => {
      if (event.type === 'started' && spawnedAt === undefined) spawnedAt = performance.now();
      // Exits and restarts go in the topology's log beside its servers' own lines.
      const line = describeEvent(event);
      if (line) appendFileSync(logFile, `${line}\n`);
    },
  });
  const supervised = await started.catch((error: unknown) => {
    rmSync(dataDir, { recursive: true, force: true });
    liveDataDirs.delete(dataDir);
    throw error;
  });
  return new RunningTopology(supervised, logFile, spawnedAt ?? performance.now(), dataDir);
}
