import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { PortInUseError, ProcessSupervisor, TSX_LOADER, startTopology, supervisorMetricsText } from '../src/index';
import type { RunningTopology, SupervisorEvent, TopologyEvent } from '../src/index';
import { freePortRange, portFree } from '../src/ports';
import { procAvailable } from '../src/proc';
import { crashy } from './crashy-topology';

/**
 * A port another server already holds: the launcher refuses it before it starts anything, and a
 * 200 from that other server never makes a process ready (QA: `PORT=4100 pnpm start:monolith`
 * next to a running server printed "ready", then restarted the EADDRINUSE child forever, each
 * time "ready again").
 */
const PACKAGE_ROOT = resolve(import.meta.dirname, '..');
const dirs: string[] = [];
const blockers: Server[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
afterEach(async () => {
  await Promise.all(blockers.splice(0).map((b) => new Promise((done) => b.close(done))));
});

const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-busy-'));
  dirs.push(dir);
  return dir;
};

/** Another server on `port` that answers 200 to everything, /ready included (a plain node:http server). */
async function occupy(port: number): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}'));
  blockers.push(server);
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', done);
  });
  return server;
}

/** The CLI with output collected; `exit(ms)` is its exit code, or 'still running' after ms (it is then killed). */
function cli(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: PACKAGE_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', AUTH_SECRET: 'busy-test-secret-0123456789', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const exit = async (ms: number): Promise<number | null | 'still running'> => {
    const code = await Promise.race([exited, sleep(ms).then(() => 'still running' as const)]);
    if (code === 'still running') {
      // Its own group: the launcher and the servers it started.
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
    }
    return code;
  };
  return { exit, output: () => output };
}

describe('the launcher refuses a port another process holds', () => {
  it('exits 1 with one line naming the port and PORT, and never says ready (monolith)', async () => {
    const port = await freePortRange(10);
    await occupy(port);
    const launcher = cli(['monolith'], { PORT: String(port), SUPERVISOR_PORT: 'off', DATA_DIR: tempDir() });
    expect(await launcher.exit(45_000)).toBe(1);
    const output = launcher.output();
    expect(output).toBe(
      `archbench-topology: monolith: port ${port} (PORT) is already in use by another process; nothing was started (stop that process or choose another port)\n`,
    );
    expect(output).not.toMatch(/\bready\b/);
  });

  it('names each taken port of the microservices and the variable that sets it, and starts none of them', async () => {
    const port = await freePortRange(10);
    await occupy(port + 3); // payments: PORT+3
    await occupy(port + 7); // shipping, moved there by SHIPPING_PORT
    const launcher = cli(['microservices-http'], { PORT: String(port), SHIPPING_PORT: String(port + 7), DATA_DIR: tempDir() });
    expect(await launcher.exit(45_000)).toBe(1);
    const output = launcher.output();
    expect(output.trim().split('\n')).toHaveLength(1);
    expect(output).toContain(
      `microservices-http: ports ${port + 3} (payments: PORT+3; PAYMENTS_PORT moves it), ${port + 7} (shipping: SHIPPING_PORT) are already in use`,
    );
    expect(output).not.toMatch(/\bready\b/);
    for (const p of [port, port + 1, port + 2, port + 9]) expect(await portFree(p)).toBe(true);
  });

  it('refuses a taken supervisor port (PORT+9, or SUPERVISOR_PORT) before starting anything', async () => {
    const port = await freePortRange(10);
    await occupy(port + 9);
    const byDefault = cli(['monolith'], { PORT: String(port), DATA_DIR: tempDir() });
    expect(await byDefault.exit(45_000)).toBe(1);
    expect(byDefault.output()).toMatch(
      new RegExp(`^archbench-topology: monolith: port ${port + 9} \\(supervisor: PORT\\+9; SUPERVISOR_PORT moves it, off for none\\) is already in use`),
    );
    expect(byDefault.output()).not.toMatch(/\bready\b/);
    expect(await portFree(port)).toBe(true);
    const explicit = cli(['monolith'], { PORT: String(port), SUPERVISOR_PORT: String(port + 9), DATA_DIR: tempDir() });
    expect(await explicit.exit(45_000)).toBe(1);
    expect(explicit.output()).toMatch(new RegExp(`port ${port + 9} \\(supervisor: SUPERVISOR_PORT\\) is already in use`));
  });

  it('a supervised process alone (the frontend of pnpm start) is refused before it is spawned, naming its variable', async () => {
    const port = await freePortRange(1);
    await occupy(port);
    const events: SupervisorEvent[] = [];
    const frontend = new ProcessSupervisor(
      {
        name: 'frontend',
        command: process.execPath,
        args: ['--import', TSX_LOADER, join(PACKAGE_ROOT, 'test/fixtures/crashy.ts')],
        cwd: PACKAGE_ROOT,
        env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: String(port), RUN_COUNTER: join(tempDir(), 'runs') },
        readyUrl: `http://127.0.0.1:${port}/config.json`,
        portSetting: 'FRONTEND_PORT',
      },
      { output: 'capture', restart: false, onEvent: (e) => events.push(e) },
    );
    const started = frontend.start(20_000);
    await expect(started).rejects.toThrow(PortInUseError);
    await expect(started).rejects.toThrow(`frontend: port ${port} (FRONTEND_PORT) is already in use by another process`);
    expect(events).toEqual([]);
    expect(frontend.state).not.toBe('ready');
  });
});

describe.skipIf(!procAvailable())('readiness is the process itself answering, not whatever holds its port', () => {
  it('a child that loses its port to another server during startup is not ready: startup fails with its EADDRINUSE', async () => {
    const port = await freePortRange(1);
    const events: TopologyEvent[] = [];
    let blocked: Promise<Server> | undefined;
    // The port is free when the launcher checks it; another server takes it right after the child is spawned, before the child binds.
    const starting = startTopology(crashy, {
      root: PACKAGE_ROOT,
      port,
      env: { PATH: process.env.PATH, RUN_COUNTER: join(tempDir(), 'runs'), LISTEN_AFTER_MS: '1500' },
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'started') blocked ??= occupy(port);
      },
    });
    await expect(starting).rejects.toThrow(
      new RegExp(`worker exited during startup \\(code 1\\); port ${port} is in use by another process[\\s\\S]*EADDRINUSE`),
    );
    await blocked;
    expect(events.map((e) => e.type)).not.toContain('ready');
  });

  it('a restarted child that finds its port taken is not "ready again": it keeps failing with backoff, up 0, until the port is free', async () => {
    const port = await freePortRange(1);
    const events: TopologyEvent[] = [];
    const topology: RunningTopology = await startTopology(crashy, {
      root: PACKAGE_ROOT,
      port,
      env: { PATH: process.env.PATH, RUN_COUNTER: join(tempDir(), 'runs') },
      restart: { initialDelayMs: 300, maxDelayMs: 600, resetAfterMs: 60_000 },
      onEvent: (event) => events.push(event),
    });
    try {
      expect(topology.processes[0]!.state).toBe('ready');
      await topology.kill('worker', 'SIGKILL');
      // The restart comes 300 ms later; another server has the port by then.
      const blocker = await occupy(port);
      const killedAt = events.length;
      const deadline = Date.now() + 20_000;
      while (events.slice(killedAt).filter((e) => e.type === 'exited').length < 2 && Date.now() < deadline) await sleep(100);
      const after = events.slice(killedAt);
      expect(after.filter((e) => e.type === 'exited').length).toBeGreaterThanOrEqual(2);
      expect(after.filter((e) => e.type === 'exited').every((e) => e.type === 'exited' && e.code === 1)).toBe(true);
      expect(after.map((e) => e.type)).not.toContain('ready');
      expect(topology.processes[0]!.state).not.toBe('ready');
      expect(supervisorMetricsText([topology])).toContain('archbench_process_up{topology="crashy",process="worker"} 0');
      // The other server goes away: the next restart binds and is ready again.
      await new Promise((done) => blocker.close(done));
      await topology.waitReady(20_000);
      expect(events.slice(killedAt).map((e) => e.type)).toContain('ready');
      expect(((await (await fetch(`${topology.baseUrl}/ready`)).json()) as { run: number }).run).toBeGreaterThanOrEqual(2);
    } finally {
      await topology.stop(3000);
    }
  });
});
