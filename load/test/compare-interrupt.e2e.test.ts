import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { amqpReachable, AMQP_TEST_URL } from '@archbench/server-kit/testing';
import { LOAD_DIR, cliArgs, cliEnv } from './cli-kit';

const work = mkdtempSync(join(tmpdir(), 'archbench-compare-interrupt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function rabbitVhosts(): string[] | undefined {
  try {
    return execFileSync('rabbitmqctl', ['-q', 'list_vhosts'], { encoding: 'utf8', timeout: 15_000 }).split('\n').slice(1).filter(Boolean);
  } catch {
    return undefined;
  }
}

const dataDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('abcompare-monolith-'));
const canRun = (await amqpReachable()) && rabbitVhosts() !== undefined;

describe.skipIf(!canRun)('Ctrl-C during pnpm compare', () => {
  it('stops the servers and removes their data folders and RabbitMQ vhosts, and writes nothing', async () => {
    const dirsBefore = new Set(dataDirs());
    const vhostsBefore = new Set(rabbitVhosts());
    const out = join(work, 'never');
    const child = spawn(process.execPath, cliArgs('compare', ['--profile', 'smoke', '--topologies', 'monolith', '--out', out]), {
      cwd: LOAD_DIR,
      env: cliEnv({ AMQP_URL: AMQP_TEST_URL }),
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // Interrupted once the monolith runs (its data folder and vhost exist), as a user would.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`monolith never started:\n${stderr}`)), 90_000);
      child.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (/started monolith/.test(stderr)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const created = dataDirs().filter((d) => !dirsBefore.has(d));
    const vhostsCreated = rabbitVhosts()!.filter((v) => !vhostsBefore.has(v));
    expect(created).toHaveLength(1);
    expect(vhostsCreated).toEqual([expect.stringMatching(/^archbench-[0-9a-f]{6}-monolith-0$/)]);

    child.kill('SIGINT');
    expect(await exited).toBe(130);
    expect(stderr).toMatch(/interrupted \(SIGINT\); servers stopped, their data and 1 RabbitMQ vhost removed, nothing written/);
    expect(dataDirs().filter((d) => created.includes(d))).toEqual([]);
    expect(rabbitVhosts()!.filter((v) => vhostsCreated.includes(v))).toEqual([]);
    expect(readdirSync(work)).toEqual([]);
  }, 120_000);
});
