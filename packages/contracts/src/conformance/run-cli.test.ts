import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen, wrongApp } from './fixtures/wrong-server';
import type { RunningServer } from './fixtures/wrong-server';
import { EXIT, runCli } from './run-cli';

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await runCli(argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

describe('conformance CLI', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await listen(wrongApp());
  });
  afterAll(async () => {
    await server.close();
  });

  it('exits 2 with the usage on bad arguments', async () => {
    const { code, err, out } = await cli(['--only', 'health']);
    expect(code).toBe(EXIT.usage);
    expect(err).toContain('conformance: --base-url is required');
    expect(err).toContain('Usage: conformance --base-url URL');
    expect(out).toBe('');
  });

  it('exits 2 for an unknown check before sending anything', async () => {
    const port = await closedPort();
    const { code, err } = await cli(['--base-url', `http://127.0.0.1:${port}`, '--only', 'helth']);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(/unknown check\(s\): helth; known checks: health, ready/);
  });

  it('exits 2 with a clear message when the server is unreachable', async () => {
    const port = await closedPort();
    const { code, err } = await cli(['--base-url', `http://127.0.0.1:${port}`]);
    expect(code).toBe(EXIT.usage);
    expect(err).toMatch(new RegExp(`^conformance: cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED .*Is the server running\\?\\n$`));
  });

  it('exits 0 when the selected checks pass, with one line per check and a summary', async () => {
    const { code, out } = await cli(['--base-url', server.baseUrl, '--only', 'health']);
    expect(code).toBe(EXIT.passed);
    expect(out).toMatch(/^✓ health \(\d+ ms\)$/m);
    expect(out).toMatch(/^conformance: 1 passed, 0 failed$/m);
  });

  it('exits 1 when a check fails, naming it and why', async () => {
    const { code, out } = await cli(['--base-url', server.baseUrl, '--only', 'health,products.unknown-sku']);
    expect(code).toBe(EXIT.failed);
    expect(out).toMatch(/^✗ products\.unknown-sku \(\d+ ms\)\n {4}GET \/products\/SKU-9999: expected a 404 problem, got 500/m);
    expect(out).toMatch(/^conformance: 1 passed, 1 failed$/m);
    expect(out).toMatch(/failed: products\.unknown-sku$/m);
  });

  it('lists the checks', async () => {
    const { code, out } = await cli(['--list']);
    expect(code).toBe(0);
    expect(out.split('\n')).toContain('stock.burst');
  });

  it('sets the process exit code when run as a program', async () => {
    const tsx = resolve(import.meta.dirname, '../../node_modules/.bin/tsx');
    const entry = resolve(import.meta.dirname, 'cli.ts');
    const run = promisify(execFile);
    const failure = await run(tsx, [entry, '--base-url', 'nope']).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain('--base-url "nope" is not a URL');
    const failing = await run(tsx, [entry, '--base-url', server.baseUrl, '--only', 'auth.missing']).catch((error: { code: number; stdout: string }) => error);
    expect(failing).toMatchObject({ code: 1 });
    const passing = await run(tsx, [entry, '--base-url', server.baseUrl, '--only', 'health']);
    expect(passing.stdout).toContain('conformance: 1 passed, 0 failed');
  }, 30_000);
});
