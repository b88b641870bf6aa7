import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { portInUse, portsInUseMessage } from './ports';
import { procAvailable, treeListensOn } from './proc';

/** Restart policy of a supervised process, like a platform's (systemd, Kubernetes' CrashLoopBackOff). */
export interface RestartPolicy {
  /** Delay before the first restart, ms (doubles with each crash in a row). */
  initialDelayMs: number;
  /** Longest delay between restarts, ms. */
  maxDelayMs: number;
  /** A process that was ready this long before it exited starts again at the initial delay. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialDelayMs: 250, maxDelayMs: 10_000, resetAfterMs: 60_000 };

/** The delay before restart number `crashesInARow` (1-based) under `policy`. @example backoffDelay(3, DEFAULT_RESTART_POLICY) // 1000 */
export function backoffDelay(crashesInARow: number, policy: RestartPolicy): number {
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.max(0, crashesInARow - 1));
}

/** What a supervisor reports; the caller decides where it goes (the CLI prints it). */
export type SupervisorEvent =
  | { type: 'started'; process: string; pid: number; restarts: number }
  | { type: 'ready'; process: string; pid: number; restarts: number; startMs: number; sinceExitMs: number | undefined }
  | {
      type: 'exited';
      process: string;
      pid: number;
      code: number | null;
      signal: NodeJS.Signals | null;
      restarts: number;
      restartInMs: number | undefined;
      uptimeMs: number;
    };

/**
 * Where a child's output goes: `inherit` shares this process's stdout/stderr; `capture` keeps the
 * last lines only (for error messages and `logTail()`); `prefix` also writes them to `stream`
 * with a `[name] ` prefix; `{ file }` appends both streams to a file.
 */
export type OutputMode = 'inherit' | 'capture' | { prefix: NodeJS.WritableStream } | { file: string };

export interface ProcessSpec {
  name: string;
  /** Executable and arguments (node, flags, entry). */
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Answers 200 once the process can serve. */
  readyUrl: string;
  /**
   * The TCP port the process listens on (default: the ready URL's). start() refuses to spawn
   * while another process holds it, and a 200 from the ready URL counts only when this process
   * (or one it spawned) is what listens there, not another server on the same port. `null`: no
   * port checks (a ready URL served by someone else).
   */
  port?: number | null;
  /** The variable that sets the port (`FRONTEND_PORT`), named when the port is in use. */
  portSetting?: string;
  /** How its output lines are prefixed in `prefix` mode (default: the name). */
  label?: string;
  /**
   * The process is a server-kit server (`serveWithShutdown`): after SIGTERM it drains for
   * SHUTDOWN_DRAIN_MS, then closes its database and broker, so stop() waits for that (see
   * childStopTimeoutMs) once it has been ready. Any other process (the frontend's server, the
   * serverless launcher) has no drain and gets stop()'s grace only.
   */
  serverKit?: boolean;
}

export interface SupervisorOptions {
  output: OutputMode;
  /** False: an exit is final (tests that restart by hand); else the policy. */
  restart: RestartPolicy | false;
  onEvent?: (event: SupervisorEvent) => void;
  /** Lines of output kept for `tail()`. */
  tailLines?: number;
}

export type ProcessState = 'starting' | 'ready' | 'backoff' | 'exited' | 'stopped';

export class ProcessStartError extends Error {
  override readonly name = 'ProcessStartError';
}

/** start() found the process's port held by another process and spawned nothing. */
export class PortInUseError extends ProcessStartError {
  constructor(
    readonly label: string,
    readonly port: number,
    readonly setting?: string,
  ) {
    super(portsInUseMessage(label, [{ port, what: setting }]));
  }
}

/**
 * A server's drain after SIGTERM when SHUTDOWN_DRAIN_MS is unset, ms: server-kit's default
 * (`DEFAULT_SHUTDOWN_DRAIN_MS` in @archbench/server-kit/env, which this package does not depend on).
 */
export const DEFAULT_SHUTDOWN_DRAIN_MS = 10_000;

/**
 * Time a server takes after its drain to finish shutting down, ms: the microservices' orders
 * waits up to 5 s for the sagas it drives, then servers close their database and broker and
 * flush their spans (deploy's rules leave 5 s for this on top of the drain; 5 s more here, as a
 * busy machine is slower).
 */
export const SHUTDOWN_WORK_MS = 10_000;

/**
 * The drain a server started with `env` gets after SIGTERM, ms, read as server-kit reads
 * SHUTDOWN_DRAIN_MS: decimal digits, at most 600000, else (unset, or a value the server refuses
 * at start, so it never runs) the 10 s default.
 * @example shutdownDrainMs({ SHUTDOWN_DRAIN_MS: '35000' }) // 35000
 */
export function shutdownDrainMs(env: NodeJS.ProcessEnv): number {
  const value = env.SHUTDOWN_DRAIN_MS;
  return value !== undefined && /^\d+$/.test(value) && Number(value) <= 600_000 ? Number(value) : DEFAULT_SHUTDOWN_DRAIN_MS;
}

/**
 * The least stop() waits after SIGTERM before SIGKILL for a ready server-kit server
 * (`serverKit`) started with `env`, ms: its drain, then SHUTDOWN_WORK_MS for what it does after.
 * @example childStopTimeoutMs({}) // 20000
 */
export function childStopTimeoutMs(env: NodeJS.ProcessEnv): number {
  return shutdownDrainMs(env) + SHUTDOWN_WORK_MS;
}

/**
 * stop()'s wait between SIGTERM and SIGKILL when the caller gives none, ms: what a process
 * with no drain (not a server-kit server, or one that never became ready) gets to exit.
 */
export const DEFAULT_STOP_GRACE_MS = 5_000;

/** The wait before SIGKILL for a process that was not ready within start()'s timeout, ms: it has served nothing, so nothing to drain. */
const START_TIMEOUT_STOP_MS = 2_000;

/** Every supervisor with a child that may be running (for killAllSupervisedNow). */
const supervised = new Set<ProcessSupervisor>();

/**
 * SIGKILL to every child process any supervisor of this process started (each with its process
 * group), synchronously, without a drain: for a launcher told to stop a second time, or an exit
 * handler with no time left.
 */
export function killAllSupervisedNow(): void {
  for (const supervisor of [...supervised]) supervisor.killNow();
}

/** Where /proc tells which process listens on a port (Linux), readiness checks the listener is the child. */
const PROC = procAvailable();

const isAlive = (child: ChildProcess) => child.exitCode === null && child.signalCode === null;

/** Signals a whole process group (each child leads its own, so helpers it spawned go too). */
function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is gone (never fall back to the bare pid: it may belong to someone else by now)
  }
}

/**
 * One supervised child process: spawns it in its own process group with an IPC channel (so it
 * stops when this process dies, even by SIGKILL), waits for its ready URL, and restarts it with
 * exponential backoff when it exits unexpectedly.
 */
export class ProcessSupervisor {
  readonly spec: ProcessSpec;
  #options: SupervisorOptions;
  #child: ChildProcess | undefined;
  #state: ProcessState = 'exited';
  #restarts = 0;
  #crashesInARow = 0;
  #startedAt = 0;
  #readyAt: number | undefined;
  #lastExitAt: number | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #tail: string[] = [];
  #partial = '';
  #readyWaiters: (() => void)[] = [];
  #generation = 0;
  /** The port was free right before this child was spawned (what readiness trusts where /proc cannot tell who listens). */
  #portFreeAtSpawn = true;
  /** The ready URL answered while another process held the port (for the error message). */
  #foreignListener = false;

  constructor(spec: ProcessSpec, options: SupervisorOptions) {
    this.spec = spec;
    this.#options = options;
  }

  get name(): string {
    return this.spec.name;
  }
  get pid(): number | undefined {
    return this.#child && isAlive(this.#child) ? this.#child.pid : undefined;
  }
  get state(): ProcessState {
    return this.#state;
  }
  /** Times this process was started again after an unexpected exit. */
  get restarts(): number {
    return this.#restarts;
  }

  /** The port the process listens on: `spec.port`, else the ready URL's; undefined with `port: null`. */
  get port(): number | undefined {
    if (this.spec.port === null) return undefined;
    if (this.spec.port !== undefined) return this.spec.port;
    const url = new URL(this.spec.readyUrl);
    return Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  }

  /** The address the process listens on: its HOST, else the ready URL's host. */
  get #host(): string {
    return this.spec.env.HOST || new URL(this.spec.readyUrl).hostname.replace(/^\[(.*)\]$/, '$1');
  }

  /** Whether another process holds the port now. */
  async #portTaken(): Promise<boolean> {
    const port = this.port;
    return port !== undefined && (await portInUse(port, this.#host));
  }

  /** The last lines the process wrote (stdout and stderr), oldest first. */
  tail(lines = 40): string[] {
    const all = this.#partial ? [...this.#tail, this.#partial] : this.#tail;
    return all.slice(-lines);
  }

  #keep(text: string): void {
    const lines = (this.#partial + text).split('\n');
    this.#partial = lines.pop() ?? '';
    this.#tail.push(...lines);
    const max = this.#options.tailLines ?? 200;
    if (this.#tail.length > max) this.#tail.splice(0, this.#tail.length - max);
  }

  #spawn(): ChildProcess {
    const output = this.#options.output;
    let stdio: ('ignore' | 'inherit' | 'pipe' | 'ipc' | number)[];
    let fd: number | undefined;
    if (output === 'inherit') stdio = ['ignore', 'inherit', 'inherit', 'ipc'];
    else if (typeof output === 'object' && 'file' in output) {
      fd = openSync(output.file, 'a');
      stdio = ['ignore', fd, fd, 'ipc'];
    } else stdio = ['ignore', 'pipe', 'pipe', 'ipc'];
    const child = spawn(this.spec.command, this.spec.args, {
      cwd: this.spec.cwd,
      env: this.spec.env,
      stdio,
      // Its own process group: a terminal's Ctrl-C reaches only the supervisor, which stops the
      // children in order, and a signal to the group also reaches helpers the child spawned.
      detached: true,
    });
    if (fd !== undefined) closeSync(fd);
    const prefix = typeof output === 'object' && 'prefix' in output ? output.prefix : undefined;
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      this.#keep(text);
      prefix?.write(text.replace(/^(?=.)/gm, `[${this.spec.label ?? this.spec.name}] `));
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    // A child that never uses the channel must not keep this process alive.
    child.channel?.unref();
    child.on('error', (error) => this.#keep(`spawn error: ${error.message}\n`));
    return child;
  }

  /**
   * Starts the process and resolves once its ready URL answers 200 from it; rejects (and leaves
   * it stopped) when its port is held by another process (PortInUseError, nothing spawned), when
   * it exits first, or when it is not ready within `timeoutMs`.
   */
  async start(timeoutMs: number): Promise<void> {
    if (this.#child && isAlive(this.#child)) return this.waitReady(timeoutMs);
    clearTimeout(this.#restartTimer);
    const generation = ++this.#generation;
    if (await this.#portTaken()) {
      this.#state = 'stopped';
      throw new PortInUseError(this.spec.label ?? this.name, this.port!, this.spec.portSetting);
    }
    if (this.#generation !== generation) throw new ProcessStartError(`${this.name} was stopped while starting`);
    this.#launch(generation, true);
    const child = this.#child!;
    const deadline = Date.now() + timeoutMs;
    while (this.#generation === generation && isAlive(child) && this.#state === 'starting') {
      if (Date.now() > deadline) {
        // Never ready, so it served nothing: no drain to wait for, whatever it is.
        await this.stop(START_TIMEOUT_STOP_MS, { drain: false });
        throw new ProcessStartError(
          `${this.name} was not ready at ${this.spec.readyUrl} within ${Math.round(timeoutMs / 1000)} s${this.#foreignText()}${this.#tailText()}`,
        );
      }
      await sleep(100);
    }
    if (this.#state === 'ready') return;
    const exit = child.signalCode ? `signal ${child.signalCode}` : `code ${child.exitCode}`;
    this.#state = 'stopped';
    clearTimeout(this.#restartTimer);
    const taken = this.#foreignListener || (await this.#portTaken()) ? `; port ${this.port} is in use by another process` : '';
    throw new ProcessStartError(`${this.name} exited during startup (${exit})${taken}${this.#tailText()}`);
  }

  #foreignText(): string {
    return this.#foreignListener ? ` (port ${this.port} answers, but from another process, not from ${this.name})` : '';
  }

  #tailText(): string {
    const lines = this.tail(15);
    return lines.length ? `; its last output:\n${lines.join('\n')}` : '';
  }

  /** Spawns and starts polling readiness; exits are handled by #onExit. */
  #launch(generation: number, portWasFree: boolean): void {
    this.#state = 'starting';
    this.#startedAt = Date.now();
    this.#readyAt = undefined;
    this.#portFreeAtSpawn = portWasFree;
    this.#foreignListener = false;
    const child = this.#spawn();
    this.#child = child;
    supervised.add(this);
    this.#options.onEvent?.({ type: 'started', process: this.name, pid: child.pid ?? -1, restarts: this.#restarts });
    child.once('exit', (code, signal) => this.#onExit(child, generation, code, signal));
    void this.#pollReady(child, generation);
  }

  /**
   * Whether this child is what listens on the port, so a 200 from the ready URL is its own: on
   * Linux the listening socket must belong to it or a process it spawned; where /proc cannot
   * tell, the port must have been free when it was spawned.
   */
  #listensItself(child: ChildProcess): boolean {
    const port = this.port;
    if (port === undefined || child.pid === undefined) return true;
    return (PROC ? treeListensOn(child.pid, port) : undefined) ?? this.#portFreeAtSpawn;
  }

  async #pollReady(child: ChildProcess, generation: number): Promise<void> {
    while (this.#generation === generation && isAlive(child) && this.#state === 'starting') {
      if (await answers(this.spec.readyUrl)) {
        if (this.#generation !== generation || !isAlive(child) || this.#state !== 'starting') return;
        // Another server on the port answered (the child will fail to bind, or has not yet): not ready.
        if (!this.#listensItself(child)) {
          this.#foreignListener = true;
          await sleep(100);
          continue;
        }
        this.#state = 'ready';
        const now = Date.now();
        this.#readyAt = now;
        this.#options.onEvent?.({
          type: 'ready',
          process: this.name,
          pid: child.pid ?? -1,
          restarts: this.#restarts,
          startMs: now - this.#startedAt,
          sinceExitMs: this.#lastExitAt === undefined ? undefined : now - this.#lastExitAt,
        });
        for (const wake of this.#readyWaiters.splice(0)) wake();
        return;
      }
      await sleep(100);
    }
  }

  #onExit(child: ChildProcess, generation: number, code: number | null, signal: NodeJS.Signals | null): void {
    // Helpers the child left behind in its group go with it.
    if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
    if (generation !== this.#generation || this.#state === 'stopped') return;
    const now = Date.now();
    const uptimeMs = now - this.#startedAt;
    this.#lastExitAt = now;
    const wasReady = this.#state === 'ready';
    // Before the first ready there is nothing to restart: start() reports the failure.
    const supervise = this.#options.restart !== false && (wasReady || this.#restarts > 0 || this.#crashesInARow > 0);
    if (!supervise) {
      this.#state = 'exited';
      this.#options.onEvent?.({
        type: 'exited',
        process: this.name,
        pid: child.pid ?? -1,
        code,
        signal,
        restarts: this.#restarts,
        restartInMs: undefined,
        uptimeMs,
      });
      return;
    }
    const policy = this.#options.restart as RestartPolicy;
    // Healthy time counts from ready: a process that crash-loops during startup never resets.
    if (this.#readyAt !== undefined && now - this.#readyAt >= policy.resetAfterMs) this.#crashesInARow = 0;
    this.#crashesInARow++;
    const delay = backoffDelay(this.#crashesInARow, policy);
    this.#state = 'backoff';
    this.#options.onEvent?.({ type: 'exited', process: this.name, pid: child.pid ?? -1, code, signal, restarts: this.#restarts, restartInMs: delay, uptimeMs });
    this.#restartTimer = setTimeout(() => void this.#relaunch(generation), delay);
  }

  /** A restart after the backoff. The port is probed first: a child spawned onto a taken port is not trusted to be ready where /proc cannot tell. */
  async #relaunch(generation: number): Promise<void> {
    if (this.#generation !== generation || this.#state !== 'backoff') return;
    const free = !(await this.#portTaken());
    if (this.#generation !== generation || this.#state !== 'backoff') return;
    this.#restarts++;
    this.#launch(generation, free);
  }

  /** Resolves when the process is ready (now or after a restart); rejects after `timeoutMs`. */
  waitReady(timeoutMs: number): Promise<void> {
    if (this.#state === 'ready') return Promise.resolve();
    if (this.#state === 'stopped' || this.#state === 'exited') return Promise.reject(new ProcessStartError(`${this.name} is not running (${this.#state})`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#readyWaiters = this.#readyWaiters.filter((w) => w !== wake);
        reject(
          new ProcessStartError(
            `${this.name} was not ready within ${Math.round(timeoutMs / 1000)} s (state ${this.#state})${this.#foreignText()}${this.#tailText()}`,
          ),
        );
      }, timeoutMs);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#readyWaiters.push(wake);
    });
  }

  /**
   * Sends `signal` to the process (a fault drill: SIGKILL) and resolves once it has exited. The
   * exit counts as unexpected, so a supervised process is restarted after its backoff.
   */
  async kill(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || !isAlive(child)) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await gone;
  }

  /**
   * Stops the process for good: SIGTERM to its group, SIGKILL after `graceMs`; no restart. A
   * server-kit server (`spec.serverKit`) that is ready waits at least for the drain it was given
   * and its shutdown work (childStopTimeoutMs of its env), so it is not killed while it lets
   * requests finish or closes its database; `drain: false` (nothing was served yet) skips that.
   * A process that is not ready (still starting, never ready) has served nothing: `graceMs` only.
   * A caller that cannot wait uses killNow().
   */
  async stop(graceMs = DEFAULT_STOP_GRACE_MS, options: { drain?: boolean } = {}): Promise<void> {
    const drains = options.drain !== false && this.spec.serverKit === true && this.#state === 'ready';
    const waitMs = drains ? Math.max(graceMs, childStopTimeoutMs(this.spec.env)) : graceMs;
    this.#state = 'stopped';
    this.#generation++;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    for (const wake of this.#readyWaiters.splice(0)) wake();
    if (!child || child.pid === undefined) return;
    if (isAlive(child)) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      signalGroup(child.pid, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child.pid!, 'SIGKILL'), waitMs);
      await gone;
      clearTimeout(timer);
    }
    signalGroup(child.pid, 'SIGKILL');
    if (this.#child === child) supervised.delete(this);
  }

  /** SIGKILL to the process group now, synchronously (for an exit handler with no time left). */
  killNow(): void {
    this.#state = 'stopped';
    this.#generation++;
    clearTimeout(this.#restartTimer);
    if (this.#child?.pid !== undefined) signalGroup(this.#child.pid, 'SIGKILL');
    supervised.delete(this);
  }
}

/** True when `url` answers 200 within 2 s. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false;
  }
}
