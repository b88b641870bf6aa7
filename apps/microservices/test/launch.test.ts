import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../src/launcher';

const launchScript = fileURLToPath(new URL('../src/launch.ts', import.meta.url));
const tsxLoader = import.meta.resolve('tsx');
const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function launch(port: number) {
  const dataDir = mkdtempSync(join(tmpdir(), 'archbench-launch-'));
  dirs.push(dataDir);
  const child = spawn(process.execPath, ['--import', tsxLoader, launchScript], {
    env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'error', AUTH_SECRET: 'launch-test-secret-0123456789' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Five consecutive free ports: the gateway's and PORT+1..PORT+4. */
async function consecutivePorts(): Promise<number> {
  for (;;) {
    const [base] = await freePorts(1);
    const free = await Promise.all([1, 2, 3, 4].map((i) => portFree(base! + i)));
    if (base! + 4 < 65535 && free.every(Boolean)) return base!;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('launch.ts', () => {
  it('serves the gateway on PORT and the services on PORT+1..PORT+4, and SIGTERM stops every process', async () => {
    const port = await consecutivePorts();
    const run = launch(port);
    const deadline = Date.now() + 90_000;
    while (!/shipping\s+http/.test(run.output())) {
      if (Date.now() > deadline || run.child.exitCode !== null) throw new Error(`launch did not get ready:\n${run.output()}`);
      await sleep(200);
    }
    expect(run.output()).toContain(`gateway    http://127.0.0.1:${port}`);
    for (const [i, name] of ['inventory', 'orders', 'payments', 'shipping'].entries()) {
      expect(run.output()).toContain(`${name.padEnd(9)}  http://127.0.0.1:${port + i + 1}`);
      expect((await fetch(`http://127.0.0.1:${port + i + 1}/metrics`)).status).toBe(200);
    }
    expect(((await (await fetch(`http://127.0.0.1:${port}/ready`)).json()) as { status: string }).status).toBe('ok');
    const pids = [...run.output().matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
    expect(pids).toHaveLength(4);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    await sleep(500);
    expect(pids.filter(alive)).toEqual([]); // no orphans
  });

  it('exits non-zero, naming the process, when a child cannot start, and leaves no process behind', async () => {
    const port = await consecutivePorts();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port + 3, '127.0.0.1', resolve)); // payments' port
    try {
      const run = launch(port);
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(/payments exited during startup/);
      for (const p of [port, port + 1, port + 2, port + 4]) expect(await portFree(p)).toBe(true);
    } finally {
      blocker.close();
    }
  });
});
