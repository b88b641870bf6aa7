import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { SERVER_NODE_FLAGS } from '@archbench/server-kit/bundle';
import { bundleProcesses } from './bundle';
import { SERVICE_NAMES } from './env';
import type { ServiceName } from './env';

export type ProcessName = 'gateway' | ServiceName;
export const PROCESS_NAMES: readonly ProcessName[] = ['gateway', ...SERVICE_NAMES];

export interface TopologyOptions {
  /** Environment of every child (DATA_DIR, DATABASE_URL, TRANSPORT, AUTH_SECRET, PAYMENT_* ...). */
  env: NodeJS.ProcessEnv;
  /** Gateway port; services get port+1..port+4 unless `ports` says otherwise. 0 picks free ports for all. */
  port: number;
  ports?: Partial<Record<ServiceName, number>>;
  host?: string;
  /** Longest wait for every /ready, ms. */
  readyTimeoutMs?: number;
  /** Where children's stdout/stderr go (default: this process's). */
  stdio?: 'inherit' | 'ignore';
  /**
   * How children run: `bundle` (default) bundles each process with esbuild and runs it on plain
   * Node; `tsx` runs the TypeScript through the tsx loader (one loader thread, ~40 MB, per process).
   */
  runner?: 'bundle' | 'tsx';
  /**
   * Node flags of every child. Default: a 4 MB young-generation semi-space, which bounds each
   * process's resident memory under load at a small cost in GC work; [] for Node's defaults.
   */
  nodeFlags?: string[];
  /** Called when a child exits after startup. */
  onExit?: (name: ProcessName, code: number | null, signal: NodeJS.Signals | null) => void;
}

export class StartupError extends Error {
  override readonly name = 'StartupError';
}

const appRoot = fileURLToPath(new URL('..', import.meta.url));
const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const entry = (name: ProcessName) => fileURLToPath(new URL(`./${name}/main.ts`, import.meta.url));
let bundles: Promise<Record<ProcessName, string>> | undefined;
export const DEFAULT_NODE_FLAGS = SERVER_NODE_FLAGS;

/** Ports the OS says are free now, distinct from each other (for tests and PORT=0). */
export async function freePorts(count: number): Promise<number[]> {
  // All held open at once, so the OS cannot hand out the same port twice.
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.unref();
          server.on('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** A port the OS says is free now. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * The microservices topology as child processes: the gateway and the four services, each its own
 * Node process (tsx loader, no extra wrapper process). Used by `launch.ts`, the tests and the
 * benchmark; tests kill and restart single services through it.
 * @example const topology = await startTopology({ env: { ...process.env, DATA_DIR: dir }, port: 0 })
 *          console.log(topology.urls.gateway); await topology.stop()
 */
export class Topology {
  readonly urls: Record<ProcessName, string>;
  readonly ports: Record<ProcessName, number>;
  readonly #children = new Map<ProcessName, ChildProcess>();
  readonly #options: TopologyOptions;
  #stopping = false;

  constructor(options: TopologyOptions, ports: Record<ProcessName, number>) {
    this.#options = options;
    this.ports = ports;
    const host = options.host ?? '127.0.0.1';
    this.urls = Object.fromEntries(PROCESS_NAMES.map((name) => [name, `http://${host}:${ports[name]}`])) as Record<ProcessName, string>;
  }

  /** The environment a child gets: the common one plus its port and every peer's URL. */
  envFor(name: ProcessName): NodeJS.ProcessEnv {
    return {
      ...this.#options.env,
      HOST: this.#options.host ?? '127.0.0.1',
      PORT: String(this.ports[name]),
      SERVICE_NAME: name,
      INVENTORY_URL: this.urls.inventory,
      ORDERS_URL: this.urls.orders,
      PAYMENTS_URL: this.urls.payments,
      SHIPPING_URL: this.urls.shipping,
    };
  }

  pid(name: ProcessName): number | undefined {
    return this.#children.get(name)?.pid;
  }

  pids(): number[] {
    return [...this.#children.values()].flatMap((child) => (child.pid === undefined ? [] : [child.pid]));
  }

  /** Starts one process and waits for its /ready; rejects if it exits first or the wait times out. */
  async start(name: ProcessName, extraEnv: NodeJS.ProcessEnv = {}): Promise<void> {
    const argv = [...(this.#options.nodeFlags ?? DEFAULT_NODE_FLAGS)];
    if (this.#options.runner === 'tsx') argv.push('--import', tsxLoader, entry(name));
    else {
      bundles ??= bundleProcesses(PROCESS_NAMES);
      argv.push((await bundles)[name]);
    }
    const child = spawn(process.execPath, argv, {
      cwd: appRoot,
      env: { ...this.envFor(name), ...extraEnv },
      // The IPC channel lets a child notice when the launcher is gone, even after a SIGKILL (no orphans).
      stdio: ['ignore', this.#options.stdio ?? 'inherit', this.#options.stdio ?? 'inherit', 'ipc'],
    });
    this.#children.set(name, child);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    const onStartupExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exited = { code, signal };
    };
    child.once('exit', onStartupExit);
    const deadline = Date.now() + (this.#options.readyTimeoutMs ?? 60_000);
    for (;;) {
      if (exited) throw new StartupError(`${name} exited during startup (code ${exited.code}, signal ${exited.signal})`);
      if (Date.now() > deadline) throw new StartupError(`${name} was not ready at ${this.urls[name]}/ready in time`);
      if (await ready(this.urls[name])) break;
      await sleep(100);
    }
    child.off('exit', onStartupExit);
    child.once('exit', (code, signal) => {
      if (this.#children.get(name) === child) this.#children.delete(name);
      if (!this.#stopping) this.#options.onExit?.(name, code, signal);
    });
  }

  /** Sends a signal to one process (fault drills: SIGKILL) and waits until it is gone. */
  async kill(name: ProcessName, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#children.get(name);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
    this.#children.delete(name);
  }

  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`). */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      [...this.#children.entries()].map(async ([name, child]) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
        this.#children.delete(name);
      }),
    );
  }
}

async function ready(baseUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${baseUrl}/ready`, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts the services, then the gateway, and resolves when every /ready answers 200. If any child
 * dies or is not ready in time, the others are stopped and a StartupError names it.
 */
export async function startTopology(options: TopologyOptions): Promise<Topology> {
  const ports = {} as Record<ProcessName, number>;
  if (options.port === 0) {
    const free = await freePorts(PROCESS_NAMES.length);
    PROCESS_NAMES.forEach((name, index) => (ports[name] = free[index]!));
  } else {
    ports.gateway = options.port;
    SERVICE_NAMES.forEach((name, index) => (ports[name] = options.ports?.[name] ?? options.port + index + 1));
  }
  for (const name of SERVICE_NAMES) if (options.ports?.[name] !== undefined) ports[name] = options.ports[name]!;
  const topology = new Topology(options, ports);
  try {
    await Promise.all(SERVICE_NAMES.map((name) => topology.start(name)));
    await topology.start('gateway');
  } catch (error) {
    await topology.stop(2000);
    throw error;
  }
  return topology;
}
