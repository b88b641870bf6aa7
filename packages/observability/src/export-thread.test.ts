import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleEntries } from '@archbench/topologies/bundle';
import { ExportThread } from './export-thread';
import { runScript, startReceiver } from './test-support';
import type { Receiver } from './test-support';

let opened: Receiver | undefined;
afterEach(async () => {
  await opened?.close();
  opened = undefined;
});

/** A receiver for one test, closed after it. */
async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
  opened = await startReceiver(answer);
  return opened;
}

describe('ExportThread', () => {
  it('POSTs from its thread with the configured headers; a body with its own memory moves there, a pooled one is copied', async () => {
    const { tracesUrl: url, bodies, requests } = await receiver();
    const thread = new ExportThread({ url, headers: { 'content-type': 'application/x-protobuf', authorization: 'Bearer k' }, timeoutMs: 5000 });
    const own = Buffer.from(new Uint8Array(8192).fill(7).buffer);
    expect(await thread.send(own)).toEqual({ ok: true });
    expect(own.byteLength).toBe(0); // handed over, not copied
    // Buffer.from of a short string is a view into node's shared pool: moving that pool would
    // empty every other small buffer of the process.
    const neighbour = Buffer.from('neighbour');
    const pooled = Buffer.from('pooled body');
    expect(pooled.buffer).toBe(neighbour.buffer);
    expect(await thread.send(pooled)).toEqual({ ok: true });
    expect(pooled.toString()).toBe('pooled body');
    expect(neighbour.toString()).toBe('neighbour');
    expect(bodies.map((b) => b.length)).toEqual([8192, 11]);
    expect(bodies[1]!.toString()).toBe('pooled body');
    expect(requests[0]!.headers['content-type']).toBe('application/x-protobuf');
    expect(requests[0]!.headers.authorization).toBe('Bearer k');
    await thread.close();
  });

  it('fails the exports in flight when closed, with a message saying so, and every export after at once', async () => {
    const { tracesUrl: url } = await receiver(() => {
      // never answers
    });
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 60_000 });
    const held = thread.send(Buffer.from('held'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await thread.close();
    const outcome = await held;
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && outcome.error.message).toMatch(/OTLP export thread stopped/);
    const later = await thread.send(Buffer.from('later'));
    expect(!later.ok && later.error.message).toBe('the OTLP export thread is closed');
  });

  it('copies a view that starts its ArrayBuffer but does not fill it (the rest stays usable)', async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 5000 });
    const whole = new Uint8Array(64).fill(9);
    expect(await thread.send(whole.subarray(0, 16))).toEqual({ ok: true });
    expect(whole.byteLength).toBe(64);
    expect(whole[63]).toBe(9);
    expect(bodies[0]!.length).toBe(16);
    await thread.close();
  });

  it("fails an export node cannot even start (a refused header) with node's message, and keeps answering", async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const thread = new ExportThread({ url, headers: { 'bad header': 'x' }, timeoutMs: 5000 });
    for (let i = 0; i < 2; i++) {
      const outcome = await thread.send(Buffer.from('x'));
      expect(!outcome.ok && outcome.error.message).toMatch(/Header name must be a valid HTTP token/);
      // Failed as an export, not by taking the thread down with it.
      expect(!outcome.ok && outcome.error.message).not.toMatch(/export thread/);
    }
    expect(bodies).toHaveLength(0);
    await thread.close();
  });

  it('gives up on a receiver that refuses connections within the timeout, with the error code', async () => {
    const { tracesUrl: url } = await receiver();
    await opened!.close();
    opened = undefined;
    const thread = new ExportThread({ url, headers: {}, timeoutMs: 1500 });
    const started = Date.now();
    const outcome = await thread.send(Buffer.from('x'));
    expect(outcome.ok).toBe(false);
    expect(!outcome.ok && (outcome.error as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    expect(!outcome.ok && outcome.error.message).toMatch(/OTLP export to .* failed: connect ECONNREFUSED/);
    // Retried once after about a second, then the next backoff would pass the timeout.
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(Date.now() - started).toBeLessThan(1500);
    await thread.close();
  });

  it('keeps the process alive while an export is in flight, and lets it exit once answered', async () => {
    // The receiver is here, the exporting process a child with nothing else to keep it alive: it
    // must live to see the answer (sent after 400 ms), then exit on its own.
    const { tracesUrl: url } = await receiver((_req, res) => setTimeout(() => res.writeHead(200).end(), 400));
    const script = `
      const { ExportThread } = await import(process.env.MODULE);
      const thread = new ExportThread({ url: process.env.URL, headers: {}, timeoutMs: 5000 });
      const started = Date.now();
      thread.send(Buffer.from('x')).then((outcome) => process.stdout.write(JSON.stringify({ outcome, ms: Date.now() - started })));
    `;
    const run = await runScript(script, { ...process.env, MODULE: new URL('./export-thread.ts', import.meta.url).href, URL: url });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0); // not killed: it exited by itself
    const { outcome, ms } = JSON.parse(run.stdout) as { outcome: unknown; ms: number };
    expect(outcome).toEqual({ ok: true });
    expect(ms).toBeGreaterThanOrEqual(350);
  }, 20_000);

  it('does not keep the process alive while waiting out a retry backoff', async () => {
    // The receiver answers 503 with Retry-After: 3; the child, with nothing else to do, exits
    // during the wait instead of sitting it out (as with the official exporter's unref'd timer).
    const { tracesUrl: url, bodies } = await receiver((_req, res) => res.writeHead(503, { 'retry-after': '3' }).end());
    const script = `
      const { ExportThread } = await import(process.env.MODULE);
      void new ExportThread({ url: process.env.URL, headers: {}, timeoutMs: 10000 }).send(Buffer.from('x'));
    `;
    const run = await runScript(script, { ...process.env, MODULE: new URL('./export-thread.ts', import.meta.url).href, URL: url });
    expect(run.code).toBe(0);
    expect(bodies).toHaveLength(1);
    expect(run.ms).toBeLessThan(2900);
  }, 20_000);

  it("still runs its thread from the servers' esbuild bundle (its program travels as source text)", async () => {
    const { tracesUrl: url, bodies } = await receiver();
    const dir = mkdtempSync(join(tmpdir(), 'export-thread-bundle-'));
    try {
      const entry = join(dir, 'entry.ts');
      writeFileSync(
        entry,
        `import { ExportThread } from ${JSON.stringify(fileURLToPath(new URL('./export-thread.ts', import.meta.url)))};
         const thread = new ExportThread({ url: process.env.URL!, headers: {}, timeoutMs: 5000 });
         thread.send(Buffer.from('bundled')).then((outcome) => process.stdout.write(JSON.stringify(outcome)));`,
      );
      const { entry: bundle } = await bundleEntries({ entry });
      const child = spawn(process.execPath, [bundle], { env: { ...process.env, URL: url }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(JSON.parse(stdout)).toEqual({ ok: true });
      expect(bodies.map((b) => b.toString())).toEqual(['bundled']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
