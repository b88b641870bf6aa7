import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintToken } from '@archbench/contracts/tokens';
import { startTopology } from '@archbench/topologies';
import type { RunningTopology } from '@archbench/topologies';
import { hookSubject, liftFaultsNow } from '../src/faults/injectors';
import { LOAD_DIR, cliArgs, cliEnv } from './cli-kit';

// Ctrl-C while a --fault-cmd hook's provider outage is in place on a --target: compare owns no
// server there to stop, so the outage would outlive the run unless compare runs the hook's lift.

const SECRET = 'archbench-fault-interrupt-secret-0123';
const work = mkdtempSync(join(tmpdir(), 'archbench-fault-interrupt-'));
const adminToken = mintToken(SECRET, { sub: 'fault-interrupt-test', role: 'admin', expiresInSeconds: 600 });

let mono: RunningTopology;
beforeAll(async () => {
  mono = await startTopology('monolith', {
    port: 0,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'development', LOG_LEVEL: 'warn', AUTH_SECRET: SECRET },
    output: 'capture',
  });
});
afterAll(async () => {
  await mono?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function failureRate(): Promise<number> {
  const response = await fetch(`${mono.baseUrl}/admin/payments/provider`, { headers: { authorization: `Bearer ${adminToken}` } });
  return ((await response.json()) as { failureRate: number }).failureRate;
}

describe('Ctrl-C during a provider outage a --fault-cmd hook injected into a --target', () => {
  it('runs the hook’s lift before exiting, so the target is not left faulted', async () => {
    // The hook switches the monolith's simulated provider through its admin API, as an operator's would.
    const provider = join(work, 'provider.mjs');
    writeFileSync(
      provider,
      `const r = await fetch(process.env.ARCHBENCH_URL + '/admin/payments/provider', { method: 'PUT', headers: { authorization: 'Bearer ' + process.env.TEST_ADMIN_TOKEN, 'content-type': 'application/json' }, body: JSON.stringify({ failureRate: Number(process.argv[2]) }) });\n` +
        `console.log('failureRate', process.argv[2], r.status);\nprocess.exit(r.ok ? 0 : 1);\n`,
    );
    const node = JSON.stringify(process.execPath);
    const hook = `case "$ARCHBENCH_PHASE" in check) [ "$ARCHBENCH_FAULT" = provider-outage ] || { echo "outage only"; exit 3; } ;; inject) ${node} ${provider} 1 ;; lift) ${node} ${provider} 0 ;; verify) echo seen ;; esac`;
    const child = spawn(
      process.execPath,
      cliArgs('compare', [
        '--profile',
        'smoke',
        '--engine',
        'embedded',
        '--experiments',
        'faults',
        '--out',
        join(work, 'never'),
        '--auth-secret',
        SECRET,
        '--target',
        `shop=${mono.baseUrl}`,
        '--fault-cmd',
        `shop=${hook}`,
      ]),
      { cwd: LOAD_DIR, env: cliEnv({ TEST_ADMIN_TOKEN: adminToken }), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      // Interrupted once the outage is in place.
      const deadline = Date.now() + 90_000;
      while ((await failureRate()) !== 1) {
        if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the outage was never injected:\n${stderr}`);
        await sleep(100);
      }
      child.kill('SIGINT');
      expect(await exited).toBe(130);
    } finally {
      child.kill('SIGKILL');
    }
    expect(stderr).toMatch(/interrupted \(SIGINT\); nothing was started \(--target\), nothing written/);
    expect(stderr).not.toContain('servers stopped');
    expect(stderr).toMatch(/lifted provider-outage on target shop: failureRate 0 200/);
    expect(await failureRate()).toBe(0);
  }, 120_000);
});

describe('a lift that fails on interrupt', () => {
  it('says loudly that the target is still faulted and how to lift it by hand', async () => {
    const subject = hookSubject('staging', 'http://127.0.0.1:1', `case "$ARCHBENCH_PHASE" in lift) echo "cluster unreachable"; exit 4 ;; esac`);
    const injector = await subject.injector('provider-outage');
    if ('skip' in injector) throw new Error(injector.skip);
    await injector.inject();
    const lines: string[] = [];
    expect(liftFaultsNow((line) => lines.push(line), 5000)).toEqual({ lifted: 0, left: 1 });
    const text = lines.join('');
    expect(text).toContain('TARGET staging IS STILL FAULTED (provider-outage): --fault-cmd lift failed (exit 4): cluster unreachable.');
    expect(text).toMatch(
      /Lift it by hand: ARCHBENCH_FAULT='provider-outage' ARCHBENCH_PHASE='lift' ARCHBENCH_TARGET='staging' ARCHBENCH_URL='http:\/\/127.0.0.1:1' sh -c 'case /,
    );
    // Once reported, not again; a fault that was lifted is not lifted twice.
    expect(liftFaultsNow(() => undefined)).toEqual({ lifted: 0, left: 0 });
  });
});
