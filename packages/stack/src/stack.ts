import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The repository root, from packages/stack/src. */
export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');

export interface Part {
  name: string;
  /** App folder relative to the repo root; the script runs with it as cwd. */
  cwd: string;
  /** Arguments after `node`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  /** URL answered with 2xx once the part is ready. */
  readyUrl: string;
  /** What to print for it. */
  url: string;
}

export interface RunningPart {
  part: Part;
  child: ChildProcess;
}

export class StackError extends Error {
  override readonly name = 'StackError';
}

/** Starts one part and resolves once its ready URL answers, or rejects when it exits first or times out. */
export async function startPart(part: Part, timeoutMs = 120_000, output: NodeJS.WritableStream = process.stderr): Promise<RunningPart> {
  const child = spawn(process.execPath, part.args, {
    cwd: resolve(REPO_ROOT, part.cwd),
    env: part.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tail: string[] = [];
  const keep = (chunk: Buffer) => {
    tail.push(chunk.toString());
    if (tail.length > 40) tail.shift();
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', (chunk: Buffer) => {
    keep(chunk);
    output.write(chunk.toString().replace(/^(?=.)/gm, `[${part.name}] `));
  });
  let exit: string | undefined;
  child.once('exit', (code, signal) => (exit = `exited with code ${code}${signal ? ` (${signal})` : ''}`));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exit) throw new StackError(`${part.name} ${exit} before it was ready:\n${tail.join('').slice(-2000)}`);
    try {
      const res = await fetch(part.readyUrl, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return { part, child };
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  child.kill('SIGKILL');
  throw new StackError(`${part.name} was not ready at ${part.readyUrl} within ${timeoutMs / 1000}s`);
}

/** Sends SIGTERM to every part, then SIGKILL to what is still running after the grace period. */
export async function stopParts(parts: RunningPart[], graceMs = 10_000): Promise<void> {
  const alive = parts.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  const exits = alive.map((p) => new Promise<void>((r) => p.child.once('exit', () => r())));
  for (const p of alive) p.child.kill('SIGTERM');
  const timer = setTimeout(() => alive.forEach((p) => p.child.kill('SIGKILL')), graceMs);
  await Promise.all(exits);
  clearTimeout(timer);
}
