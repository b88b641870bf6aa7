import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/main';

export const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

class Collect extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void) {
    this.text += chunk.toString();
    done();
  }
}

/** Runs the CLI in this process (same `main` as the bin), capturing its output. */
export async function runCli(args: string[], cwd: string, date = '2025-05-01'): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Collect();
  const stderr = new Collect();
  const code = await main(args, { stdout, stderr, stdin: new PassThrough(), cwd, now: () => new Date(`${date}T12:00:00Z`) });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

/**
 * Runs the real bin in a child process (node + tsx loader, no shell). `closeStdout`: close the
 * reading end of its stdout at once, as `| head -0` would, so every write it makes fails (EPIPE).
 */
export function spawnCli(args: string[], cwd: string, { closeStdout = false } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    if (closeStdout) child.stdout.destroy();
    else child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A fresh temporary folder, removed by the returned cleanup. */
export function tempDir(prefix = 'archbench-decision-'): { dir: string; cleanup: () => void; write: (name: string, content: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return {
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
    write: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
  };
}
