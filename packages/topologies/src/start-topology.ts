import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SERVER_ENV, SERVER_NODE_FLAGS, bundleEntries } from './bundle';
import { freePortRange, portInUse, portsInUseMessage } from './ports';
import type { BusyPort } from './ports';
import { procAvailable, snapshotTree } from './proc';
import type { ProcSnapshot } from './proc';
import { REPO_ROOT, getTopology, processForCapability, topologyUnavailable } from './registry';
import { DEFAULT_RESTART_POLICY, DEFAULT_STOP_GRACE_MS, PortInUseError, ProcessStartError, ProcessSupervisor } from './supervisor';
import type { OutputMode, ProcessState, RestartPolicy, SupervisorEvent } from './supervisor';
import type { Capability, TopologyContext, TopologyDefinition } from './types';

export interface StartTopologyOptions {
  /** Public port; the others follow the port scheme (PORT+offset). Default: the topology's; 0 = free ports. */
  port?: number;
  /** A port for a process other than the public one, instead of PORT+offset (`{ payments: 4003 }`). */
  ports?: Readonly<Record<string, number | undefined>>;
  /**
   * What sets each process's port, as the user knows it, named when the port is in use (the CLI:
   * `{ monolith: 'PORT' }`, `{ payments: 'PORT+3; PAYMENTS_PORT moves it' }`).
   */
  portSettings?: Readonly<Record<string, string | undefined>>;
  /**
   * Ports the caller will listen on itself (the launcher's supervisor endpoint), checked free
   * together with the topology's before anything starts.
   */
  extraPorts?: readonly BusyPort[];
  /** Interface every process listens on (default 127.0.0.1). */
  host?: string;
  /** Environment every child starts from (default: this process's). */
  env?: NodeJS.ProcessEnv;
  /** DATA_DIR of every process; default a fresh temporary folder, removed by stop(). */
  dataDir?: string;
  /** Sets DATABASE_URL (PostgreSQL instead of SQLite files). */
  databaseUrl?: string;
  /** Sets AMQP_URL. */
  amqpUrl?: string;
  authSecret?: string;
  logLevel?: string;
  /** `bundle` (default): esbuild bundles on plain Node; `tsx`: TypeScript through the tsx loader. */
  runner?: 'bundle' | 'tsx';
  /** Node flags of every child (default SERVER_NODE_FLAGS, the same for every topology). */
  nodeFlags?: string[];
  /** Where children's output goes (default `capture`: kept for logTail() and error messages). */
  output?: OutputMode;
  /** Restart policy, or false for no restarts (an exit is final). Default 250 ms doubling to 10 s, reset after 60 s up. */
  restart?: Partial<RestartPolicy> | false;
  /** Longest wait for every process to be ready, ms (default 120 000). */
  readyTimeoutMs?: number;
  /** Restarts, exits and readiness of every process, as they happen. */
  onEvent?: (event: TopologyEvent) => void;
  /** Repository root (tests point it elsewhere). */
  root?: string;
}

export type TopologyEvent = SupervisorEvent & { topology: string };

/** One process of a running topology, as `processes` reports it. */
export interface ProcessInfo {
  name: string;
  pid: number | undefined;
  port: number;
  url: string;
  state: ProcessState;
  restarts: number;
  capabilities: readonly Capability[];
}

/** A process's Prometheus text, or undefined when it has no /metrics or did not answer. */
export interface ProcessMetrics {
  process: string;
  url: string;
  text: string | undefined;
}

export class TopologyStartError extends Error {
  override readonly name = 'TopologyStartError';
}

/** Ports the topology needs are held by other processes; nothing was started. `ports` lists them. */
export class TopologyPortInUseError extends TopologyStartError {
  constructor(
    readonly topology: string,
    readonly ports: readonly BusyPort[],
  ) {
    super(portsInUseMessage(topology, ports));
  }
}

/** Thrown when a topology cannot run here; `reason` says why (e.g. AMQP_URL is not set). */
export class TopologyUnavailableError extends TopologyStartError {
  constructor(
    readonly topology: string,
    readonly reason: string,
  ) {
    super(`${topology} cannot run here: ${reason}`);
  }
}

const PROC = procAvailable();
const live = new Set<RunningTopology>();
/**
 * The tsx loader for `node --import` (a file URL, resolved from this package so a child needs no
 * tsx of its own); resolved through require because some module runners (Vite's) lack import.meta.resolve.
 */
export const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const bundles = new Map<string, Promise<Record<string, string>>>();

/** Bundles once per set of entries and process, so restarts and later starts reuse the files. */
function bundle(entries: Record<string, string>): Promise<Record<string, string>> {
  const key = JSON.stringify(Object.entries(entries).sort());
  let files = bundles.get(key);
  if (!files) {
    files = bundleEntries(entries);
    bundles.set(key, files);
    files.catch(() => bundles.delete(key));
  }
  return files;
}

/**
 * SIGKILL to every process of every topology this process started, synchronously: for an exit
 * handler (a CLI's Ctrl-C) with no time for a graceful drain.
 */
export function killAllTopologiesNow(): void {
  for (const topology of live) topology.killNow();
  live.clear();
}

/**
 * A started topology, supervised from this process: its public URL, its processes (pids, ports,
 * restart counts), fault drills (`kill`), resource figures, logs, and `stop()`.
 */
export class RunningTopology {
  readonly name: string;
  readonly definition: TopologyDefinition;
  /** The public API, e.g. `http://127.0.0.1:3100`. */
  readonly baseUrl: string;
  readonly port: number;
  readonly host: string;
  readonly dataDir: string;
  /** `http://host:port` of each process by name. */
  readonly urls: Readonly<Record<string, string>>;
  /** The file children write to, when output went to a file. */
  readonly logFile: string | undefined;
  readonly #supervisors: Map<string, ProcessSupervisor>;
  readonly #ports: Readonly<Record<string, number>>;
  readonly #ownsDataDir: boolean;
  #stopped = false;

  constructor(init: {
    definition: TopologyDefinition;
    port: number;
    ports: Record<string, number>;
    host: string;
    dataDir: string;
    ownsDataDir: boolean;
    urls: Record<string, string>;
    supervisors: Map<string, ProcessSupervisor>;
    logFile: string | undefined;
  }) {
    this.#ports = init.ports;
    this.definition = init.definition;
    this.name = init.definition.name;
    this.port = init.port;
    this.host = init.host;
    this.dataDir = init.dataDir;
    this.#ownsDataDir = init.ownsDataDir;
    this.urls = init.urls;
    this.baseUrl = init.urls[init.definition.publicProcess]!;
    this.#supervisors = init.supervisors;
    this.logFile = init.logFile;
    live.add(this);
  }

  /** Every process with its pid (undefined while down), port, state and restart count. */
  get processes(): ProcessInfo[] {
    return this.definition.processes.map((p) => {
      const supervisor = this.#supervisor(p.name);
      return {
        name: p.name,
        pid: supervisor.pid,
        port: this.#ports[p.name]!,
        url: this.urls[p.name]!,
        state: supervisor.state,
        restarts: supervisor.restarts,
        capabilities: p.capabilities,
      };
    });
  }

  /** Restarts summed over the processes. */
  get restarts(): number {
    return [...this.#supervisors.values()].reduce((sum, s) => sum + s.restarts, 0);
  }

  /** False once stopped, or when a process exited and will not be restarted. */
  get alive(): boolean {
    return !this.#stopped && [...this.#supervisors.values()].every((s) => s.state !== 'exited' && s.state !== 'stopped');
  }

  /** Pids of the live processes. */
  pids(): number[] {
    return [...this.#supervisors.values()].flatMap((s) => (s.pid === undefined ? [] : [s.pid]));
  }

  #supervisor(name: string): ProcessSupervisor {
    const supervisor = this.#supervisors.get(name);
    if (!supervisor) throw new TopologyStartError(`${this.name} has no process "${name}" (it has ${[...this.#supervisors.keys()].join(', ')})`);
    return supervisor;
  }

  /**
   * The process that runs a capability: `processFor('payments')` is `payments` in the
   * microservices and `monolith` in the monolith (fault drills kill it).
   */
  processFor(capability: Capability): string {
    const name = processForCapability(this.definition, capability);
    if (!name) throw new TopologyStartError(`no process of ${this.name} runs ${capability}`);
    return name;
  }

  /** Sends a signal to one process and resolves once it has exited; a supervised process comes back after its backoff. */
  kill(processName: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    return this.#supervisor(processName).kill(signal);
  }

  /** Starts a process that is down (or waits for one being restarted) and resolves once it is ready. */
  async start(processName: string, timeoutMs = 120_000): Promise<void> {
    const supervisor = this.#supervisor(processName);
    if (supervisor.state === 'starting' || supervisor.state === 'backoff') return supervisor.waitReady(timeoutMs);
    return supervisor.start(timeoutMs);
  }

  /** Resolves when every process is ready (after restarts too); rejects after `timeoutMs`. */
  async waitReady(timeoutMs = 120_000): Promise<void> {
    await Promise.all([...this.#supervisors.values()].map((s) => s.waitReady(timeoutMs)));
  }

  /**
   * CPU seconds and resident memory summed over the server processes (each with anything it
   * spawned): from /proc where there is one (Linux), else from each process's /metrics
   * (process_cpu_seconds_total, process_resident_memory_bytes). The supervisor, which no
   * deployment has, is not counted, nor is a process defined with `measure: 'children'` (only
   * what it spawned is).
   */
  async snapshot(): Promise<ProcSnapshot> {
    if (PROC) {
      const snapshots = [...this.#supervisors.entries()].flatMap(([name, supervisor]) => {
        if (supervisor.pid === undefined) return [];
        // `measure: 'children'`: a launcher no deployment has; only what it runs is counted.
        const childrenOnly = this.definition.processes.find((p) => p.name === name)?.measure === 'children';
        return [snapshotTree(supervisor.pid, childrenOnly)];
      });
      return {
        pids: snapshots.flatMap((s) => s.pids),
        cpuSeconds: snapshots.reduce((sum, s) => sum + s.cpuSeconds, 0),
        rssBytes: snapshots.reduce((sum, s) => sum + s.rssBytes, 0),
      };
    }
    const scrapes = (await this.scrapeMetrics()).flatMap((m) => (m.text === undefined ? [] : [m.text]));
    return {
      pids: this.pids(),
      cpuSeconds: scrapes.reduce((sum, text) => sum + (gaugeValue(text, 'process_cpu_seconds_total') ?? 0), 0),
      rssBytes: scrapes.reduce((sum, text) => sum + (gaugeValue(text, 'process_resident_memory_bytes') ?? 0), 0),
    };
  }

  /** The Prometheus text of every process that has /metrics. */
  async scrapeMetrics(): Promise<ProcessMetrics[]> {
    const withMetrics = this.definition.processes.filter((p) => p.metricsPath !== null);
    return Promise.all(
      withMetrics.map(async (p) => {
        const url = `${this.urls[p.name]}${p.metricsPath ?? '/metrics'}`;
        try {
          const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
          const text = await response.text();
          return { process: p.name, url, text: response.ok ? text : undefined };
        } catch {
          return { process: p.name, url, text: undefined };
        }
      }),
    );
  }

  /** The last lines the processes wrote, each prefixed with its process name. */
  logTail(lines = 20): string {
    if (this.logFile) {
      try {
        return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '(no log)';
      }
    }
    const all = [...this.#supervisors.values()].flatMap((s) => s.tail(lines).map((line) => `[${s.name}] ${line}`));
    return all.length ? all.slice(-lines).join('\n') : '(no output)';
  }

  /**
   * Stops every process: SIGTERM (graceful drain), SIGKILL after `graceMs` (5 s by default), or
   * for a ready server-kit server (`serverKit`) after its own drain (SHUTDOWN_DRAIN_MS) plus 10 s
   * if that is longer, unless `drain: false` (ProcessSupervisor.stop); public process first so no
   * new work arrives; removes a temporary DATA_DIR. Leaves no process behind.
   */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS, options: { drain?: boolean } = {}): Promise<void> {
    this.#stopped = true;
    const publicOne = this.#supervisors.get(this.definition.publicProcess);
    await publicOne?.stop(graceMs, options);
    await Promise.all([...this.#supervisors.values()].map((s) => s.stop(graceMs, options)));
    live.delete(this);
    if (this.#ownsDataDir) rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** SIGKILL to every process now, synchronously. */
  killNow(): void {
    this.#stopped = true;
    for (const s of this.#supervisors.values()) s.killNow();
    live.delete(this);
  }
}

/** The value of an unlabelled sample in Prometheus text (enough for the process_* gauges). */
function gaugeValue(text: string, name: string): number | undefined {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/**
 * Starts a topology from its definition, supervised by this process, and resolves once every
 * process answers its ready URL (itself: not another server on its port). Processes listen on
 * PORT+offset (public PORT, then PORT+1..+4 = inventory, orders, payments, shipping). A port that
 * another process holds is refused before anything starts (TopologyPortInUseError, naming the
 * port and `portSettings`). On failure everything started is stopped again and a
 * TopologyStartError names the process and shows its last output.
 * @example
 * const t = await startTopology('microservices-http', { port: 0 });
 * await fetch(`${t.baseUrl}/products`); await t.kill(t.processFor('payments'), 'SIGKILL');
 * await t.waitReady(); await t.stop();
 */
export async function startTopology(nameOrDefinition: string | TopologyDefinition, options: StartTopologyOptions = {}): Promise<RunningTopology> {
  // eslint-disable-next-line no-restricted-properties -- children inherit the caller's environment unless options.env replaces it
  const baseEnv: NodeJS.ProcessEnv = { ...(options.env ?? process.env) };
  if (options.databaseUrl !== undefined) baseEnv.DATABASE_URL = options.databaseUrl;
  if (options.amqpUrl !== undefined) baseEnv.AMQP_URL = options.amqpUrl;
  if (options.authSecret !== undefined) baseEnv.AUTH_SECRET = options.authSecret;
  if (options.logLevel !== undefined) baseEnv.LOG_LEVEL = options.logLevel;
  const definition = typeof nameOrDefinition === 'string' ? getTopology(nameOrDefinition, baseEnv) : nameOrDefinition;
  const root = options.root ?? REPO_ROOT;
  const reason = topologyUnavailable(definition, baseEnv, root);
  if (reason) throw new TopologyUnavailableError(definition.name, reason);

  const requestedPort = options.port ?? definition.defaultPort;
  // With free ports a collision with another starter is possible between probe and bind: try again.
  const attempts = requestedPort === 0 ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(definition, options, baseEnv, root, requestedPort);
    } catch (error) {
      const collided = error instanceof TopologyPortInUseError || (error instanceof TopologyStartError && /EADDRINUSE/.test(error.message));
      if (attempt >= attempts || !collided) throw error;
    }
  }
}

async function startOnce(
  definition: TopologyDefinition,
  options: StartTopologyOptions,
  baseEnv: NodeJS.ProcessEnv,
  root: string,
  requestedPort: number,
): Promise<RunningTopology> {
  const host = options.host ?? '127.0.0.1';
  const span = Math.max(...definition.processes.map((p) => p.portOffset)) + 1;
  const port = requestedPort === 0 ? await freePortRange(span, host === '0.0.0.0' ? '127.0.0.1' : host) : requestedPort;
  // Clients reach a server listening on every interface through loopback.
  const reachHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const ports = Object.fromEntries(
    definition.processes.map((p) => [p.name, (p.name !== definition.publicProcess ? options.ports?.[p.name] : undefined) ?? port + p.portOffset]),
  );
  const urls = Object.fromEntries(definition.processes.map((p) => [p.name, `http://${reachHost}:${ports[p.name]}`]));
  const label = (name: string) => (definition.processes.length === 1 ? definition.name : `${definition.name}/${name}`);
  const settingOf = (name: string) => {
    const setting = options.portSettings?.[name];
    return definition.processes.length === 1 ? setting : setting ? `${name}: ${setting}` : name;
  };
  // Refused before anything is bundled or spawned: a second server on a port would answer for a process that cannot bind it.
  const wanted: BusyPort[] = [...definition.processes.map((p) => ({ port: ports[p.name]!, what: settingOf(p.name) })), ...(options.extraPorts ?? [])];
  const clash = wanted.find((w, i) => w.port !== 0 && wanted.findIndex((o) => o.port === w.port) !== i);
  if (clash) {
    const sharing = wanted.filter((w) => w.port === clash.port).map((w) => w.what ?? definition.publicProcess);
    throw new TopologyStartError(`${definition.name}: ${sharing.join(' and ')} are both set to port ${clash.port}; give each its own port`);
  }
  const probed = await Promise.all(wanted.map(async (w) => (w.port !== 0 && (await portInUse(w.port, host)) ? [w] : [])));
  const busy = probed.flat();
  if (busy.length > 0) throw new TopologyPortInUseError(definition.name, busy);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), `archbench-${definition.name}-`));
  baseEnv.DATA_DIR = dataDir;
  const context: TopologyContext = { env: baseEnv, host, port, ports, urls, root };
  const topologyEnv = definition.env?.(context) ?? {};
  const appDir = join(root, definition.app);
  const runnerOf = (p: TopologyDefinition['processes'][number]) => p.runner ?? options.runner ?? 'bundle';
  const toBundle = Object.fromEntries(
    definition.processes.filter((p) => runnerOf(p) === 'bundle').map((p) => [`${definition.name}-${p.name}`, join(appDir, p.entry)]),
  );
  let files: Record<string, string> = {};
  try {
    if (Object.keys(toBundle).length > 0) files = await bundle(toBundle);
  } catch (error) {
    if (ownsDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw new TopologyStartError(`${definition.name}: bundling failed: ${error instanceof Error ? error.message : String(error)}`);
  }
  const nodeFlags = options.nodeFlags ?? SERVER_NODE_FLAGS;
  const restart = options.restart === false ? false : { ...DEFAULT_RESTART_POLICY, ...options.restart };
  const output = options.output ?? 'capture';
  const supervisors = new Map<string, ProcessSupervisor>();
  for (const p of definition.processes) {
    const entryArgs = runnerOf(p) === 'bundle' ? [files[`${definition.name}-${p.name}`]!] : ['--import', TSX_LOADER, join(appDir, p.entry)];
    const env = { ...SERVER_ENV, ...baseEnv, ...topologyEnv, ...p.env?.(context), HOST: host, PORT: String(ports[p.name]), SERVICE_NAME: p.name };
    supervisors.set(
      p.name,
      new ProcessSupervisor(
        {
          name: p.name,
          command: process.execPath,
          args: [...nodeFlags, ...entryArgs],
          cwd: appDir,
          env,
          readyUrl: `${urls[p.name]}${p.readyPath ?? '/ready'}`,
          port: ports[p.name],
          portSetting: options.portSettings?.[p.name],
          label: label(p.name),
          serverKit: p.serverKit === true,
        },
        { output, restart, onEvent: options.onEvent ? (event) => options.onEvent!({ ...event, topology: definition.name }) : undefined },
      ),
    );
  }
  const topology = new RunningTopology({
    definition,
    port,
    ports,
    host,
    dataDir,
    ownsDataDir,
    urls,
    supervisors,
    logFile: typeof output === 'object' && 'file' in output ? output.file : undefined,
  });
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  try {
    // In waves: each process starts once every process it comes `after` is ready.
    const started = new Set<string>();
    while (started.size < definition.processes.length) {
      const wave = definition.processes.filter((p) => !started.has(p.name) && (p.after ?? []).every((a) => started.has(a)));
      if (wave.length === 0) throw new TopologyStartError(`${definition.name}: the "after" lists of its processes form a cycle`);
      await Promise.all(wave.map((p) => supervisors.get(p.name)!.start(timeoutMs)));
      for (const p of wave) started.add(p.name);
    }
  } catch (error) {
    // The topology was never handed out, so its processes served nothing: no drain to wait for.
    await topology.stop(2000, { drain: false });
    // Taken between the check above and this process's start: the same refusal.
    if (error instanceof PortInUseError) {
      const taken = definition.processes.find((p) => ports[p.name] === error.port);
      throw new TopologyPortInUseError(definition.name, [{ port: error.port, what: taken ? settingOf(taken.name) : undefined }]);
    }
    const message = error instanceof Error ? error.message : String(error);
    throw new TopologyStartError(`${definition.name} did not start: ${message}`, { cause: error instanceof ProcessStartError ? undefined : error });
  }
  return topology;
}
