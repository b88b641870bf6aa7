import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { freePort } from '@archbench/topologies';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '@archbench/topologies/bundle';
import type { Standalone } from './bundle';
import { REPO_ROOT } from './deployables';
import { loadDeployEnv } from './env';
import { stopTimeoutMs } from './shutdown';

export interface RunningServer {
  url: string;
  child: ChildProcess;
  output(): string;
  /**
   * SIGTERM; resolves with the exit code (rejects, after a SIGKILL, when the server has not
   * exited within its drain + closing: stopTimeoutMs of the env it was given).
   */
  stop(): Promise<number | null>;
}

/**
 * Runs a deployable from its image filesystem (rootfs) as the image's CMD would. The bundle
 * points at `<repo>/node_modules/...` by absolute path; here those paths are re-rooted into
 * rootfs, so a file the trace missed fails the start instead of loading from the checkout.
 */
export async function runStandalone(standalone: Standalone, env: Record<string, string>): Promise<RunningServer> {
  const text = readFileSync(standalone.server, 'utf8');
  const rerooted = text.split(`"${REPO_ROOT}`).join(`"${standalone.rootfs}${REPO_ROOT}`);
  if (rerooted === text) throw new Error(`${standalone.name}: the bundle imports nothing from ${REPO_ROOT}`);
  writeFileSync(standalone.server, rerooted);
  const port = Number(env.PORT ?? (await freePort()));
  let output = '';
  const childEnv = { ...SERVER_ENV, PATH: loadDeployEnv().PATH, LOG_LEVEL: 'warn', ...env, PORT: String(port), HOST: '127.0.0.1' };
  const stopAfterMs = stopTimeoutMs(childEnv);
  const child = spawn(process.execPath, [...SERVER_NODE_FLAGS, standalone.server], {
    cwd: standalone.rootfs,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${standalone.name} exited ${child.exitCode} at start:\n${output}`);
    const ready = await fetch(`${url}/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${standalone.name} not ready within 60 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    url,
    child,
    output: () => output,
    stop: () =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return resolve(child.exitCode);
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`${standalone.name} ignored SIGTERM for ${stopAfterMs / 1000} s`));
        }, stopAfterMs);
        child.once('exit', (code) => {
          clearTimeout(timer);
          resolve(code);
        });
        child.kill('SIGTERM');
      }),
  };
}
