// Shared by the tests that run load's CLIs as a user does (a child process through tsx).
import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOAD_DIR = fileURLToPath(new URL('..', import.meta.url));

/** The CLI's own scripts. */
export type LoadScript = 'compare' | 'check-results';

/** node's arguments that run one of load's CLIs from source. */
export function cliArgs(script: LoadScript, args: readonly string[]): string[] {
  return ['--import', import.meta.resolve('tsx'), join(LOAD_DIR, `src/cli/${script}.ts`), ...args];
}

/**
 * This process's environment without what a developer's shell or CI may set for the CLI
 * (INIT_CWD, AMQP_URL, AUTH_SECRET, GITHUB_STEP_SUMMARY), plus `extra`: a test sets what it tests.
 */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.INIT_CWD;
  delete env.AMQP_URL;
  delete env.AUTH_SECRET;
  delete env.GITHUB_STEP_SUMMARY;
  return Object.assign(env, extra);
}

/** Runs one of load's CLIs to the end; its exit code and output. */
export function runCli(script: LoadScript, args: readonly string[], extraEnv: Record<string, string> = {}, timeoutMs = 120_000) {
  const result = spawnSync(process.execPath, cliArgs(script, args), { cwd: LOAD_DIR, env: cliEnv(extraEnv), encoding: 'utf8', timeout: timeoutMs });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs `compare` without blocking the event loop (for tests whose servers live in the test's own
 * process); its exit code and output once it ends.
 */
export function compareAsync(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, cliArgs('compare', args), { cwd: LOAD_DIR, env: cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
