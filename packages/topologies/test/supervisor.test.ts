import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../src/bundle';
import { backoffDelay, defineTopology, pidAlive, startTopology, supervisorMetricsText } from '../src/index';
import type { RunningTopology, TopologyEvent } from '../src/index';
import { freePort } from '../src/ports';
import { ProcessStartError, ProcessSupervisor, childStopTimeoutMs } from '../src/supervisor';
import { crashy } from './crashy-topology';

const PACKAGE_ROOT = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const alive = pidAlive;

describe('backoffDelay', () => {
  it('starts at 250 ms, doubles, and stops at 10 s', () => {
    const policy = { initialDelayMs: 250, maxDelayMs: 10_000, resetAfterMs: 60_000 };
    expect([1, 2, 3, 4, 5, 6, 7, 8].map((n) => backoffDelay(n, policy))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
});

describe('supervision of a process that keeps crashing', () => {
  it('restarts it with growing backoff up to the cap, logs code and delay, and resets after a healthy stretch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-crashy-'));
    dirs.push(dir);
    const events: (TopologyEvent & { at: number })[] = [];
    // Run 0 is up 1 s, runs 1-4 crash 150 ms after listening, run 5 stays up 5 s (more than
    // resetAfterMs), run 6 crashes at once, run 7 stays up.
    const topology = await startTopology(crashy, {
      root: PACKAGE_ROOT,
      port: 0,
      env: { PATH: process.env.PATH, RUN_COUNTER: join(dir, 'runs'), CRASH_AFTER_MS: '1000,150,150,150,150,5000,0' },
      restart: { initialDelayMs: 100, maxDelayMs: 800, resetAfterMs: 4000 },
      onEvent: (event) => events.push({ ...event, at: Date.now() }),
    });
    try {
      const deadline = Date.now() + 90_000;
      while (events.filter((e) => e.type === 'started').length < 8 || topology.processes[0]!.state !== 'ready') {
        if (Date.now() > deadline) throw new Error(`not settled: ${JSON.stringify(events.map((e) => e.type))}`);
        await sleep(100);
      }
      const exits = events.filter((e) => e.type === 'exited');
      expect(exits.map((e) => e.restartInMs)).toEqual([100, 200, 400, 800, 800, 100, 200]);
      expect(exits.every((e) => e.type === 'exited' && e.code === 3 && e.signal === null)).toBe(true);
      // Each restart came no sooner than its backoff.
      const starts = events.filter((e) => e.type === 'started').slice(1);
      exits.forEach((exit, i) => expect(starts[i]!.at - exit.at).toBeGreaterThanOrEqual((exit.type === 'exited' ? exit.restartInMs! : 0) - 5));
      expect(topology.restarts).toBe(7);
      expect(supervisorMetricsText([topology])).toContain('archbench_process_restarts_total{topology="crashy",process="worker"} 7');
      expect(((await (await fetch(`${topology.baseUrl}/ready`)).json()) as { run: number }).run).toBe(7);
    } finally {
      await topology.stop();
    }
  });

  it('does not restart a process that dies before it was ever ready: startup fails with its exit and output', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-crashy-'));
    dirs.push(dir);
    const broken = defineTopology({ ...crashy, name: 'broken', processes: [{ ...crashy.processes[0]!, entry: 'missing-env.ts' }] });
    await expect(startTopology(broken, { root: PACKAGE_ROOT, port: 0 })).rejects.toThrow(/missing-env\.ts does not exist/);
    const failing = startTopology(crashy, { root: PACKAGE_ROOT, port: 0, env: { PATH: process.env.PATH, RUN_COUNTER: '/nonexistent-dir/x' } });
    await expect(failing).rejects.toThrow(/worker exited during startup \(code 1\)[\s\S]*ENOENT/);
  });
});

describe('stop', () => {
  it('SIGTERMs every process and leaves none behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-crashy-'));
    dirs.push(dir);
    const topology: RunningTopology = await startTopology(crashy, {
      root: PACKAGE_ROOT,
      port: 0,
      env: { PATH: process.env.PATH, RUN_COUNTER: join(dir, 'runs') },
    });
    const [pid] = topology.pids();
    expect(alive(pid!)).toBe(true);
    await topology.stop(3000);
    expect(alive(pid!)).toBe(false);
    expect(topology.alive).toBe(false);
    await expect(fetch(`${topology.baseUrl}/ready`)).rejects.toThrow();
  });
});

/**
 * A supervised `node -e` child on a free port that ignores SIGTERM (only SIGKILL ends it), with
 * SHUTDOWN_DRAIN_MS=1000 in its env (stop() of a server-kit server would wait 11 s); `ready:
 * false` answers 503 forever.
 */
async function stubborn(spec: { serverKit?: boolean; ready?: boolean }) {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-stubborn-'));
  dirs.push(dir);
  const port = await freePort();
  const script = `
    require('node:http').createServer((q, r) => { r.statusCode = process.env.READY === '1' ? 200 : 503; r.end(); }).listen(Number(process.env.PORT), '127.0.0.1');
    process.on('SIGTERM', () => {});
  `;
  return new ProcessSupervisor(
    {
      name: 'stubborn',
      command: process.execPath,
      args: ['-e', script],
      cwd: dir,
      env: { PATH: process.env.PATH, PORT: String(port), SHUTDOWN_DRAIN_MS: '1000', READY: spec.ready === false ? '0' : '1' },
      readyUrl: `http://127.0.0.1:${port}/`,
      serverKit: spec.serverKit,
    },
    { output: 'capture', restart: false },
  );
}

describe('stop of a process with no drain', () => {
  it('a child that is not a server-kit server and ignores SIGTERM is SIGKILLed after the given grace, not after a drain + 10 s', async () => {
    const supervisor = await stubborn({ serverKit: false });
    await supervisor.start(10_000);
    const pid = supervisor.pid!;
    const started = performance.now();
    try {
      await supervisor.stop(300);
    } finally {
      supervisor.killNow();
    }
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(3000);
    expect(alive(pid)).toBe(false);
  }, 20_000);

  it('a server-kit server that never became ready is SIGKILLed 2 s after its start timeout, not after its drain + 10 s', async () => {
    const supervisor = await stubborn({ serverKit: true, ready: false });
    const started = performance.now();
    let pid: number | undefined;
    const watch = setInterval(() => (pid ??= supervisor.pid), 20);
    try {
      await expect(supervisor.start(500)).rejects.toThrow(ProcessStartError);
    } finally {
      clearInterval(watch);
      supervisor.killNow();
    }
    const took = performance.now() - started;
    expect(took).toBeGreaterThanOrEqual(2400);
    expect(took).toBeLessThan(5000);
    expect(pid).toBeDefined();
    expect(alive(pid!)).toBe(false);
  }, 20_000);

  it('a ready server-kit server that ignores SIGTERM is stopped after the caller’s grace when drain: false (a topology that failed to start)', async () => {
    const supervisor = await stubborn({ serverKit: true });
    await supervisor.start(10_000);
    const pid = supervisor.pid!;
    const started = performance.now();
    try {
      await supervisor.stop(300, { drain: false });
    } finally {
      supervisor.killNow();
    }
    expect(performance.now() - started).toBeLessThan(3000);
    expect(alive(pid)).toBe(false);
  }, 20_000);
});

describe('stop waits for the drain the child was given', () => {
  it('reads SHUTDOWN_DRAIN_MS from the env it passes the child as the servers do (10 s unset or refused), and adds 10 s for the work after the drain', () => {
    expect(childStopTimeoutMs({})).toBe(20_000);
    expect(childStopTimeoutMs({ SHUTDOWN_DRAIN_MS: '35000' })).toBe(45_000);
    expect(childStopTimeoutMs({ SHUTDOWN_DRAIN_MS: '0' })).toBe(10_000);
    expect(childStopTimeoutMs({ SHUTDOWN_DRAIN_MS: '600000' })).toBe(610_000);
    for (const refused of ['', '-1', '0x10', '1e4', '600001', '35s']) expect(childStopTimeoutMs({ SHUTDOWN_DRAIN_MS: refused }), refused).toBe(20_000);
  });

  it('a server-kit child still draining past the caller’s grace (SHUTDOWN_DRAIN_MS=1500, stop(300)) is not SIGKILLed: it finishes its drain and its shutdown work', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-drain-'));
    dirs.push(dir);
    const marker = join(dir, 'drained');
    const port = await freePort();
    // A server that, like serveWithShutdown with a request open, takes its whole drain after SIGTERM.
    const script = `
      const server = require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
      process.on('SIGTERM', () => { server.close(); setTimeout(() => { require('node:fs').writeFileSync(process.env.MARKER, 'drained'); process.exit(0); }, Number(process.env.SHUTDOWN_DRAIN_MS)); });
    `;
    const supervisor = new ProcessSupervisor(
      {
        name: 'draining',
        command: process.execPath,
        args: ['-e', script],
        cwd: dir,
        env: { PATH: process.env.PATH, PORT: String(port), MARKER: marker, SHUTDOWN_DRAIN_MS: '1500' },
        readyUrl: `http://127.0.0.1:${port}/`,
        serverKit: true,
      },
      { output: 'capture', restart: false },
    );
    await supervisor.start(10_000);
    const pid = supervisor.pid!;
    const started = performance.now();
    try {
      await supervisor.stop(300);
    } finally {
      supervisor.killNow();
    }
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    expect(existsSync(marker)).toBe(true);
    expect(alive(pid)).toBe(false);
  }, 15_000);
});

describe('server runtime settings', () => {
  const runtimeOf = async (env: Record<string, string | undefined>) => {
    const dir = mkdtempSync(join(tmpdir(), 'archbench-crashy-'));
    dirs.push(dir);
    const topology = await startTopology(crashy, { root: PACKAGE_ROOT, port: 0, env: { PATH: process.env.PATH, RUN_COUNTER: join(dir, 'runs'), ...env } });
    try {
      return (await (await fetch(`${topology.baseUrl}/runtime`)).json()) as { execArgv: string[]; heapSizeLimit: number; mallocArenaMax: string | null };
    } finally {
      await topology.stop(3000);
    }
  };

  it('every process runs with the server flags: a heap capped to fit its container, and two malloc arenas unless the caller says otherwise', async () => {
    const runtime = await runtimeOf({});
    for (const flag of SERVER_NODE_FLAGS) expect(runtime.execArgv).toContain(flag);
    // Node's own default is set from the machine's memory (4 GiB on a 24 GiB machine); the flags cap old space at 256 MiB.
    expect(runtime.heapSizeLimit / 2 ** 20).toBeLessThan(320);
    expect(runtime.mallocArenaMax).toBe(SERVER_ENV.MALLOC_ARENA_MAX);
    expect((await runtimeOf({ MALLOC_ARENA_MAX: '8' })).mallocArenaMax).toBe('8');
  });
});
