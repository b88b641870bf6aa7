import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../src/bundle';
import { backoffDelay, defineTopology, pidAlive, startTopology, supervisorMetricsText } from '../src/index';
import type { RunningTopology, TopologyEvent } from '../src/index';
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
