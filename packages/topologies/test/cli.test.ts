import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, freePortRange, portFree } from '../src/ports';
import { pidAlive, processTree } from '../src/proc';

const PACKAGE_ROOT = resolve(import.meta.dirname, '..');
const REPO_ROOT = resolve(PACKAGE_ROOT, '..', '..');
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const alive = pidAlive;

/** Runs a command with output collected; `until(text)` waits for a pattern in it. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, cwd = PACKAGE_ROOT) {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'warn', AUTH_SECRET: 'cli-test-secret-0123456789', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const until = async (pattern: RegExp, timeoutMs = 120_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(output)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no ${pattern} in:\n${output}`);
      await sleep(100);
    }
  };
  return { child, exited, output: () => output, until };
}

const cli = (args: string[], env: NodeJS.ProcessEnv) => run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], env);
const pidsIn = (text: string) => [...text.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
const dataDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'archbench-cli-'));
  dirs.push(dir);
  return dir;
};

describe('archbench-topology (pnpm start:<topology>)', () => {
  it('exits 2 with the known topologies for an unknown one, and with usage without one', async () => {
    const unknown = cli(['nope'], {});
    expect(await unknown.exited).toBe(2);
    expect(unknown.output()).toMatch(/unknown topology "nope"; known: .*microservices.*monolith/);
    expect(unknown.output().trim().split('\n')).toHaveLength(1);
    const none = cli([], {});
    expect(await none.exited).toBe(2);
    expect(none.output()).toMatch(/usage: archbench-topology <topology>/);
    const amqp = cli(['microservices-amqp'], { AMQP_URL: '' });
    expect(await amqp.exited).toBe(2);
    expect(amqp.output()).toMatch(/microservices-amqp cannot run here: AMQP_URL is not set/);
  });

  it('--help prints the usage naming the command the user ran and exits 0; an unknown option exits 2 with one line', async () => {
    const pnpmScript = { npm_lifecycle_event: 'start:monolith', npm_package_name: 'archbench' };
    for (const flag of ['--help', '-h']) {
      const help = cli(['monolith', flag], pnpmScript);
      expect(await help.exited).toBe(0);
      expect(help.output()).toMatch(/^usage: pnpm start:monolith\n/);
      expect(help.output()).toMatch(/SUPERVISOR_PORT/);
    }
    const fromApp = cli(['monolith', '--help'], { npm_lifecycle_event: 'start', npm_package_name: '@archbench/monolith' });
    expect(await fromApp.exited).toBe(0);
    expect(fromApp.output()).toMatch(/^usage: pnpm --filter @archbench\/monolith start\n/);
    const direct = cli(['--help'], {});
    expect(await direct.exited).toBe(0);
    expect(direct.output()).toMatch(/^usage: archbench-topology <topology> {3}\(known: .*monolith/);
    const bogus = cli(['monolith', '--bogus'], pnpmScript);
    expect(await bogus.exited).toBe(2);
    expect(bogus.output()).toBe('archbench-topology: unknown option --bogus (usage: pnpm start:monolith)\n');
  });

  it('serves the microservices on PORT..PORT+4 (SHIPPING_PORT moves one), restarts a SIGKILLed service, counts it on PORT+9, and SIGTERM stops every process', async () => {
    const port = await freePortRange(10);
    const launcher = cli(['microservices-http'], { PORT: String(port), DATA_DIR: dataDir(), SHIPPING_PORT: String(port + 7) });
    await launcher.until(/supervisor metrics: /);
    const table = launcher.output();
    for (const [i, name] of ['gateway', 'inventory', 'orders', 'payments', 'shipping'].entries()) {
      const expected = name === 'shipping' ? port + 7 : port + i;
      expect(table).toMatch(new RegExp(`${name}\\s+http://127\\.0\\.0\\.1:${expected}\\s+pid \\d+`));
      expect((await fetch(`http://127.0.0.1:${expected}/metrics`)).status).toBe(200);
    }
    // The gateway's /ready asks every service's /ready, so it answers 200 only if it found shipping where it moved.
    expect((await fetch(`http://127.0.0.1:${port}/ready`)).status).toBe(200);
    const payments = Number(new RegExp(`payments\\s+http://127\\.0\\.0\\.1:${port + 3}\\s+pid (\\d+)`).exec(table)![1]);
    process.kill(payments, 'SIGKILL');
    await launcher.until(/payments \(pid \d+\) exited with signal SIGKILL after [\d.]+ s; restart #1 in 250 ms/);
    await launcher.until(/payments ready again \(pid \d+, restart #1\), \d+ ms after it exited/);
    const metrics = await (await fetch(`http://127.0.0.1:${port + 9}/metrics`)).text();
    expect(metrics).toContain('archbench_process_restarts_total{topology="microservices-http",process="payments"} 1');
    expect(metrics).toContain('archbench_process_restarts_total{topology="microservices-http",process="orders"} 0');
    const processes = (await (await fetch(`http://127.0.0.1:${port + 9}/processes`)).json()) as { processes: { name: string; pid: number }[] }[];
    const pids = processes[0]!.processes.map((p) => p.pid);
    expect(pids).not.toContain(payments);
    launcher.child.kill('SIGTERM');
    expect(await launcher.exited).toBe(0);
    await sleep(300);
    expect(pids.filter(alive)).toEqual([]);
  });

  it('exits 1 naming the process when one cannot start, and leaves nothing listening', async () => {
    const port = await freePortRange(10);
    // DATA_DIR is a file: the services cannot create their databases. (A taken port: port-in-use.test.ts.)
    const notADirectory = join(dataDir(), 'file');
    writeFileSync(notADirectory, '');
    const launcher = cli(['microservices-http'], { PORT: String(port), DATA_DIR: notADirectory });
    expect(await launcher.exited).toBe(1);
    expect(launcher.output()).toMatch(
      /archbench-topology: microservices-http did not start: (inventory|orders|payments|shipping) exited during startup \(code 1\)/,
    );
    for (const p of [port, port + 1, port + 2, port + 3, port + 4, port + 9]) expect(await portFree(p)).toBe(true);
  });

  it('takes its children with it when the launcher itself is SIGKILLed', async () => {
    const port = await freePortRange(10);
    const launcher = cli(['monolith'], { PORT: String(port), DATA_DIR: dataDir(), SUPERVISOR_PORT: 'off' });
    await launcher.until(/supervisor metrics: off/);
    const [server] = pidsIn(launcher.output());
    expect(alive(server!)).toBe(true);
    launcher.child.kill('SIGKILL');
    await launcher.exited;
    const deadline = Date.now() + 15_000;
    while (alive(server!) && Date.now() < deadline) await sleep(100);
    expect(alive(server!)).toBe(false);
  });

  it('SIGTERM to `pnpm start:monolith` (the pnpm process) leaves no server process behind', async () => {
    const port = await freePortRange(10);
    const pnpm = run('pnpm', ['start:monolith'], { PORT: String(port), DATA_DIR: dataDir() }, REPO_ROOT);
    await pnpm.until(/supervisor metrics: /);
    // Everything pnpm started: its shell, the launcher, the server.
    const tree = processTree(pnpm.child.pid!)
      .map((p) => p.pid)
      .filter((pid) => pid !== pnpm.child.pid);
    const [server] = pidsIn(pnpm.output());
    expect(tree).toContain(server);
    expect(tree.length).toBeGreaterThanOrEqual(2);
    pnpm.child.kill('SIGTERM');
    await pnpm.exited;
    const deadline = Date.now() + 20_000;
    while (tree.some(alive) && Date.now() < deadline) await sleep(200);
    expect(tree.filter(alive)).toEqual([]);
    expect(await portFree(port)).toBe(true);
  });
});

describe('a second signal to a launcher (stopOnSignals, as pnpm start and pnpm start:<topology> use it)', () => {
  it('SIGINT stops gracefully (waiting for a server’s 60 s drain), also when one Ctrl-C arrives twice; a second SIGINT SIGKILLs every process at once, says so, and exits 130', async () => {
    const launcher = run(process.execPath, ['--import', 'tsx', 'test/fixtures/stop-on-signals.ts'], { PORT: String(await freePort()) });
    try {
      await launcher.until(/ready pid \d+/, 20_000);
      const [server] = pidsIn(launcher.output());
      // One Ctrl-C delivered twice, a few ms apart (to the process group by the terminal, and
      // passed on by pnpm to a script bash exec'd): still one signal.
      launcher.child.kill('SIGINT');
      await sleep(5);
      launcher.child.kill('SIGINT');
      await launcher.until(/SIGINT, stopping every process/, 5000);
      await sleep(1200);
      // Still draining: the first signal waits for it.
      expect(launcher.child.exitCode, launcher.output()).toBeNull();
      expect(alive(server!)).toBe(true);
      expect(launcher.output()).not.toMatch(/killing every process now/);
      const killedAt = performance.now();
      launcher.child.kill('SIGINT');
      await Promise.race([launcher.exited, sleep(5000)]);
      expect(launcher.child.exitCode, launcher.output()).toBe(130);
      expect(performance.now() - killedAt).toBeLessThan(3000);
      expect(launcher.output()).toMatch(/Ctrl-C again kills every process at once/);
      expect(launcher.output()).toMatch(/SIGINT again: killing every process now \(SIGKILL\)/);
      const deadline = Date.now() + 2000;
      while (alive(server!) && Date.now() < deadline) await sleep(50);
      expect(alive(server!)).toBe(false);
    } finally {
      launcher.child.kill('SIGKILL');
      const server = pidsIn(launcher.output())[0];
      if (server !== undefined && alive(server)) process.kill(server, 'SIGKILL');
    }
  }, 40_000);
});
