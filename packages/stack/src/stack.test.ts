import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, freePort, freePortRange, listTopologies, pidAlive } from '@archbench/topologies';
import { processTree } from '@archbench/topologies/proc';
import { describe, expect, it } from 'vitest';
import { StackError, describeStack, frontendBackends, planStack, startStack } from './stack';

const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const alive = pidAlive;

describe('planStack', () => {
  it('runs one topology per family from the registry, each on its own port scheme', () => {
    const plan = planStack({});
    const ids = plan.topologies.map((t) => t.id);
    expect(ids.slice(0, 2)).toEqual(['monolith', 'microservices']);
    // Every registered topology is either planned or a variant of a planned family.
    for (const d of listTopologies()) expect(ids).toContain(d.family ?? d.name);
    expect(plan.topologies.find((t) => t.id === 'microservices')?.definition.name).toBe('microservices-http');
    expect(plan.topologies.map((t) => t.port).slice(0, 2)).toEqual([3000, 3100]);
    expect(plan.frontendPort).toBe(5173);
    expect(plan.supervisorPort).toBe(3009);
  });

  it('picks the RabbitMQ microservices when AMQP_URL is set, and takes <NAME>_PORT', () => {
    const plan = planStack({ AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672', MICROSERVICES_PORT: '4100', SUPERVISOR_PORT: 'off' });
    const ms = plan.topologies.find((t) => t.id === 'microservices')!;
    expect(ms.definition.name).toBe('microservices-amqp');
    expect(ms.port).toBe(4100);
    expect(ms.skip).toBeUndefined();
    expect(plan.supervisorPort).toBeUndefined();
  });

  it('rejects a bad port and an unknown topology with a clear message', () => {
    expect(() => planStack({ HYBRID_PORT: '70000' })).toThrow(StackError);
    expect(() => planStack({ FRONTEND_PORT: 'x' })).toThrow(/FRONTEND_PORT must be a port number/);
    expect(() => planStack({ TOPOLOGIES: 'monolith,nope' })).toThrow(/unknown topologies: nope/);
    // A known variant that this environment does not pick is not "unknown": say how to choose it.
    expect(() => planStack({ TOPOLOGIES: 'microservices-amqp' })).toThrow(
      /microservices-amqp, which pnpm start does not run with this environment \(it runs microservices as microservices-http; set AMQP_URL to run microservices-amqp\)/,
    );
    expect(() => planStack({ TOPOLOGIES: 'microservices-http', AMQP_URL: 'amqp://guest:guest@127.0.0.1:5672' })).toThrow(
      /it runs microservices as microservices-amqp; set TRANSPORT=http to run microservices-http\)/,
    );
  });
});

describe('startStack', () => {
  it('starts the monolith and the frontend with BACKENDS from the registry, proxies to it, and stops every process', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-stack-'));
    // The console's server only needs a built index.html to serve; the real build is not under test.
    const distDir = mkdtempSync(join(dataDir, 'dist-'));
    writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>console</title>');
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TOPOLOGIES: 'monolith',
      DATA_DIR: dataDir,
      MONOLITH_PORT: String(await freePortRange(1)),
      FRONTEND_PORT: String(await freePort()),
      DIST_DIR: distDir,
      LOG_LEVEL: 'warn',
    };
    const plan = planStack(env);
    const stack = await startStack(plan, { env, output: sink });
    try {
      const config = (await (await fetch(`${stack.frontendUrl}/config.json`)).json()) as { backends: { id: string; label: string }[] };
      expect(config.backends).toEqual([expect.objectContaining({ id: 'monolith', label: 'Modular monolith' })]);
      expect(frontendBackends(stack.topologies)).toBe(`monolith=http://127.0.0.1:${env.MONOLITH_PORT}`);
      const products = await fetch(`${stack.frontendUrl}/api/monolith/products?limit=2`);
      expect(products.status).toBe(200);
      expect(describeStack(stack, undefined)).toMatch(/monolith\s+http:\/\/127\.0\.0\.1:\d+ {3}pid \d+ {3}restarts 0/);
    } finally {
      const pids = [...stack.topologies.flatMap((t) => t.topology.pids()), stack.frontend.pid!];
      await stack.stop();
      expect(pids.filter(alive)).toEqual([]);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('pnpm start', () => {
  const startScript = (args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'packages/stack/src/start.ts', ...args], {
        cwd: REPO_ROOT,
        // DIST_DIR pointing nowhere: if arguments were ignored, the start would fail instead of building
        env: { PATH: process.env.PATH, HOME: process.env.HOME, DIST_DIR: join(tmpdir(), 'archbench-no-such-dist'), TOPOLOGIES: 'nope' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => done({ code, stdout, stderr }));
    });

  it('--help and -h print the usage with the environment it reads and exit 0 without starting anything', async () => {
    for (const flag of ['--help', '-h']) {
      const { code, stdout, stderr } = await startScript([flag]);
      expect(code).toBe(0);
      expect(stderr).toBe('');
      expect(stdout).toMatch(/^usage: pnpm start/);
      for (const variable of ['TOPOLOGIES', 'DATA_DIR', 'DIST_DIR', 'FRONTEND_PORT', 'SUPERVISOR_PORT', '<NAME>_PORT', 'HOST', 'AMQP_URL']) {
        expect(stdout).toContain(variable);
      }
    }
  });

  it('refuses an unknown flag or an extra word with one line and exit code 2', async () => {
    for (const [args, message] of [
      [['--bogus'], 'unknown option --bogus'],
      [['monolith'], 'unexpected argument "monolith"'],
    ] as const) {
      const { code, stdout, stderr } = await startScript([...args]);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr.trim().split('\n')).toEqual([expect.stringContaining(`start failed: ${message}: pnpm start takes no arguments`)]);
    }
  });

  it('prints the table with pids and restarts, and SIGTERM to the pnpm process leaves no server behind', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-pnpm-start-'));
    const distDir = mkdtempSync(join(dataDir, 'dist-'));
    writeFileSync(join(distDir, 'index.html'), '<!doctype html><title>console</title>');
    const env = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      TOPOLOGIES: 'monolith',
      DATA_DIR: dataDir,
      DIST_DIR: distDir,
      MONOLITH_PORT: String(await freePortRange(1)),
      FRONTEND_PORT: String(await freePort()),
      SUPERVISOR_PORT: String(await freePort()),
    };
    const pnpm = spawn('pnpm', ['start'], { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    pnpm.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    pnpm.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise((done) => pnpm.once('exit', done));
    try {
      const deadline = Date.now() + 120_000;
      while (!/tokens: pnpm dev-token/.test(output)) {
        if (Date.now() > deadline || pnpm.exitCode !== null) throw new Error(`pnpm start did not get ready:\n${output}`);
        await sleep(200);
      }
      expect(output).toMatch(new RegExp(`frontend\\s+http://127\\.0\\.0\\.1:${env.FRONTEND_PORT}`));
      expect(output).toMatch(new RegExp(`monolith\\s+http://127\\.0\\.0\\.1:${env.MONOLITH_PORT}\\s+pid \\d+\\s+restarts 0`));
      const metrics = await (await fetch(`http://127.0.0.1:${env.SUPERVISOR_PORT}/metrics`)).text();
      expect(metrics).toContain('archbench_process_restarts_total{topology="monolith",process="monolith"} 0');
      const tree = processTree(pnpm.pid!)
        .map((p) => p.pid)
        .filter((pid) => pid !== pnpm.pid);
      expect(tree.length).toBeGreaterThanOrEqual(3); // the launcher, the monolith, the frontend
      pnpm.kill('SIGTERM');
      await exited;
      const gone = Date.now() + 20_000;
      while (tree.some(pidAlive) && Date.now() < gone) await sleep(200);
      expect(tree.filter(pidAlive)).toEqual([]);
    } finally {
      pnpm.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names MONOLITH_PORT when another process holds it, and starts nothing', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-stack-'));
    const squatter = createServer((_req, res) => res.end('someone else'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TOPOLOGIES: 'monolith', DATA_DIR: dataDir, MONOLITH_PORT: String(port), LOG_LEVEL: 'warn' };
    try {
      const started = startStack(planStack(env), { env, output: sink });
      await expect(started).rejects.toThrow(StackError);
      await expect(started).rejects.toThrow(new RegExp(`port ${port} \\(MONOLITH_PORT\\) is already in use`));
    } finally {
      squatter.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('names FRONTEND_PORT when another process holds it, before any topology starts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'archbench-stack-'));
    const squatter = createServer((_req, res) => res.end('someone else'));
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    const env = { PATH: process.env.PATH, HOME: process.env.HOME, TOPOLOGIES: 'monolith', DATA_DIR: dataDir, FRONTEND_PORT: String(port), LOG_LEVEL: 'warn' };
    const events: string[] = [];
    try {
      const started = startStack(planStack(env), { env, output: sink, onEvent: (e) => events.push(e.type) });
      await expect(started).rejects.toThrow(new RegExp(`port ${port} \\(FRONTEND_PORT\\) is already in use`));
      expect(events).toEqual([]);
    } finally {
      squatter.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
