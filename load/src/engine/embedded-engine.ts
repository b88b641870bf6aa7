import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type { ScenarioDefinition } from '../scenarios/types.ts';
import type { WorkerMessage, WorkerRequest } from './protocol';
import type { RunProgress, SegmentResult } from './run-scenario';

/** Node flags that let a forked child run TypeScript through tsx's loader. */
export function tsxExecArgv(): string[] {
  return ['--import', import.meta.resolve('tsx')];
}

/** Options of a run beyond the scenario: per-request events (fault experiments), request timeout. */
export interface RunExtras {
  recordEvents?: boolean;
  requestTimeoutMs?: number;
}

/**
 * The embedded load engine: one child process that runs scenarios on request.
 * @example
 * const engine = await EmbeddedEngine.start();
 * const result = await engine.run('http://127.0.0.1:3000', browse(50, 5), tokens);
 * await engine.close();
 */
export class EmbeddedEngine {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: SegmentResult) => void; reject: (e: Error) => void; onProgress?: (p: RunProgress) => void }>();

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: WorkerMessage) => {
      if (message.type === 'ready') return;
      const waiter = this.pending.get(message.id);
      if (!waiter) return;
      if (message.type === 'progress') waiter.onProgress?.(message.progress);
      else {
        this.pending.delete(message.id);
        if (message.type === 'result') waiter.resolve(message.result);
        else waiter.reject(new Error(`load engine: ${message.message}`));
      }
    });
    child.on('exit', (code, signal) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`load engine exited (${signal ?? code}) during a run`));
      this.pending.clear();
    });
  }

  static async start(): Promise<EmbeddedEngine> {
    const child = fork(new URL('./worker.ts', import.meta.url), [], { execArgv: tsxExecArgv(), stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: WorkerMessage) => {
        if (m.type === 'ready') {
          child.off('exit', onExit);
          resolve();
        }
      };
      const onExit = (code: number | null) => reject(new Error(`load engine failed to start (exit ${code})`));
      child.once('exit', onExit);
      child.on('message', onMessage);
    });
    return new EmbeddedEngine(child);
  }

  run(baseUrl: string, scenario: ScenarioDefinition, tokens: string[], onProgress?: (p: RunProgress) => void, extra: RunExtras = {}): Promise<SegmentResult> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onProgress });
      const request: WorkerRequest = { type: 'run', id, baseUrl, scenario, tokens, ...extra };
      this.child.send(request);
    });
  }

  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.disconnect();
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}
