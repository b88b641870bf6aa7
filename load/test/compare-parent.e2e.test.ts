import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTsxWrapper, parentOf } from '../src/cli/parent';
import { LOAD_DIR, cliEnv } from './cli-kit';

// `kill -TERM <pnpm pid>` during `pnpm compare`: pnpm exits without passing the signal on, and its
// script (tsx's CLI, which starts compare) is left running. Compare must notice that whoever
// launched it is gone and stop its servers, as the topology launchers do.

const work = mkdtempSync(join(tmpdir(), 'archbench-compare-parent-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const dataDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('abcompare-monolith-'));

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.text();
    return true;
  } catch {
    return false;
  }
}

describe('pnpm compare whose launcher goes away', () => {
  it('reads a parent pid from /proc and knows tsx’s CLI', () => {
    expect(parentOf(process.pid)).toBe(process.ppid);
    expect(parentOf(2 ** 30)).toBeUndefined();
    expect(isTsxWrapper(process.pid)).toBe(false);
  });

  it('stops its servers, removes their data and writes nothing when the process that ran `tsx compare.ts` exits', async () => {
    const dirsBefore = new Set(dataDirs());
    const out = join(work, 'never');
    // As pnpm runs the script: sh -c "tsx src/cli/compare.ts …" (pnpm's own process stands in as this sh).
    const launcher = spawn(
      'sh',
      ['-c', `node_modules/.bin/tsx src/cli/compare.ts --profile smoke --engine embedded --topologies monolith --out ${out} & wait`],
      { cwd: LOAD_DIR, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    // The pipe closes when every process holding it (the launcher, tsx, compare) has exited.
    const closed = new Promise<void>((resolve) => launcher.stderr!.on('close', () => resolve()));
    let url = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`monolith never started:\n${stderr}`)), 90_000);
      launcher.stderr!.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        const started = /started monolith at (http:\/\/[^ ]+)/.exec(stderr);
        if (started) {
          url = started[1]!;
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const created = dataDirs().filter((d) => !dirsBefore.has(d));
    expect(created).toHaveLength(1);
    expect(await answers(`${url}/ready`)).toBe(true);

    launcher.kill('SIGKILL');
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error(`compare kept running:\n${stderr}`)), 20_000))]);
    expect(stderr).toMatch(/interrupted \(the process that started compare exited\); servers stopped, their data removed, nothing written/);
    expect(await answers(`${url}/ready`)).toBe(false);
    expect(dataDirs().filter((d) => created.includes(d))).toEqual([]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);
});
